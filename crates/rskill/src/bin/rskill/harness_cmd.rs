//! `rskill harness list|sync|remove`: the agent descriptions (`SKILL.md`) rskill wrote
//! into coding-agent harness folders. `sync` makes them match the registry exactly;
//! folders rskill did not write, or that were edited by hand, are reported (exit 1)
//! and never touched.

use rskill::cli::{CliError, Outcome};
use rskill::harness::{self, Change, FolderState, Harness};

use crate::install_cmd::conflict_text;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// The folders rskill wrote, and whether each is still as written
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add, update and remove SKILL.md folders so they match the installed skills
    Sync(Scope),
    /// Remove the folders rskill wrote (for the skills named, else all)
    Remove {
        #[command(flatten)]
        scope: Scope,
        /// Skill ids (default: every skill rskill wrote there)
        ids: Vec<String>,
    },
}

#[derive(clap::Args)]
struct Scope {
    /// The harness (repeatable): claude-code, codex, cursor, antigravity, agents
    /// [default: those rskill wrote to in this scope]
    #[arg(long = "harness", value_name = "HARNESS")]
    harnesses: Vec<Harness>,
    /// The user-level folders instead of the current project's
    #[arg(long)]
    global: bool,
    /// Show what would change; change nothing
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

fn err(e: harness::HarnessError) -> CliError {
    CliError::new(e.to_string())
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let registry_path = rskill::registry::registry_path()?;
    let record = harness::record_path(&registry_path);
    match args.command {
        Sub::List { json } => {
            let rows = harness::list(&record).map_err(err)?;
            if json {
                let v: Vec<_> = rows
                    .iter()
                    .map(|(w, s)| {
                        serde_json::json!({
                            "harness": w.harness, "path": w.dir(), "skill": w.skill,
                            "version": w.version, "commit": w.commit, "state": state_text(s),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
            } else {
                for (w, s) in &rows {
                    println!(
                        "{:<12} {:<8} {} {} {}",
                        w.harness,
                        state_text(s),
                        w.dir().display(),
                        w.skill,
                        w.version
                    );
                }
                eprintln!("{} folder(s) written by rskill", rows.len());
            }
            Ok(Outcome::Success)
        }
        Sub::Sync(scope) => {
            let (hs, base) = resolve_scope(&scope, &record)?;
            let reg = rskill::registry::load()?;
            let changes = harness::sync(
                &reg,
                &record,
                &harness::SyncRequest {
                    harnesses: &hs,
                    base: &base,
                    global: scope.global,
                    only: None,
                    remove_others: true,
                    dry_run: scope.dry_run,
                },
            )
            .map_err(err)?;
            Ok(report(&changes, scope.json))
        }
        Sub::Remove { scope, ids } => {
            let (hs, base) = resolve_scope(&scope, &record)?;
            let only = (!ids.is_empty()).then_some(ids.as_slice());
            let changes = harness::remove(&record, &hs, &base, scope.global, only).map_err(err)?;
            Ok(report(&changes, scope.json))
        }
    }
}

/// The harnesses named, else those with folders in the record for this scope.
fn resolve_scope(
    scope: &Scope,
    record: &std::path::Path,
) -> Result<(Vec<Harness>, std::path::PathBuf), CliError> {
    let base = harness::base(scope.global).map_err(err)?;
    let mut hs = scope.harnesses.clone();
    if hs.is_empty() {
        for (w, _) in harness::list(record).map_err(err)? {
            let root = harness::skills_root(w.harness, &base, scope.global).ok();
            if root.as_deref() == Some(w.root.as_path()) && !hs.contains(&w.harness) {
                hs.push(w.harness);
            }
        }
    }
    for h in &hs {
        harness::skills_root(*h, &base, scope.global)
            .map_err(|e| CliError::usage(e.to_string()))?;
    }
    Ok((hs, base))
}

fn state_text(s: &FolderState) -> &'static str {
    match s {
        FolderState::Ours => "ok",
        FolderState::Edited => "edited",
        FolderState::Missing => "missing",
        FolderState::Foreign => "foreign",
    }
}

fn report(changes: &[Change], json: bool) -> Outcome {
    if json {
        println!("{}", serde_json::to_string_pretty(changes).expect("JSON"));
    } else {
        for c in changes {
            println!(
                "{:<12} {:<22} {} ({})",
                c.harness,
                c.action,
                c.path.display(),
                c.skill
            );
        }
    }
    let conflicts: Vec<&Change> = changes.iter().filter(|c| c.is_conflict()).collect();
    for c in &conflicts {
        eprintln!(
            "left alone: {}: {}",
            c.path.display(),
            conflict_text(c.action)
        );
    }
    Outcome::from_ok(conflicts.is_empty())
}
