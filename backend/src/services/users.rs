//! Users and their permissions, as the admin pages edit them.
//!
//! Who may do what:
//! * a platform **admin** manages everything;
//! * a client user with the *users* permission manages the users of their own organization whose
//!   permissions are a subset of their own (a *users*-only manager cannot take over a colleague
//!   with *settings*), and may only grant permissions they hold themselves (never the admin role);
//! * a client user with the *settings* permission manages their organization's widgets;
//! * every client user sees their organization's widgets (read-only without *settings*).
//!
//! Rows of another organization answer "not found", exactly like ids that do not exist, so ids
//! cannot be probed. Nobody changes their own role, permissions, organization or status (no
//! accidental lock-out); passwords have their own calls, and every password change ends all
//! sessions of that user.
use crate::auth::{hash_password, new_token, token_hash, verify_password};
use crate::error::{field, is_unique_violation, BackendError, Result};
use crate::ids::{new_id, now_ms};
use crate::principal::{GrantedOrg, UserCtx};
use crate::services::Backend;
use domain::admin::{check_password, parse_login_email, parse_name, NewUser, Permissions, Role, UserChange, UserEntry};
use domain::handoff::{AgentRef, HandoffEvent};

fn flag(b: bool) -> i64 {
    i64::from(b)
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    role: String,
    org_id: Option<String>,
    org_name: Option<String>,
    perm_conversations: i64,
    perm_settings: i64,
    perm_users: i64,
    active: i64,
    created_at: i64,
}

const USER_SELECT: &str = "SELECT u.id, u.email, u.name, u.role, u.org_id, o.name AS org_name, u.perm_conversations,
    u.perm_settings, u.perm_users, u.active, u.created_at FROM users u LEFT JOIN organizations o ON o.id = u.org_id";

impl UserRow {
    pub(crate) fn entry(self) -> UserEntry {
        UserEntry {
            id: self.id,
            email: self.email,
            name: self.name,
            role: Role::parse(&self.role),
            org_id: self.org_id,
            org_name: self.org_name,
            permissions: Permissions {
                conversations: self.perm_conversations != 0,
                settings: self.perm_settings != 0,
                users: self.perm_users != 0,
            },
            active: self.active != 0,
            created_at: self.created_at,
        }
    }
}

impl Backend {
    /// Admins: every user, or those of `org_id`; user managers: their organization's.
    pub async fn list_users(&self, user: &UserCtx, org_id: Option<&str>) -> Result<Vec<UserEntry>> {
        let scope = match user.managed_org()? {
            Some(own) => Some(own),
            None => org_id,
        };
        let rows: Vec<UserRow> = match scope {
            Some(org) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE u.org_id = $1 ORDER BY u.name, u.id")))
                    .bind(org)
                    .fetch_all(self.pool())
                    .await?
            }
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_SELECT} ORDER BY u.role, o.name, u.name, u.id")))
                    .fetch_all(self.pool())
                    .await?
            }
        };
        Ok(rows.into_iter().map(UserRow::entry).collect())
    }

    /// A user the caller manages, or `NotFound`.
    async fn managed_user(&self, user: &UserCtx, user_id: &str) -> Result<UserEntry> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{USER_SELECT} WHERE u.id = $1")))
            .bind(user_id)
            .fetch_optional(self.pool())
            .await?;
        let entry = row.map(UserRow::entry).ok_or(BackendError::NotFound("user"))?;
        match user.managed_org()? {
            None => Ok(entry),
            Some(own) if entry.org_id.as_deref() == Some(own) && entry.role == Role::Client => Ok(entry),
            Some(_) => Err(BackendError::NotFound("user")),
        }
    }

    /// Checks role, organization and permissions of a new or changed user against what the
    /// caller may grant; returns the organization to store.
    async fn check_grant(
        &self,
        user: &UserCtx,
        role: Role,
        org_id: Option<&str>,
        perms: Permissions,
        before: Option<Permissions>,
    ) -> Result<Option<String>> {
        match user.grant(role, org_id, perms, before)? {
            GrantedOrg::None => Ok(None),
            GrantedOrg::Chosen(org) => {
                if !self.org_exists(&org).await? {
                    return Err(field("org_id", "this organization does not exist"));
                }
                Ok(Some(org))
            }
            GrantedOrg::Own(org) => Ok(Some(org)),
        }
    }

    async fn check_email_free(&self, email: &str, except: Option<&str>) -> Result<()> {
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(self.pool()).await?;
        match taken {
            Some((id,)) if Some(id.as_str()) != except => Err(field("email", "a user with this e-mail already exists")),
            _ => Ok(()),
        }
    }

    pub async fn create_user(&self, user: &UserCtx, new: NewUser) -> Result<UserEntry> {
        user.managed_org()?;
        let email = parse_login_email(&new.email)?;
        let name = parse_name("name", &new.name)?;
        check_password(&new.password, &email)?;
        let org = self.check_grant(user, new.role, new.org_id.as_deref(), new.permissions, None).await?;
        self.check_email_free(&email, None).await?;
        let hash = self.hash(new.password).await?;
        let id = new_id();
        let p = if new.role == Role::Admin { Permissions::ALL } else { new.permissions };
        let inserted = sqlx::query(
            "INSERT INTO users (id, org_id, email, name, password_hash, role, perm_conversations, perm_settings,
             perm_users, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
        )
        .bind(&id)
        .bind(&org)
        .bind(&email)
        .bind(&name)
        .bind(&hash)
        .bind(new.role.as_str())
        .bind(flag(p.conversations))
        .bind(flag(p.settings))
        .bind(flag(p.users))
        .bind(now_ms())
        .execute(self.writer())
        .await;
        match inserted {
            Err(e) if is_unique_violation(&e) => return Err(field("email", "a user with this e-mail already exists")),
            r => r?,
        };
        tracing::info!(user = %id, by = %user.id, role = new.role.as_str(), "user created");
        self.managed_user(user, &id).await
    }

    pub async fn update_user(&self, user: &UserCtx, user_id: &str, change: UserChange) -> Result<UserEntry> {
        let before = self.managed_user(user, user_id).await?;
        user.may_manage(&before)?;
        let email = parse_login_email(&change.email)?;
        let name = parse_name("name", &change.name)?;
        let p = if change.role == Role::Admin { Permissions::ALL } else { change.permissions };
        if user_id == user.id
            && (change.role != before.role
                || (change.role == Role::Client && p != before.permissions)
                || change.active != before.active
                || (change.role == Role::Client && change.org_id.is_some() && change.org_id != before.org_id))
        {
            return Err(field(
                "permissions",
                "you cannot change your own role, permissions, organization or status; ask another admin",
            ));
        }
        let org = self.check_grant(user, change.role, change.org_id.as_deref(), p, Some(before.permissions)).await?;
        self.check_email_free(&email, Some(user_id)).await?;
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE users SET email = $1, name = $2, role = $3, org_id = $4, perm_conversations = $5, perm_settings = $6,
             perm_users = $7, active = $8 WHERE id = $9",
        )
        .bind(&email)
        .bind(&name)
        .bind(change.role.as_str())
        .bind(&org)
        .bind(flag(p.conversations))
        .bind(flag(p.settings))
        .bind(flag(p.users))
        .bind(flag(change.active))
        .bind(user_id)
        .execute(&mut *tx)
        .await;
        match updated {
            Err(e) if is_unique_violation(&e) => return Err(field("email", "a user with this e-mail already exists")),
            r => r?,
        };
        // Leaving, being deactivated or moved: the user's sessions end now.
        let moved = org != before.org_id || change.role != before.role;
        if !change.active || moved {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        self.revoke(user_id).await;
        tracing::info!(user = %user_id, by = %user.id, active = change.active, "user changed");
        let lost_conversations = !change.active || moved || (before.permissions.conversations && !p.conversations);
        if lost_conversations {
            self.release_held(user_id, &before).await;
        }
        self.managed_user(user, user_id).await
    }

    /// Gives the conversations a user holds back to the AI (announced to the visitor), when the
    /// user may no longer handle them.
    async fn release_held(&self, user_id: &str, before: &UserEntry) {
        let held: Vec<(String, String)> =
            match sqlx::query_as("SELECT id, org_id FROM conversations WHERE holder_id = $1 AND state = 'human'")
                .bind(user_id)
                .fetch_all(self.pool())
                .await
            {
                Ok(rows) => rows,
                Err(_) => return,
            };
        let agent = AgentRef { id: user_id.to_string(), name: before.name.clone() };
        for (conversation, org) in held {
            if let Err(e) = self.handoff(&conversation, &org, HandoffEvent::PassChatToAi { agent: agent.clone() }).await
            {
                tracing::warn!(%conversation, error = %e, "could not pass a released conversation to the AI");
            }
        }
    }

    /// Sets another user's password (admins, user managers). Ends all their sessions.
    pub async fn set_user_password(&self, user: &UserCtx, user_id: &str, password: &str) -> Result<()> {
        let target = self.managed_user(user, user_id).await?;
        user.may_manage(&target)?;
        check_password(password, &target.email)?;
        let hash = self.hash(password.to_string()).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
        self.revoke(user_id).await;
        tracing::info!(user = %user_id, by = %user.id, "password set; sessions revoked");
        Ok(())
    }

    /// Changes the caller's own password: the current one must be right. Every session of the user
    /// ends (other browsers are signed out); returns the token of a fresh session for this one.
    pub async fn change_own_password(&self, user: &UserCtx, current: &str, new: &str) -> Result<String> {
        let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(&user.id)
            .fetch_one(self.pool())
            .await?;
        let ok = {
            let (current, hash) = (current.to_string(), hash);
            tokio::task::spawn_blocking(move || verify_password(&current, &hash)).await.unwrap_or(false)
        };
        if !ok {
            return Err(field("current_password", "this is not your current password"));
        }
        if new == current {
            return Err(field("password", "choose a password different from the current one"));
        }
        check_password(new, &user.email)?;
        let hash = self.hash(new.to_string()).await?;
        let token = new_token();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(&user.id).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash(&token))
            .bind(&user.id)
            .bind(now)
            .bind(now + self.config.session_hours * 3_600_000)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.revoke(&user.id).await;
        tracing::info!(user = %user.id, "password changed; other sessions revoked");
        Ok(token)
    }

    pub(crate) async fn hash(&self, password: String) -> Result<String> {
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| BackendError::Internal(format!("hashing: {e}")))?
    }

    /// Creates a platform admin (first run, command line). Fails if the e-mail is taken.
    pub async fn create_first_admin(&self, email: &str, name: &str, password: &str) -> Result<String> {
        let email = parse_login_email(email)?;
        let name = parse_name("name", name)?;
        check_password(password, &email)?;
        self.check_email_free(&email, None).await?;
        let hash = self.hash(password.to_string()).await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO users (id, org_id, email, name, password_hash, role, perm_conversations, perm_settings,
             perm_users, active, created_at) VALUES ($1, NULL, $2, $3, $4, 'admin', 1, 1, 1, 1, $5)",
        )
        .bind(&id)
        .bind(&email)
        .bind(&name)
        .bind(&hash)
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        Ok(id)
    }

    /// How many active admins exist.
    pub async fn admin_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }
}
