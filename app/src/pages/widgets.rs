//! `/settings/widgets`: the chat widgets the user may see, each with the one-tag snippet that
//! embeds it (and a Copy button). With the *settings* permission each widget is a form (name, the
//! AI agent that answers it, the sites allowed to embed it; admins also move it to another
//! organization) and a new one can be created; without, everything is read-only.
use crate::api::admin::list_orgs;
use crate::api::agents::list_agents;
use crate::api::auth::current_user;
use crate::api::widgets::{list_widgets, save_widget};
use crate::components::form::{
    field_error, form_status, load, load_status, loaded_or_default, submit_form, Feedback, Loaded, NameInput, OrgSelect,
};
use crate::components::topbar::SettingsFrame;
use domain::admin::{embed_snippet, OrgDto, WidgetDto, WidgetInput};
use domain::agent::AgentDto;
use leptos::prelude::*;
#[cfg(feature = "browser")]
use leptos::task::spawn_local;
use leptos_meta::Title;

#[component]
pub fn WidgetsPage() -> impl IntoView {
    // Read with the page (see `load`), again after every change.
    let version = RwSignal::new(0u64);
    let data = load(version, list_widgets);
    let agents = load(version, list_agents);
    // Organizations are an admin's choice only: everyone else is answered with none.
    let orgs = load(version, || async {
        match current_user().await? {
            Some(u) if u.is_admin => list_orgs().await,
            _ => Ok(Vec::new()),
        }
    });
    view! {
        <Title text="Widgets · Handoff"/>
        <SettingsFrame current="/settings/widgets" content=move |user| {
            let choices = Choices { admin: user.is_admin, agents, orgs };
            view! { <Widgets can_edit=user.can_settings version data choices/> }
        }/>
    }
}

/// What a widget form chooses from.
#[derive(Clone, Copy)]
struct Choices {
    admin: bool,
    agents: Loaded<Vec<AgentDto>>,
    orgs: Loaded<Vec<OrgDto>>,
}

#[component]
fn Widgets(
    can_edit: bool,
    version: RwSignal<u64>,
    data: Loaded<(Vec<WidgetDto>, String)>,
    choices: Choices,
) -> impl IntoView {
    let widgets = move || loaded_or_default(data).0;
    let base = move || loaded_or_default(data).1;
    view! {
        <section class="card stack">
            <h2>"Widgets"</h2>
            <p class="muted">"A widget is the chat window on a website. Paste its snippet into the site's HTML, before </body>. Allowed sites limits who may embed it; empty: any site."</p>
            {(!can_edit).then(|| view! { <p class="muted notice">"You can see the widgets and copy their snippets. Changing them needs the settings permission."</p> })}
            {load_status(data)}
            {move || data.with(|d| matches!(d, Some(Ok((l, _))) if l.is_empty())).then(|| view! { <p class="muted">"No widgets yet."</p> })}
        </section>
        <For each=widgets key=|w| w.id.clone() let:widget>
            {
                let snippet = embed_snippet(&base(), &widget.id);
                if can_edit && widget.editable {
                    view! { <WidgetForm widget=Some(widget) snippet choices version/> }.into_any()
                } else {
                    view! { <WidgetView widget snippet/> }.into_any()
                }
            }
        </For>
        {can_edit.then(|| view! { <WidgetForm widget=None snippet=String::new() choices version/> })}
    }
}

/// A widget without the right to change it.
#[component]
fn WidgetView(widget: WidgetDto, snippet: String) -> impl IntoView {
    let origins =
        if widget.allowed_origins.is_empty() { "Any site".to_string() } else { widget.allowed_origins.join(", ") };
    view! {
        <section class="card stack widget-card" data-widget=widget.id.clone() data-widget-name=widget.name.clone()>
            <h2>{widget.name.clone()}</h2>
            <dl class="facts">
                <dt>"Organization"</dt><dd>{widget.org_name.clone()}</dd>
                <dt>"AI agent"</dt><dd>{widget.agent_name.clone()}</dd>
                <dt>"Allowed sites"</dt><dd>{origins}</dd>
            </dl>
            <Snippet name=widget.name.clone() snippet/>
        </section>
    }
}

/// The embed snippet, read-only, with a Copy button.
#[component]
fn Snippet(name: String, snippet: String) -> impl IntoView {
    let area = NodeRef::<leptos::html::Textarea>::new();
    let copied = RwSignal::new(None::<bool>);
    let text = snippet.clone();
    let copy = move |_| {
        let _ = &text;
        #[cfg(feature = "browser")]
        {
            let (text, el) = (text.clone(), area.get_untracked().map(wasm_bindgen::JsValue::from));
            spawn_local(async move {
                copied.set(Some(copy_text(&text, el).await));
                gloo_timers::future::TimeoutFuture::new(2_500).await;
                copied.set(None);
            });
        }
    };
    view! {
        <div class="snippet">
            <label>
                {format!("Embed snippet of {name}")}
                <textarea class="snippet-code" readonly=true rows="2" spellcheck="false" node_ref=area>{snippet}</textarea>
            </label>
            <div class="row">
                <button type="button" class="btn small" on:click=copy>"Copy"</button>
                {move || copied.get().map(|ok| if ok {
                    view! { <span class="form-ok small" role="status">"Copied"</span> }.into_any()
                } else {
                    view! { <span class="form-error small" role="status">"Could not copy: select the snippet and copy it."</span> }.into_any()
                })}
            </div>
        </div>
    }
}

/// Copies `text`: the Clipboard API where the page may use it (secure contexts), else the
/// selected snippet through the older copy command.
#[cfg(feature = "browser")]
async fn copy_text(text: &str, textarea: Option<wasm_bindgen::JsValue>) -> bool {
    use js_sys::{Function, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let Some(window) = web_sys::window() else { return false };
    let navigator = window.navigator();
    let has_api = Reflect::get(&navigator, &"clipboard".into()).is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if has_api && wasm_bindgen_futures::JsFuture::from(navigator.clipboard().write_text(text)).await.is_ok() {
        return true;
    }
    let call = |target: &JsValue, method: &str, args: &js_sys::Array| -> Option<JsValue> {
        let f: Function = Reflect::get(target, &method.into()).ok()?.dyn_into().ok()?;
        f.apply(target, args).ok()
    };
    let (Some(el), Some(document)) = (textarea, window.document()) else { return false };
    call(&el, "select", &js_sys::Array::new());
    call(&document.into(), "execCommand", &js_sys::Array::of1(&"copy".into()))
        .and_then(|r| r.as_bool())
        .unwrap_or(false)
}

/// A widget's form (`widget: None`: a new one).
#[component]
fn WidgetForm(widget: Option<WidgetDto>, snippet: String, choices: Choices, version: RwSignal<u64>) -> impl IntoView {
    let Choices { admin, agents, orgs } = choices;
    let id = widget.as_ref().map(|w| w.id.clone());
    let is_new = id.is_none();
    let name = RwSignal::new(widget.as_ref().map(|w| w.name.clone()).unwrap_or_default());
    let org = RwSignal::new(widget.as_ref().map(|w| w.org_id.clone()).unwrap_or_default());
    let agent = RwSignal::new(widget.as_ref().map(|w| w.agent_id.clone()).unwrap_or_default());
    let origins = RwSignal::new(widget.as_ref().map(|w| w.allowed_origins.join("\n")).unwrap_or_default());
    let fb = RwSignal::new(Feedback::default());
    let busy = RwSignal::new(false);
    // The agents of the widget's organization (client users only see their own organization's).
    let agent_choices = move || {
        let o = org.get();
        loaded_or_default(agents)
            .into_iter()
            .filter(|a| !admin || a.org_id.as_deref() == Some(o.as_str()))
            .collect::<Vec<_>>()
    };
    // A changed organization: keep the agent if it serves it, else take its only one (or none).
    Effect::new(move |_| {
        let list = agent_choices();
        if loaded_or_default(agents).is_empty() || list.iter().any(|a| a.id == agent.get_untracked()) {
            return;
        }
        agent.set(match list.as_slice() {
            [only] => only.id.clone(),
            _ => String::new(),
        });
    });
    let save = move || {
        let input = WidgetInput {
            name: name.get_untracked(),
            org_id: admin.then(|| org.get_untracked()).filter(|o| !o.is_empty()),
            agent_id: agent.get_untracked(),
            allowed_origins: origins.get_untracked(),
        };
        let id = id.clone();
        let is_new = id.is_none();
        submit_form(fb, Some(busy), save_widget(id, input), move |w| {
            if is_new {
                name.set(String::new());
                origins.set(String::new());
                version.update(|v| *v += 1);
                Feedback::ok(&format!("Created {}; its snippet is above.", w.name))
            } else {
                origins.set(w.allowed_origins.join("\n"));
                Feedback::ok("Saved.")
            }
        });
    };
    let (wid, wname) = widget.as_ref().map(|w| (w.id.clone(), w.name.clone())).unwrap_or_default();
    view! {
        <section class="card stack widget-card" data-widget=(!is_new).then(|| wid.clone()) data-widget-name=(!is_new).then(|| wname.clone())>
            <form class="stack widget-form" class:new-widget=is_new novalidate=true on:submit=move |ev| { ev.prevent_default(); save(); }>
                <h2>{if is_new { "New widget".to_string() } else { wname.clone() }}</h2>
                <div class="row top">
                    <NameInput value=name fb=fb/>
                    {admin.then(|| view! {
                        <OrgSelect orgs=orgs value=org fb=fb none="— choose —"/>
                    })}
                    <label>
                        "AI agent"
                        <select name="agent_id" on:change=move |ev| agent.set(event_target_value(&ev))>
                            <option value="" selected=agent.get_untracked().is_empty() prop:selected=move || agent.get().is_empty()>"— choose —"</option>
                            {move || agent_choices().into_iter().map(|a| {
                                let aid = a.id.clone();
                                view! { <option value=a.id selected=agent.get_untracked() == aid prop:selected=move || agent.get() == aid>{a.name}</option> }
                            }).collect_view()}
                        </select>
                        {field_error(fb, "agent_id")}
                    </label>
                </div>
                <label>
                    "Allowed sites (one origin per line, like https://www.example.com; empty: any site)"
                    <textarea name="allowed_origins" rows="3" spellcheck="false" prop:value=move || origins.get() on:input=move |ev| origins.set(event_target_value(&ev))>{origins.get_untracked()}</textarea>
                    {field_error(fb, "allowed_origins")}
                </label>
                {form_status(fb)}
                <div>
                    <button type="submit" class="btn primary" disabled=move || busy.get()>{if is_new { "Create widget" } else { "Save widget" }}</button>
                </div>
            </form>
            {(!is_new).then(|| view! { <Snippet name=wname.clone() snippet/> })}
        </section>
    }
}
