//! Documents are known by their URI exactly as the client wrote it.
//!
//! `lsp_types::Url` is `url::Url`, which rewrites what it parses: it
//! resolves `.` and `..` segments, percent-encodes spaces, lower-cases the
//! scheme. An answer that names a document by the rewritten URI names a
//! document the client does not have (`file:///tmp/x/../y.np` comes back
//! as `file:///tmp/y.np`), and its diagnostics are never shown. So the
//! server keys its documents by the string the client sent, read from the
//! raw parameters before they are parsed into `lsp_types`, and puts that
//! string back into every answer about the document. The parsed `Url` is
//! still what finds the document's file and its configuration.

use lsp_types::Url;
use serde_json::Value;

/// The URI of the document a message is about, as the client wrote it:
/// `params.textDocument.uri`, which every message about a document that
/// the server handles carries.
pub(super) fn sent(params: &Value) -> Option<String> {
    params
        .get("textDocument")?
        .get("uri")?
        .as_str()
        .map(str::to_string)
}

/// Puts the client's spelling `sent` of a document's URI back into an
/// answer about that document: every string in it, value or object key,
/// that is `Url`'s rewrite of `sent` becomes `sent` again. `lsp_types`
/// writes a `Url` as exactly that string, so this finds every place an
/// answer names the document (a location, a workspace edit's key, the
/// document of published diagnostics) without a list of them to keep up
/// to date; no other string of an answer is a whole `file:` URI.
pub(super) fn restore(value: &mut Value, sent: &str) {
    let Ok(parsed) = Url::parse(sent) else {
        return;
    };
    if parsed.as_str() != sent {
        replace(value, parsed.as_str(), sent);
    }
}

fn replace(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::String(s) if s == from => to.clone_into(s),
        Value::Array(items) => items.iter_mut().for_each(|v| replace(v, from, to)),
        Value::Object(map) => {
            if let Some(v) = map.remove(from) {
                map.insert(to.to_string(), v);
            }
            map.values_mut().for_each(|v| replace(v, from, to));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_uri_is_read_from_the_raw_parameters() {
        let params = json!({"textDocument": {"uri": "file:///a/../b.np"}, "position": {}});
        assert_eq!(sent(&params).as_deref(), Some("file:///a/../b.np"));
        assert_eq!(sent(&json!({"textDocument": {"uri": 3}})), None);
        assert_eq!(sent(&json!(null)), None);
    }

    #[test]
    fn every_rewritten_uri_in_an_answer_is_put_back() {
        let sent = "file:///tmp/x/../My Design.np";
        let rewritten = "file:///tmp/My%20Design.np";
        assert_eq!(
            Url::parse(sent).map(String::from).ok().as_deref(),
            Some(rewritten)
        );
        let mut answer = json!({
            "uri": rewritten,
            "diagnostics": [{"relatedInformation": [{"location": {"uri": rewritten}}]}],
            "edit": {"changes": {rewritten: []}},
            "message": format!("see {rewritten}"),
            "other": "file:///tmp/other.np",
        });
        restore(&mut answer, sent);
        assert_eq!(
            answer,
            json!({
                "uri": sent,
                "diagnostics": [{"relatedInformation": [{"location": {"uri": sent}}]}],
                "edit": {"changes": {sent: []}},
                "message": format!("see {rewritten}"),
                "other": "file:///tmp/other.np",
            })
        );
    }

    #[test]
    fn a_uri_the_parser_keeps_or_refuses_changes_nothing() {
        let answer = json!({"uri": "file:///tmp/y.np"});
        for sent in ["file:///tmp/y.np", "not a uri"] {
            let mut out = answer.clone();
            restore(&mut out, sent);
            assert_eq!(out, answer);
        }
    }
}
