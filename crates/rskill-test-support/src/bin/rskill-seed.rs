//! `rskill-seed`: creates, on a running Hub (HF_ENDPOINT), the upstream repos a corpus
//! points to, holding small generated weights, so an offline machine can try
//! `rskill install` end to end. A thin clap front over `rskill_test_support::seed`.
//!
//! Exit codes: 0 ok, 1 failure, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rskill_hub_client::{HubClient, HubEnv};
use rskill_test_support::seed;

/// Create, on a running Hub, the upstream repos a corpus points to (weights_uri,
/// processors), with small generated weights (safetensors, ONNX) and the pinned tags.
#[derive(Parser)]
#[command(name = "rskill-seed", version)]
struct Cli {
    /// The corpus whose upstream repos to create.
    #[arg(default_value = "rskills")]
    corpus: PathBuf,
    /// Only print the organisations the upstream repos belong to (one per line),
    /// e.g. to create a token that may write them.
    #[arg(long)]
    print_orgs: bool,
    /// A write token for those organisations (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token).
    #[arg(long)]
    token: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            // HF_ENDPOINT may carry a user and password.
            eprintln!(
                "error: {}",
                rskill_hub_protocol::redact::redact_credentials(&message)
            );
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> Result<(), String> {
    let ups = seed::corpus_upstreams(&cli.corpus).map_err(|e| e.to_string())?;
    if cli.print_orgs {
        let orgs: std::collections::BTreeSet<&str> = ups.iter().map(|u| u.repo.org()).collect();
        for o in orgs {
            println!("{o}");
        }
        return Ok(());
    }
    let client =
        HubClient::new(HubEnv::from_env(cli.token.as_deref())).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let seeded = runtime
        .block_on(seed::seed(&client, &ups))
        .map_err(|e| e.to_string())?;
    for s in &seeded {
        if s.skipped {
            eprintln!("{}: already seeded", s.repo);
        } else {
            eprintln!(
                "{}: {} file(s){}",
                s.repo,
                s.files.len(),
                if s.tags.is_empty() {
                    String::new()
                } else {
                    format!(", tags {}", s.tags.join(", "))
                }
            );
        }
    }
    println!(
        "{} upstream repo(s) ready on {}",
        seeded.len(),
        client.shown_endpoint()
    );
    Ok(())
}
