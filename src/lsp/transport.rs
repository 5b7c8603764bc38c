//! The language server's framing: `Content-Length` headers, a blank line,
//! then a JSON-RPC message, in both directions (`docs/lsp.md`, "Framing").
//!
//! `lsp-server`'s own stdio reader trusts the client: it allocates whatever
//! length a header announces before reading a byte of it, panics on the
//! largest ones, reads header lines of any length, and ends the session at
//! the first body that is not a message. This reader takes nothing on
//! trust. A header line, the number of headers and a body are all bounded;
//! a body is only ever held as far as it has really arrived; a body that is
//! not a message is answered with the JSON-RPC error for it and the session
//! goes on. Only a stream in which the next message cannot be found (no
//! usable `Content-Length`, a header line past its limit) ends the session,
//! after an answer saying why.
//!
//! [`read`] is a plain function over any `BufRead`, so that it can be
//! tested and fuzzed without a process; [`session`] runs the whole server
//! over any pair of streams, `netproof lsp` over stdin and stdout.

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, Message};
use serde_json::{json, Value};
use std::io::{self, BufRead, Write};
use std::sync::{Mutex, PoisonError};

/// The largest message the server reads. The largest real messages are a
/// document's whole text (`didOpen`, or a `didChange` without a range),
/// JSON-escaped: the 154,630-line generated design of
/// `docs/performance.md` is about 6 MB, and one ten times larger takes
/// seconds to check at every change, which no editing session can use.
/// 64 MiB leaves that margin and bounds what a client can make the server
/// hold (the body, then its parsed JSON) to a few hundred megabytes.
pub const MAX_MESSAGE: u64 = 64 << 20;

/// The longest header line. The protocol has two headers, each a short
/// name and a number or a media type; 8 KiB is what HTTP servers commonly
/// allow a header line.
pub const MAX_HEADER_LINE: usize = 8 << 10;

/// The most header lines one message may have: the protocol defines two.
pub const MAX_HEADERS: usize = 32;

/// How much of an oversized body is read at a time while it is discarded.
const CHUNK: usize = 64 << 10;

/// One message's worth of the client's stream.
#[derive(Debug)]
pub enum Frame {
    Message(Message),
    /// A frame that holds no message (its body is not JSON, is JSON but
    /// not a JSON-RPC message, or is over [`MAX_MESSAGE`]): the error
    /// response to send for it. The next frame can be read as usual.
    Invalid(Value),
}

/// Why the client's stream cannot be read any further.
#[derive(Debug)]
pub enum Broken {
    /// The stream ended inside a message.
    Truncated,
    /// The headers do not say where the next message starts; the message
    /// says what is wrong with them.
    Framing(String),
    Io(io::Error),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Truncated => write!(f, "the input ended in the middle of a message"),
            Broken::Framing(message) => write!(f, "{message}"),
            Broken::Io(error) => write!(f, "cannot read the input: {error}"),
        }
    }
}

impl From<io::Error> for Broken {
    fn from(error: io::Error) -> Broken {
        Broken::Io(error)
    }
}

/// Reads the next frame: `Ok(None)` when the stream ends between messages.
pub fn read(input: &mut impl BufRead) -> Result<Option<Frame>, Broken> {
    read_limited(input, MAX_MESSAGE)
}

/// [`read`], with `max` for the largest body (tests use small ones).
fn read_limited(input: &mut impl BufRead, max: u64) -> Result<Option<Frame>, Broken> {
    let Some(length) = read_headers(input)? else {
        return Ok(None);
    };
    if length > max {
        discard(input, length)?;
        return Ok(Some(Frame::Invalid(error_response(
            Value::Null,
            lsp_server::ErrorCode::InvalidRequest as i32,
            format!(
                "a message of {length} bytes is over the limit of {} MiB; it was skipped",
                max >> 20
            ),
        ))));
    }
    let body = read_body(input, length)?;
    Ok(Some(parse(&body)))
}

/// Reads a header section and returns its `Content-Length`, or `None` if
/// the stream ends before it starts. Blank lines before the first header
/// are skipped.
fn read_headers(input: &mut impl BufRead) -> Result<Option<u64>, Broken> {
    let mut length: Option<u64> = None;
    let mut headers = 0;
    loop {
        let line = match read_line(input)? {
            Some(line) => line,
            None if headers == 0 => return Ok(None),
            None => return Err(Broken::Truncated),
        };
        if line.is_empty() {
            if headers == 0 {
                continue;
            }
            break;
        }
        headers += 1;
        if headers > MAX_HEADERS {
            return Err(Broken::Framing(format!(
                "a message with more than {MAX_HEADERS} header lines"
            )));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(Broken::Framing(format!(
                "a header line without `:`: {}",
                shown(&line)
            )));
        };
        let (name, value) = line.split_at(colon);
        let value = value.get(1..).unwrap_or_default().trim_ascii();
        if !name.trim_ascii().eq_ignore_ascii_case(b"content-length") {
            // `Content-Type` is the only other header the protocol has, and
            // the server accepts only its default (UTF-8 JSON-RPC) anyway.
            continue;
        }
        let parsed = std::str::from_utf8(value)
            .ok()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u64>().ok());
        let Some(parsed) = parsed else {
            return Err(Broken::Framing(format!(
                "Content-Length {} is not a number of bytes",
                shown(value)
            )));
        };
        if length.is_some_and(|l| l != parsed) {
            return Err(Broken::Framing(
                "a message with two different Content-Length headers".to_string(),
            ));
        }
        length = Some(parsed);
    }
    length
        .map(Some)
        .ok_or_else(|| Broken::Framing("a message without a Content-Length header".to_string()))
}

/// Reads one line without its `\n` (or `\r\n`): `None` at the end of the
/// stream before any byte of it, [`Broken::Truncated`] at the end after
/// some. Never holds more than [`MAX_HEADER_LINE`] bytes of it.
fn read_line(input: &mut impl BufRead) -> Result<Option<Vec<u8>>, Broken> {
    let mut line = Vec::new();
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        if available.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(Broken::Truncated)
            };
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let end = newline.unwrap_or(available.len());
        // One byte more than the limit is enough to know it is passed
        // (a `\r` before the newline is allowed for).
        let room = MAX_HEADER_LINE + 2 - line.len();
        line.extend_from_slice(available.get(..end.min(room)).unwrap_or_default());
        let taken = newline.map_or(end, |n| n + 1);
        input.consume(taken);
        if line.last() == Some(&b'\r') && newline.is_some() {
            line.pop();
        }
        if line.len() > MAX_HEADER_LINE {
            return Err(Broken::Framing(format!(
                "a header line longer than {} KiB",
                MAX_HEADER_LINE >> 10
            )));
        }
        if newline.is_some() {
            return Ok(Some(line));
        }
    }
}

/// Reads a body of `length` bytes (at most [`MAX_MESSAGE`]), holding only
/// what has arrived: a length announced but never sent costs nothing.
fn read_body(input: &mut impl BufRead, length: u64) -> Result<Vec<u8>, Broken> {
    let length = usize::try_from(length).map_err(|_| Broken::Truncated)?;
    let mut body = Vec::with_capacity(length.min(CHUNK));
    while body.len() < length {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        if available.is_empty() {
            return Err(Broken::Truncated);
        }
        let take = available.len().min(length - body.len());
        body.extend_from_slice(available.get(..take).unwrap_or_default());
        input.consume(take);
    }
    Ok(body)
}

/// Reads and drops `length` bytes, a buffer at a time.
fn discard(input: &mut impl BufRead, mut length: u64) -> Result<(), Broken> {
    while length > 0 {
        let available = match input.fill_buf() {
            Ok(available) => available.len(),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        if available == 0 {
            return Err(Broken::Truncated);
        }
        let take = usize::try_from(length).map_or(available, |l| l.min(available));
        input.consume(take);
        length -= take as u64;
    }
    Ok(())
}

/// A body as a message, or the error response JSON-RPC gives for it:
/// -32700 (parse error) for a body that is not JSON, -32600 (invalid
/// request) for JSON that is not a message, under the request's id when it
/// has a readable one and `null` otherwise.
fn parse(body: &[u8]) -> Frame {
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(error) => {
            return Frame::Invalid(error_response(
                Value::Null,
                lsp_server::ErrorCode::ParseError as i32,
                format!("the message is not JSON: {error}"),
            ))
        }
    };
    // Only a request is answered under its id: an id with a `method` says
    // the client is waiting for an answer to it.
    let id = match (value.get("id"), value.get("method")) {
        (Some(id @ (Value::Number(_) | Value::String(_))), Some(_)) => id.clone(),
        _ => Value::Null,
    };
    // `lsp_server` reads a request whose id it cannot hold (not an `i32` or
    // a string) as a notification, which would leave the client waiting
    // for an answer forever.
    let has_id = value.get("id").is_some_and(|id| !id.is_null());
    match serde_json::from_value::<Message>(value) {
        Ok(Message::Notification(_)) if has_id => Frame::Invalid(error_response(
            id,
            lsp_server::ErrorCode::InvalidRequest as i32,
            "the message's id is neither a 32-bit integer nor a string".to_string(),
        )),
        Ok(message) => Frame::Message(message),
        Err(error) => Frame::Invalid(error_response(
            id,
            lsp_server::ErrorCode::InvalidRequest as i32,
            format!("the message is not a JSON-RPC request, notification or response: {error}"),
        )),
    }
}

/// A JSON-RPC error response; `id` may be `null`, which `lsp_server`'s
/// `Response` cannot say.
pub fn error_response(id: Value, code: i32, message: String) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// At most the first 40 characters of a header value, quoted, for a log.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() {
        out.push_str("...");
    }
    format!("`{}`", out.escape_debug())
}

/// Writes one frame and flushes it.
pub fn write(output: &mut impl Write, body: &[u8]) -> io::Result<()> {
    write!(output, "Content-Length: {}\r\n\r\n", body.len())?;
    output.write_all(body)?;
    output.flush()
}

/// Runs the server over `input` and `output` until the client says `exit`
/// or the input ends, and returns the exit status ([`super::serve`]).
///
/// The input is read on a thread of its own, the output written on
/// another, as `lsp-server`'s stdio transport does; the channels between
/// them and the server hold no message (a rendezvous), so a client that
/// sends faster than the server checks waits for it rather than queueing
/// messages without bound in its memory.
pub fn session<R, W>(input: R, output: W, verbose: bool) -> u8
where
    R: BufRead + Send,
    W: Write + Send,
{
    let output = &Mutex::new(output);
    let (to_server, from_client) = crossbeam_channel::bounded::<Message>(0);
    let (to_client, from_server) = crossbeam_channel::bounded::<Message>(0);
    let connection = Connection {
        sender: to_client,
        receiver: from_client,
    };
    std::thread::scope(|scope| {
        // The reader owns its sender, so the server sees the client gone
        // as soon as the reader stops.
        scope.spawn(move || pump(input, to_server, output));
        scope.spawn(move || deliver(from_server, output));
        let status = super::serve(&connection, verbose);
        // Dropping the server's ends stops the writer once it has written
        // everything it was given.
        drop(connection);
        status
    })
}

/// [`session`] on the calling thread, for fuzzing: the reader takes every
/// frame of `input` first (into an unbounded channel), then the server
/// answers them, then the writer writes the answers; returns the exit
/// status and everything written. The same reader, server and writer as
/// `session`, in sequence, so that a fuzzer's leak checks see no threads
/// come and go (LeakSanitizer counts the thread-local state that channels
/// leave in finished threads as leaks).
pub fn session_in_sequence(input: &[u8], verbose: bool) -> (u8, Vec<u8>) {
    let (server, client) = Connection::memory();
    let output = Mutex::new(Vec::new());
    pump(input, client.sender, &output);
    let status = super::serve(&server, verbose);
    drop(server);
    deliver(client.receiver, &output);
    let output = output.into_inner().unwrap_or_else(PoisonError::into_inner);
    (status, output)
}

/// The reader: frames from `input` to the server until the stream ends,
/// cannot be framed, or brings `exit`; frames that are not messages are
/// answered here.
fn pump<R: BufRead, W: Write>(mut input: R, to_server: Sender<Message>, output: &Mutex<W>) {
    loop {
        match read(&mut input) {
            Ok(Some(Frame::Message(message))) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if to_server.send(message).is_err() || exit {
                    return;
                }
            }
            Ok(Some(Frame::Invalid(answer))) => {
                log!(
                    "{}",
                    answer["error"]["message"].as_str().unwrap_or_default()
                );
                send_raw(output, &answer);
            }
            Ok(None) => return,
            Err(Broken::Framing(message)) => {
                log!("{message}: cannot find the next message, so the session ends");
                send_raw(
                    output,
                    &error_response(
                        Value::Null,
                        lsp_server::ErrorCode::ParseError as i32,
                        format!("{message}; the session ends"),
                    ),
                );
                return;
            }
            Err(broken) => {
                log!("{broken}");
                return;
            }
        }
    }
}

/// The writer: the server's messages to `output`, until the server is done
/// or the client stops reading.
fn deliver<W: Write>(from_server: Receiver<Message>, output: &Mutex<W>) {
    for message in from_server {
        let mut out = output.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(error) = message.write(&mut *out).and_then(|()| out.flush()) {
            log!("cannot write to the client: {error}");
            return;
        }
    }
}

/// Writes one answer the reader makes itself.
fn send_raw<W: Write>(output: &Mutex<W>, answer: &Value) {
    let mut out = output.lock().unwrap_or_else(PoisonError::into_inner);
    if let Err(error) = write(&mut *out, answer.to_string().as_bytes()) {
        log!("cannot write to the client: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(headers: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!("{headers}\r\n").into_bytes();
        out.extend_from_slice(body);
        out
    }

    fn framed(body: &str) -> Vec<u8> {
        frame(
            &format!("Content-Length: {}\r\n", body.len()),
            body.as_bytes(),
        )
    }

    /// Every frame of `bytes`, then how the stream ended.
    fn frames(bytes: &[u8], max: u64) -> (Vec<Frame>, Option<Broken>) {
        let mut input = bytes;
        let mut out = Vec::new();
        loop {
            match read_limited(&mut input, max) {
                Ok(Some(frame)) => out.push(frame),
                Ok(None) => return (out, None),
                Err(broken) => return (out, Some(broken)),
            }
        }
    }

    fn method(frame: &Frame) -> &str {
        match frame {
            Frame::Message(Message::Request(r)) => &r.method,
            Frame::Message(Message::Notification(n)) => &n.method,
            other => panic!("not a request or notification: {other:?}"),
        }
    }

    /// The code and id of an error answer.
    fn error(frame: &Frame) -> (i64, Value) {
        match frame {
            Frame::Invalid(answer) => (
                answer["error"]["code"].as_i64().unwrap_or_default(),
                answer["id"].clone(),
            ),
            other => panic!("not an error: {other:?}"),
        }
    }

    const EXIT: &str = r#"{"jsonrpc":"2.0","method":"exit"}"#;
    const SHUTDOWN: &str = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;

    #[test]
    fn messages_are_read_one_after_the_other() {
        let mut bytes = framed(SHUTDOWN);
        bytes.extend(framed(EXIT));
        let (read, end) = frames(&bytes, MAX_MESSAGE);
        assert!(end.is_none(), "{end:?}");
        let methods: Vec<&str> = read.iter().map(method).collect();
        assert_eq!(methods, ["shutdown", "exit"]);
    }

    #[test]
    fn headers_are_read_as_the_protocol_and_lenient_clients_write_them() {
        let n = EXIT.len();
        for headers in [
            format!("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nContent-Length: {n}\r\n"),
            format!("content-length:{n}\r\n"),
            format!("CONTENT-LENGTH:   {n}  \r\nX-Other: whatever: it says\r\n"),
            format!("Content-Length: {n}\nContent-Length: {n}\n"),
            format!("\r\n\r\nContent-Length: {n}\r\n"),
        ] {
            let (read, end) = frames(&frame(&headers, EXIT.as_bytes()), MAX_MESSAGE);
            assert!(end.is_none(), "{headers:?}: {end:?}");
            assert_eq!(read.len(), 1, "{headers:?}");
            assert_eq!(method(&read[0]), "exit", "{headers:?}");
        }
    }

    #[test]
    fn a_body_that_is_not_a_message_is_answered_and_the_next_one_read() {
        let mut bytes = Vec::new();
        for body in [
            "{\"jsonrpc\"",
            "",
            "[]",
            "null",
            r#"{"jsonrpc":"2.0","id":4,"method":{}}"#,
            r#"{"jsonrpc":"2.0","id":[4],"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":1099511627776,"method":"x"}"#,
            r#"{"jsonrpc":"2.0","id":5,"result":1,"error":2}"#,
        ] {
            bytes.extend(framed(body));
        }
        bytes.extend(frame("Content-Length: 2\r\n", b"\xc3\x28"));
        bytes.extend(framed(EXIT));
        let (read, end) = frames(&bytes, MAX_MESSAGE);
        assert!(end.is_none(), "{end:?}");
        let errors: Vec<(i64, Value)> = read.iter().take(9).map(error).collect();
        assert_eq!(
            errors,
            [
                (-32700, Value::Null),
                (-32700, Value::Null),
                (-32600, Value::Null),
                (-32600, Value::Null),
                (-32600, json!(4)),
                (-32600, Value::Null),
                (-32600, json!(1099511627776_u64)),
                (-32600, Value::Null),
                (-32700, Value::Null),
            ]
        );
        assert_eq!(read.get(9).map(method), Some("exit"));
    }

    #[test]
    fn a_body_over_the_limit_is_skipped_and_the_next_one_read() {
        let big = format!(
            r#"{{"jsonrpc":"2.0","method":"x","params":"{}"}}"#,
            "a".repeat(100)
        );
        let mut bytes = framed(&big);
        bytes.extend(framed(EXIT));
        let (read, end) = frames(&bytes, 64);
        assert!(end.is_none(), "{end:?}");
        assert_eq!(error(&read[0]), (-32600, Value::Null));
        assert_eq!(method(&read[1]), "exit");
        // At the limit, it is read.
        let (read, _) = frames(&bytes, big.len() as u64);
        assert_eq!(method(&read[0]), "x");
    }

    #[test]
    fn the_input_ending_inside_a_message_is_truncation() {
        for bytes in [
            &b"Content-Length: 10\r\n\r\n{}"[..],
            b"Content-Length: 10\r\n",
            b"Content-Len",
            b"Content-Length: 18446744073709551615\r\n\r\n{}",
            b"Content-Length: 1000\r\n\r\n",
        ] {
            let (read, end) = frames(bytes, 100);
            assert!(read.is_empty(), "{bytes:?}");
            assert!(matches!(end, Some(Broken::Truncated)), "{bytes:?}: {end:?}");
        }
        // Blank lines alone are no message begun.
        let (read, end) = frames(b"\r\n\r\n", MAX_MESSAGE);
        assert!(read.is_empty() && end.is_none(), "{end:?}");
    }

    #[test]
    fn headers_that_do_not_say_where_the_body_ends_break_the_stream() {
        let long = format!("X-Long: {}\r\n", "a".repeat(MAX_HEADER_LINE));
        let many = "X-Header: 1\r\n".repeat(MAX_HEADERS + 1);
        for (headers, said) in [
            (
                "Content-Type: application/json\r\n",
                "without a Content-Length",
            ),
            (
                "Content-Length: 99999999999999999999\r\n",
                "99999999999999999999",
            ),
            ("Content-Length: -1\r\n", "`-1`"),
            ("Content-Length: 0x10\r\n", "`0x10`"),
            ("Content-Length: +2\r\n", "`+2`"),
            ("Content-Length:\r\n", "``"),
            (
                "Content-Length: 2\r\nContent-Length: 3\r\n",
                "two different",
            ),
            ("Content-Length 2\r\n", "without `:`"),
            (long.as_str(), "longer than 8 KiB"),
            (many.as_str(), "more than 32 header lines"),
        ] {
            let (read, end) = frames(&frame(headers, b"{}"), MAX_MESSAGE);
            assert!(read.is_empty(), "{headers:?}");
            match end {
                Some(Broken::Framing(message)) => {
                    assert!(message.contains(said), "{headers:?}: {message}")
                }
                other => panic!("{headers:?}: {other:?}"),
            }
        }
        // A header line just at the limit is fine.
        let at_limit = format!("X-Long: {}\r\n", "a".repeat(MAX_HEADER_LINE - 8));
        let headers = format!("{at_limit}Content-Length: {}\r\n", EXIT.len());
        let (read, end) = frames(&frame(&headers, EXIT.as_bytes()), MAX_MESSAGE);
        assert!(end.is_none(), "{end:?}");
        assert_eq!(read.len(), 1);
    }

    #[test]
    fn a_header_line_is_not_read_past_its_limit() {
        // An endless line: the reader stops just past the limit.
        let mut endless = std::io::BufReader::new(std::io::repeat(b'a'));
        let end = read(&mut endless);
        assert!(matches!(end, Err(Broken::Framing(_))), "{end:?}");
    }

    #[test]
    fn what_is_written_is_read_back() {
        let mut out = Vec::new();
        write(&mut out, EXIT.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out, framed(EXIT));
    }

    /// A whole session over byte streams: answers to what could be read,
    /// errors for what could not, and the exit status the protocol asks.
    #[test]
    fn a_session_answers_through_bad_frames() {
        let mut input = framed(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#,
        );
        input.extend(framed("{oops"));
        input.extend(framed(r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.np"},"position":{"line":0,"character":0}}}"#));
        input.extend(framed(SHUTDOWN.replace("\"id\":1", "\"id\":3").as_str()));
        input.extend(framed(EXIT));
        // Nothing after `exit` is read.
        input.extend(b"garbage");
        let mut output = Vec::new();
        let status = session(input.as_slice(), &mut output, false);
        assert_eq!(status, 0);
        let (answers, end) = frames(&output, MAX_MESSAGE);
        assert!(end.is_none(), "{end:?}");
        let ids: Vec<Value> = answers
            .iter()
            .map(|f| match f {
                Frame::Message(Message::Response(r)) => json!(r.id.to_string()),
                // lsp_server cannot read `id: null`.
                Frame::Invalid(_) => Value::Null,
                other => panic!("{other:?}"),
            })
            .collect();
        // The reader answers the bad frame itself, so its place among the
        // server's answers may vary; the server's own are in order.
        assert!(ids.contains(&Value::Null), "{ids:?}");
        let served: Vec<&Value> = ids.iter().filter(|id| !id.is_null()).collect();
        assert_eq!(served, [&json!("1"), &json!("2"), &json!("3")]);
    }

    #[test]
    fn a_session_in_sequence_answers_as_one_on_threads() {
        let mut input = framed(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#,
        );
        input.extend(framed("{oops"));
        input.extend(framed(SHUTDOWN.replace("\"id\":1", "\"id\":3").as_str()));
        input.extend(framed(EXIT));
        let (status, output) = session_in_sequence(&input, false);
        assert_eq!(status, 0);
        let (answers, end) = frames(&output, MAX_MESSAGE);
        assert!(end.is_none(), "{end:?}");
        assert_eq!(answers.len(), 3, "{answers:?}");
        // The reader's own answer comes first here, as it runs before the
        // server. (`lsp_server` cannot read its `id: null`, so it is read
        // back here as a frame that is not a message.)
        assert!(matches!(answers[0], Frame::Invalid(_)), "{answers:?}");
        let text = String::from_utf8_lossy(&output);
        assert!(text.contains(r#""code":-32700"#), "{text}");
        let ids: Vec<String> = answers
            .iter()
            .filter_map(|f| match f {
                Frame::Message(Message::Response(r)) => Some(r.id.to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["1", "3"]);
    }

    #[test]
    fn a_session_whose_input_breaks_ends_with_status_1() {
        for tail in [
            &b""[..],
            b"Content-Length: 99\r\n\r\n{",
            b"Content-Length: x\r\n\r\n",
        ] {
            let mut input = framed(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
            input.extend_from_slice(tail);
            let mut output = Vec::new();
            assert_eq!(session(input.as_slice(), &mut output, false), 1, "{tail:?}");
        }
    }
}
