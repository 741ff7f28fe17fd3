//! Rate limits the Hub's way. huggingface.co counts requests in fixed windows per bucket
//! (API calls, resolvers, pages) and says where a client stands on every answer:
//! `RateLimit: "resolvers";r=<left>;t=<seconds to reset>` and
//! `RateLimit-Policy: "fixed window";"resolvers";q=<quota>;w=<window>`
//! (draft-ietf-httpapi-ratelimit-headers, structured fields parsed by `sfv`). Over quota
//! it answers 429 with those headers, often without `Retry-After`. This module parses
//! them (and `Retry-After`, seconds or HTTP date), and keeps the process's [`Pacer`]:
//! what each bucket has left, shared by every clone of a client and every concurrent
//! request, so a big cold search waits for the window before the Hub refuses it, and
//! the total waiting stays within `--max-wait`. Waits are reported through
//! [`WaitReporter`]; the library never prints.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Longest a process waits for rate limits in all, unless told otherwise.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// Where a bucket stands, from a `RateLimit` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub bucket: String,
    /// Requests left in the window (`r`).
    pub remaining: u64,
    /// Time until the window resets (`t`).
    pub reset: Duration,
}

/// A bucket's quota, from a `RateLimit-Policy` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub bucket: String,
    /// Requests per window (`q`).
    pub quota: u64,
    /// The window (`w`).
    pub window: Duration,
}

/// The Hub's `RateLimit-Policy` puts the window's kind before the item
/// (`"fixed window";"resolvers";q=…`), which is not a structured field as it stands (a
/// string cannot be a parameter's key): the leading `"<kind>";` is set aside and the rest
/// parsed as the draft's list.
fn without_kind(value: &str) -> Option<&str> {
    let rest = value.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    let kind = &rest[..end];
    if kind.contains('\\') {
        return None;
    }
    rest[end + 1..].trim_start().strip_prefix(';')
}

/// Parameters of the list members naming a bucket (a string or token item).
fn bucket_members(value: &str) -> Vec<(String, HashMap<String, i64>)> {
    let parsed = sfv::Parser::new(value).parse::<sfv::List>();
    let list = match parsed {
        Ok(list) => list,
        Err(_) => match without_kind(value).map(|rest| sfv::Parser::new(rest).parse::<sfv::List>())
        {
            Some(Ok(list)) => list,
            _ => return Vec::new(),
        },
    };
    list.iter()
        .filter_map(|entry| match entry {
            sfv::ListEntry::Item(item) => {
                let name = match &item.bare_item {
                    sfv::BareItem::String(s) => s.as_str().to_owned(),
                    sfv::BareItem::Token(t) => t.as_str().to_owned(),
                    _ => return None,
                };
                let params = item
                    .params
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_str().to_owned(), i64::from(v.as_integer()?))))
                    .collect();
                Some((name, params))
            }
            sfv::ListEntry::InnerList(_) => None,
        })
        .collect()
}

fn non_negative(params: &HashMap<String, i64>, key: &str) -> Option<u64> {
    params.get(key).and_then(|v| u64::try_from(*v).ok())
}

/// Parses `RateLimit` (`"<bucket>";r=<left>;t=<secs>`); `None` for anything else.
pub fn parse_ratelimit(value: &str) -> Option<RateLimit> {
    bucket_members(value).into_iter().find_map(|(bucket, p)| {
        Some(RateLimit {
            remaining: non_negative(&p, "r")?,
            reset: Duration::from_secs(non_negative(&p, "t")?),
            bucket,
        })
    })
}

/// Parses `RateLimit-Policy` (`"fixed window";"<bucket>";q=<quota>;w=<secs>`).
pub fn parse_policy(value: &str) -> Option<Policy> {
    bucket_members(value).into_iter().find_map(|(bucket, p)| {
        Some(Policy {
            quota: non_negative(&p, "q")?,
            window: Duration::from_secs(non_negative(&p, "w")?),
            bucket,
        })
    })
}

/// Parses `Retry-After`: delay seconds, or an HTTP date (the time until it, zero if past).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Why a request waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCause {
    /// The Hub answered 429 (or the bucket is known to be empty).
    RateLimited,
    /// A transient failure (408, 5xx, a reset connection) before a retry.
    Retry,
}

/// A wait about to start.
#[derive(Debug, Clone)]
pub struct Wait {
    pub cause: WaitCause,
    pub duration: Duration,
    /// The bucket, when the Hub named it.
    pub bucket: Option<String>,
    pub policy: Option<Policy>,
}

impl fmt::Display for Wait {
    /// "rate limited by the Hub, waiting 42 s (resolvers quota, 3000 per 300 s)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.duration.as_secs_f64().ceil() as u64;
        match self.cause {
            WaitCause::RateLimited => write!(f, "rate limited by the Hub, waiting {secs} s")?,
            WaitCause::Retry => write!(f, "the Hub is unavailable, retrying in {secs} s")?,
        }
        match (&self.policy, &self.bucket) {
            (Some(p), _) => write!(
                f,
                " ({} quota, {} per {} s)",
                p.bucket,
                p.quota,
                p.window.as_secs()
            ),
            (None, Some(b)) => write!(f, " ({b} quota)"),
            (None, None) => Ok(()),
        }
    }
}

/// Told about waits (the binaries show them on stderr; tests count them).
pub trait WaitReporter: Send + Sync {
    /// A wait starts.
    fn waiting(&self, wait: &Wait);
}

/// The requests a bucket's window still allows.
#[derive(Debug, Clone)]
struct Window {
    left: u64,
    reset_at: Instant,
    bucket: String,
    policy: Option<Policy>,
}

/// A wait that would go past the process's budget.
#[derive(Debug, Clone)]
pub struct OverBudget {
    /// The wait refused.
    pub wait: Duration,
    pub waited: Duration,
    pub max_wait: Duration,
}

/// The process's view of the Hub's quotas and its waiting budget.
pub struct Pacer {
    windows: Mutex<HashMap<&'static str, Window>>,
    /// Wall-clock time spent waiting (concurrent waits counted once), and when the
    /// latest admitted wait ends.
    waited: Mutex<(Duration, Option<Instant>)>,
    max_wait: Duration,
    reporter: Option<Arc<dyn WaitReporter>>,
}

impl fmt::Debug for Pacer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pacer")
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

/// The bucket a request path counts against, as the Hub counts them.
pub fn route_class(path: &str) -> &'static str {
    if path.contains("/resolve/") {
        "resolvers"
    } else if path == "/api/models" || path.ends_with("/api/models") {
        "pages"
    } else {
        "api"
    }
}

/// Up to one second more than asked: the Hub's `t` is whole seconds, rounded.
const MARGIN: Duration = Duration::from_secs(1);

impl Pacer {
    pub fn new(max_wait: Duration, reporter: Option<Arc<dyn WaitReporter>>) -> Pacer {
        Pacer {
            windows: Mutex::new(HashMap::new()),
            waited: Mutex::new((Duration::ZERO, None)),
            max_wait,
            reporter,
        }
    }

    pub fn max_wait(&self) -> Duration {
        self.max_wait
    }

    /// Total time waited so far.
    pub fn waited(&self) -> Duration {
        self.waited.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    /// Before a request of `class`: takes one request from its window, or says how long
    /// to wait for the window to reset (then call again).
    pub fn reserve(&self, class: &'static str) -> Option<Wait> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let w = windows.get_mut(class)?;
        if now >= w.reset_at + MARGIN {
            windows.remove(class);
            return None;
        }
        if w.left > 0 {
            w.left -= 1;
            return None;
        }
        Some(Wait {
            cause: WaitCause::RateLimited,
            duration: (w.reset_at + MARGIN).saturating_duration_since(now),
            bucket: Some(w.bucket.clone()),
            policy: w.policy.clone(),
        })
    }

    /// After an answer of `class` carrying `limit` (and maybe `policy`).
    pub fn observe(&self, class: &'static str, limit: &RateLimit, policy: Option<Policy>) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let reset_at = Instant::now() + limit.reset;
        let policy = policy.filter(|p| p.bucket == limit.bucket);
        match windows.get_mut(class) {
            // The same window (its reset within a second of ours): answers arrive out of
            // order, and requests already reserved are not yet counted by the Hub; the
            // smaller count is the safe one.
            Some(w) if w.reset_at.max(reset_at) - w.reset_at.min(reset_at) <= MARGIN => {
                w.left = w.left.min(limit.remaining);
                if policy.is_some() {
                    w.policy = policy;
                }
            }
            _ => {
                windows.insert(
                    class,
                    Window {
                        left: limit.remaining,
                        reset_at,
                        bucket: limit.bucket.clone(),
                        policy,
                    },
                );
            }
        }
    }

    /// Accounts for a wait within the budget and tells the reporter; `Err` when it would
    /// go past `--max-wait`. The budget is wall-clock time: requests waiting for the same
    /// window at once count once, and only a wait that lasts longer than those already
    /// under way is reported.
    pub fn admit(&self, wait: Wait) -> Result<Duration, OverBudget> {
        let now = Instant::now();
        let end = now + wait.duration;
        let mut waited = self.waited.lock().unwrap_or_else(|e| e.into_inner());
        let (spent, latest) = *waited;
        let from = latest.map_or(now, |l| l.max(now));
        let more = end.saturating_duration_since(from);
        if spent + more > self.max_wait {
            return Err(OverBudget {
                wait: wait.duration,
                waited: spent,
                max_wait: self.max_wait,
            });
        }
        *waited = (spent + more, Some(from.max(end)));
        drop(waited);
        if more > Duration::from_millis(500)
            && let Some(r) = &self.reporter
        {
            r.waiting(&wait);
        }
        Ok(wait.duration)
    }

    /// Reports a short retry wait (not counted against the budget).
    pub fn report(&self, wait: &Wait) {
        if let Some(r) = &self.reporter {
            r.waiting(wait);
        }
    }
}

/// A delay of `base` × 2^(attempt-1), at most `cap`, with jitter (between half and all
/// of it), so clients that failed together do not retry together.
pub fn jittered(attempt: usize, base: Duration, cap: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let full = base
        .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(10))
        .min(cap);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let share = 0.5 + (h.finish() % 1000) as f64 / 2000.0;
    full.mul_f64(share)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_hubs_headers() {
        assert_eq!(
            parse_ratelimit("\"resolvers\";r=0;t=55"),
            Some(RateLimit {
                bucket: "resolvers".into(),
                remaining: 0,
                reset: Duration::from_secs(55)
            })
        );
        assert_eq!(
            parse_policy("\"fixed window\";\"resolvers\";q=3000;w=300"),
            Some(Policy {
                bucket: "resolvers".into(),
                quota: 3000,
                window: Duration::from_secs(300)
            })
        );
        // Hostile or broken values are no limit at all, never a panic.
        for bad in [
            "",
            "resolvers;r=-1;t=5",
            "\"api\";r=1",
            "\"api\";r=1;t=abc",
            "(\"a\");r=1;t=1",
            "\"api\";r=99999999999999999999;t=1",
        ] {
            assert_eq!(parse_ratelimit(bad), None, "{bad}");
        }
        assert_eq!(parse_ratelimit("api;r=3;t=7").map(|l| l.remaining), Some(3));
    }

    #[test]
    fn parses_retry_after_in_both_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn an_empty_window_waits_for_its_reset_and_the_budget_bounds_it() {
        let pacer = Pacer::new(Duration::from_secs(10), None);
        let limit = RateLimit {
            bucket: "resolvers".into(),
            remaining: 1,
            reset: Duration::from_secs(5),
        };
        pacer.observe("resolvers", &limit, None);
        assert!(pacer.reserve("resolvers").is_none(), "one left");
        let wait = pacer.reserve("resolvers").expect("the window is empty");
        assert!(wait.duration > Duration::from_secs(5) && wait.duration <= Duration::from_secs(6));
        assert!(pacer.reserve("api").is_none(), "other buckets are not held");
        assert!(pacer.admit(wait.clone()).is_ok());
        assert!(
            pacer.admit(wait.clone()).is_ok(),
            "a concurrent wait for the same window costs nothing more"
        );
        let long = Wait {
            duration: Duration::from_secs(15),
            ..wait
        };
        assert!(pacer.admit(long).is_err(), "past the 10 s budget");
        assert_eq!(
            Wait {
                cause: WaitCause::RateLimited,
                duration: Duration::from_secs(42),
                bucket: Some("resolvers".into()),
                policy: parse_policy("\"fixed window\";\"resolvers\";q=3000;w=300"),
            }
            .to_string(),
            "rate limited by the Hub, waiting 42 s (resolvers quota, 3000 per 300 s)"
        );
    }
}
