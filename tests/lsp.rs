//! `netproof lsp` end to end: the real binary, spoken to over JSON-RPC with
//! Content-Length framing on its stdin and stdout, as an editor does.
//!
//! Every read has a timeout, so a server that hangs fails the test instead
//! of hanging CI.

mod common;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long any one answer may take; generous, because CI machines are
/// shared and debug builds are slow.
const TIMEOUT: Duration = Duration::from_secs(60);

const URI: &str = "file:///work/designs/shop.np";

/// One finding with a fix (NP005 on the subnet's prefix), and names to
/// hover and jump from. The comment line is not ASCII.
const DESIGN: &str = "# The café ☕ shop.
vpc shop 10.0.0.0/16 {
  subnet web 10.0.1.9/24
  instance web01 10.0.1.10 in web
}

internet {
  host client 198.51.100.20
}
";

struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_netproof"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start netproof lsp");
        let stdout = child.stdout.take().expect("the server's stdout");
        let (tx, messages) = mpsc::channel();
        // Reads framed messages on a thread of its own, so that the test
        // can wait for one with a timeout.
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Server {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().expect("the server's stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write to the server");
        stdin.flush().expect("flush to the server");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its response (the whole message), taking
    /// notifications that arrive first out of the way.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(&format!("the response to {method}"), |m| {
            m["id"] == json!(id)
        })
    }

    /// The next message that `wanted` accepts; fails after the timeout.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(m) if wanted(&m) => return m,
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => panic!("timed out waiting for {what}"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output before {what}")
                }
            }
        }
    }

    /// Waits until the server has closed its output, which it does when
    /// the session is over; fails after the timeout.
    fn wait_for_end(&mut self) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.messages.recv_timeout(left) {
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => panic!("the session did not end"),
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn diagnostics(&mut self) -> Value {
        self.wait_for("published diagnostics", |m| {
            m["method"] == "textDocument/publishDiagnostics"
        })["params"]
            .clone()
    }

    /// Writes bytes as they are, framed or not.
    fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("the server's stdin is open");
        stdin.write_all(bytes).expect("write to the server");
        stdin.flush().expect("flush to the server");
    }

    /// Closes stdin and waits for the process, with a timeout.
    fn exit_status(self) -> Option<i32> {
        self.exit_status_and_log().0
    }

    /// Closes stdin, waits for the process with a timeout, and returns its
    /// exit status and everything it wrote to standard error.
    fn exit_status_and_log(mut self) -> (Option<i32>, String) {
        drop(self.stdin.take());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the server") {
                let mut log = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut stderr, &mut log);
                }
                return (status.code(), log);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One message with Content-Length framing; `None` at the end of the
/// stream.
fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(n) = line.strip_prefix("Content-Length: ") {
            length = n.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn initialize(server: &mut Server, encodings: &[&str]) -> Value {
    let response = server.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": null,
            "capabilities": {"general": {"positionEncodings": encodings}},
        }),
    );
    server.notify("initialized", json!({}));
    response
}

fn open(server: &mut Server, uri: &str, text: &str) {
    server.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "netproof", "version": 1, "text": text}}),
    );
}

fn position(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

fn at(line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": position(line, character)})
}

/// Applies the protocol's text edits to a text, back to front.
fn apply(text: &str, edits: &[Value]) -> String {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    // The test's texts are ASCII wherever an edit lands, so a UTF-16
    // character offset is a byte offset there.
    let offset = |p: &Value| {
        let line = p["line"].as_u64().expect("a line") as usize;
        let character = p["character"].as_u64().expect("a character") as usize;
        line_starts.get(line).map_or(text.len(), |s| s + character)
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().expect("new text"),
            )
        })
        .collect();
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = text.to_string();
    for (start, end, new) in edits.into_iter().rev() {
        out.replace_range(start..end, new);
    }
    out
}

#[test]
fn a_whole_session() {
    let mut server = Server::start();
    let init = initialize(&mut server, &["utf-16"]);
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16", "{init}");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["definitionProvider"], true);
    assert_eq!(caps["documentFormattingProvider"], true);
    assert!(caps["textDocumentSync"]["openClose"] == true, "{caps}");
    let kinds = caps["codeActionProvider"]["codeActionKinds"].to_string();
    assert!(
        kinds.contains("quickfix") && kinds.contains("source.fixAll.netproof"),
        "{kinds}"
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "netproof");

    // Opening the design publishes its one finding.
    open(&mut server, URI, DESIGN);
    let published = server.diagnostics();
    assert_eq!(published["uri"], URI);
    assert_eq!(published["version"], 1);
    let diagnostics = published["diagnostics"].as_array().expect("a list");
    assert_eq!(diagnostics.len(), 1, "{published}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "NP005");
    assert_eq!(d["source"], "netproof");
    assert_eq!(d["severity"], 1, "an error");
    assert_eq!(
        d["codeDescription"]["href"],
        "https://netproof.dev/rules/NP005-prefix-host-bits-set"
    );
    // `10.0.1.9/24` on line 3 (0-based 2), columns 13 to 24.
    assert_eq!(
        d["range"],
        json!({"start": position(2, 13), "end": position(2, 24)})
    );
    assert!(
        d["message"].as_str().expect("a message").contains("help:"),
        "{d}"
    );

    // Hover on the finding: its rule page.
    let hover = server.request("textDocument/hover", at(2, 15));
    let value = hover["result"]["contents"]["value"]
        .as_str()
        .expect("markdown");
    assert!(value.contains("# NP005 prefix-host-bits-set"), "{value}");
    assert!(value.contains("has host bits set"), "{value}");

    // Hover on a name: what it resolves to.
    let hover = server.request("textDocument/hover", at(3, 31));
    let value = hover["result"]["contents"]["value"]
        .as_str()
        .expect("markdown");
    assert!(value.contains("**subnet** `shop.web`"), "{value}");
    assert!(value.contains("- prefix: `10.0.1.0/24`"), "{value}");
    assert!(value.contains("- site: vpc `shop`"), "{value}");
    assert!(value.contains("- defined on line 3"), "{value}");
    assert!(value.contains("subnet web 10.0.1.9/24"), "{value}");
    assert_eq!(
        hover["result"]["range"],
        json!({"start": position(3, 30), "end": position(3, 33)})
    );

    // Hover on nothing in particular: no answer, and no error.
    let hover = server.request("textDocument/hover", at(5, 0));
    assert_eq!(hover["result"], Value::Null, "{hover}");

    // Go to the definition of `web` from its use.
    let definition = server.request("textDocument/definition", at(3, 31));
    assert_eq!(definition["result"]["uri"], URI, "{definition}");
    assert_eq!(
        definition["result"]["range"],
        json!({"start": position(2, 9), "end": position(2, 12)})
    );

    // The quick fix for the finding, applied, removes it.
    let actions = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": URI},
            "range": {"start": position(2, 15), "end": position(2, 15)},
            "context": {"diagnostics": [d], "only": ["quickfix"]},
        }),
    );
    let actions = actions["result"].as_array().expect("actions").clone();
    assert_eq!(actions.len(), 1, "{actions:?}");
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["isPreferred"], true);
    assert_eq!(action["diagnostics"][0]["code"], "NP005");
    let edits = action["edit"]["changes"][URI].as_array().expect("edits");
    let fixed = apply(DESIGN, edits);
    assert!(fixed.contains("subnet web 10.0.1.0/24\n"), "{fixed}");

    // The whole file through fix-all gives the same text.
    let all = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": URI},
            "range": {"start": position(0, 0), "end": position(0, 0)},
            "context": {"diagnostics": [], "only": ["source.fixAll"]},
        }),
    );
    let all = all["result"].as_array().expect("actions").clone();
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["kind"], "source.fixAll.netproof");
    let edits = all[0]["edit"]["changes"][URI].as_array().expect("edits");
    assert_eq!(apply(DESIGN, edits), fixed);

    // Changing the document to the fixed text republishes, now empty.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": URI, "version": 2},
            "contentChanges": [{"text": fixed}],
        }),
    );
    let published = server.diagnostics();
    assert_eq!(published["version"], 2);
    assert_eq!(published["diagnostics"], json!([]), "{published}");

    // Formatting gives the edits that take the text to `netproof fmt`'s
    // layout.
    let messy = fixed
        .replace("  subnet web", "subnet    web")
        .replace("shop 10.0.0.0/16 {\n", "shop   10.0.0.0/16 {  \n\n\n");
    assert_ne!(messy, fixed);
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": URI, "version": 3},
            "contentChanges": [{"text": messy}],
        }),
    );
    // Each change is checked and published before the next step, so that
    // the messages of this session come in one order whatever the timing.
    let published = server.diagnostics();
    assert_eq!(published["version"], 3, "{published}");
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    let format_request = json!({
        "textDocument": {"uri": URI},
        "options": {"tabSize": 2, "insertSpaces": true},
    });
    let formatting = server.request("textDocument/formatting", format_request.clone());
    let edits = formatting["result"].as_array().expect("edits").clone();
    let canonical = netproof::format::format_source(&messy).expect("the text parses");
    assert_eq!(apply(&messy, &edits), canonical);
    assert_ne!(canonical, messy);
    // Text with a syntax error is not formatted: no edits, no error.
    server.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": URI, "version": 4},
            "contentChanges": [{"text": "vpc shop 10.0.0.0/16 {\n  subnet\n"}],
        }),
    );
    let published = server.diagnostics();
    assert_eq!(published["version"], 4, "{published}");
    let codes: Vec<&Value> = published["diagnostics"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert!(
        !codes.is_empty() && codes.iter().all(|c| *c == "NP001"),
        "{published}"
    );
    let formatting = server.request("textDocument/formatting", format_request);
    assert!(formatting.get("error").is_none(), "{formatting}");
    assert_eq!(formatting["result"], Value::Null, "{formatting}");

    // Closing clears the document's diagnostics.
    server.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": URI}}),
    );
    let published = server.diagnostics();
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    assert!(
        published.get("version").is_none_or(Value::is_null),
        "{published}"
    );

    let shutdown = server.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_status(), Some(0));
}

#[test]
fn positions_count_utf16_units_on_lines_that_are_not_ascii() {
    // `𝄞` is two UTF-16 units, one character, four bytes: the lexer's
    // error on it spans exactly that character.
    let text = "vpc shop 10.0.0.0/16 {\n  subnet w𝄞 10.0.1.0/24\n}\n";
    for (encoding, width) in [("utf-16", 2), ("utf-8", 4), ("utf-32", 1)] {
        let mut server = Server::start();
        let init = initialize(&mut server, &[encoding]);
        assert_eq!(init["result"]["capabilities"]["positionEncoding"], encoding);
        open(&mut server, URI, text);
        let published = server.diagnostics();
        let d = &published["diagnostics"][0];
        assert_eq!(d["code"], "NP001", "{published}");
        assert_eq!(
            d["range"],
            json!({"start": position(1, 10), "end": position(1, 10 + width)}),
            "{encoding}"
        );
        // A position after the wide character still finds the subnet's
        // name, `w𝄞` being cut at the bad character: hover on `subnet`'s
        // prefix literal answers nothing, but hovering the error does.
        let hover = server.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": URI}, "position": position(1, 10 + width)}),
        );
        let value = hover["result"]["contents"]["value"].as_str().unwrap_or("");
        assert!(
            value.contains("# NP001 syntax-error"),
            "{encoding}: {hover}"
        );
        server.request("shutdown", Value::Null);
        server.notify("exit", Value::Null);
        assert_eq!(server.exit_status(), Some(0));
    }
}

#[test]
fn errors_are_answers_not_crashes() {
    let mut server = Server::start();
    initialize(&mut server, &[]);
    // An unknown method: MethodNotFound.
    let unknown = server.request("textDocument/teleport", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    // Malformed parameters: InvalidParams.
    let malformed = server.request("textDocument/hover", json!({"position": "here"}));
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");
    // A document that was never opened: an empty answer.
    let hover = server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nowhere.np"}, "position": position(0, 0)}),
    );
    assert_eq!(hover["result"], Value::Null, "{hover}");
    let actions = server.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": "file:///nowhere.np"},
            "range": {"start": position(0, 0), "end": position(0, 0)},
            "context": {"diagnostics": []},
        }),
    );
    assert_eq!(actions["result"], Value::Null, "{actions}");
    // Positions far outside the text are clamped, not trusted.
    open(&mut server, URI, DESIGN);
    server.diagnostics();
    let far = server.request("textDocument/definition", at(999, 999));
    assert!(far.get("error").is_none(), "{far}");
    // Still serving after all that.
    let hover = server.request("textDocument/hover", at(3, 31));
    assert!(hover["result"]["contents"]["value"].is_string(), "{hover}");
    // `exit` without `shutdown` exits with status 1.
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_status(), Some(1));
}

#[test]
fn a_burst_of_incremental_changes_ends_checked_at_the_latest_text() {
    let mut server = Server::start();
    initialize(&mut server, &[]);
    open(&mut server, URI, DESIGN);
    assert_eq!(server.diagnostics()["version"], 1);
    // Twenty edits in a row, each an incremental change; the last one
    // fixes the prefix.
    for version in 2..=21 {
        let digit = if version == 21 { "0" } else { "9" };
        server.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": URI, "version": version},
                "contentChanges": [{
                    "range": {"start": position(2, 20), "end": position(2, 21)},
                    "text": digit,
                }],
            }),
        );
    }
    // Whatever was coalesced, the last publication is of version 21 and
    // empty, and no publication is of a version older than one before it.
    let mut last = 1;
    loop {
        let published = server.diagnostics();
        let version = published["version"].as_i64().expect("a version");
        assert!(version > last, "{version} after {last}");
        last = version;
        if version == 21 {
            assert_eq!(published["diagnostics"], json!([]), "{published}");
            break;
        }
    }
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_status(), Some(0));
}

/// The editor sees what `netproof check` sees: the `netproof.toml` above the
/// document's file applies, and an invalid one is shown to the user (once)
/// while the document is still checked without it.
#[test]
fn the_nearest_netproof_toml_applies_and_its_errors_are_shown() {
    let dir = common::scratch("lsp", "config");
    std::fs::create_dir_all(dir.join("designs")).expect("scratch directory");
    let file = dir.join("designs").join("prod.np");
    let uri = format!("file://{}", file.display());
    let design = "sddc prod {\n  public-ip spare 52.58.125.208\n}\n";
    let codes = |published: &Value| -> Vec<String> {
        published["diagnostics"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|d| d["code"].as_str().unwrap_or_default().to_string())
            .collect()
    };

    std::fs::write(dir.join("netproof.toml"), "ignore = [\"NP205\"]\n").expect("config");
    let mut server = Server::start();
    initialize(&mut server, &["utf-16"]);
    open(&mut server, &uri, design);
    let published = server.diagnostics();
    assert_eq!(published["uri"], json!(uri));
    assert_eq!(codes(&published), Vec::<String>::new(), "{published}");

    std::fs::write(dir.join("netproof.toml"), "bogus = 1\n").expect("config");
    server.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}, "text": design}),
    );
    server.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": design}]}),
    );
    // The findings come first, then the message about the configuration.
    let published = server.diagnostics();
    assert_eq!(codes(&published), vec!["NP205".to_string()], "{published}");
    let shown = server.wait_for("the configuration error", |m| {
        m["method"] == "window/showMessage"
    });
    let message = shown["params"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("bogus"), "{shown}");
    assert_eq!(shown["params"]["type"], json!(1), "an error");
    let _ = server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_status(), Some(0));
}

/// The next error answer that is not about any request (`id: null`), as
/// JSON-RPC answers a message it could not read.
fn error_without_id(server: &mut Server, what: &str) -> Value {
    let answer = server.wait_for(what, |m| m.get("id") == Some(&Value::Null));
    assert!(answer["error"]["message"].is_string(), "{answer}");
    answer
}

/// Bodies that are not JSON, or JSON that is not a message, are answered
/// with the JSON-RPC error for each, and the session goes on.
#[test]
fn a_malformed_message_is_answered_and_the_session_goes_on() {
    let mut server = Server::start();
    initialize(&mut server, &[]);
    open(&mut server, URI, DESIGN);
    server.diagnostics();
    for (body, code) in [
        (
            &b"{\"jsonrpc\": \"2.0\", \"id\": 9, \"method\": "[..],
            -32700,
        ),
        (&b"\xff\xfe not even text"[..], -32700),
        (&b""[..], -32700),
        (&b"[1, 2, 3]"[..], -32600),
        (&b"42"[..], -32600),
        (&b"{\"jsonrpc\": \"2.0\", \"method\": 7}"[..], -32600),
    ] {
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body);
        server.send_raw(&frame);
        let answer = error_without_id(&mut server, "the answer to a malformed message");
        assert_eq!(
            answer["error"]["code"],
            json!(code),
            "{}: {answer}",
            String::from_utf8_lossy(body)
        );
    }
    // A request whose id can be read but which is not a request otherwise
    // is answered under its id.
    let body = r#"{"jsonrpc": "2.0", "id": 77, "method": ["hover"]}"#;
    server.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    let answer = server.wait_for("the answer to request 77", |m| m["id"] == json!(77));
    assert_eq!(answer["error"]["code"], json!(-32600), "{answer}");
    // Still serving, and the document is still open.
    let hover = server.request("textDocument/hover", at(3, 31));
    assert!(hover["result"]["contents"]["value"].is_string(), "{hover}");
    server.request("shutdown", Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_status(), Some(0));
}

/// `Content-Type` (the only other header the protocol defines) and header
/// names in any case are accepted.
#[test]
fn other_headers_are_tolerated() {
    let mut server = Server::start();
    initialize(&mut server, &[]);
    let body = r#"{"jsonrpc": "2.0", "id": 5, "method": "shutdown"}"#;
    server.send_raw(
        format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length:{}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let answer = server.wait_for("the answer to shutdown", |m| m["id"] == json!(5));
    assert!(answer.get("error").is_none(), "{answer}");
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_status(), Some(0));
}

/// A stream whose next message cannot be found (no length, or a length
/// that is no number of bytes) is answered once with a parse error, and the
/// session ends with status 1 and a line in the log saying why.
#[test]
fn a_stream_that_cannot_be_framed_ends_the_session_with_an_answer() {
    for (what, bytes, logged) in [
        (
            "no Content-Length",
            "Content-Type: application/vscode-jsonrpc\r\n\r\n{}".to_string(),
            "Content-Length",
        ),
        (
            "a Content-Length past 64 bits",
            "Content-Length: 99999999999999999999\r\n\r\n{}".to_string(),
            "99999999999999999999",
        ),
        (
            "a negative Content-Length",
            "Content-Length: -1\r\n\r\n{}".to_string(),
            "-1",
        ),
        (
            "a header line without a colon",
            "Content-Length 2\r\n\r\n{}".to_string(),
            "header",
        ),
    ] {
        let mut server = Server::start();
        initialize(&mut server, &[]);
        server.send_raw(bytes.as_bytes());
        let answer = error_without_id(&mut server, what);
        assert_eq!(answer["error"]["code"], json!(-32700), "{what}: {answer}");
        let (status, log) = server.exit_status_and_log();
        assert_eq!(status, Some(1), "{what}: {log}");
        assert!(log.contains(logged), "{what}: {log}");
        assert!(!log.contains("panicked"), "{what}: {log}");
    }
}

/// A header line is read up to 8 KiB: a megabyte without a newline is
/// refused as soon as the limit is passed, without waiting for the rest.
#[test]
fn a_megabyte_header_line_is_refused_at_the_limit() {
    let mut server = Server::start();
    initialize(&mut server, &[]);
    let mut stdin = server.stdin.take().expect("the server's stdin");
    // The server stops reading at the limit, so the rest of the write may
    // fail; it is done on a thread of its own, and stdin stays open until
    // it is over.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&vec![b'a'; 1 << 20]);
        let _ = stdin.flush();
        stdin
    });
    let answer = error_without_id(&mut server, "the answer to a megabyte header line");
    assert_eq!(answer["error"]["code"], json!(-32700), "{answer}");
    // The server ends the session by itself, with stdin still open.
    server.wait_for_end();
    let stdin = writer.join().expect("the writer thread");
    drop(stdin);
    let (status, log) = server.exit_status_and_log();
    assert_eq!(status, Some(1), "{log}");
    assert!(log.contains("8 KiB"), "{log}");
}

/// A message larger than the limit is never allocated: with a 4 GiB
/// `Content-Length`, the server reads and discards what comes, and ends
/// cleanly (status 1, no panic) when the stream ends in its middle.
#[test]
fn a_4_gib_content_length_is_neither_allocated_nor_a_crash() {
    let mut server = Server::start();
    initialize(&mut server, &[]);
    server.send_raw(b"Content-Length: 4294967296\r\n\r\n{\"jsonrpc\": \"2.0\"");
    // Once a few megabytes more are taken, the server is well past the
    // header (a pipe holds far less), wherever it would have allocated.
    for _ in 0..4 {
        server.send_raw(&vec![b' '; 1 << 20]);
    }
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
            .expect("the server's /proc status");
        let peak_kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc status");
        assert!(
            peak_kib < 256 * 1024,
            "the server's resident memory peaked at {peak_kib} KiB"
        );
    }
    let (status, log) = server.exit_status_and_log();
    assert_eq!(status, Some(1), "{log}");
    assert!(log.contains("in the middle of a message"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// The largest length a 64-bit `usize` holds made the old reader panic
/// ("capacity overflow"); it is a message over the limit like any other.
#[test]
fn a_content_length_of_usize_max_is_not_a_crash() {
    let mut server = Server::start();
    initialize(&mut server, &[]);
    server.send_raw(b"Content-Length: 18446744073709551615\r\n\r\n{}");
    let (status, log) = server.exit_status_and_log();
    assert_eq!(status, Some(1), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(log.contains("in the middle of a message"), "{log}");
}

/// A client that goes away in the middle of a message ends the session as
/// one that goes away between messages: status 1, and a line in the log.
#[test]
fn the_end_of_input_inside_a_message_ends_the_session_cleanly() {
    for partial in [
        "Content-Length: 100\r\n\r\n{\"jsonrpc\": ",
        "Content-Length: 100\r\n",
        "Content-Len",
    ] {
        let mut server = Server::start();
        initialize(&mut server, &[]);
        server.send_raw(partial.as_bytes());
        let (status, log) = server.exit_status_and_log();
        assert_eq!(status, Some(1), "{partial:?}: {log}");
        assert!(
            log.contains("in the middle of a message"),
            "{partial:?}: {log}"
        );
    }
}

/// `lsp_types::Url` rewrites what it parses (`..` and `.` segments,
/// percent-encoding, the scheme's case); every answer about a document
/// names it exactly as the client did, or the client cannot match them.
#[test]
fn answers_name_a_document_by_the_uri_the_client_sent() {
    for uri in [
        "file:///tmp/x/../y.np",
        "file:///tmp/./designs/shop.np",
        "FILE:///tmp/My Design.np",
    ] {
        let mut server = Server::start();
        initialize(&mut server, &[]);
        open(&mut server, uri, DESIGN);
        let published = server.diagnostics();
        assert_eq!(published["uri"], json!(uri), "{published}");
        assert_eq!(published["diagnostics"][0]["code"], "NP005", "{published}");
        let at = |line: u32, character: u32| json!({"textDocument": {"uri": uri}, "position": position(line, character)});
        let hover = server.request("textDocument/hover", at(3, 31));
        assert!(hover["result"]["contents"]["value"].is_string(), "{hover}");
        let definition = server.request("textDocument/definition", at(3, 31));
        assert_eq!(definition["result"]["uri"], json!(uri), "{definition}");
        let actions = server.request(
            "textDocument/codeAction",
            json!({
                "textDocument": {"uri": uri},
                "range": {"start": position(0, 0), "end": position(0, 0)},
                "context": {"diagnostics": [], "only": ["source.fixAll"]},
            }),
        );
        let changes = &actions["result"][0]["edit"]["changes"];
        assert!(changes[uri].is_array(), "{actions}");
        server.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": "internet {}\n"}]}),
        );
        let published = server.diagnostics();
        assert_eq!(published["uri"], json!(uri), "{published}");
        assert_eq!(published["version"], 2, "{published}");
        server.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        );
        let published = server.diagnostics();
        assert_eq!(published["uri"], json!(uri), "{published}");
        server.request("shutdown", Value::Null);
        server.notify("exit", Value::Null);
        assert_eq!(server.exit_status(), Some(0));
    }
}
