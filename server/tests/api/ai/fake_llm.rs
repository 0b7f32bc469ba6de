//! A stand-in chat-completions server on a raw TCP socket (the byte stream can be cut anywhere).
use super::*;

/// How the stand-in model answers the next requests.
#[derive(Clone)]
pub(crate) enum Reply {
    /// `200 text/event-stream`: these raw byte pieces, each written `gap` after the previous one.
    Sse { pieces: Vec<Vec<u8>>, gap: Duration },
    /// `200 application/json`.
    Json(Value),
    /// This HTTP status with an OpenAI-style error body.
    Status(u16),
    /// Reads the request and never answers.
    Silent,
    /// `200 text/event-stream`: the first `before` pieces at once, then nothing until the test
    /// calls `release.notify_one()` (a model that stalls mid-answer), then the rest.
    Held { pieces: Vec<Vec<u8>>, before: usize, release: Arc<tokio::sync::Notify> },
}

#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) auth: Option<String>,
    pub(crate) body: Value,
}

#[derive(Clone)]
pub(crate) struct FakeLlm {
    pub(crate) base_url: String,
    pub(crate) reply: Arc<Mutex<Reply>>,
    pub(crate) seen: Arc<Mutex<Vec<Seen>>>,
    /// Event streams written to the end (the client did not hang up first).
    pub(crate) streamed_to_end: Arc<AtomicUsize>,
}

impl FakeLlm {
    pub(crate) async fn start(reply: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let fake = FakeLlm {
            base_url: format!("http://{}/v1", listener.local_addr().unwrap()),
            reply: Arc::new(Mutex::new(reply)),
            seen: Arc::default(),
            streamed_to_end: Arc::default(),
        };
        let f = fake.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let f = f.clone();
                tokio::spawn(async move {
                    let _ = f.serve(sock).await;
                });
            }
        });
        fake
    }

    pub(crate) fn set(&self, reply: Reply) {
        *self.reply.lock().unwrap() = reply;
    }

    pub(crate) fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub(crate) fn last(&self) -> Seen {
        self.requests().pop().expect("the model was called")
    }

    pub(crate) async fn serve(&self, mut sock: TcpStream) -> std::io::Result<()> {
        sock.set_nodelay(true)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        let head_end = loop {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.lines();
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let (method, path) = (request_line.next().unwrap_or_default(), request_line.next().unwrap_or_default());
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + len {
            let n = sock.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = serde_json::from_slice(&buf[head_end..(head_end + len).min(buf.len())]).unwrap_or(Value::Null);
        self.seen.lock().unwrap().push(Seen {
            method: method.into(),
            path: path.into(),
            auth: headers.get("authorization").cloned(),
            body,
        });
        let reply = self.reply.lock().unwrap().clone();
        match reply {
            Reply::Status(code) => {
                let body = r#"{"error":{"message":"the stand-in says no","type":"server_error"}}"#;
                let head = format!(
                    "HTTP/1.1 {code} Oops\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                sock.write_all(head.as_bytes()).await?;
                sock.write_all(body.as_bytes()).await?;
            }
            Reply::Json(v) => {
                let body = v.to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                sock.write_all(head.as_bytes()).await?;
                sock.write_all(body.as_bytes()).await?;
            }
            Reply::Silent => {
                tokio::time::sleep(Duration::from_secs(120)).await;
                return Ok(());
            }
            Reply::Held { pieces, before, release } => {
                sock.write_all(SSE_HEAD).await?;
                for (i, p) in pieces.into_iter().enumerate() {
                    if i == before {
                        release.notified().await;
                    }
                    sock.write_all(&p).await?;
                    sock.flush().await?;
                }
                self.streamed_to_end.fetch_add(1, Ordering::SeqCst);
            }
            Reply::Sse { pieces, gap } => {
                sock.write_all(SSE_HEAD).await?;
                for p in pieces {
                    tokio::time::sleep(gap).await;
                    sock.write_all(&p).await?;
                    sock.flush().await?;
                }
                self.streamed_to_end.fetch_add(1, Ordering::SeqCst);
            }
        }
        sock.shutdown().await
    }
}

const SSE_HEAD: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n";

pub(crate) fn delta(content: &str) -> String {
    format!(
        "data: {}\n\n",
        json!({"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
    )
}

/// A realistic event stream for `text`, word by word: a role-only first delta, a comment line,
/// the words, a `finish_reason` chunk and `[DONE]`. With `split`, every event is cut in two
/// writes in the middle of its bytes (mid-line, possibly mid-UTF-8).
pub(crate) fn sse(text: &str, split: bool) -> Vec<Vec<u8>> {
    let mut events = vec![
        format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {"role": "assistant"}}]})),
        ": keep-alive\n\n".to_string(),
    ];
    events.extend(text.split_inclusive(' ').map(delta));
    events.push(format!("data: {}\n\n", json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})));
    events.push("data: [DONE]\n\n".into());
    let mut pieces = Vec::new();
    for e in events {
        let bytes = e.into_bytes();
        if split {
            let mid = bytes.len() / 2 + 1;
            pieces.push(bytes[..mid].to_vec());
            pieces.push(bytes[mid..].to_vec());
        } else {
            pieces.push(bytes);
        }
    }
    pieces
}

/// A server whose demo agent uses `fake` (key `sk-test`), and Ann's session cookie.
pub(crate) async fn app_with_llm(
    db: Db,
    fake: &FakeLlm,
    tweak: impl FnOnce(&mut backend::Config),
) -> (TestApp, String) {
    // The stand-in listens on 127.0.0.1, which the server refuses unless the operator allows it.
    let allow = fake.base_url.trim_start_matches("http://").trim_end_matches("/v1").to_string();
    let app = spawn_app_with(db, |c| {
        c.outbound_allow = vec![allow];
        tweak(c)
    })
    .await;
    let ann = app.login(ANN).await;
    let base_url = fake.base_url.clone();
    let dto = update_demo_agent(&app, &ann, |u| {
        u["backend"] = json!("open_ai");
        u["llm"]["base_url"] = json!(base_url);
        u["llm"]["model"] = json!("test-model");
        u["api_key"] = json!({"set": "sk-test"});
    })
    .await
    .ok();
    assert_eq!((dto["backend"].as_str(), dto["api_key_set"].as_bool()), (Some("open_ai"), Some(true)), "{dto}");
    assert!(!dto.to_string().contains("sk-test"), "the API key is never sent back: {dto}");
    (app, ann)
}
