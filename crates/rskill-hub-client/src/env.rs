//! Where the Hub is and who we are, read from the environment the way every Hub
//! client reads it (HF_ENDPOINT, HF_TOKEN, HF_TOKEN_PATH, HF_HOME, HF_HUB_CACHE,
//! HF_HUB_OFFLINE, HF_HUB_DISABLE_PROGRESS_BARS, HF_HUB_DOWNLOAD_TIMEOUT), so rskill shares a machine's
//! login and download cache with the other clients.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The public Hub.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// How long a read may make no progress (huggingface_hub's default).
pub const DEFAULT_DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// An access token. Its `Debug` and `Display` never show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(secret: impl Into<String>) -> Option<Token> {
        let s = secret.into().trim().to_string();
        (!s.is_empty()).then_some(Token(s))
    }

    /// The secret itself, for an `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a token came from (said in errors, so a user knows which one to fix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Flag,
    EnvVar,
    File(PathBuf),
}

impl fmt::Display for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Flag => f.write_str("--token"),
            TokenSource::EnvVar => f.write_str("HF_TOKEN"),
            TokenSource::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// The Hub settings of this process.
#[derive(Debug, Clone)]
pub struct HubEnv {
    pub endpoint: String,
    pub token: Option<(Token, TokenSource)>,
    pub hf_home: PathBuf,
    /// The shared download cache (`models--org--name/{blobs,snapshots,refs}`).
    pub hub_cache: PathBuf,
    /// No HTTP at all.
    pub offline: bool,
    pub disable_progress_bars: bool,
    /// `HF_HUB_DOWNLOAD_TIMEOUT`: how long a response may take to start, and the window
    /// over which a body must keep a minimal speed.
    pub download_timeout: Duration,
}

/// `1`, `on`, `yes`, `true` in any case.
pub fn is_truthy(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "on" | "yes" | "true"
    )
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl HubEnv {
    /// Reads the environment. `token_flag` (a `--token` value) wins over the rest.
    pub fn from_env(token_flag: Option<&str>) -> HubEnv {
        let hf_home = env_var("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
            let cache = env_var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| env_var("HOME").map(|h| Path::new(&h).join(".cache")))
                .unwrap_or_else(|| PathBuf::from(".cache"));
            cache.join("huggingface")
        });
        let hub_cache = env_var("HF_HUB_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| hf_home.join("hub"));
        let token = resolve_token(token_flag, &hf_home);
        HubEnv {
            endpoint: env_var("HF_ENDPOINT")
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
                .trim_end_matches('/')
                .to_string(),
            token,
            hub_cache,
            offline: env_var("HF_HUB_OFFLINE").is_some_and(|v| is_truthy(&v)),
            disable_progress_bars: env_var("HF_HUB_DISABLE_PROGRESS_BARS")
                .is_some_and(|v| is_truthy(&v)),
            download_timeout: download_timeout(env_var("HF_HUB_DOWNLOAD_TIMEOUT").as_deref()),
            hf_home,
        }
    }
}

/// Seconds (a positive number) from `HF_HUB_DOWNLOAD_TIMEOUT`, else the default; a
/// value that is not one is ignored, as huggingface_hub would fail on it.
pub fn download_timeout(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_DOWNLOAD_TIMEOUT)
}

/// `--token`, then HF_TOKEN, then the file at HF_TOKEN_PATH, then `$HF_HOME/token`.
fn resolve_token(flag: Option<&str>, hf_home: &Path) -> Option<(Token, TokenSource)> {
    if let Some(t) = flag.and_then(Token::new) {
        return Some((t, TokenSource::Flag));
    }
    if let Some(t) = env_var("HF_TOKEN").and_then(Token::new) {
        return Some((t, TokenSource::EnvVar));
    }
    let path = env_var("HF_TOKEN_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| hf_home.join("token"));
    std::fs::read_to_string(&path)
        .ok()
        .and_then(Token::new)
        .map(|t| (t, TokenSource::File(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let t = Token::new("hf_secret123").unwrap();
        assert!(!format!("{t:?} {t}").contains("secret"));
        assert_eq!(t.expose(), "hf_secret123");
        assert!(Token::new("  \n").is_none());
    }

    #[test]
    fn download_timeouts() {
        assert_eq!(download_timeout(None), DEFAULT_DOWNLOAD_TIMEOUT);
        assert_eq!(download_timeout(Some("2")), Duration::from_secs(2));
        assert_eq!(download_timeout(Some("0.5")), Duration::from_millis(500));
        for bad in ["0", "-1", "x", "inf"] {
            assert_eq!(
                download_timeout(Some(bad)),
                DEFAULT_DOWNLOAD_TIMEOUT,
                "{bad}"
            );
        }
    }

    #[test]
    fn truthy_values() {
        for v in ["1", "ON", "yes", "True"] {
            assert!(is_truthy(v), "{v}");
        }
        for v in ["0", "off", "", "no", "2"] {
            assert!(!is_truthy(v), "{v}");
        }
    }
}
