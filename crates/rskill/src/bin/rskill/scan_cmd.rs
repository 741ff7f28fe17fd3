//! `rskill scan PATH|ID[@rev] [--json]`: runs the built-in security scanners on a skill
//! folder (or one file), or on a Hub skill and the weights it pins, and prints every
//! finding with its severity. Exit 0 when nothing is dangerous, 1 when anything is (or
//! a file could not be scanned), 2 on a usage error.

use std::io::IsTerminal;
use std::path::Path;

use rskill::cli::{CliError, Outcome, hub_client, paint, runtime, use_color};
use rskill::install::id;
use rskill_scan::{ScanReport, Severity, Status};

#[derive(clap::Args)]
pub struct Args {
    /// A skill folder or file, or a Hub skill org/name[@rev]
    target: String,
    /// Print the report as JSON (with its `scan.<type>.<field>` records)
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let path = Path::new(&args.target);
    let report = if path.exists() {
        rskill_scan::scan_path(path)
    } else {
        let client = hub_client(args.token.as_deref())?;
        let known = crate::install_cmd::known_ids(&client);
        let parsed = id::parse(&args.target, &known).map_err(|e| {
            CliError::usage(format!("{}: no such file or folder, and {e}", args.target))
                .hint(e.hint())
        })?;
        let quiet = client.env().disable_progress_bars || !std::io::stderr().is_terminal();
        let say = move |line: &str| {
            if !quiet {
                eprintln!("{line}");
            }
        };
        runtime()?.block_on(rskill::hub_scan::scan_hub(&client, &parsed, &say))?
    };
    if args.json {
        let mut value = serde_json::to_value(&report).expect("JSON");
        value["status"] = serde_json::to_value(report.status()).expect("JSON");
        value["records"] = serde_json::to_value(report.records()).expect("JSON");
        println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
    } else {
        print!(
            "{}",
            render(&report, use_color(std::io::stdout().is_terminal()))
        );
    }
    Ok(Outcome::from_ok(!report.fails()))
}

fn status_color(s: Status) -> &'static str {
    match s {
        Status::Clean => "32",
        Status::Warning => "33",
        Status::Dangerous | Status::Error => "1;31",
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Info => "2",
        Severity::Warning => "33",
        Severity::Dangerous | Severity::Error => "1;31",
    }
}

/// The report as people read it: one line per scan type, then every finding.
fn render(report: &ScanReport, color: bool) -> String {
    let mut out = format!(
        "{} by {} {} at {}\n",
        report.target, report.scanner.name, report.scanner.version, report.scanned_at
    );
    for (t, r) in &report.types {
        let status = r.status.unwrap_or(Status::Clean);
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
