//! Organizations, users, AI agent assignment and widgets, as the admin pages edit them.
//!
//! Who may do what:
//! * a platform **admin** manages everything;
//! * a client user with the *users* permission manages the users of their own organization, and
//!   may only grant permissions they hold themselves (and never the admin role);
//! * a client user with the *settings* permission manages their organization's widgets;
//! * every client user sees their organization's widgets (read-only without *settings*).
//!
//! Rows of another organization answer "not found", exactly like ids that do not exist, so ids
//! cannot be probed. Nobody changes their own role, permissions, organization or status (no
//! accidental lock-out); passwords have their own calls, and every password change ends all
//! sessions of that user.
use crate::auth::{hash_password, new_token, token_hash, verify_password};
use crate::chat::UserCtx;
use crate::error::{BackendError, Result};
use crate::{new_id, now_ms, Backend};
use domain::admin::{
    check_password, parse_login_email, parse_name, parse_origins, AgentEntry, NewUser, OrgDto, Permissions, Role,
    UserChange, UserEntry, WidgetDto, WidgetInput,
};
use domain::field::FieldError;
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
    fn entry(self) -> UserEntry {
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

#[derive(sqlx::FromRow)]
struct WidgetRow {
    id: String,
    org_id: String,
    org_name: String,
    agent_id: String,
    agent_name: String,
    name: String,
    allowed_origins: String,
    created_at: i64,
}

const WIDGET_SELECT: &str = "SELECT w.id, w.org_id, o.name AS org_name, w.agent_id, a.name AS agent_name, w.name,
    w.allowed_origins, w.created_at FROM widgets w JOIN organizations o ON o.id = w.org_id JOIN agents a ON a.id = w.agent_id";

impl WidgetRow {
    fn dto(self, editable: bool) -> WidgetDto {
        WidgetDto {
            id: self.id,
            org_id: self.org_id,
            org_name: self.org_name,
            agent_id: self.agent_id,
            agent_name: self.agent_name,
            name: self.name,
            allowed_origins: self.allowed_origins.split('\n').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            created_at: self.created_at,
            editable,
        }
    }
}

#[derive(sqlx::FromRow)]
struct AgentEntryRow {
    id: String,
    name: String,
    org_id: Option<String>,
    org_name: Option<String>,
    handoff_enabled: i64,
    handoff_fixed: i64,
    widgets: i64,
}

const AGENT_ENTRY_SELECT: &str =
    "SELECT a.id, a.name, a.org_id, o.name AS org_name, a.handoff_enabled, a.handoff_fixed,
    (SELECT COUNT(*) FROM widgets w WHERE w.agent_id = a.id) AS widgets
    FROM agents a LEFT JOIN organizations o ON o.id = a.org_id";

impl AgentEntryRow {
    fn entry(self) -> AgentEntry {
        AgentEntry {
            id: self.id,
            name: self.name,
            org_id: self.org_id,
            org_name: self.org_name,
            handoff_enabled: self.handoff_enabled != 0,
            handoff_fixed: self.handoff_fixed != 0,
            widgets: self.widgets,
        }
    }
}

impl UserCtx {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(BackendError::Forbidden("only platform admins may do this".into()))
        }
    }

    /// The organization whose users this user manages (`None`: all of them, an admin).
    fn managed_org(&self) -> Result<Option<&str>> {
        match (self.is_admin(), &self.org_id, self.perm_users) {
            (true, _, _) => Ok(None),
            (false, Some(org), true) => Ok(Some(org)),
            _ => Err(BackendError::Forbidden("you need the users permission to manage users".into())),
        }
    }

    fn permissions(&self) -> Permissions {
        if self.is_admin() {
            Permissions::ALL
        } else {
            Permissions { conversations: self.perm_conversations, settings: self.perm_settings, users: self.perm_users }
        }
    }
}

/// A unique-constraint violation on insert or update (the e-mail of users).
fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl Backend {
    // ------------------------------------------------------------ organizations

    /// Admins: every organization; client users: their own.
    pub async fn list_orgs(&self, user: &UserCtx) -> Result<Vec<OrgDto>> {
        if user.is_admin() {
            self.org_rows(None).await
        } else {
            match &user.org_id {
                Some(org) => self.org_rows(Some(org)).await,
                None => Ok(Vec::new()),
            }
        }
    }

    /// Organizations with their counts: all (`None`) or the one with this id.
    async fn org_rows(&self, id: Option<&str>) -> Result<Vec<OrgDto>> {
        let sql = "SELECT o.id, o.name, o.created_at,
                (SELECT COUNT(*) FROM users u WHERE u.org_id = o.id AND u.active = 1) AS users,
                (SELECT COUNT(*) FROM agents a WHERE a.org_id = o.id) AS agents,
                (SELECT COUNT(*) FROM widgets w WHERE w.org_id = o.id) AS widgets
             FROM organizations o";
        let rows: Vec<(String, String, i64, i64, i64, i64)> = match id {
            None => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{sql} ORDER BY o.name, o.id")))
                    .fetch_all(self.pool())
                    .await?
            }
            Some(id) => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!("{sql} WHERE o.id = $1")))
                    .bind(id)
                    .fetch_all(self.pool())
                    .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at, users, agents, widgets)| OrgDto {
                id,
                name,
                users,
                agents,
                widgets,
                created_at,
            })
            .collect())
    }

    async fn org_exists(&self, org_id: &str) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM organizations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.is_some())
    }

    async fn org_dto(&self, org_id: &str) -> Result<OrgDto> {
        self.org_rows(Some(org_id)).await?.pop().ok_or(BackendError::NotFound("organization"))
    }

    /// Admins only. Names are unique (case-insensitively) so that lists stay unambiguous.
    pub async fn create_org(&self, user: &UserCtx, name: &str) -> Result<OrgDto> {
        user.require_admin()?;
        let name = parse_name("name", name)?;
        self.check_org_name_free(&name, None).await?;
        let id = new_id();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(&name)
            .bind(now_ms())
            .execute(self.writer())
            .await?;
        tracing::info!(org = %id, by = %user.id, "organization created");
        self.org_dto(&id).await
    }

    pub async fn rename_org(&self, user: &UserCtx, org_id: &str, name: &str) -> Result<OrgDto> {
        user.require_admin()?;
        let name = parse_name("name", name)?;
        if !self.org_exists(org_id).await? {
            return Err(BackendError::NotFound("organization"));
        }
        self.check_org_name_free(&name, Some(org_id)).await?;
        sqlx::query("UPDATE organizations SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(org_id)
            .execute(self.writer())
            .await?;
        self.org_dto(org_id).await
    }

    async fn check_org_name_free(&self, name: &str, except: Option<&str>) -> Result<()> {
        let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM organizations WHERE LOWER(name) = LOWER($1)")
            .bind(name)
            .fetch_optional(self.pool())
            .await?;
        match taken {
            Some((id,)) if Some(id.as_str()) != except => {
                Err(FieldError::new("name", "an organization with this name already exists").into())
            }
            _ => Ok(()),
        }
    }

    // ------------------------------------------------------------ users

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
        match user.managed_org()? {
            None => match role {
                Role::Admin => Ok(None),
                Role::Client => {
                    let org = org_id
                        .filter(|o| !o.is_empty())
                        .ok_or_else(|| FieldError::new("org_id", "choose an organization"))?;
                    if !self.org_exists(org).await? {
                        return Err(FieldError::new("org_id", "this organization does not exist").into());
                    }
                    Ok(Some(org.to_string()))
                }
            },
            Some(own) => {
                if role == Role::Admin {
                    return Err(FieldError::new("role", "only platform admins may make admins").into());
                }
                if org_id.is_some_and(|o| !o.is_empty() && o != own) {
                    return Err(FieldError::new("org_id", "you can only manage users of your own organization").into());
                }
                // Permissions the manager lacks stay as they were (off for new users).
                let mine = user.permissions();
                let before = before.unwrap_or_default();
                let changed = Permissions {
                    conversations: perms.conversations != before.conversations,
                    settings: perms.settings != before.settings,
                    users: perms.users != before.users,
                };
                if !mine.covers(changed) {
                    return Err(FieldError::new(
                        "permissions",
                        "you can only grant or remove permissions you have yourself",
                    )
                    .into());
                }
                Ok(Some(own.to_string()))
            }
        }
    }

    async fn check_email_free(&self, email: &str, except: Option<&str>) -> Result<()> {
        let taken: Option<(String,)> =
            sqlx::query_as("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(self.pool()).await?;
        match taken {
            Some((id,)) if Some(id.as_str()) != except => {
                Err(FieldError::new("email", "a user with this e-mail already exists").into())
            }
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
            Err(e) if is_unique_violation(&e) => {
                return Err(FieldError::new("email", "a user with this e-mail already exists").into())
            }
            r => r?,
        };
        tracing::info!(user = %id, by = %user.id, role = new.role.as_str(), "user created");
        self.managed_user(user, &id).await
    }

    pub async fn update_user(&self, user: &UserCtx, user_id: &str, change: UserChange) -> Result<UserEntry> {
        let before = self.managed_user(user, user_id).await?;
        let email = parse_login_email(&change.email)?;
        let name = parse_name("name", &change.name)?;
        let p = if change.role == Role::Admin { Permissions::ALL } else { change.permissions };
        if user_id == user.id
            && (change.role != before.role
                || (change.role == Role::Client && p != before.permissions)
                || change.active != before.active
                || (change.role == Role::Client && change.org_id.is_some() && change.org_id != before.org_id))
        {
            return Err(FieldError::new(
                "permissions",
                "you cannot change your own role, permissions, organization or status; ask another admin",
            )
            .into());
        }
        let org = self.check_grant(user, change.role, change.org_id.as_deref(), p, Some(before.permissions)).await?;
        self.check_email_free(&email, Some(user_id)).await?;
        let mut tx = self.writer().begin().await?;
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
            Err(e) if is_unique_violation(&e) => {
                return Err(FieldError::new("email", "a user with this e-mail already exists").into())
            }
            r => r?,
        };
        // Leaving, being deactivated or moved: the user's sessions end now.
        let moved = org != before.org_id || change.role != before.role;
        if !change.active || moved {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
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
        check_password(password, &target.email)?;
        let hash = self.hash(password.to_string()).await?;
        let mut tx = self.writer().begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        tx.commit().await?;
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
            return Err(FieldError::new("current_password", "this is not your current password").into());
        }
        if new == current {
            return Err(FieldError::new("password", "choose a password different from the current one").into());
        }
        check_password(new, &user.email)?;
        let hash = self.hash(new.to_string()).await?;
        let token = new_token();
        let now = now_ms();
        let mut tx = self.writer().begin().await?;
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
        tracing::info!(user = %user.id, "password changed; other sessions revoked");
        Ok(token)
    }

    async fn hash(&self, password: String) -> Result<String> {
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

    // ------------------------------------------------------------ AI agents (assignment)

    /// Admins only: every agent with its organization.
    pub async fn list_agent_entries(&self, user: &UserCtx) -> Result<Vec<AgentEntry>> {
        user.require_admin()?;
        let rows: Vec<AgentEntryRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{AGENT_ENTRY_SELECT} ORDER BY a.name, a.id")))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(AgentEntryRow::entry).collect())
    }

    async fn agent_entry(&self, agent_id: &str) -> Result<AgentEntry> {
        let row: Option<AgentEntryRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{AGENT_ENTRY_SELECT} WHERE a.id = $1")))
                .bind(agent_id)
                .fetch_optional(self.pool())
                .await?;
        row.map(AgentEntryRow::entry).ok_or(BackendError::NotFound("agent"))
    }

    /// Admins only: a new AI agent (handoff popup enabled, not fixed), optionally assigned.
    pub async fn create_agent(&self, user: &UserCtx, name: &str, org_id: Option<&str>) -> Result<AgentEntry> {
        user.require_admin()?;
        let name = parse_name("name", name)?;
        if name.chars().count() > domain::agent::MAX_AI_AGENT_NAME {
            return Err(FieldError::new(
                "name",
                format!("must be at most {} characters", domain::agent::MAX_AI_AGENT_NAME),
            )
            .into());
        }
        let org = org_id.filter(|o| !o.is_empty());
        if let Some(o) = org {
            if !self.org_exists(o).await? {
                return Err(FieldError::new("org_id", "this organization does not exist").into());
            }
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO agents (id, org_id, name, greeting, handoff_enabled, handoff_fixed, created_at)
             VALUES ($1, $2, $3, $4, 1, 0, $5)",
        )
        .bind(&id)
        .bind(org)
        .bind(&name)
        .bind(format!("Hi! I'm {name}. How can I help you?"))
        .bind(now_ms())
        .execute(self.writer())
        .await?;
        tracing::info!(agent = %id, by = %user.id, "agent created");
        self.agent_entry(&id).await
    }

    /// Admins only: assigns an agent to an organization (at most one), or unassigns it (`None`).
    /// An agent that serves widgets stays with their organization, and an agent with "Fixed
    /// handoff popup" on cannot lose its organization: clear errors, nothing changed.
    pub async fn assign_agent(&self, user: &UserCtx, agent_id: &str, org_id: Option<&str>) -> Result<AgentEntry> {
        user.require_admin()?;
        let before = self.agent_entry(agent_id).await?;
        let org = org_id.filter(|o| !o.is_empty());
        if let Some(o) = org {
            if !self.org_exists(o).await? {
                return Err(FieldError::new("org_id", "this organization does not exist").into());
            }
        }
        if org == before.org_id.as_deref() {
            return Ok(before);
        }
        if before.widgets > 0 {
            return Err(FieldError::new(
                "org_id",
                format!(
                    "{} serves {} widget(s) of {}; point them at another agent first",
                    before.name,
                    before.widgets,
                    before.org_name.as_deref().unwrap_or("its organization")
                ),
            )
            .into());
        }
        if org.is_none() && before.handoff_fixed {
            return Err(FieldError::new(
                "org_id",
                "Fixed handoff popup needs an organization: turn it off before unassigning the agent",
            )
            .into());
        }
        // Guarded on the organization read above, so two admins assigning at once cannot both win.
        let done = sqlx::query(
            "UPDATE agents SET org_id = $1 WHERE id = $2 AND COALESCE(org_id, '') = $3
               AND NOT EXISTS (SELECT 1 FROM widgets w WHERE w.agent_id = agents.id)",
        )
        .bind(org)
        .bind(agent_id)
        .bind(before.org_id.as_deref().unwrap_or(""))
        .execute(self.writer())
        .await?;
        if done.rows_affected() == 0 {
            return Err(BackendError::Conflict("the agent changed meanwhile; reload and try again".into()));
        }
        tracing::info!(agent = %agent_id, org = ?org, by = %user.id, "agent assigned");
        self.agent_entry(agent_id).await
    }

    // ------------------------------------------------------------ widgets

    /// Admins: every widget; client users: their organization's.
    pub async fn list_widgets(&self, user: &UserCtx) -> Result<Vec<WidgetDto>> {
        let rows: Vec<WidgetRow> = if user.is_admin() {
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{WIDGET_SELECT} ORDER BY o.name, w.name, w.id")))
                .fetch_all(self.pool())
                .await?
        } else {
            let Some(org) = &user.org_id else { return Ok(Vec::new()) };
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{WIDGET_SELECT} WHERE w.org_id = $1 ORDER BY w.name, w.id")))
                .bind(org)
                .fetch_all(self.pool())
                .await?
        };
        let editable = user.may_edit_settings();
        Ok(rows.into_iter().map(|r| r.dto(editable)).collect())
    }

    async fn visible_widget(&self, user: &UserCtx, widget_id: &str) -> Result<WidgetDto> {
        let row: Option<WidgetRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{WIDGET_SELECT} WHERE w.id = $1")))
            .bind(widget_id)
            .fetch_optional(self.pool())
            .await?;
        match row {
            Some(r) if user.is_admin() || Some(&r.org_id) == user.org_id.as_ref() => {
                Ok(r.dto(user.may_edit_settings()))
            }
            _ => Err(BackendError::NotFound("widget")),
        }
    }

    /// Creates (`widget_id: None`) or changes a widget. Needs the *settings* permission; the
    /// agent must belong to the widget's organization.
    pub async fn save_widget(&self, user: &UserCtx, widget_id: Option<&str>, input: WidgetInput) -> Result<WidgetDto> {
        let existing = match widget_id {
            Some(id) => Some(self.visible_widget(user, id).await?),
            None => None,
        };
        if !user.may_edit_settings() {
            return Err(BackendError::Forbidden("you need the settings permission to change widgets".into()));
        }
        let name = parse_name("name", &input.name)?;
        let origins = parse_origins(&input.allowed_origins)?;
        let org = if user.is_admin() {
            match (&existing, input.org_id.as_deref().filter(|o| !o.is_empty())) {
                (_, Some(o)) => o.to_string(),
                (Some(w), None) => w.org_id.clone(),
                (None, None) => return Err(FieldError::new("org_id", "choose an organization").into()),
            }
        } else {
            let own = user.org_id.clone().ok_or(BackendError::Forbidden("you belong to no organization".into()))?;
            if input.org_id.as_deref().is_some_and(|o| !o.is_empty() && o != own) {
                return Err(FieldError::new("org_id", "widgets belong to your own organization").into());
            }
            own
        };
        if !self.org_exists(&org).await? {
            return Err(FieldError::new("org_id", "this organization does not exist").into());
        }
        let agent_org: Option<(Option<String>,)> = sqlx::query_as("SELECT org_id FROM agents WHERE id = $1")
            .bind(&input.agent_id)
            .fetch_optional(self.pool())
            .await?;
        match agent_org {
            Some((Some(a),)) if a == org => {}
            Some((_,)) if user.is_admin() => {
                return Err(
                    FieldError::new("agent_id", "this agent is not assigned to the widget's organization").into()
                )
            }
            _ => return Err(FieldError::new("agent_id", "choose one of your organization's AI agents").into()),
        }
        let stored = origins.join("\n");
        let id = match &existing {
            Some(w) => {
                sqlx::query(
                    "UPDATE widgets SET name = $1, org_id = $2, agent_id = $3, allowed_origins = $4 WHERE id = $5",
                )
                .bind(&name)
                .bind(&org)
                .bind(&input.agent_id)
                .bind(&stored)
                .bind(&w.id)
                .execute(self.writer())
                .await?;
                w.id.clone()
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO widgets (id, org_id, agent_id, name, allowed_origins, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&id)
                .bind(&org)
                .bind(&input.agent_id)
                .bind(&name)
                .bind(&stored)
                .bind(now_ms())
                .execute(self.writer())
                .await?;
                id
            }
        };
        tracing::info!(widget = %id, by = %user.id, "widget saved");
        self.visible_widget(user, &id).await
    }
}
