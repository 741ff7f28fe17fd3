//! `rskill-publisher scan ID@VERSION [--record]`: scans a published version's exact
//! commit (the skill and the weights it pins, as `rskill scan` does) and, with
//! `--record`, stores the result for that commit in the skill's registry file, as one
//! governed change (history event `scan`, needs the manage right). Exit 1 when the
//! scan is dangerous or failed, whether or not it was recorded.

use std::io::IsTerminal;

use rskill::cli::{self, CliError, event_line, hub_client, parse_repo, runtime, use_color};
use rskill::install::id::InstallId;
use rskill::lifecycle::scan_record::ScanRecord;
use rskill::lifecycle::{Op, model, remote};

#[derive(clap::Args)]
pub struct Args {
    /// The version: org/name@1.2.0 (or @v1.2.0)
    target: String,
    /// Store the result for the version's commit in the skill's registry file
    #[arg(long)]
    record: bool,
    /// Why (recorded in the history with --record)
    #[arg(long, default_value = "")]
    reason: String,
    /// Machine-readable output on stdout
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
    /// With --record: the key that signs the governance state (the record is then
    /// signed, by this key, as part of it)
    #[command(flatten)]
    signer: super::governance_cmd::SignerArgs,
}

pub fn run(args: Args) -> Result<cli::Outcome, CliError> {
    let Some((id, version)) = args.target.split_once('@') else {
        return Err(
            CliError::usage(format!("`{}` names no version", args.target))
                .hint("rskill-publisher scan <org>/<name>@<version> [--record]"),
        );
    };
    let repo = parse_repo(id)?;
    let version = model::parse_version(version).map_err(|e| {
        let hint = e.hint();
        let mut err = CliError::usage(e.to_string());
        err.hint = hint;
        err
    })?;
    let client = hub_client(args.token.as_deref())?;
    let signer = args.signer.signer()?;
    let seen = super::governance_cmd::seen_for(&repo, signer.as_ref())?;
    let rt = runtime()?;
    let state = rt.block_on(remote::read(&client, &seen, &repo))?;
    let Some(commit) = state.tags.get(&version) else {
        return Err(CliError::new(format!(
            "{repo}: version {version} is not published (no tag v{version})"
        ))
        .hint("`rskill info ID` lists the published versions"));
    };
    let commit = commit.to_string();
    let quiet = args.json || client.env().disable_progress_bars || !std::io::stderr().is_terminal();
    let say = move |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    let target = InstallId {
        repo: repo.clone(),
        revision: Some(commit.clone()),
    };
    let report = rt.block_on(rskill::hub_scan::scan_hub(&client, &target, &say))?;
    let record = ScanRecord::from_report(&report, Some(version.to_string()));
    let mut value = cli::scan_json(&report);
    value["version"] = version.to_string().into();
    value["commit"] = commit.clone().into();
    if !args.json {
        print!(
            "{}",
            cli::render_scan(&report, use_color(std::io::stdout().is_terminal()))
        );
    }
    if args.record {
        let op = Op::Scan {
            version: version.clone(),
            commit: commit.clone(),
            record: Box::new(record),
        };
        let applied = match rt.block_on(remote::change(
            &client,
            &seen,
            &repo,
            &op,
            &args.reason,
            signer.as_ref(),
        )) {
            Ok(a) => a,
            Err(e) => {
                if args.json {
                    println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
                }
                return Err(e.into());
            }
        };
        for note in &applied.notes {
            eprintln!("{note}");
        }
        if args.json {
            value["recorded"] = serde_json::json!({
                "registry_commit": applied.commit,
                "attempts": applied.attempts,
                "events": applied.events,
            });
        } else {
            for e in &applied.events {
                println!("{}", event_line(e));
            }
            eprintln!(
                "{repo}: recorded the scan of {version} ({}) in commit {}",
                &commit[..12],
                &applied.commit[..applied.commit.len().min(10)]
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
    }
    Ok(cli::Outcome::from_ok(!report.fails()))
}
