//! `rskill export ID…|--author ORG|--group ID [--with-weights] [--since OLD.tar] --out
//! FILE.tar [--json]`: the air-gap bundle, for `rskill-hub import` (docs/airgap.md).

use std::path::PathBuf;

use rskill::cli::{CliError, Outcome, hub_client, runtime};
use rskill::export::{self, ExportRequest};
use rskill_hub_protocol::repo_id::RepoId;

#[derive(clap::Args)]
pub struct Args {
    /// Skills (`org/rskill-name`) to export, every version and the registry state.
    ids: Vec<String>,
    /// Every `rskill-*` repo (skills and groups) of this author (repeatable).
    #[arg(long = "author", value_name = "ORG")]
    authors: Vec<String>,
    /// A group (`org/rskill-group-name`) and its members (repeatable).
    #[arg(long = "group", value_name = "ID")]
    groups: Vec<String>,
    /// Also the upstream weight and processor repos the manifests pin, at the pinned
    /// commits.
    #[arg(long)]
    with_weights: bool,
    /// Leave out the commits and blobs this earlier bundle carried (incremental).
    #[arg(long, value_name = "BUNDLE")]
    since: Option<PathBuf>,
    /// The bundle to write (a tar file; written under a temporary name first).
    #[arg(long, value_name = "FILE.tar")]
    out: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
}

fn repo_id(s: &str, flag: &str) -> Result<RepoId, CliError> {
    s.parse().map_err(|e| {
        CliError::usage(format!("{flag}`{s}`: {e}"))
            .hint("ids are `org/name`, e.g. acme/rskill-grasp")
    })
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    if args.ids.is_empty() && args.authors.is_empty() && args.groups.is_empty() {
        return Err(CliError::usage("nothing to export")
            .hint("name skills (ORG/NAME…), --author ORG or --group ORG/rskill-group-NAME"));
    }
    let req = ExportRequest {
        skills: args
            .ids
            .iter()
            .map(|s| repo_id(s, ""))
            .collect::<Result<_, _>>()?,
        authors: args.authors,
        groups: args
            .groups
            .iter()
            .map(|s| repo_id(s, "--group "))
            .collect::<Result<_, _>>()?,
        with_weights: args.with_weights,
        since: args.since,
        out: args.out,
    };
    let client = hub_client(args.token.as_deref())?;
    let quiet = args.json;
    let say = move |m: &str| {
        if !quiet {
            eprintln!("{m}");
        }
    };
    let report = runtime()?.block_on(export::export(&client, &req, &say))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("JSON"));
    } else {
        let mib = report.bytes as f64 / (1024.0 * 1024.0);
        println!(
            "wrote {} ({mib:.1} MiB in {:.1} s): bundle {}, {} repos, {} commits, {} blobs",
            report.out.display(),
            report.seconds,
            &report.bundle[..12],
            report.repos.len(),
            report.commits,
            report.blobs
        );
        if let Some(since) = &report.since {
            println!(
                "left out what bundle {} carried: {} commits, {} blobs",
                &since[..12],
                report.left_out_commits,
                report.left_out_blobs
            );
        }
        if !report.governance.is_empty() {
            let states: Vec<String> = report
                .governance
                .iter()
                .map(|(repo, v)| format!("{repo} v{v}"))
                .collect();
            println!("signed governance states: {}", states.join(", "));
        }
        println!(
            "import it with: rskill-hub import {} --data DIR [--governance-key PUB.pem]",
            report.out.display()
        );
    }
    Ok(Outcome::Success)
}
