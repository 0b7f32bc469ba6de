//! Who the caller is and what they may do: every permission check of the backend.
//!
//! * A platform **admin** ([`Role::Admin`]) manages everything.
//! * A client user belongs to one organization; their [`Permissions`] say whether they may handle
//!   its conversations (*conversations*), change its settings (*settings*) and manage its users
//!   (*users*); they may only grant permissions they hold themselves (and never the admin role),
//!   and manage only users whose permissions are a subset of their own (a *users*-only manager
//!   cannot take over a colleague with *settings*).
//! * A visitor ([`VisitorCtx`]) reaches only their own conversation.
//!
//! Rows of another organization answer "not found", exactly like ids that do not exist, so ids
//! cannot be probed. Roles are typed, never compared as strings.
use crate::error::{field, BackendError, Result};
use domain::admin::{Permissions, Role, UserEntry};
use domain::handoff::AgentRef;
use domain::wire::UserDto;

/// A signed-in user of the dashboard.
#[derive(Clone, Debug)]
pub struct UserCtx {
    pub id: String,
    pub org_id: Option<String>,
    pub org_name: Option<String>,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// The permissions stored for the user (an admin may do everything whatever they are: see
    /// [`UserCtx::permissions`]).
    pub perms: Permissions,
}

impl UserCtx {
    pub fn agent_ref(&self) -> AgentRef {
        AgentRef { id: self.id.clone(), name: self.name.clone() }
    }

    /// Whether the user may change settings (agents, handoff, notifications of the organization).
    pub fn may_edit_settings(&self) -> bool {
        self.is_admin() || self.perms.settings
    }

    /// Refuses without the *settings* permission: "you need the settings permission to `what`".
    pub(crate) fn require_settings(&self, what: &str) -> Result<()> {
        if self.may_edit_settings() {
            Ok(())
        } else {
            Err(BackendError::Forbidden(format!("you need the settings permission to {what}")))
        }
    }

    /// The user's own organization, for what belongs to one (`what`: "labels", "canned
    /// responses"): any user of it may read them; a user of none (a platform admin) has none.
    pub(crate) fn member_org(&self, what: &str) -> Result<&str> {
        self.org_id.as_deref().ok_or_else(|| BackendError::Forbidden(format!("{what} belong to an organization")))
    }

    /// The organization whose conversations this user may see and handle.
    pub fn conversations_org(&self) -> Result<&str> {
        match (&self.org_id, self.perms.conversations) {
            (Some(org), true) => Ok(org),
            _ => Err(BackendError::Forbidden("you may not handle conversations".into())),
        }
    }

    pub fn dto(&self) -> UserDto {
        UserDto {
            id: self.id.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            org_name: self.org_name.clone(),
            is_admin: self.is_admin(),
            can_settings: self.may_edit_settings(),
            can_users: self.is_admin() || (self.org_id.is_some() && self.perms.users),
        }
    }
}

/// A visitor connected through a widget, identified by their token.
#[derive(Clone, Debug)]
pub struct VisitorCtx {
    pub visitor_id: String,
    pub org_id: String,
    pub conversation_id: String,
}

/// An active user with their organization (`u` users, `o` organizations).
pub(crate) const USER_COLS: &str =
    "u.id, u.org_id, o.name AS org_name, u.email, u.name, u.role, u.perm_conversations, \
                         u.perm_settings, u.perm_users";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    org_id: Option<String>,
    org_name: Option<String>,
    email: String,
    name: String,
    role: String,
    perm_conversations: i64,
    perm_settings: i64,
    perm_users: i64,
}

impl UserRow {
    pub(crate) fn ctx(self) -> UserCtx {
        UserCtx {
            id: self.id,
            org_id: self.org_id,
            org_name: self.org_name,
            email: self.email,
            name: self.name,
            role: Role::parse(&self.role),
            perms: Permissions {
                conversations: self.perm_conversations != 0,
                settings: self.perm_settings != 0,
                users: self.perm_users != 0,
            },
        }
    }
}

impl UserCtx {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub(crate) fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(BackendError::Forbidden("only platform admins may do this".into()))
        }
    }

    /// The organization whose users this user manages (`None`: all of them, an admin).
    pub(crate) fn managed_org(&self) -> Result<Option<&str>> {
        match (self.is_admin(), &self.org_id, self.perms.users) {
            (true, _, _) => Ok(None),
            (false, Some(org), true) => Ok(Some(org)),
            _ => Err(BackendError::Forbidden("you need the users permission to manage users".into())),
        }
    }

    /// What the user may do (an admin: everything).
    pub fn permissions(&self) -> Permissions {
        if self.is_admin() {
            Permissions::ALL
        } else {
            self.perms
        }
    }

    /// Whether this user may change `target` (password, e-mail, status, permissions): admins
    /// anyone, user managers only users whose permissions they all hold themselves.
    pub(crate) fn may_manage(&self, target: &UserEntry) -> Result<()> {
        if self.is_admin() || self.permissions().covers(target.permissions) {
            Ok(())
        } else {
            Err(BackendError::Forbidden("you can only manage users whose permissions you have yourself".into()))
        }
    }

    /// Whether the user sees rows of this organization (`None`: rows of no organization, which
    /// only admins see).
    pub(crate) fn sees_org(&self, org_id: Option<&str>) -> bool {
        self.is_admin() || (org_id.is_some() && org_id == self.org_id.as_deref())
    }

    /// The user whose bell this is: only users who handle conversations have one.
    pub(crate) fn bell_user(&self) -> Result<&str> {
        self.conversations_org()?;
        Ok(&self.id)
    }

    /// Checks role, organization and permissions of a new or changed user against what this user
    /// may grant; says which organization to store.
    pub(crate) fn grant(
        &self,
        role: Role,
        org_id: Option<&str>,
        perms: Permissions,
        before: Option<Permissions>,
    ) -> Result<GrantedOrg> {
        match self.managed_org()? {
            None => match role {
                Role::Admin => Ok(GrantedOrg::None),
                Role::Client => {
                    let org =
                        org_id.filter(|o| !o.is_empty()).ok_or_else(|| field("org_id", "choose an organization"))?;
                    Ok(GrantedOrg::Chosen(org.to_string()))
                }
            },
            Some(own) => {
                if role == Role::Admin {
                    return Err(field("role", "only platform admins may make admins"));
                }
                if org_id.is_some_and(|o| !o.is_empty() && o != own) {
                    return Err(field("org_id", "you can only manage users of your own organization"));
                }
                // Permissions the manager lacks stay as they were (off for new users).
                let mine = self.permissions();
                let before = before.unwrap_or_default();
                let changed = Permissions {
                    conversations: perms.conversations != before.conversations,
                    settings: perms.settings != before.settings,
                    users: perms.users != before.users,
                };
                if !mine.covers(changed) {
                    return Err(field("permissions", "you can only grant or remove permissions you have yourself"));
                }
                Ok(GrantedOrg::Own(own.to_string()))
            }
        }
    }
}

/// The organization of a user as [`UserCtx::grant`] allows it.
pub(crate) enum GrantedOrg {
    /// None: an admin.
    None,
    /// The organization an admin chose (the caller checks that it exists).
    Chosen(String),
    /// The granting user's own organization.
    Own(String),
}
