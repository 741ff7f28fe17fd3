//! Keeping credentials out of what is shown: a Hub endpoint may carry a user and a
//! password (`http://user:secret@host`), and a download URL a signed query string.
//! Every message, hint, JSON field and log line that can hold a URL goes through these
//! functions first, in the client, the server and every binary.

use std::borrow::Cow;

/// What replaces the user and password of a URL.
pub const REDACTED_USERINFO: &str = "***";

/// `text` with the credentials of every URL in it (`scheme://user:pass@host`) replaced
/// by [`REDACTED_USERINFO`]; everything else kept.
pub fn redact_credentials(text: &str) -> Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the path, query or fragment, or where the URL ends in
        // the surrounding text.
        let end = tail
            .find(|c: char| {
                matches!(
                    c,
                    '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`' | ')' | ']' | ','
                ) || c.is_whitespace()
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(i) => {
                out.push_str(REDACTED_USERINFO);
                out.push_str(&authority[i..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A URL as it may be shown: without credentials and without its query string (which
/// may hold a signature or a token).
pub fn redact_url(url: &str) -> String {
    let no_query = url.split('?').next().unwrap_or(url);
    redact_credentials(no_query).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_removed_wherever_a_url_appears() {
        assert_eq!(
            redact_credentials("cannot reach http://user:secret@127.0.0.1:9/api: refused"),
            "cannot reach http://***@127.0.0.1:9/api: refused"
        );
        assert_eq!(
            redact_credentials("(https://tok@h) and \"http://a:b@c:1\""),
            "(https://***@h) and \"http://***@c:1\""
        );
        // A password holding '@' is cut at the last '@' of the authority.
        assert_eq!(
            redact_credentials("http://u:p@ss@host/x?y=z@w"),
            "http://***@host/x?y=z@w"
        );
        assert_eq!(
            redact_credentials("mail me@host, see http://h/p"),
            "mail me@host, see http://h/p"
        );
        assert_eq!(
            redact_url("http://u:secret@h:1/f?X-Amz-Signature=s"),
            "http://***@h:1/f"
        );
        assert_eq!(redact_url("https://h/f"), "https://h/f");
    }
}
