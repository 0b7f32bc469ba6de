//! `/settings/ai`: the organization's handoff settings (when to offer visitors the e-mail form,
//! the reply-to address of e-mail answers), how long it keeps ended conversations and its audit
//! log (`super::privacy`), the AI agent's settings (texts, handoff popup, backend) and its
//! knowledge base (Q&A pairs and articles: add, edit, delete, import a Markdown/plain-text file,
//! try a question). Users without the *settings* permission see everything read-only; the server
//! refuses changes anyway. Everything is read with the page (its resources are created here,
//! before its `<Suspense>`), so it renders on the server.
use crate::api::agents::{list_agents, update_agent};
use crate::api::auth::current_user;
#[cfg(feature = "browser")]
use crate::api::knowledge::import_knowledge;
use crate::api::knowledge::{delete_knowledge, list_knowledge, preview_answer, save_knowledge};
use crate::api::org::{get_audit_log, get_org_settings, get_retention, save_org_settings};
use crate::components::form::{field_error, form_status, submit_form, Feedback};
use crate::components::topbar::TopBar;
use crate::error::AppError;
use crate::pages::privacy::{AuditLog, RetentionSettings};
use domain::agent::{
    AgentDto, AgentUpdate, AiBackendKind, ApiKeyChange, KnowledgeEntry, KnowledgeInput, KnowledgeKind, LlmSettings,
};
use domain::wire::OrgSettings;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::Redirect;

#[component]
pub fn AiAgentsPage() -> impl IntoView {
    // The user and, for one who belongs to an organization, its handoff and retention settings.
    let me = Resource::new(
        || (),
        |_| async {
            let Some(user) = current_user().await? else { return Ok(None) };
            let settings = match user.org_name {
                Some(_) => {
                    let audit = if user.can_settings { Some(get_audit_log().await) } else { None };
                    Some((get_org_settings().await, get_retention().await, audit))
                }
                None => None,
            };
            Ok::<_, AppError>(Some((user, settings)))
        },
    );
    // Each agent with its knowledge base.
    let agents = Resource::new(
        || (),
        |_| async {
            let mut read = Vec::new();
            for agent in list_agents().await? {
                let knowledge = list_knowledge(agent.id.clone()).await;
                read.push((agent, knowledge));
            }
            Ok::<_, AppError>(read)
        },
    );
    view! {
        <Title text="AI agent · Handoff"/>
        <div class="settings-page">
            <Suspense fallback=|| view! { <main class="page-message">"Loading…"</main> }>
                {move || me.get().map(|r| match r {
                    Ok(Some((user, _))) => view! { <TopBar user current="/settings/ai"/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(_) => ().into_any(),
                })}
                <main class="settings">
                    // Handoff settings belong to an organization; platform admins without one
                    // edit the agents only.
                    {move || me.get().and_then(Result::ok).flatten().map(|(user, settings)| match settings {
                        Some((read, retention, audit)) => view! {
                            <HandoffSettings editable=user.can_settings read/>
                            <RetentionSettings editable=user.can_settings read=retention/>
                            {audit.map(|read| view! { <AuditLog read/> })}
                        }.into_any(),
                        None => view! { <p class="muted">"You belong to no organization: below are every organization's AI agents. Assign agents to organizations under Admin."</p> }.into_any(),
                    })}
                    {move || agents.get().map(|r| match r {
                        Ok(list) if list.is_empty() => view! { <p class="muted pad">"No AI agent is assigned to your organization."</p> }.into_any(),
                        Ok(list) => list.into_iter().map(|(agent, knowledge)| view! { <AiAgentSection agent knowledge/> }).collect_view().into_any(),
                        Err(AppError::Unauthorized { .. }) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(e) => view! { <p class="form-error pad">{e.to_string()}</p> }.into_any(),
                    })}
                </main>
            </Suspense>
        </div>
    }
}

/// The organization's handoff settings: after how long a waiting visitor is offered the e-mail
/// form, and where replies to agents' e-mail answers go. `read`: the page's read of them.
#[component]
fn HandoffSettings(editable: bool, read: Result<OrgSettings, AppError>) -> impl IntoView {
    let timeout = RwSignal::new(String::new());
    let reply_to = RwSignal::new(String::new());
    let preview = RwSignal::new(false);
    let fb = RwSignal::new(Feedback::default());
    let saving = RwSignal::new(false);
    let show = move |s: OrgSettings| {
        timeout.set(s.handoff_timeout_secs.to_string());
        reply_to.set(s.reply_to);
        preview.set(s.typing_preview);
    };
    let unread = read.as_ref().err().map(ToString::to_string);
    if let Ok(s) = read {
        show(s);
    }
    let save = move || {
        let Ok(handoff_timeout_secs) = timeout.get_untracked().trim().parse::<i64>() else {
            fb.set(Feedback::field("handoff_timeout_secs", "enter a whole number of seconds"));
            return;
        };
        let settings = OrgSettings {
            handoff_timeout_secs,
            reply_to: reply_to.get_untracked(),
            typing_preview: preview.get_untracked(),
        };
        submit_form(fb, Some(saving), save_org_settings(settings), move |s| {
            show(s);
            Feedback::ok("Saved.")
        });
    };
    let disabled = {
        let unread = unread.is_some();
        move || !editable || unread
    };

    view! {
        <form class="card stack handoff-settings" novalidate=true on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>"Handoff"</h2>
            <p class="muted">"When a visitor asks for a human and nobody answers in time (or nobody is online), the chat offers them a form to send their question by e-mail. Agents answer it from the conversation."</p>
            {(!editable).then(|| view! { <p class="muted notice">"You can view these settings. Changing them needs the settings permission."</p> })}
            {unread.map(|e| view! { <p class="form-error">{e}</p> })}
            <div class="row">
                <label>
                    "Offer the e-mail form after (seconds)"
                    <input type="number" name="handoff_timeout_secs" min="10" max="86400" step="1" inputmode="numeric"
                        value=timeout.get_untracked() prop:value=move || timeout.get() on:input=move |ev| timeout.set(event_target_value(&ev)) disabled=disabled/>
                    {field_error(fb, "handoff_timeout_secs")}
                </label>
                <label>
                    "Reply-to address"
                    <input type="email" name="reply_to" placeholder="empty: the server's sender address" autocomplete="off"
                        value=reply_to.get_untracked() prop:value=move || reply_to.get() on:input=move |ev| reply_to.set(event_target_value(&ev)) disabled=disabled/>
                    {field_error(fb, "reply_to")}
                </label>
            </div>
            <p class="muted small">"Between 10 seconds and 24 hours. Replies to the e-mails agents send go to the reply-to address."</p>
            <label class="check">
                <input type="checkbox" name="typing_preview" checked=preview.get_untracked() prop:checked=move || preview.get()
                    on:change=move |ev| preview.set(event_target_checked(&ev)) disabled=disabled/>
                "Show agents what visitors type before they send it"
            </label>
            <p class="muted small">"Agents always see that a visitor is typing; with this on, also the text so far (never stored)."</p>
            {form_status(fb)}
            <div>
                <button type="submit" class="btn primary" disabled=move || disabled() || saving.get()>
                    {move || if saving.get() { "Saving…" } else { "Save handoff settings" }}
                </button>
            </div>
        </form>
    }
}

#[component]
fn AiAgentSection(agent: AgentDto, knowledge: Result<Vec<KnowledgeEntry>, AppError>) -> impl IntoView {
    let (id, key, editable) = (agent.id.clone(), agent.id.clone(), agent.editable);
    view! {
        <section class="agent-section" id=format!("agent-{key}") data-agent=key>
            <AiAgentSettings agent/>
            <Knowledge agent_id=id editable read=knowledge/>
        </section>
    }
}

#[component]
fn AiAgentSettings(agent: AgentDto) -> impl IntoView {
    let editable = agent.editable;
    let agent_id = agent.id.clone();
    let name = RwSignal::new(agent.name.clone());
    let greeting = RwSignal::new(agent.greeting.clone());
    let fallback_text = RwSignal::new(agent.fallback_text.clone());
    let handoff_text = RwSignal::new(agent.handoff_text.clone());
    let handoff_enabled = RwSignal::new(agent.handoff_enabled);
    let handoff_fixed = RwSignal::new(agent.handoff_fixed);
    let backend = RwSignal::new(agent.backend);
    let base_url = RwSignal::new(agent.llm.base_url.clone());
    let model = RwSignal::new(agent.llm.model.clone());
    let api_key_env = RwSignal::new(agent.llm.api_key_env.clone());
    let system_prompt = RwSignal::new(agent.llm.system_prompt.clone());
    let temperature = RwSignal::new(agent.llm.temperature.to_string());
    let max_tokens = RwSignal::new(agent.llm.max_tokens.to_string());
    let api_key = RwSignal::new(String::new());
    let clear_key = RwSignal::new(false);
    let key_set = RwSignal::new(agent.api_key_set);
    let fb = RwSignal::new(Feedback::default());
    let saving = RwSignal::new(false);

    let save = move || {
        let Ok(temperature) = temperature.get_untracked().trim().parse::<f32>() else {
            fb.set(Feedback::field("temperature", "enter a number"));
            return;
        };
        let Ok(max_tokens) = max_tokens.get_untracked().trim().parse::<u32>() else {
            fb.set(Feedback::field("max_tokens", "enter a whole number"));
            return;
        };
        let key = api_key.get_untracked();
        let update = AgentUpdate {
            name: name.get_untracked(),
            greeting: greeting.get_untracked(),
            fallback_text: fallback_text.get_untracked(),
            handoff_text: handoff_text.get_untracked(),
            handoff_enabled: handoff_enabled.get_untracked(),
            handoff_fixed: handoff_fixed.get_untracked(),
            backend: backend.get_untracked(),
            llm: LlmSettings {
                base_url: base_url.get_untracked(),
                model: model.get_untracked(),
                api_key_env: api_key_env.get_untracked(),
                system_prompt: system_prompt.get_untracked(),
                temperature,
                max_tokens,
            },
            api_key: if clear_key.get_untracked() {
                ApiKeyChange::Clear
            } else if key.trim().is_empty() {
                ApiKeyChange::Keep
            } else {
                ApiKeyChange::Set(key)
            },
        };
        submit_form(fb, Some(saving), update_agent(agent_id.clone(), update), move |a| {
            key_set.set(a.api_key_set);
            api_key.set(String::new());
            clear_key.set(false);
            fallback_text.set(a.fallback_text);
            handoff_text.set(a.handoff_text);
            Feedback::ok("Saved.")
        });
    };

    let text_input = move |label: &'static str, field: &'static str, sig: RwSignal<String>| {
        view! {
            <label>
                {label}
                <input type="text" name=field value=sig.get_untracked() prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev)) disabled=!editable/>
                {field_error(fb, field)}
            </label>
        }
    };
    let text_area = move |label: &'static str, field: &'static str, sig: RwSignal<String>, rows: &'static str| {
        view! {
            <label>
                {label}
                <textarea name=field rows=rows prop:value=move || sig.get() on:input=move |ev| sig.set(event_target_value(&ev)) disabled=!editable>{sig.get_untracked()}</textarea>
                {field_error(fb, field)}
            </label>
        }
    };

    view! {
        <form class="card stack agent-settings" on:submit=move |ev| { ev.prevent_default(); save(); }>
            <h2>"AI agent"</h2>
            {(!editable).then(|| view! { <p class="muted notice">"You can view these settings. Changing them needs the settings permission."</p> })}
            {text_input("Name", "name", name)}
            {text_area("Greeting", "greeting", greeting, "2")}
            {text_area("When it does not know the answer", "fallback_text", fallback_text, "2")}
            {text_area("When it fetches a human", "handoff_text", handoff_text, "2")}
            <label class="check">
                <input type="checkbox" name="handoff_enabled" checked=handoff_enabled.get_untracked() prop:checked=move || handoff_enabled.get() on:change=move |ev| handoff_enabled.set(event_target_checked(&ev)) disabled=!editable/>
                "Enable handoff popup (visitors can ask for a human)"
            </label>
            <label class="check">
                <input type="checkbox" name="handoff_fixed" checked=handoff_fixed.get_untracked() prop:checked=move || handoff_fixed.get() on:change=move |ev| handoff_fixed.set(event_target_checked(&ev)) disabled=!editable/>
                "Fixed handoff popup (pinned at the top of the chat)"
            </label>
            {field_error(fb, "handoff_fixed")}
            <fieldset class="stack">
                <legend>"Answers come from"</legend>
                <label class="check">
                    <input type="radio" name="backend" value="embedded" checked=backend.get_untracked() == AiBackendKind::Embedded prop:checked=move || backend.get() == AiBackendKind::Embedded on:change=move |_| backend.set(AiBackendKind::Embedded) disabled=!editable/>
                    "The knowledge base below (built in, works offline)"
                </label>
                <label class="check">
                    <input type="radio" name="backend" value="open_ai" checked=backend.get_untracked() == AiBackendKind::OpenAi prop:checked=move || backend.get() == AiBackendKind::OpenAi on:change=move |_| backend.set(AiBackendKind::OpenAi) disabled=!editable/>
                    "A language model with an OpenAI-compatible API (OpenAI, Ollama, llama.cpp, vLLM…), given the knowledge base as context"
                </label>
            </fieldset>
            <Show when=move || backend.get() == AiBackendKind::OpenAi>
                <div class="stack llm-settings">
                    {text_input("Base URL (e.g. https://api.openai.com/v1)", "base_url", base_url)}
                    {text_input("Model", "model", model)}
                    <label>
                        "API key"
                        <input type="password" name="api_key" autocomplete="off"
                            placeholder=move || if key_set.get() { "a key is stored — type to replace it" } else { "none stored" }
                            prop:value=move || api_key.get() on:input=move |ev| api_key.set(event_target_value(&ev)) disabled=!editable/>
                        {field_error(fb, "api_key")}
                    </label>
                    <Show when=move || key_set.get()>
                        <label class="check">
                            <input type="checkbox" name="clear_key" prop:checked=move || clear_key.get() on:change=move |ev| clear_key.set(event_target_checked(&ev)) disabled=!editable/>
                            "Remove the stored key"
                        </label>
                    </Show>
                    {text_input("…or the server's environment variable holding the key (one its operator allows, e.g. HANDOFF_AI_KEY_…)", "api_key_env", api_key_env)}
                    {text_area("System prompt (empty: a sensible default)", "system_prompt", system_prompt, "4")}
                    <div class="row">
                        {text_input("Temperature (0–2)", "temperature", temperature)}
                        {text_input("Max tokens", "max_tokens", max_tokens)}
                    </div>
                </div>
            </Show>
            {form_status(fb)}
            <div>
                <button type="submit" class="btn primary" disabled=move || !editable || saving.get()>
                    {move || if saving.get() { "Saving…" } else { "Save settings" }}
                </button>
            </div>
        </form>
    }
    .into_any()
}

/// An agent's knowledge base; `read`: the page's read of its entries.
#[component]
fn Knowledge(agent_id: String, editable: bool, read: Result<Vec<KnowledgeEntry>, AppError>) -> impl IntoView {
    let unread = read.as_ref().err().map(ToString::to_string);
    let entries = RwSignal::new(read.unwrap_or_default());
    let editing = RwSignal::new(None::<String>); // id of the entry in the form, None = new
    let kind = RwSignal::new(KnowledgeKind::Qa);
    let title = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let fb = RwSignal::new(Feedback::default());
    let import_fb = RwSignal::new(Feedback::default());
    let question = RwSignal::new(String::new());
    let answer = RwSignal::new(None::<String>);

    let reset = move || {
        editing.set(None);
        title.set(String::new());
        body.set(String::new());
    };
    let save = {
        let id = agent_id.clone();
        move || {
            let input =
                KnowledgeInput { kind: kind.get_untracked(), title: title.get_untracked(), body: body.get_untracked() };
            let entry_id = editing.get_untracked();
            submit_form(fb, None, save_knowledge(id.clone(), entry_id.clone(), input), move |e| {
                entries.update(|list| match list.iter_mut().find(|x| Some(&x.id) == entry_id.as_ref()) {
                    Some(x) => *x = e,
                    None => list.push(e),
                });
                reset();
                Feedback::ok("Saved.")
            });
        }
    };
    let remove = {
        let id = agent_id.clone();
        move |entry_id: String| {
            submit_form(fb, None, delete_knowledge(id.clone(), entry_id.clone()), move |()| {
                entries.update(|l| l.retain(|x| x.id != entry_id));
                Feedback::default()
            });
        }
    };
    let on_file = {
        let id = agent_id.clone();
        move |ev: leptos::ev::Event| {
            let _ = (&id, &ev);
            #[cfg(feature = "browser")]
            {
                use wasm_bindgen::JsCast;
                let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                    return;
                };
                let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
                input.set_value("");
                let name = file.name();
                if file.size() > domain::agent::MAX_IMPORT_BYTES as f64 {
                    let limit = format!("the file is too large (limit {} KB)", domain::agent::MAX_IMPORT_BYTES / 1024);
                    import_fb.set(Feedback::field("file", &limit));
                    return;
                }
                let id = id.clone();
                import_fb.set(Feedback::ok("Importing…"));
                spawn_local(async move {
                    let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await else {
                        import_fb.set(Feedback::field("file", "could not read the file"));
                        return;
                    };
                    let text = text.as_string().unwrap_or_default();
                    submit_form(import_fb, None, import_knowledge(id, name, text), move |added| {
                        let n = added.len();
                        entries.update(|l| l.extend(added));
                        Feedback::ok(&format!("Imported {n} {}.", if n == 1 { "entry" } else { "entries" }))
                    });
                    import_fb.set(Feedback::ok("Importing…")); // until the answer replaces it
                });
            }
        }
    };
    let ask = {
        let id = agent_id.clone();
        move || {
            let (id, q) = (id.clone(), question.get_untracked());
            spawn_local(async move {
                answer.set(Some(match preview_answer(id, q).await {
                    Ok(a) => a,
                    Err(e) => format!("Could not answer: {e}"),
                }));
            });
        }
    };

    view! {
        <section class="card stack knowledge">
            <h2>"Knowledge base"</h2>
            <p class="muted">"The AI answers from these entries: questions with their answers, and articles (it quotes the matching paragraph and names the article). A language model gets the matching entries as context."</p>
            {match unread {
                Some(e) => view! { <p class="form-error">{e}</p> }.into_any(),
                None => { let remove = remove.clone(); view! {
                    <ul class="kb-list">
                        <For each=move || entries.get() key=|e| (e.id.clone(), e.updated_at, e.title.clone(), e.body.len()) let:e>
                            {
                                let (eid, etitle, ebody, ekind) = (e.id.clone(), e.title.clone(), e.body.clone(), e.kind);
                                let remove = remove.clone();
                                view! {
                                    <li class="kb-entry" data-kind=e.kind.as_str()>
                                        <div class="kb-head">
                                            <span class="badge">{if e.kind == KnowledgeKind::Qa { "Q&A" } else { "Article" }}</span>
                                            <strong class="kb-title">{e.title.clone()}</strong>
                                            <span class="spacer"></span>
                                            {editable.then(|| {
                                                let eid2 = eid.clone();
                                                view! {
                                                    <button type="button" class="btn small" on:click=move |_| {
                                                        editing.set(Some(eid.clone()));
                                                        kind.set(ekind);
                                                        title.set(etitle.clone());
                                                        body.set(ebody.clone());
                                                        fb.set(Feedback::default());
                                                    }>"Edit"</button>
                                                    <button type="button" class="btn small subtle" on:click=move |_| remove(eid2.clone())>"Delete"</button>
                                                }
                                            })}
                                        </div>
                                        <p class="kb-body">{e.body.clone()}</p>
                                    </li>
                                }
                            }
                        </For>
                    </ul>
                    {move || entries.with(Vec::is_empty).then(|| view! { <p class="muted">"No entries yet. Add a question and its answer, or import a file."</p> })}
                }.into_any() }
            }}
            {editable.then(|| view! {
                <form class="stack kb-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
                    <h3>{move || if editing.get().is_some() { "Edit entry" } else { "Add an entry" }}</h3>
                    <div class="row">
                        <label class="check"><input type="radio" name="kind" checked=kind.get_untracked() == KnowledgeKind::Qa prop:checked=move || kind.get() == KnowledgeKind::Qa on:change=move |_| kind.set(KnowledgeKind::Qa)/>"Question and answer"</label>
                        <label class="check"><input type="radio" name="kind" prop:checked=move || kind.get() == KnowledgeKind::Article on:change=move |_| kind.set(KnowledgeKind::Article)/>"Article"</label>
                    </div>
                    <label>
                        {move || if kind.get() == KnowledgeKind::Qa { "Question" } else { "Title" }}
                        <input type="text" name="title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                        {field_error(fb, "title")}
                    </label>
                    <label>
                        {move || if kind.get() == KnowledgeKind::Qa { "Answer" } else { "Text (blank lines separate paragraphs)" }}
                        <textarea name="body" rows="4" prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                        {field_error(fb, "body")}
                    </label>
                    {form_status(fb)}
                    <div class="row">
                        <button type="submit" class="btn primary">{move || if editing.get().is_some() { "Save entry" } else { "Add entry" }}</button>
                        <Show when=move || editing.get().is_some()>
                            <button type="button" class="btn" on:click=move |_| { reset(); fb.set(Feedback::default()); }>"Cancel"</button>
                        </Show>
                    </div>
                </form>
                <div class="stack kb-import">
                    <label>
                        "Import a Markdown or text file (headings become articles, \"Q:\"/\"A:\" blocks become questions)"
                        <input type="file" name="file" accept=".md,.markdown,.txt,text/markdown,text/plain" on:change=on_file.clone()/>
                    </label>
                    {field_error(import_fb, "file")}
                    {form_status(import_fb)}
                </div>
            })}
            // "Try it" runs the responder on the server: for those who may change the agent.
            {editable.then(|| view! {
                <form class="stack kb-try" on:submit=move |ev| { ev.prevent_default(); ask(); }>
                    <h3>"Try it"</h3>
                    <div class="row">
                        <input type="text" name="question" placeholder="Ask what a visitor would ask…" prop:value=move || question.get() on:input=move |ev| question.set(event_target_value(&ev))/>
                        <button type="submit" class="btn">"Ask"</button>
                    </div>
                    {move || answer.get().map(|a| view! { <p class="kb-answer" role="status">{a}</p> })}
                </form>
            })}
        </section>
    }
    .into_any()
}
