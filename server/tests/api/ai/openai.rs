//! The OpenAI-compatible backend against the stand-in model: streaming, failures, takeovers
//! (one node and two), pass-back context.
use super::fake_llm::*;
use super::*;

/// The answer streams into the widget as growing drafts (whatever the byte chunking), is stored
/// exactly once, and the model was asked properly: model, stream, key, knowledge passage, history.
/// A plain JSON completion works too.
async fn openai_answer_streams_as_drafts_and_is_stored_once(db: Db) {
    let answer = "Shipping costs 4,90 € below 50 EUR — above that it is free. Anything else?";
    let fake = FakeLlm::start(Reply::Sse { pieces: sse(answer, true), gap: Duration::from_millis(35) }).await;
    let (app, _ann) = app_with_llm(db, &fake, |_| {}).await;
    let mut v = greeted_visitor(&app).await;
    let conv = v.conversation_id();

    v.send("q1", "How much does shipping cost?").await;
    let (mut drafts, mut typing_first, mut events) = (Vec::<String>::new(), false, 0);
    let message = v
        .socket
        .until(|f| {
            events += 1;
            match f {
                ServerFrame::Typing { .. } if drafts.is_empty() => {
                    typing_first = true;
                    None
                }
                ServerFrame::Draft { conversation_id, text } => {
                    assert_eq!(conversation_id, &conv);
                    drafts.push(text.clone());
                    None
                }
                ServerFrame::DraftEnd { .. } => panic!("the draft was abandoned"),
                ServerFrame::Message { message } if is_ai(message) => Some(message.clone()),
                _ => None,
            }
        })
        .await;
    assert_eq!(message.text, answer.trim());
    assert!(typing_first, "a typing indicator precedes the draft");
    assert!(drafts.len() >= 2, "the answer grows in the widget: {drafts:?}");
    for w in drafts.windows(2) {
        assert!(w[1].len() > w[0].len() && w[1].starts_with(w[0].as_str()), "drafts must grow: {drafts:?}");
    }
    assert!(drafts.iter().all(|d| answer.starts_with(d.as_str())), "{drafts:?}");
    let stored = app.stored(&conv).await;
    assert_eq!(stored.iter().filter(|m| is_ai(m) && m.text == message.text).count(), 1, "{stored:#?}");
    assert_eq!(stored.last().unwrap().seq, message.seq);
    assert_gap_free(&stored);
    assert_eq!(fake.streamed_to_end.load(Ordering::SeqCst), 1);

    let req = fake.last();
    assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/v1/chat/completions"));
    assert_eq!(req.auth.as_deref(), Some("Bearer sk-test"));
    assert_eq!(req.body["model"], "test-model");
    assert_eq!(req.body["stream"], true);
    assert!(req.body["max_tokens"].as_u64().is_some() && req.body["temperature"].is_number(), "{}", req.body);
    let msgs = req.body["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["role"], "system");
    let system = msgs[0]["content"].as_str().unwrap();
    assert!(system.contains("Shipping is free for orders above 50 EUR"), "no knowledge passage: {system}");
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "assistant", "user"], "greeting, then the question: {}", req.body);
    assert_eq!(msgs[2]["content"], "How much does shipping cost?");

    // A server that does not stream but answers with one JSON completion.
    fake.set(Reply::Json(json!({
        "id": "c2", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "  Returns are free within 30 days.\n"}, "finish_reason": "stop"}]
    })));
    let m = ask(&mut v, "q2", "Can I return an item?").await;
    assert_eq!(m.text, "Returns are free within 30 days.");
    let last = fake.last();
    let history: Vec<&str> =
        last.body["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(history, ["system", "assistant", "user", "assistant", "user"]);
    assert_eq!(fake.requests().len(), 2);
}
on_both_databases!(openai_answer_streams_as_drafts_and_is_stored_once);

/// Whatever goes wrong with the model — HTTP 500, 429, silence past the timeout, a broken or empty
/// stream, an unexpected JSON answer — the visitor promptly gets the fallback offering a human.
async fn openai_failures_and_timeouts_answer_with_the_fallback(db: Db) {
    let fake = FakeLlm::start(Reply::Status(500)).await;
    let (app, _ann) = app_with_llm(db, &fake, |c| c.ai_timeout_ms = 500).await;
    let mut v = greeted_visitor(&app).await;
    let broken = vec![delta("Shipping ").into_bytes(), b"data: {\"choices\": [{\"delta\": \n\n".to_vec()];
    let empty = vec![delta("").into_bytes(), b"data: [DONE]\n\n".to_vec()];
    let cases = [
        ("http 500", Reply::Status(500)),
        ("http 429", Reply::Status(429)),
        ("no answer", Reply::Silent),
        ("broken stream", Reply::Sse { pieces: broken, gap: Duration::ZERO }),
        ("empty stream", Reply::Sse { pieces: empty, gap: Duration::ZERO }),
        ("json without choices", Reply::Json(json!({"object": "chat.completion", "choices": []}))),
    ];
    for (i, (case, reply)) in cases.into_iter().enumerate() {
        fake.set(reply);
        let started = Instant::now();
        let m = ask(&mut v, &format!("f{i}"), "How much does shipping cost?").await;
        let took = started.elapsed();
        assert_eq!(m.text, DEFAULT_FALLBACK_WITH_HANDOFF, "{case}");
        assert!(m.text.contains("human"));
        assert!(took < Duration::from_secs(3), "{case}: the fallback took {took:?}");
        assert_eq!(fake.requests().len(), i + 1, "{case}: one request per question");
    }
    let stored = app.stored(&v.conversation_id()).await;
    assert_eq!(stored.iter().filter(|m| is_ai(m)).count(), 1 + 6, "greeting + one fallback each: {stored:#?}");
    assert!(!stored.iter().any(|m| m.text.starts_with("Shipping ")), "a partial answer was stored");
    wait_for_no_generations(&app).await;
}
on_both_databases!(openai_failures_and_timeouts_answer_with_the_fallback);

/// Ann continues the chat while the answer streams: the stream is cut (the request is dropped),
/// nothing of it is stored or drafted after the state change, and no generation is left running.
async fn takeover_while_streaming_discards_the_answer(db: Db) {
    let words = "one two three four five six seven eight nine ten";
    let fake = FakeLlm::start(Reply::Sse { pieces: sse(words, false), gap: Duration::from_millis(250) }).await;
    let (app, ann) = app_with_llm(db, &fake, |_| {}).await;
    let mut v = greeted_visitor(&app).await;
    let conv = v.conversation_id();
    v.send("t1", "Tell me a long story").await;
    let seq = v.ack("t1").await;
    let first = v
        .socket
        .until(|f| match f {
            ServerFrame::Draft { text, .. } => Some(text.clone()),
            _ => None,
        })
        .await;
    assert!(words.starts_with(first.as_str()) && first.len() < words.len(), "{first}");

    let state = app.call("handoff/continue", Some(&ann), &[("id", &conv)]).await.ok();
    assert_eq!(state["kind"], "human");
    v.socket
        .until(|f| match f {
            ServerFrame::State { state: HandoffState::Human { agent }, .. } => {
                assert_eq!(agent.name, "Ann Agent");
                Some(())
            }
            ServerFrame::Message { message } if is_ai(message) => panic!("the AI answer arrived: {message:?}"),
            _ => None,
        })
        .await;
    // Past the end the stream would have had: no drafts, no AI message.
    let until = Instant::now() + Duration::from_millis(3800);
    while let Some(f) = v.socket.try_next(until.saturating_duration_since(Instant::now())).await {
        match f {
            ServerFrame::Draft { .. } => panic!("a draft after the takeover: {f:?}"),
            ServerFrame::Message { message } if is_ai(&message) => {
                panic!("an AI message after the takeover: {message:?}")
            }
            _ => {}
        }
    }
    let stored = app.stored(&conv).await;
    assert!(!stored.iter().any(|m| m.seq > seq && is_ai(m)), "the streamed answer was stored: {stored:#?}");
    assert!(!stored.iter().any(|m| m.text.contains("one two")), "{stored:#?}");
    assert_eq!(fake.streamed_to_end.load(Ordering::SeqCst), 0, "the model request was not dropped");
    wait_for_no_generations(&app).await;
    let (state, _) = app.backend.conversation_state(&conv, "demo-org").await.unwrap();
    assert!(matches!(state, HandoffState::Human { .. }), "{state:?}");
}
on_both_databases!(takeover_while_streaming_discards_the_answer);

/// Two server processes: the answer streams on node A; Ann takes over on node B and passes the
/// chat straight back. The stale answer is neither stored nor delivered (the state-version guard;
/// node A also stops generating when the state change is relayed), and the next question is
/// answered normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takeover_on_another_node_drops_the_streamed_answer() {
    if !postgres_available().await {
        return;
    }
    let words = "alpha beta gamma delta epsilon zeta eta theta iota kappa";
    let fake = FakeLlm::start(Reply::Sse { pieces: sse(words, false), gap: Duration::from_millis(250) }).await;
    let (a, _) = app_with_llm(Db::Postgres, &fake, |_| {}).await;
    let b = spawn_second_node(&a).await;
    let ann_b = b.login(ANN).await;
    let mut v = greeted_visitor(&a).await;
    let conv = v.conversation_id();
    v.send("n1", "Tell me the Greek alphabet").await;
    let seq = v.ack("n1").await;
    v.socket.until(|f| matches!(f, ServerFrame::Draft { .. }).then_some(())).await;
    b.call("handoff/continue", Some(&ann_b), &[("id", &conv)]).await.ok();
    b.call("handoff/pass", Some(&ann_b), &[("id", &conv)]).await.ok();
    // The visitor on node A hears of both changes live.
    v.socket.until(|f| matches!(f, ServerFrame::State { state: HandoffState::Ai, .. }).then_some(())).await;
    tokio::time::sleep(Duration::from_millis(3300)).await;
    let stored = a.stored(&conv).await;
    assert!(!stored.iter().any(|m| m.seq > seq && is_ai(m)), "the stale answer was stored: {stored:#?}");
    while let Some(f) = v.socket.try_next(Duration::from_millis(100)).await {
        if let ServerFrame::Message { message } = &f {
            assert!(!is_ai(message), "the stale answer was delivered: {message:?}");
        }
    }
    wait_for_no_generations(&a).await;
    assert_eq!(fake.streamed_to_end.load(Ordering::SeqCst), 0, "node A went on generating after the relayed takeover");

    fake.set(Reply::Sse { pieces: sse("Back again.", false), gap: Duration::ZERO });
    assert_eq!(ask(&mut v, "n2", "Are you back?").await.text, "Back again.");
    assert_gap_free(&a.stored(&conv).await);
}

/// After "Pass chat to AI" the model continues from what the human said: Ann's message is in the
/// history as an assistant message marked with her name; system notices are not.
async fn after_pass_back_the_model_sees_what_the_human_said(db: Db) {
    let fake =
        FakeLlm::start(Reply::Sse { pieces: sse("It should arrive within 3 days.", false), gap: Duration::ZERO }).await;
    let (app, _) = app_with_llm(db, &fake, |_| {}).await;
    let ann = app.agent(ANN).await;
    let mut v = greeted_visitor(&app).await;
    let conv = v.conversation_id();
    ann.act(&app, "handoff/continue", &conv).await.ok();
    ann.say(&app, &conv, "a1", "I sent the parcel today.").await.ok();
    ann.act(&app, "handoff/pass", &conv).await.ok();
    assert!(fake.requests().is_empty(), "the model was called while Ann held the chat");

    let m = ask(&mut v, "p1", "When will it arrive?").await;
    assert_eq!(m.text, "It should arrive within 3 days.");
    let req = fake.last();
    let msgs: Vec<(&str, &str)> = req.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap(), m["content"].as_str().unwrap()))
        .collect();
    assert_eq!(msgs.len(), 4, "system, greeting, Ann, question: {msgs:#?}");
    assert_eq!(msgs[2], ("assistant", "[Ann Agent, human agent] I sent the parcel today."));
    assert_eq!(msgs[3], ("user", "When will it arrive?"));
    assert!(msgs[0].1.contains("human agent]"), "the system prompt explains the marker: {}", msgs[0].1);
    assert!(!msgs.iter().any(|(_, c)| c.contains("passed the chat back")), "system notices are not history");
}
on_both_databases!(after_pass_back_the_model_sees_what_the_human_said);
