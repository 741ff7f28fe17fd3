//! Following a download's redirects by hand. A Hub may answer a resolve with a `302`
//! to a short-lived presigned URL of an object store (huggingface.co hands large files
//! to its CDN this way; `rskill-hub` does with an S3 backend). The `Location` comes
//! from the network, so it is validated (http/https only, bounded length, no
//! credentials in it), the hops are bounded and a loop is refused, and the token goes
//! only to the Hub's own origin: once a redirect leaves it, no `Authorization` header
//! (and no cookie: the client keeps none) is sent again.

use reqwest::{Response, Url};

use super::client::{Ctx, HubClient, Via};
use super::error::HubError;

/// Most redirects followed for one download (the Hub sends one).
pub const MAX_REDIRECTS: usize = 5;
/// Longest `Location` accepted (presigned S3 URLs are 1-2 KiB; AWS's own limit is 8 KiB).
pub const MAX_LOCATION_BYTES: usize = 8 << 10;

/// Where a file's bytes are read: the Hub itself, or the URL it redirected to.
#[derive(Debug, Clone)]
pub struct Source {
    pub url: Url,
    /// How to reach it: with the token (the Hub's origin) or without.
    pub via: Via,
}

impl Source {
    /// True when the bytes come from another origin than the Hub.
    pub fn redirected(&self) -> bool {
        self.via == Via::Elsewhere
    }
}

/// Why a `Location` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadLocation {
    #[error("the redirect has no Location header")]
    Missing,
    #[error("the Location is not ASCII text")]
    NotText,
    #[error("the Location is {0} bytes long, more than the {MAX_LOCATION_BYTES} accepted")]
    TooLong(usize),
    #[error("the Location is not a URL: {0}")]
    NotUrl(String),
    #[error("the Location's scheme is `{0}`; only http and https are followed")]
    Scheme(String),
    #[error("the Location carries credentials (user:password@); refused")]
    Credentials,
}

/// The absolute URL a redirect from `base` leads to, if it is one to follow.
pub fn validate_location(base: &Url, location: Option<&[u8]>) -> Result<Url, BadLocation> {
    let raw = location.ok_or(BadLocation::Missing)?;
    if raw.len() > MAX_LOCATION_BYTES {
        return Err(BadLocation::TooLong(raw.len()));
    }
    let text = std::str::from_utf8(raw)
        .ok()
        .filter(|t| t.is_ascii())
        .ok_or(BadLocation::NotText)?;
    let url = base
        .join(text.trim())
        .map_err(|e| BadLocation::NotUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(BadLocation::Scheme(url.scheme().chars().take(32).collect()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(BadLocation::Credentials);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(BadLocation::NotUrl("no host".into()));
    }
    Ok(url)
}

/// A Hub's redirect may say what it points to (`X-Linked-Size`, `X-Linked-Etag`, as
/// huggingface.co does); when it does, it must agree with the listing's `(size, etag)`.
pub fn linked_matches(
    headers: &reqwest::header::HeaderMap,
    (size, etag): (u64, &str),
) -> Result<(), String> {
    let text = |name: &str| {
        headers.get(name).map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(80)
                .collect::<String>()
        })
    };
    if let Some(linked) = text("x-linked-size")
        && linked.trim().parse::<u64>().ok() != Some(size)
    {
        return Err(format!(
            "its X-Linked-Size `{linked}` is not the size the Hub lists ({size})"
        ));
    }
    if let Some(linked) = text("x-linked-etag") {
        let bare = linked.trim().trim_start_matches("W/").trim_matches('"');
        if bare != etag {
            return Err(format!(
                "its X-Linked-Etag `{linked}` is not the file's listed digest ({etag})"
            ));
        }
    }
    Ok(())
}

/// Same scheme, host and port (the browser's notion of an origin).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

impl HubClient {
    /// Sends `GET hub_url` (with `range` when given), following up to
    /// [`MAX_REDIRECTS`] validated redirects by hand, and returns the final answer and
    /// where it came from (so further ranged requests go straight there). The token is
    /// sent only while the URL stays on the Hub's origin.
    ///
    /// `expect` is what the Hub's listing says of the file (size, ETag): a redirect
    /// from the Hub whose `X-Linked-Size` or `X-Linked-Etag` says otherwise is refused
    /// before anything is asked of the store.
    pub async fn open_download(
        &self,
        hub_url: &str,
        range: Option<(u64, Option<u64>)>,
        expect: (u64, &str),
        ctx: &Ctx,
    ) -> Result<(Response, Source), HubError> {
        let hub = Url::parse(hub_url).map_err(|e| HubError::Protocol {
            url: super::client::redact_url(hub_url),
            message: format!("invalid download URL: {e}"),
        })?;
        let mut source = Source {
            url: hub.clone(),
            via: Via::HubNoFollow,
        };
        let mut seen = vec![hub.clone()];
        loop {
            let response = self.get_range(&source, range, ctx).await?;
            if !response.status().is_redirection() {
                return Ok((response, source));
            }
            let refuse = |message: String| HubError::Protocol {
                url: super::client::redact_url(source.url.as_str()),
                message,
            };
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| v.as_bytes());
            if source.via == Via::HubNoFollow {
                linked_matches(response.headers(), expect)
                    .map_err(|m| refuse(format!("redirect of {} refused: {m}", ctx.action)))?;
            }
            let next = validate_location(&source.url, location)
                .map_err(|e| refuse(format!("redirect of {} refused: {e}", ctx.action)))?;
            if seen.contains(&next) {
                return Err(refuse(format!(
                    "redirect loop: {} leads back to an address already visited",
                    super::client::redact_url(next.as_str())
                )));
            }
            if seen.len() > MAX_REDIRECTS {
                return Err(refuse(format!(
                    "more than {MAX_REDIRECTS} redirects for {}; refused",
                    ctx.action
                )));
            }
            seen.push(next.clone());
            // Once the bytes leave the Hub's origin, the token stays behind for good.
            let via = if source.via != Via::Elsewhere && same_origin(&next, &hub) {
                Via::HubNoFollow
            } else {
                Via::Elsewhere
            };
            source = Source { url: next, via };
        }
    }

    /// One `GET` of `source` (no redirect followed), with `Range: bytes=start-[end]`.
    pub async fn get_range(
        &self,
        source: &Source,
        range: Option<(u64, Option<u64>)>,
        ctx: &Ctx,
    ) -> Result<Response, HubError> {
        let range = range.map(|(start, end)| match end {
            Some(end) => format!("bytes={start}-{end}"),
            None => format!("bytes={start}-"),
        });
        self.send_via(
            source.via,
            |c| {
                let req = c.get(source.url.clone());
                match &range {
                    Some(r) => req.header(reqwest::header::RANGE, r),
                    None => req,
                }
            },
            ctx,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        "http://127.0.0.1:8080/org/name/resolve/main/w.bin"
            .parse()
            .unwrap()
    }

    #[test]
    fn locations() {
        let ok = |l: &str| validate_location(&base(), Some(l.as_bytes()));
        assert_eq!(
            ok("https://store.example/b/k?X-Amz-Signature=1")
                .unwrap()
                .as_str(),
            "https://store.example/b/k?X-Amz-Signature=1"
        );
        assert_eq!(
            ok("/blobs/abc").unwrap().as_str(),
            "http://127.0.0.1:8080/blobs/abc"
        );
        assert_eq!(
            ok("file:///etc/passwd"),
            Err(BadLocation::Scheme("file".into()))
        );
        assert_eq!(ok("ftp://h/x"), Err(BadLocation::Scheme("ftp".into())));
        assert_eq!(ok("http://u:p@h/x"), Err(BadLocation::Credentials));
        assert_eq!(ok("http://u@h/x"), Err(BadLocation::Credentials));
        let long = format!("http://h/{}", "a".repeat(MAX_LOCATION_BYTES));
        assert!(matches!(ok(&long), Err(BadLocation::TooLong(_))));
        assert_eq!(validate_location(&base(), None), Err(BadLocation::Missing));
        assert_eq!(
            validate_location(&base(), Some(b"http://h/\xff")),
            Err(BadLocation::NotText)
        );
    }

    #[test]
    fn origins() {
        let u = |s: &str| s.parse::<Url>().unwrap();
        assert!(same_origin(&u("http://a:80/x"), &u("http://a/y")));
        assert!(!same_origin(&u("http://a:81/x"), &u("http://a/y")));
        assert!(!same_origin(&u("https://a/x"), &u("http://a/x")));
        assert!(!same_origin(&u("http://a.b/x"), &u("http://a/x")));
    }
}
