//! `rskill drift [PATH…] [--json]`: the CI check that published Hub twins still carry
//! the in-repo manifests. Exit 1 on any drift (or a twin that cannot be read).

use std::path::PathBuf;

use rskill::cli::{CliError, Outcome, hub_client, runtime};
use rskill::drift::{self, DriftStatus};

#[derive(clap::Args)]
pub struct Args {
    /// Skill directories, rskill.yaml files, or corpus directories [default: rskills/]
    paths: Vec<PathBuf>,
    /// Print `[{path, repo, status, diff:[{field, local, hub}], message}]`
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let manifests = rskill_manifest::corpus::discover_all(
        &rskill_manifest::corpus::paths_or_default(args.paths),
    )?;
    let client = hub_client(args.token.as_deref())?;
    let reports = runtime()?.block_on(drift::check_all(&client, &manifests));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports).expect("JSON"));
    } else {
        for r in &reports {
            let label = r
                .repo
                .clone()
                .unwrap_or_else(|| r.path.display().to_string());
            let status = match r.status {
                DriftStatus::InSync => "in-sync",
                DriftStatus::Drifted => "DRIFTED",
                DriftStatus::NotPublished => "not-published",
                DriftStatus::Unreachable => "UNREACHABLE",
                DriftStatus::Skipped => "skipped",
                DriftStatus::Invalid => "INVALID",
            };
            println!("{status:<13} {label}  {}", r.message);
            for d in &r.diff {
                let show = |v: &Option<serde_json::Value>| {
                    v.as_ref().map_or("(absent)".to_string(), |v| v.to_string())
                };
                println!(
                    "    {}: in-repo {} / Hub {}",
                    d.field,
                    show(&d.local),
                    show(&d.hub)
                );
            }
        }
    }
    let failed = reports.iter().filter(|r| r.is_failure()).count();
    let skipped = reports
        .iter()
        .filter(|r| r.status == DriftStatus::Skipped)
        .count();
    if skipped > 0 {
        eprintln!(
            "{skipped} skill(s) skipped: the Hub could not be asked (offline or unreachable); nothing was compared"
        );
    }
    Ok(if failed > 0 {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}
