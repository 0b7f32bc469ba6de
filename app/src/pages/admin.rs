//! `/admin` (platform admins): organizations (create, rename, how many users, AI agents and
//! widgets each has) and AI agents (create, assign to an organization or none; each with its
//! conversations tab, where the admin handles live chats like an agent of the organization). An agent's
//! settings and knowledge base are edited at `/settings/ai`, which lists every agent for admins.
//! Everyone else sees a short refusal; the server refuses their calls anyway.
use crate::api::admin::{assign_agent, create_agent, create_org, list_agent_entries, list_orgs, rename_org};
use crate::components::form::{
    field_error, form_status, load, load_status, loaded_empty, loaded_or_default, org_options, submit_form, Feedback,
    Loaded, NameInput, OrgSelect,
};
use crate::components::topbar::SettingsFrame;
use domain::admin::{AgentEntry, OrgDto};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn AdminPage() -> impl IntoView {
    // Read with the page (see `load`); bumped after every change: both lists are read again
    // (counts and names change together).
    let version = RwSignal::new(0u64);
    let orgs = load(version, list_orgs);
    let agents = load(version, list_agent_entries);
    view! {
        <Title text="Admin · Handoff"/>
        <SettingsFrame current="/admin" content=move |user| {
            if user.is_admin {
                view! {
                    <Organizations orgs version/>
                    <AiAgents agents orgs version/>
                }.into_any()
            } else {
                view! { <p class="card muted">"Only platform admins can see this page."</p> }.into_any()
            }
        }/>
    }
}

#[component]
fn Organizations(orgs: Loaded<Vec<OrgDto>>, version: RwSignal<u64>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let create = move || {
        let n = name.get_untracked();
        submit_form(fb, Some(busy), create_org(n), move |o| {
            name.set(String::new());
            version.update(|v| *v += 1);
            Feedback::ok(&format!("Created {}.", o.name))
        });
    };
    view! {
        <section class="card stack orgs">
            <h2>"Organizations"</h2>
            {load_status(orgs)}
            <table class="table">
                <thead><tr><th>"Name"</th><th class="num">"Users"</th><th class="num">"AI agents"</th><th class="num">"Widgets"</th></tr></thead>
                <tbody>
                    <For each=move || loaded_or_default(orgs) key=|o| (o.id.clone(), o.name.clone(), o.users, o.agents, o.widgets) let:org>
                        <OrgRow org version/>
                    </For>
                </tbody>
            </table>
            {move || loaded_empty(orgs).then(|| view! { <p class="muted">"No organizations yet."</p> })}
            <form class="stack new-org" novalidate=true on:submit=move |ev| { ev.prevent_default(); create(); }>
                <h3>"New organization"</h3>
                <div class="row">
                    <NameInput value=name fb=fb/>
                    <button type="submit" class="btn primary" disabled=move || busy.get()>"Create organization"</button>
                </div>
                {form_status(fb)}
            </form>
        </section>
    }
}

/// One organization; "Rename" turns its name into a small form.
#[component]
fn OrgRow(org: OrgDto, version: RwSignal<u64>) -> impl IntoView {
    let editing = RwSignal::new(false);
    let name = RwSignal::new(org.name.clone());
    let fb = RwSignal::new(Feedback::default());
    let (id, shown) = (org.id.clone(), org.name.clone());
    let save = move || {
        let (id, n) = (id.clone(), name.get_untracked());
        spawn_local(async move {
            match rename_org(id, n).await {
                Ok(_) => {
                    editing.set(false);
                    version.update(|v| *v += 1);
                }
                Err(e) => fb.set(Feedback::from_error(e)),
            }
        });
    };
    let cancel_name = org.name.clone();
    view! {
        <tr data-org=org.id.clone() data-org-name=org.name.clone()>
            <td>
                <Show when=move || editing.get() fallback=move || view! {
                    <span class="cell-line">
                        <strong>{shown.clone()}</strong>
                        <button type="button" class="btn small subtle" on:click=move |_| editing.set(true)>"Rename"</button>
                    </span>
                }>
                    <form class="inline-form" novalidate=true on:submit={
                        let save = save.clone();
                        move |ev| { ev.prevent_default(); save(); }
                    }>
                        <input type="text" name="name" aria-label="Organization name" value=name.get_untracked() prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                        <button type="submit" class="btn small primary">"Save"</button>
                        <button type="button" class="btn small" on:click={
                            let n = cancel_name.clone();
                            move |_| { editing.set(false); name.set(n.clone()); fb.set(Feedback::default()); }
                        }>"Cancel"</button>
                        {field_error(fb, "name")}
                        {form_status(fb)}
                    </form>
                </Show>
            </td>
            <td class="num">{org.users}</td>
            <td class="num">{org.agents}</td>
            <td class="num">{org.widgets}</td>
        </tr>
    }
}

#[component]
fn AiAgents(agents: Loaded<Vec<AgentEntry>>, orgs: Loaded<Vec<OrgDto>>, version: RwSignal<u64>) -> impl IntoView {
    let list = move || loaded_or_default(agents);
    let name = RwSignal::new(String::new());
    let org = RwSignal::new(String::new());
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    let create = move || {
        let (n, o) = (name.get_untracked(), org.get_untracked());
        submit_form(fb, Some(busy), create_agent(n, Some(o).filter(|o| !o.is_empty())), move |a| {
            name.set(String::new());
            version.update(|v| *v += 1);
            Feedback::ok(&format!("Created {}.", a.name))
        });
    };
    view! {
        <section class="card stack admin-agents">
            <h2>"AI agents"</h2>
            <p class="muted">"An agent answers the widgets of the organization it is assigned to. Its texts, handoff popup and knowledge base are edited under AI agent."</p>
            {load_status(agents)}
            <table class="table">
                <thead><tr><th>"Name"</th><th>"Organization"</th><th>"Handoff popup"</th><th class="num">"Widgets"</th><th>"Live chats"</th></tr></thead>
                <tbody>
                    <For each=list key=|a| (a.id.clone(), a.name.clone(), a.org_id.clone(), a.handoff_enabled, a.handoff_fixed, a.widgets) let:agent>
                        <AiAgentRow agent orgs version/>
                    </For>
                </tbody>
            </table>
            {move || loaded_empty(agents).then(|| view! { <p class="muted">"No AI agents yet."</p> })}
            <form class="stack new-agent" novalidate=true on:submit=move |ev| { ev.prevent_default(); create(); }>
                <h3>"New AI agent"</h3>
                <div class="row">
                    <NameInput value=name fb=fb/>
                    <OrgSelect orgs=orgs value=org fb=fb none="— no organization —"/>
                    <button type="submit" class="btn primary" disabled=move || busy.get()>"Create AI agent"</button>
                </div>
                {form_status(fb)}
            </form>
        </section>
    }
}

/// One agent: its organization is a `<select>`; a change is saved at once (or refused with the
/// reason in the row, and the choice goes back).
#[component]
fn AiAgentRow(agent: AgentEntry, orgs: Loaded<Vec<OrgDto>>, version: RwSignal<u64>) -> impl IntoView {
    let before = agent.org_id.clone().unwrap_or_default();
    let selected = RwSignal::new(before.clone());
    let fb = RwSignal::new(Feedback::default());
    let id = agent.id.clone();
    let assign = move |to: String| {
        let (id, before) = (id.clone(), before.clone());
        selected.set(to.clone());
        fb.set(Feedback::default());
        spawn_local(async move {
            match assign_agent(id, Some(to).filter(|o| !o.is_empty())).await {
                Ok(_) => version.update(|v| *v += 1),
                Err(e) => {
                    selected.set(before);
                    fb.set(Feedback::from_error(e));
                }
            }
        });
    };
    let popup = match (agent.handoff_enabled, agent.handoff_fixed) {
        (false, _) => "off",
        (true, false) => "on",
        (true, true) => "on, fixed",
    };
    view! {
        <tr data-agent-id=agent.id.clone() data-agent-name=agent.name.clone()>
            <td><a href=format!("/settings/ai#agent-{}", agent.id)>{agent.name.clone()}</a></td>
            <td>
                <select name="org_id" aria-label=format!("Organization of {}", agent.name) on:change=move |ev| assign(event_target_value(&ev))>
                    {org_options(orgs, "— no organization —", move || selected.get())}
                </select>
                {field_error(fb, "org_id")}
                {form_status(fb)}
            </td>
            <td>{popup}</td>
            <td class="num">{agent.widgets}</td>
            <td>
                <a class="btn small" href=format!("/admin/agents/{}/conversations", agent.id)
                    aria-label=format!("Conversations of {}", agent.name)>"Conversations"</a>
            </td>
        </tr>
    }
}
