//! `netproof lsp`: the language server, over stdio.
//!
//! One thread owns every open document and answers the client in order
//! (`transport` reads and writes the framed JSON-RPC on threads of its
//! own). A document is checked when it is opened, changed or saved, through
//! [`diagnose`], the one call into the checking pipeline. Changes are not
//! checked at once: a changed document is marked, every message already
//! waiting is taken first, and only then are the marked documents checked,
//! so a burst of edits costs one check of the latest text, not one per
//! keystroke. A request about a marked document checks it first, so answers
//! always describe the text the client has.
//!
//! Documents are known by their URI exactly as the client wrote it
//! (`uri`), never as `lsp_types::Url` rewrites it.
//!
//! Nothing is written to standard output but the protocol; the log goes to
//! standard error.

mod actions;
mod convert;
mod format;
mod hover;
mod symbols;

pub use convert::Encoding;
pub use transport::session;

use crate::check::FileReport;
use convert::LineMap;
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, GotoDefinitionResponse, Hover,
    HoverContents, HoverProviderCapability, InitializeParams, Location, MarkupContent, MarkupKind,
    OneOf, PublishDiagnosticsParams, ServerCapabilities, ServerInfo,
    TextDocumentContentChangeEvent, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Url,
};
use std::cell::OnceCell;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;

/// Writes one line to standard error (never to stdout: that is the
/// protocol's), and never panics if stderr is gone.
macro_rules! log {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), "netproof lsp: {}", format_args!($($arg)*));
    }};
}

// After `log!`, which they use.
pub mod transport;
mod uri;

/// Checks one document: the whole pipeline, as `netproof check` runs it,
/// under the `netproof.toml` that governs the document's file (none for an
/// unsaved buffer). Every check of the server goes through here.
///
/// An invalid configuration does not stop the checking: the document is
/// checked without it, and the error comes back for the client to show.
pub fn diagnose(uri: &Url, text: &str) -> (FileReport, Option<String>) {
    let path = display_path(uri);
    let found = match uri.to_file_path() {
        Ok(file) if uri.scheme() == "file" => crate::config::config_for(&file),
        _ => Ok(None),
    };
    let (config, error) = match found {
        Ok(config) => (config.unwrap_or_default(), None),
        Err(error) => (Default::default(), Some(error.to_string())),
    };
    let report = crate::check::check_source_with(path, text, &config);
    (report, error)
}

/// The path a document is reported under: its file path for `file:` URIs,
/// the URI itself otherwise (an unsaved buffer).
fn display_path(uri: &Url) -> String {
    match uri.to_file_path() {
        Ok(path) if uri.scheme() == "file" => path.display().to_string(),
        _ => uri.to_string(),
    }
}

/// Runs the server on stdin and stdout until the client says `exit`, and
/// returns the exit status the protocol asks for: 0 after `shutdown`, 1
/// without it (or when the client went away, or its input could not be
/// read as messages: `transport`).
pub fn run(verbose: bool) -> u8 {
    // Stdin's own lock cannot move to the reader thread; a buffer of its
    // own over the unlocked handle can.
    let input = std::io::BufReader::with_capacity(64 << 10, std::io::stdin());
    session(input, std::io::stdout(), verbose)
}

/// Serves one client on `connection`, from the `initialize` handshake to
/// `exit`, and returns the exit status.
pub fn serve(connection: &Connection, verbose: bool) -> u8 {
    // The handshake is done here rather than with lsp-server's helpers,
    // which panic when the client goes away in the middle of it.
    let (id, params) = loop {
        match connection.receiver.recv() {
            Ok(Message::Request(r)) if r.method == req::Initialize::METHOD => {
                break (r.id, r.params)
            }
            Ok(Message::Request(r)) => {
                let _ = connection.sender.send(
                    Response::new_err(
                        r.id,
                        ErrorCode::ServerNotInitialized as i32,
                        format!("`{}` before `initialize`", r.method),
                    )
                    .into(),
                );
            }
            Ok(Message::Notification(n)) if n.method == notif::Exit::METHOD => return 1,
            // Other notifications before `initialize` are dropped, as the
            // protocol says.
            Ok(_) => {}
            Err(_) => {
                log!("the client closed the connection before `initialize`");
                return 1;
            }
        }
    };
    let params: InitializeParams = match serde_json::from_value(params) {
        Ok(p) => p,
        Err(error) => {
            // The client's capabilities could not be read; UTF-16, which
            // every client supports, is then the only safe choice.
            log!("cannot read the initialize parameters ({error}); assuming defaults");
            InitializeParams::default()
        }
    };
    let enc = Encoding::negotiate(
        params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref()),
    );
    let result = serde_json::json!({
        "capabilities": capabilities(enc),
        "serverInfo": ServerInfo {
            name: "netproof".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    let _ = connection.sender.send(Response::new_ok(id, result).into());
    log!("ready (positions in {})", enc.kind().as_str());
    // `initialized` comes next; it needs no answer, so the main loop takes
    // it like any notification it has nothing to do for.
    let mut server = Server {
        connection,
        enc,
        verbose,
        documents: HashMap::new(),
        dirty: BTreeSet::new(),
        shutdown: false,
        config_error: None,
    };
    server.main_loop()
}

/// What the server can do, as the initialize response says it.
pub fn capabilities(enc: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(enc.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX, actions::fix_all_kind()]),
            ..CodeActionOptions::default()
        })),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// One open document.
struct Document {
    /// Its URI as `lsp_types` parsed it, which finds its file.
    url: Url,
    version: i32,
    text: String,
    lines: LineMap,
    /// The last check of `text`; `None` while the document is dirty.
    report: Option<FileReport>,
    /// Names and what they resolve to, built on the first request that
    /// needs them after a change.
    symbols: OnceCell<symbols::Symbols>,
}

impl Document {
    fn new(url: Url, version: i32, text: String) -> Document {
        Document {
            url,
            version,
            lines: LineMap::new(&text),
            text,
            report: None,
            symbols: OnceCell::new(),
        }
    }

    fn set_text(&mut self, text: String) {
        self.lines = LineMap::new(&text);
        self.text = text;
        self.report = None;
        self.symbols = OnceCell::new();
    }

    fn symbols(&self) -> &symbols::Symbols {
        self.symbols
            .get_or_init(|| symbols::Symbols::build(&self.text))
    }
}

struct Server<'c> {
    connection: &'c Connection,
    enc: Encoding,
    verbose: bool,
    /// The open documents, by their URI as the client sent it (`uri`).
    documents: HashMap<String, Document>,
    /// Documents changed since their last check, in a stable order.
    dirty: BTreeSet<String>,
    shutdown: bool,
    /// The configuration error last shown, if any.
    config_error: Option<String>,
}

/// Why a request could not be answered.
struct Failure {
    code: ErrorCode,
    message: String,
}

impl Failure {
    fn invalid_params(error: impl std::fmt::Display) -> Failure {
        Failure {
            code: ErrorCode::InvalidParams,
            message: format!("invalid parameters: {error}"),
        }
    }
}

impl Server<'_> {
    fn main_loop(&mut self) -> u8 {
        loop {
            let message = if self.dirty.is_empty() {
                match self.connection.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return self.client_gone(),
                }
            } else {
                match self.connection.receiver.try_recv() {
                    Ok(m) => m,
                    Err(e) if e.is_empty() => {
                        self.check_dirty();
                        continue;
                    }
                    Err(_) => return self.client_gone(),
                }
            };
            match message {
                Message::Request(request) => self.request(request),
                Message::Notification(n) if n.method == notif::Exit::METHOD => {
                    return if self.shutdown { 0 } else { 1 };
                }
                Message::Notification(n) => self.notification(n),
                // The server sends no requests, so expects no responses.
                Message::Response(r) => log!("ignoring an unexpected response {:?}", r.id),
            }
        }
    }

    fn client_gone(&self) -> u8 {
        log!("the session ended without `exit`");
        1
    }

    fn send(&self, message: impl Into<Message>) {
        // The writer thread only stops when the client is gone, and then
        // there is nobody to tell.
        let _ = self.connection.sender.send(message.into());
    }

    fn request(&mut self, request: Request) {
        if self.verbose {
            log!("request {} ({:?})", request.method, request.id);
        }
        let id = request.id.clone();
        if self.shutdown {
            return self.fail(
                id,
                Failure {
                    code: ErrorCode::InvalidRequest,
                    message: "the server is shutting down".to_string(),
                },
            );
        }
        let answer = match request.method.as_str() {
            req::Shutdown::METHOD => {
                self.shutdown = true;
                Ok(serde_json::Value::Null)
            }
            req::HoverRequest::METHOD => self.answer::<req::HoverRequest>(request, Self::hover),
            req::GotoDefinition::METHOD => {
                self.answer::<req::GotoDefinition>(request, Self::definition)
            }
            req::CodeActionRequest::METHOD => {
                self.answer::<req::CodeActionRequest>(request, Self::code_action)
            }
            req::Formatting::METHOD => self.answer::<req::Formatting>(request, Self::formatting),
            method => Err(Failure {
                code: ErrorCode::MethodNotFound,
                message: format!("netproof does not handle `{method}`"),
            }),
        };
        match answer {
            Ok(value) => self.send(Response::new_ok(id, value)),
            Err(failure) => self.fail(id, failure),
        }
    }

    /// Reads a request about a document as `R` wants its parameters and
    /// answers with `handle`'s result, which is given the document's URI as
    /// the client sent it, and names the document that way.
    fn answer<R: req::Request>(
        &mut self,
        request: Request,
        handle: fn(&mut Self, &str, R::Params) -> R::Result,
    ) -> Result<serde_json::Value, Failure> {
        let key = uri::sent(&request.params);
        let params: R::Params =
            serde_json::from_value(request.params).map_err(Failure::invalid_params)?;
        let key = key.ok_or_else(|| Failure::invalid_params("no `textDocument.uri`"))?;
        let result = handle(self, &key, params);
        let mut value = serde_json::to_value(result).map_err(|error| Failure {
            code: ErrorCode::InternalError,
            message: format!("cannot serialize the answer: {error}"),
        })?;
        uri::restore(&mut value, &key);
        Ok(value)
    }

    fn fail(&self, id: RequestId, failure: Failure) {
        if self.verbose {
            log!("error answering {id:?}: {}", failure.message);
        }
        self.send(Response::new_err(id, failure.code as i32, failure.message));
    }

    fn notification(&mut self, n: Notification) {
        if self.verbose {
            log!("notification {}", n.method);
        }
        let method = n.method.clone();
        let handled = match method.as_str() {
            notif::DidOpenTextDocument::METHOD => {
                self.notify::<notif::DidOpenTextDocument>(n, |s, key, p| {
                    let doc = p.text_document;
                    s.documents
                        .insert(key.clone(), Document::new(doc.uri, doc.version, doc.text));
                    s.dirty.insert(key);
                })
            }
            notif::DidChangeTextDocument::METHOD => {
                self.notify::<notif::DidChangeTextDocument>(n, |s, key, p| {
                    let enc = s.enc;
                    let Some(doc) = s.documents.get_mut(&key) else {
                        log!("a change to `{key}`, which is not open; ignored");
                        return;
                    };
                    let text = apply_changes(&doc.text, &doc.lines, p.content_changes, enc);
                    doc.version = p.text_document.version;
                    doc.set_text(text);
                    s.dirty.insert(key);
                })
            }
            notif::DidSaveTextDocument::METHOD => {
                self.notify::<notif::DidSaveTextDocument>(n, |s, key, p| {
                    if let Some(doc) = s.documents.get_mut(&key) {
                        // Saving changes no text, but what the check reads
                        // beside it (configuration) may have changed.
                        if let Some(text) = p.text {
                            doc.set_text(text);
                        }
                        doc.report = None;
                        s.dirty.insert(key);
                    }
                })
            }
            notif::DidCloseTextDocument::METHOD => {
                self.notify::<notif::DidCloseTextDocument>(n, |s, key, p| {
                    s.documents.remove(&key);
                    s.dirty.remove(&key);
                    s.publish(&key, p.text_document.uri, Vec::new(), None);
                })
            }
            // Everything else ($/cancelRequest, $/setTrace, configuration
            // changes) needs nothing from this server.
            _ => Ok(()),
        };
        if let Err(error) = handled {
            log!("ignoring `{method}` with invalid parameters: {error}");
        }
    }

    /// Reads a notification about a document as `N` wants its parameters
    /// and hands them to `handle` with the document's URI as the client
    /// sent it.
    fn notify<N: notif::Notification>(
        &mut self,
        n: Notification,
        handle: impl FnOnce(&mut Self, String, N::Params),
    ) -> Result<(), String> {
        let key = uri::sent(&n.params);
        let params: N::Params = serde_json::from_value(n.params).map_err(|e| e.to_string())?;
        let key = key.ok_or("no `textDocument.uri`")?;
        handle(self, key, params);
        Ok(())
    }

    /// Checks every changed document and publishes its findings.
    fn check_dirty(&mut self) {
        for key in std::mem::take(&mut self.dirty) {
            self.check(&key);
        }
    }

    /// Checks one document if it changed since its last check, and publishes
    /// its findings.
    fn check(&mut self, key: &str) {
        self.dirty.remove(key);
        let enc = self.enc;
        let Some(doc) = self.documents.get_mut(key) else {
            return;
        };
        let uri = &doc.url;
        if doc.report.is_some() {
            return;
        }
        let started = std::time::Instant::now();
        let (report, config_error) = diagnose(uri, &doc.text);
        let diagnostics = report
            .diagnostics
            .iter()
            .map(|d| convert::diagnostic(d, uri, &doc.text, &doc.lines, enc))
            .collect();
        let version = doc.version;
        if self.verbose {
            log!(
                "checked {key} (version {version}) in {:.1?}: {} findings",
                started.elapsed(),
                report.diagnostics.len()
            );
        }
        let uri = uri.clone();
        doc.report = Some(report);
        self.publish(key, uri, diagnostics, Some(version));
        self.tell_config_error(config_error);
    }

    /// Shows a configuration error in the editor, once until it changes,
    /// rather than after every keystroke.
    fn tell_config_error(&mut self, error: Option<String>) {
        if error == self.config_error {
            return;
        }
        self.config_error.clone_from(&error);
        if let Some(message) = error {
            log!("{message}");
            self.send(Notification::new(
                notif::ShowMessage::METHOD.to_string(),
                lsp_types::ShowMessageParams {
                    typ: lsp_types::MessageType::ERROR,
                    message: format!("netproof: {message}; checking without it"),
                },
            ));
        }
    }

    /// Publishes a document's findings under its URI as the client sent
    /// it, `key`; `uri` is the same URI as `lsp_types` parsed it.
    fn publish(
        &self,
        key: &str,
        uri: Url,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        let mut params = match serde_json::to_value(params) {
            Ok(params) => params,
            Err(error) => return log!("cannot serialize the findings of {key}: {error}"),
        };
        uri::restore(&mut params, key);
        self.send(Notification {
            method: notif::PublishDiagnostics::METHOD.to_string(),
            params,
        });
    }

    /// An open document, checked against its current text; `None` for a
    /// document the client never opened.
    fn current(&mut self, key: &str) -> Option<&Document> {
        self.check(key);
        self.documents.get(key)
    }

    fn hover(&mut self, key: &str, p: lsp_types::HoverParams) -> Option<Hover> {
        let enc = self.enc;
        let at = p.text_document_position_params;
        let doc = self.current(key)?;
        let offset = doc.lines.offset(&doc.text, at.position, enc);
        let mut sections: Vec<String> = Vec::new();
        let mut range = None;
        if let Some(report) = &doc.report {
            for d in hover::findings_at(&report.diagnostics, offset) {
                sections.push(hover::finding_markdown(d));
                range.get_or_insert(doc.lines.range(&doc.text, d.primary.span, enc));
            }
        }
        let symbols = doc.symbols();
        if let Some(o) = symbols.at(&doc.text, offset) {
            sections.insert(0, hover::name_markdown(symbols, o, &doc.text, &doc.lines));
            range = Some(doc.lines.range(&doc.text, o.span, enc));
        }
        if sections.is_empty() {
            return None;
        }
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: sections.join("\n---\n\n"),
            }),
            range,
        })
    }

    fn definition(
        &mut self,
        key: &str,
        p: lsp_types::GotoDefinitionParams,
    ) -> Option<GotoDefinitionResponse> {
        let enc = self.enc;
        let at = p.text_document_position_params;
        let uri = at.text_document.uri;
        let doc = self.current(key)?;
        let offset = doc.lines.offset(&doc.text, at.position, enc);
        let symbols = doc.symbols();
        let o = symbols.at(&doc.text, offset)?;
        let span = symbols.model.decl(o.entity).name_span;
        let range = doc.lines.range(&doc.text, span, enc);
        Some(GotoDefinitionResponse::Scalar(Location::new(uri, range)))
    }

    fn code_action(
        &mut self,
        key: &str,
        p: lsp_types::CodeActionParams,
    ) -> Option<lsp_types::CodeActionResponse> {
        let enc = self.enc;
        let uri = p.text_document.uri;
        let doc = self.current(key)?;
        let report = doc.report.as_ref()?;
        let cx = actions::Context {
            uri: &uri,
            text: &doc.text,
            lines: &doc.lines,
            enc,
        };
        let range = doc.lines.span(&doc.text, p.range, enc);
        let found = actions::actions(&cx, &report.diagnostics, range, p.context.only.as_deref());
        Some(
            found
                .into_iter()
                .map(lsp_types::CodeActionOrCommand::CodeAction)
                .collect(),
        )
    }

    fn formatting(
        &mut self,
        key: &str,
        _: lsp_types::DocumentFormattingParams,
    ) -> Option<Vec<lsp_types::TextEdit>> {
        let enc = self.enc;
        let doc = self.documents.get(key)?;
        let formatted = format::format_document(&doc.text)?;
        Some(format::edits(&doc.text, &formatted, &doc.lines, enc))
    }
}

/// A document's text after a `didChange`: each change replaces a range of
/// the text as it is after the changes before it, or, without a range, the
/// whole text.
fn apply_changes(
    text: &str,
    lines: &LineMap,
    changes: Vec<TextDocumentContentChangeEvent>,
    enc: Encoding,
) -> String {
    let mut text = text.to_string();
    let mut lines = lines.clone();
    let count = changes.len();
    for (i, change) in changes.into_iter().enumerate() {
        match change.range {
            None => text = change.text,
            Some(range) => {
                let (start, end) = lines.span(&text, range, enc);
                text.replace_range(start..end, &change.text);
            }
        }
        if i + 1 < count {
            lines = LineMap::new(&text);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_types::{Position, Range};

    fn change(
        range: Option<((u32, u32), (u32, u32))>,
        text: &str,
    ) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range.map(|(a, b)| Range::new(Position::new(a.0, a.1), Position::new(b.0, b.1))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn changes_apply_in_order_with_ranges_or_whole() {
        let text = "vpc café 10.0.0.1/16 {\r\n}\r\n";
        let lines = LineMap::new(text);
        // The last "1" of "10.0.0.1" is at UTF-16 column 16 ("é" is one unit).
        let out = apply_changes(
            text,
            &lines,
            vec![
                change(Some(((0, 16), (0, 17))), "0"),
                change(Some(((1, 0), (1, 0))), "  subnet é 10.0.1.0/24\r\n"),
            ],
            Encoding::Utf16,
        );
        assert_eq!(
            out,
            "vpc café 10.0.0.0/16 {\r\n  subnet é 10.0.1.0/24\r\n}\r\n"
        );
        let out = apply_changes(
            text,
            &lines,
            vec![
                change(None, "internet {}\n"),
                change(Some(((0, 0), (0, 0))), "# x\n"),
            ],
            Encoding::Utf16,
        );
        assert_eq!(out, "# x\ninternet {}\n");
    }

    /// Queued changes are checked once, at the latest text: everything is
    /// sent before the server starts, so all of it is waiting at once.
    #[test]
    fn queued_changes_are_checked_once() {
        let (server, client) = Connection::memory();
        let send = |m: Message| client.sender.send(m).unwrap_or_else(|e| panic!("{e}"));
        let request = |id: i32, method: &str, params: serde_json::Value| {
            Message::Request(Request::new(id.into(), method.to_string(), params))
        };
        let notification = |method: &str, params: serde_json::Value| {
            Message::Notification(Notification::new(method.to_string(), params))
        };
        let uri = "file:///a.np";
        send(request(
            1,
            "initialize",
            serde_json::json!({"capabilities": {}}),
        ));
        send(notification("initialized", serde_json::json!({})));
        send(notification(
            "textDocument/didOpen",
            serde_json::json!({"textDocument": {
                "uri": uri, "languageId": "netproof", "version": 1,
                "text": "vpc a 10.0.0.1/16 {}\n",
            }}),
        ));
        for version in 2..=10 {
            send(notification(
                "textDocument/didChange",
                serde_json::json!({
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"text": format!("vpc a 10.0.0.{}/16 {{}}\n", 10 - version)}],
                }),
            ));
        }
        // The hover needs the document checked: that is the one check.
        send(request(
            2,
            "textDocument/hover",
            serde_json::json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
        ));
        send(request(3, "shutdown", serde_json::Value::Null));
        send(notification("exit", serde_json::Value::Null));
        assert_eq!(serve(&server, false), 0);
        let published: Vec<serde_json::Value> = client
            .receiver
            .try_iter()
            .filter_map(|m| match m {
                Message::Notification(n) if n.method == "textDocument/publishDiagnostics" => {
                    Some(n.params)
                }
                _ => None,
            })
            .collect();
        assert_eq!(published.len(), 1, "{published:?}");
        assert_eq!(published[0]["version"], 10);
        assert_eq!(published[0]["diagnostics"], serde_json::json!([]));
    }

    #[test]
    fn requests_before_initialize_are_refused_and_a_lost_client_is_status_1() {
        let (server, client) = Connection::memory();
        let send = |m: Message| client.sender.send(m).unwrap_or_else(|e| panic!("{e}"));
        send(Message::Request(Request::new(
            7.into(),
            "textDocument/hover".to_string(),
            serde_json::json!({}),
        )));
        send(Message::Request(Request::new(
            8.into(),
            "initialize".to_string(),
            serde_json::json!({"capabilities": {"general": {"positionEncodings": ["utf-32"]}}}),
        )));
        // The client goes away without `shutdown` or `exit`.
        let Connection {
            sender: client_sender,
            receiver: client_receiver,
        } = client;
        drop(client_sender);
        assert_eq!(serve(&server, false), 1);
        let answers: Vec<Response> = client_receiver
            .try_iter()
            .filter_map(|m| match m {
                Message::Response(r) => Some(r),
                _ => None,
            })
            .collect();
        assert_eq!(answers.len(), 2, "{answers:?}");
        assert_eq!(
            answers[0].response_result.as_ref().err().map(|e| e.code),
            Some(ErrorCode::ServerNotInitialized as i32)
        );
        let result = answers[1].response_result.clone().unwrap_or_default();
        assert_eq!(result["capabilities"]["positionEncoding"], "utf-32");
    }

    #[test]
    fn exit_before_initialize_is_status_1() {
        let (server, client) = Connection::memory();
        let exit = Notification::new("exit".to_string(), serde_json::Value::Null);
        client
            .sender
            .send(Message::Notification(exit))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serve(&server, false), 1);
    }

    #[test]
    fn capabilities_say_what_is_served() {
        let caps = serde_json::to_value(capabilities(Encoding::Utf8)).unwrap_or_default();
        assert_eq!(caps["positionEncoding"], "utf-8");
        assert_eq!(caps["hoverProvider"], true);
        assert_eq!(caps["definitionProvider"], true);
        assert_eq!(caps["documentFormattingProvider"], true);
        assert_eq!(
            caps["codeActionProvider"]["codeActionKinds"],
            serde_json::json!(["quickfix", "source.fixAll.netproof"])
        );
    }
}
