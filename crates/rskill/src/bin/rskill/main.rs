//! `rskill`: find, install and check robot skills. A thin clap front over the library:
//! each subcommand lives in its own module; errors are rendered with a hint.

mod drift_cmd;
mod export_cmd;
mod governance_cmd;
mod harness_cmd;
mod install_cmd;
mod marketplace_cmd;
mod registry_cmd;
mod scan_cmd;
mod search_cmd;
mod tags_cmd;
mod trust_cmd;
mod validate_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Parsing many small YAML documents is allocation-heavy; mimalloc makes it ~15% faster.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes: 0 ok, 1 failure (a check failed, or an operation did), 2 usage error.
#[derive(Parser)]
#[command(
    name = "rskill",
    version,
    about = "Find, install and check robot skills (rSkills) on a Hugging Face Hub"
)]
struct Cli {
    /// Longest rskill waits in all for the Hub's rate limits (e.g. 90s, 15m); past it,
    /// what could not be read is a failure naming it
    #[arg(long, global = true, env = "RSKILL_MAX_WAIT", default_value = "15m",
          value_parser = rskill::wait_notice::parse_max_wait)]
    max_wait: std::time::Duration,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find installable skills on the Hub, filtering on their manifests.
    Search(search_cmd::Args),
    /// Install a skill: license guard, verified downloads, smoke-load, registry.
    Install(install_cmd::Args),
    /// List installed skills (and the in-tree corpus when run inside one).
    List(registry_cmd::ListArgs),
    /// Remove an installed skill (--purge: and its cached blobs no other install uses).
    Uninstall(registry_cmd::UninstallArgs),
    /// Show an installed skill, or a skill on the Hub.
    Info(registry_cmd::InfoArgs),
    /// Write rskill.lock: every installed skill's commits and file digests.
    Lock(registry_cmd::LockArgs),
    /// Validate skills: manifest schema and rules, model card, reserved tags.
    Validate(validate_cmd::Args),
    /// Check or rewrite the reserved tags and license metadata of model cards.
    Tags(tags_cmd::Args),
    /// Compare in-repo manifests with their Hub twins (the CI drift check).
    Drift(drift_cmd::Args),
    /// Write an air-gap bundle of skills (and their pinned weights) for `rskill-hub
    /// import` on a Hub without a network route to this one.
    Export(export_cmd::Args),
    /// A skill's governance history: status and alias changes, who, when, why.
    History(governance_cmd::HistoryArgs),
    /// Check installed skills: deprecated or deleted since install, aliases moved
    /// (exit 1 when one is deleted or cannot be checked).
    Audit(governance_cmd::AuditArgs),
    /// Which publisher keys are trusted for which org (signed skills).
    Trust(trust_cmd::TrustArgs),
    /// Check a skill's signature: a local folder or a skill on the Hub.
    Verify(trust_cmd::VerifyArgs),
    /// Security-scan a skill folder, or a Hub skill and its pinned weights.
    Scan(scan_cmd::Args),
    /// The SKILL.md folders rskill wrote into coding-agent harnesses: list, sync, remove.
    Harness(harness_cmd::Args),
    /// Write a Claude Code plugin marketplace for the corpus's groups.
    Marketplace(marketplace_cmd::Args),
}

fn main() -> ExitCode {
    rskill::cli::quiet_on_closed_stdout();
    let cli = Cli::parse();
    rskill::wait_notice::set_max_wait(cli.max_wait);
    let result = match cli.command {
        Command::Search(args) => search_cmd::run(args),
        Command::Install(args) => install_cmd::run(args),
        Command::List(args) => registry_cmd::list(args),
        Command::Uninstall(args) => registry_cmd::uninstall(args),
        Command::Info(args) => registry_cmd::info(args),
        Command::Lock(args) => registry_cmd::lock(args),
        Command::Validate(args) => validate_cmd::run(args),
        Command::Tags(args) => tags_cmd::run(args),
        Command::Drift(args) => drift_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::History(args) => governance_cmd::history(args),
        Command::Audit(args) => governance_cmd::audit(args),
        Command::Trust(args) => trust_cmd::trust(args),
        Command::Verify(args) => trust_cmd::verify(args),
        Command::Scan(args) => scan_cmd::run(args),
        Command::Harness(args) => harness_cmd::run(args),
        Command::Marketplace(args) => marketplace_cmd::run(args),
    };
    rskill::cli::finish(result)
}
