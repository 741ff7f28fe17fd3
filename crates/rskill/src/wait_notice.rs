//! How the binaries tell a user that rskill is waiting for the Hub's rate limits: one
//! line on stderr per bucket ("rate limited by the Hub, waiting 42 s (resolvers quota,
//! 3000 per 300 s)"), and a count-down bar while it waits when stderr is a terminal. The
//! client library only reports waits ([`rskill_hub_client::ratelimit::WaitReporter`]);
//! printing them is this module's job. Also holds the process's `--max-wait`.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rskill_hub_client::ratelimit::{self, Wait, WaitCause, WaitReporter};

static MAX_WAIT: OnceLock<Duration> = OnceLock::new();

/// Sets the process's budget for rate-limit waits (`--max-wait`); the first call wins.
pub fn set_max_wait(d: Duration) {
    let _ = MAX_WAIT.set(d);
}

/// The budget: `--max-wait`, else `RSKILL_MAX_WAIT`, else 15 minutes.
pub fn max_wait() -> Duration {
    *MAX_WAIT.get_or_init(|| {
        std::env::var("RSKILL_MAX_WAIT")
            .ok()
            .and_then(|v| humantime::parse_duration(v.trim()).ok())
            .unwrap_or(ratelimit::DEFAULT_MAX_WAIT)
    })
}

/// Parses a `--max-wait` value ("15m", "90s", "0s").
pub fn parse_max_wait(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("\"{s}\" is not a duration like 90s or 15m: {e}"))
}

/// Prints waits on stderr.
#[derive(Default)]
pub struct StderrWaits {
    told: Mutex<HashSet<String>>,
    bars: bool,
}

impl StderrWaits {
    pub fn new(progress_bars: bool) -> StderrWaits {
        StderrWaits {
            told: Mutex::new(HashSet::new()),
            bars: progress_bars && std::io::stderr().is_terminal(),
        }
    }
}

impl WaitReporter for StderrWaits {
    fn waiting(&self, wait: &Wait) {
        if wait.cause != WaitCause::RateLimited {
            return;
        }
        let key = wait.bucket.clone().unwrap_or_default();
        let first = self
            .told
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        if self.bars {
            let secs = wait.duration.as_secs().max(1);
            let bar = indicatif::ProgressBar::new(secs);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} s")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message(wait.to_string());
            std::thread::spawn(move || {
                for _ in 0..secs {
                    std::thread::sleep(Duration::from_secs(1));
                    bar.inc(1);
                }
                bar.finish_and_clear();
            });
        } else if first {
            eprintln!("{wait}");
        }
    }
}
