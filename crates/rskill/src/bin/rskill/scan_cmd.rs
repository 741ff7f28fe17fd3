//! `rskill scan PATH|ID[@rev] [--json]`: runs the built-in security scanners on a skill
//! folder (or one file), or on a Hub skill and the weights it pins, and prints every
//! finding with its severity. Exit 0 when nothing is dangerous, 1 when anything is (or
//! a file could not be scanned), 2 on a usage error.

use std::io::IsTerminal;
use std::path::Path;

use rskill::cli::{CliError, Outcome, hub_client, render_scan, runtime, scan_json, use_color};
use rskill::install::id;

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
        println!(
            "{}",
            serde_json::to_string_pretty(&scan_json(&report)).expect("JSON")
        );
    } else {
        print!(
            "{}",
            render_scan(&report, use_color(std::io::stdout().is_terminal()))
        );
    }
    Ok(Outcome::from_ok(!report.fails()))
}
