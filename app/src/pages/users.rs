//! `/settings/users`: the users an admin (all, filtered by organization) or a user manager (their
//! organization's) may manage. Each row edits name, e-mail, the three permissions and whether the
//! user is active, and sets a new password; below, the "New user" form. The server decides what
//! the caller may grant and answers `Field` errors (email, name, password, org_id, role,
//! permissions), shown next to the field.
use crate::api::admin::{create_user, list_orgs, list_users, set_user_password, update_user};
use crate::components::form::{
    field_error, form_status, load, load_status, loaded_empty, loaded_or_default, org_options, submit_form, Feedback,
    Loaded, OrgSelect,
};
use crate::components::topbar::SettingsFrame;
use domain::admin::{NewUser, OrgDto, Permissions, Role, UserChange, UserEntry};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn UsersPage() -> impl IntoView {
    // Read with the page (see `load`).
    let version = RwSignal::new(0u64);
    // Admins: the organization to show ("" = every user).
    let filter = RwSignal::new(String::new());
    let orgs = load(version, list_orgs);
    let users = load(version, move || list_users(Some(filter.get()).filter(|f| !f.is_empty())));
    view! {
        <Title text="Users · Handoff"/>
        <SettingsFrame current="/settings/users" wide=true content=move |user| {
            if user.can_users {
                view! { <Users admin=user.is_admin me=user.id version filter orgs users/> }.into_any()
            } else {
                view! { <p class="card muted">"Managing users needs the users permission."</p> }.into_any()
            }
        }/>
    }
}

#[component]
fn Users(
    admin: bool,
    me: String,
    version: RwSignal<u64>,
    filter: RwSignal<String>,
    orgs: Loaded<Vec<OrgDto>>,
    users: Loaded<Vec<UserEntry>>,
) -> impl IntoView {
    let list = move || loaded_or_default(users);
    view! {
        <section class="card stack users">
            <div class="card-head">
                <h2>"Users"</h2>
                <span class="spacer"></span>
                {admin.then(|| view! {
                    <label class="inline">
                        "Organization"
                        <select name="filter" on:change=move |ev| filter.set(event_target_value(&ev))>
                            {org_options(orgs, "All organizations", move || filter.get())}
                        </select>
                    </label>
                })}
            </div>
            {load_status(users)}
            <div class="table-wrap">
                <table class="table users-table">
                    <thead>
                        <tr>
                            <th>"Name"</th><th>"E-mail"</th>
                            {admin.then(|| view! { <th>"Organization"</th> })}
                            <th>"Role"</th><th>"Permissions"</th><th>"Active"</th><th></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=list key=row_key let:user>
                            <UserRow user admin me=me.clone()/>
                        </For>
                    </tbody>
                </table>
            </div>
            {move || loaded_empty(users).then(|| view! { <p class="muted">"No users."</p> })}
        </section>
        <NewUserForm admin orgs filter version/>
    }
}

/// A row is rebuilt when the server's copy of the user changes.
fn row_key(u: &UserEntry) -> (String, String, String, bool, [bool; 3]) {
    let p = u.permissions;
    (u.id.clone(), u.email.clone(), u.name.clone(), u.active, [p.conversations, p.settings, p.users])
}

/// One permission checkbox: label, input name, read, write.
type PermBox = (&'static str, &'static str, fn(&Permissions) -> bool, fn(&mut Permissions, bool));

/// The three permission checkboxes. `locked`: shown, not changeable.
fn permission_boxes(perms: RwSignal<Permissions>, locked: bool) -> impl IntoView {
    let boxes: [PermBox; 3] = [
        ("Conversations", "perm_conversations", |p| p.conversations, |p, on| p.conversations = on),
        ("Settings", "perm_settings", |p| p.settings, |p, on| p.settings = on),
        ("Users", "perm_users", |p| p.users, |p, on| p.users = on),
    ];
    boxes
        .into_iter()
        .map(|(label, name, get, set)| {
            view! {
                <label class="check">
                    <input type="checkbox" name=name disabled=locked
                        checked=perms.with_untracked(get) prop:checked=move || perms.with(get)
                        on:change=move |ev| perms.update(|p| set(p, event_target_checked(&ev)))/>
                    {label}
                </label>
            }
        })
        .collect_view()
}

#[component]
fn UserRow(user: UserEntry, admin: bool, me: String) -> impl IntoView {
    let is_me = user.id == me;
    let is_admin_user = user.role == Role::Admin;
    let name = RwSignal::new(user.name.clone());
    let email = RwSignal::new(user.email.clone());
    let perms = RwSignal::new(user.permissions);
    let active = RwSignal::new(user.active);
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let password_open = RwSignal::new(false);
    let (id, role, org_id) = (user.id.clone(), user.role, user.org_id.clone());
    let save = move || {
        let change = UserChange {
            email: email.get_untracked(),
            name: name.get_untracked(),
            role,
            org_id: org_id.clone(),
            permissions: perms.get_untracked(),
            active: active.get_untracked(),
        };
        let id = id.clone();
        submit_form(fb, Some(busy), update_user(id, change), move |u| {
            email.set(u.email);
            name.set(u.name);
            perms.set(u.permissions);
            active.set(u.active);
            Feedback::ok("Saved.")
        });
    };
    let columns = if admin { 7 } else { 6 };
    let who = user.name.clone();
    view! {
        <tr data-user-email=user.email.clone() class:inactive=move || !active.get()>
            <td>
                <input type="text" name="name" aria-label="Name" value=name.get_untracked() prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                {field_error(fb, "name")}
            </td>
            <td>
                <input type="email" name="email" aria-label="E-mail" value=email.get_untracked() prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                {field_error(fb, "email")}
            </td>
            {admin.then(|| view! { <td>{user.org_name.clone().unwrap_or_else(|| "—".into())}</td> })}
            <td>{if is_admin_user { "Admin" } else { "Client" }}</td>
            <td>
                <div class="perms">{permission_boxes(perms, is_me || is_admin_user)}</div>
                {field_error(fb, "permissions")}
            </td>
            <td>
                <label class="check">
                    <input type="checkbox" name="active" disabled=is_me checked=active.get_untracked() prop:checked=move || active.get() on:change=move |ev| active.set(event_target_checked(&ev))/>
                    "Active"
                </label>
            </td>
            <td class="row-actions">
                <button type="button" class="btn small primary" disabled=move || busy.get() on:click=move |_| save()>"Save"</button>
                <button type="button" class="btn small" aria-expanded=move || password_open.get().to_string() on:click=move |_| password_open.update(|o| *o = !*o)>"Set password"</button>
                {form_status(fb)}
            </td>
        </tr>
        <Show when=move || password_open.get()>
            <tr class="subrow">
                <td colspan=columns>
                    <SetPassword user_id=user.id.clone() who=who.clone() open=password_open/>
                </td>
            </tr>
        </Show>
    }
}

/// "Set password" of one user: a small inline form.
#[component]
fn SetPassword(user_id: String, who: String, open: RwSignal<bool>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let fb = RwSignal::new(Feedback::default());
    let save = move || {
        let (id, p) = (user_id.clone(), password.get_untracked());
        submit_form(fb, None, set_user_password(id, p), move |()| {
            password.set(String::new());
            Feedback::ok("Password set. The user's sessions ended.")
        });
    };
    view! {
        <form class="inline-form set-password" method="post" novalidate=true on:submit=move |ev| { ev.prevent_default(); save(); }>
            <label>
                {format!("New password for {who}")}
                <input type="password" name="password" autocomplete="new-password" prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </label>
            <button type="submit" class="btn small primary">"Set password"</button>
            <button type="button" class="btn small" on:click=move |_| open.set(false)>"Close"</button>
            {field_error(fb, "password")}
            {form_status(fb)}
        </form>
    }
}

#[component]
fn NewUserForm(
    admin: bool,
    orgs: Loaded<Vec<OrgDto>>,
    filter: RwSignal<String>,
    version: RwSignal<u64>,
) -> impl IntoView {
    let email = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Client);
    // Admins: the new client's organization; the filter's by default.
    let org = RwSignal::new(String::new());
    Effect::new(move |_| org.set(filter.get()));
    let perms = RwSignal::new(Permissions { conversations: true, ..Default::default() });
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let create = move || {
        let role = role.get_untracked();
        let new = NewUser {
            email: email.get_untracked(),
            name: name.get_untracked(),
            password: password.get_untracked(),
            role,
            org_id: (admin && role == Role::Client).then(|| org.get_untracked()).filter(|o| !o.is_empty()),
            permissions: perms.get_untracked(),
        };
        submit_form(fb, Some(busy), create_user(new), move |u| {
            email.set(String::new());
            name.set(String::new());
            password.set(String::new());
            perms.set(Permissions { conversations: true, ..Default::default() });
            version.update(|v| *v += 1);
            Feedback::ok(&format!("Created {}.", u.email))
        });
    };
    let text = move |label: &'static str,
                     field: &'static str,
                     kind: &'static str,
                     auto: &'static str,
                     sig: RwSignal<String>| {
        view! {
            <label>
                {label}
                <input type=kind name=field autocomplete=auto prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev))/>
                {field_error(fb, field)}
            </label>
        }
    };
    view! {
        <form class="card stack new-user" method="post" novalidate=true on:submit=move |ev| { ev.prevent_default(); create(); }>
            <h2>"New user"</h2>
            <div class="row top">
                {text("E-mail", "email", "email", "off", email)}
                {text("Name", "name", "text", "off", name)}
                {text("Password", "password", "password", "new-password", password)}
            </div>
            {admin.then(|| view! {
                <div class="row top">
                    <label>
                        "Role"
                        <select name="role" on:change=move |ev| role.set(Role::parse(&event_target_value(&ev)))>
                            <option value="client" prop:selected=move || role.get() == Role::Client>"Client"</option>
                            <option value="admin" prop:selected=move || role.get() == Role::Admin>"Admin"</option>
                        </select>
                        {field_error(fb, "role")}
                    </label>
                    <Show when=move || role.get() == Role::Client>
                        <OrgSelect orgs=orgs value=org fb=fb none="— choose —"/>
                    </Show>
                </div>
            })}
            <Show when=move || role.get() == Role::Client>
                <fieldset class="perms">
                    <legend>"Permissions"</legend>
                    {permission_boxes(perms, false)}
                </fieldset>
            </Show>
            {field_error(fb, "permissions")}
            {form_status(fb)}
            <div>
                <button type="submit" class="btn primary" disabled=move || busy.get()>"Create user"</button>
            </div>
        </form>
    }
}
