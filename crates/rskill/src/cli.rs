//! How the binaries talk to people: one outcome type whose exit codes mean the same in
//! every binary, errors with a `hint:` on stderr, colour only on a terminal and never
//! with NO_COLOR, quiet exits on a closed stdout, and the async runtime they share.

use std::io::IsTerminal;
use std::process::ExitCode;

/// How a command ended, and the exit code that means in every binary: 0 success,
/// 1 failure (a check failed, or an operation did), 2 usage error (bad arguments or
/// input, refused before any work).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Usage,
}

impl Outcome {
    /// Success when `ok`, else failure.
    pub fn from_ok(ok: bool) -> Outcome {
        if ok {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failure => 1,
            Outcome::Usage => 2,
        }
    }
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        ExitCode::from(o.code())
    }
}

/// A failure the binary reports: what failed, what to try, and what kind of outcome
/// it is.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub outcome: Outcome,
}

impl CliError {
    /// A failure (exit 1).
    pub fn new(message: impl Into<String>) -> Self {
        CliError {
            message: message.into(),
            hint: None,
            outcome: Outcome::Failure,
        }
    }

    /// A usage error (exit 2): bad arguments, refused before any work.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            outcome: Outcome::Usage,
            ..CliError::new(message)
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Ends a binary's `main`: renders the error, if any, and maps the outcome to its code.
pub fn finish(result: Result<Outcome, CliError>) -> ExitCode {
    match result {
        Ok(outcome) => outcome.into(),
        Err(e) => {
            error(&e);
            e.outcome.into()
        }
    }
}

/// Lets a closed stdout end the process quietly, as `cat`, `git` and `cargo` do (Rust
/// ignores SIGPIPE, so `rskill search --json | head` would otherwise panic in
/// `println!`). Sockets are unaffected: the standard library sends with MSG_NOSIGNAL.
pub fn quiet_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists; restoring the
    // default disposition of SIGPIPE has no other effect on the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

impl From<crate::corpus::DiscoverError> for CliError {
    fn from(e: crate::corpus::DiscoverError) -> Self {
        CliError::new(e.to_string()).hint(e.hint())
    }
}

impl From<crate::hub::HubError> for CliError {
    fn from(e: crate::hub::HubError) -> Self {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        err.hint = hint;
        err
    }
}

impl From<crate::export::ExportError> for CliError {
    fn from(e: crate::export::ExportError) -> Self {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        err.hint = hint;
        err
    }
}

impl From<crate::install::InstallError> for CliError {
    fn from(e: crate::install::InstallError) -> Self {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        err.hint = hint;
        err
    }
}

impl From<rskill_signing::SigningError> for CliError {
    fn from(e: rskill_signing::SigningError) -> Self {
        CliError::new(e.to_string()).hint(e.hint())
    }
}

impl From<crate::registry::RegistryError> for CliError {
    fn from(e: crate::registry::RegistryError) -> Self {
        CliError::new(e.to_string())
    }
}

/// A tokio runtime for a command's network work.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
}

/// Reads the Hub settings and builds a client.
pub fn hub_client(token_flag: Option<&str>) -> Result<crate::hub::HubClient, CliError> {
    let env = crate::hub::HubEnv::from_env(token_flag);
    let reporter = std::sync::Arc::new(crate::wait_notice::StderrWaits::new(
        !env.disable_progress_bars,
    ));
    Ok(
        crate::hub::HubClient::new(env)?.with_pacer(rskill_hub_client::ratelimit::Pacer::new(
            crate::wait_notice::max_wait(),
            Some(reporter),
        )),
    )
}

/// Whether to colour a stream.
pub fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn paint(text: &str, ansi: &str, color: bool) -> String {
    if color {
        format!("\x1b[{ansi}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

pub fn error(e: &CliError) {
    let color = use_color(std::io::stderr().is_terminal());
    // The last line of defence: no URL's credentials (HF_ENDPOINT's) reach the screen.
    let shown = rskill_hub_protocol::redact::redact_credentials;
    eprintln!("{} {}", paint("error:", "1;31", color), shown(&e.message));
    if let Some(h) = &e.hint {
        eprintln!("{} {}", paint("hint:", "1;36", color), shown(h));
    }
}

impl From<crate::lifecycle::LifecycleError> for CliError {
    fn from(e: crate::lifecycle::LifecycleError) -> Self {
        let hint = e.hint();
        let mut err = CliError::new(e.to_string());
        err.hint = hint;
        err
    }
}

/// Parses a skill id `org/name` for a governance command (a usage error otherwise).
pub fn parse_repo(id: &str) -> Result<crate::hub::RepoId, CliError> {
    id.parse().map_err(|e: String| {
        CliError::usage(format!("`{id}` is not a skill id: {e}")).hint("a skill id is <org>/<name>")
    })
}

/// One history event as a line of text.
pub fn event_line(e: &crate::lifecycle::Event) -> String {
    format!(
        "#{:<4} {}  {:<6} {:<12} {} -> {}  by {}  ({})",
        e.seq,
        e.when,
        match e.what {
            crate::lifecycle::model::What::Status => "status",
            crate::lifecycle::model::What::Alias => "alias",
            crate::lifecycle::model::What::Scan => "scan",
        },
        e.subject,
        e.shown(&e.old),
        e.shown(&e.new),
        e.who,
        if e.why.is_empty() {
            "no reason given"
        } else {
            e.why.as_str()
        }
    )
}

pub fn status_color(s: rskill_scan::Status) -> &'static str {
    match s {
        rskill_scan::Status::Clean => "32",
        rskill_scan::Status::Warning => "33",
        rskill_scan::Status::Dangerous | rskill_scan::Status::Error => "1;31",
    }
}

fn severity_color(s: rskill_scan::Severity) -> &'static str {
    match s {
        rskill_scan::Severity::Info => "2",
        rskill_scan::Severity::Warning => "33",
        rskill_scan::Severity::Dangerous | rskill_scan::Severity::Error => "1;31",
    }
}

/// The report as people read it: one line per scan type, then every finding.
pub fn render_scan(report: &rskill_scan::ScanReport, color: bool) -> String {
    let mut out = format!(
        "{} by {} {} at {}\n",
        report.target, report.scanner.name, report.scanner.version, report.scanned_at
    );
    for (t, r) in &report.types {
        let status = r.status.unwrap_or(rskill_scan::Status::Clean);
        let fields: Vec<String> = r.fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        out.push_str(&format!(
            "  {:<12} {} {} file(s){}{}\n",
            t.as_str(),
            paint(
                &format!("{:<9}", status.to_string()),
                status_color(status),
                color
            ),
            r.files,
            if fields.is_empty() { "" } else { "  " },
            fields.join("; ")
        ));
    }
    for f in &report.findings {
        out.push_str(&format!(
            "{} [{}] {}: {}\n",
            paint(&f.severity.to_string(), severity_color(f.severity), color),
            f.scan_type,
            f.file,
            f.message
        ));
    }
    let status = report.status();
    out.push_str(&format!(
        "scan: {} ({} finding(s), {} byte(s) read)\n",
        paint(&status.to_string(), status_color(status), color),
        report.findings.len(),
        report.bytes_scanned
    ));
    out
}

/// A scan report as JSON: the report, its overall `status` and its `scan.<type>.<field>` records.
pub fn scan_json(report: &rskill_scan::ScanReport) -> serde_json::Value {
    let mut value = serde_json::to_value(report).expect("JSON");
    value["status"] = serde_json::to_value(report.status()).expect("JSON");
    value["records"] = serde_json::to_value(report.records()).expect("JSON");
    value
}
