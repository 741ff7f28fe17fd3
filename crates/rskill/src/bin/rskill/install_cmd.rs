//! `rskill install ID[@rev]` (and `--locked`): the terminal side of the install flow —
//! progress bars on stderr (hidden without a terminal), the confirmation prompt, the
//! summary on stdout or `--json`. A group id (`org/rskill-group-…`) installs the
//! group; `--harness` then writes each installed skill's `SKILL.md` into the harness
//! folders (checked free before anything is downloaded).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rskill::cli::{CliError, Outcome, hub_client, runtime};
use rskill::harness::{self, Harness};
use rskill::install::group::{self as igroup, GroupLock};
use rskill::install::guard::Consent;
use rskill::install::lockfile::{LOCKFILE, Lockfile};
use rskill::install::{self, InstallOptions, InstallUi, Preflight, id};

#[derive(clap::Args)]
pub struct Args {
    /// The skill: org/name, optionally @rev: an alias (production, latest — the
    /// default), a version (1.2.0 or v1.2.0), a branch or a commit
    id: Option<String>,
    /// Revision (instead of @rev)
    #[arg(long)]
    revision: Option<String>,
    /// Declare non-commercial research use (also OPENRAL_ALLOW_NONCOMMERCIAL=1)
    #[arg(long)]
    non_commercial: bool,
    /// Answer yes to the license confirmation (never bypasses the non-commercial block)
    #[arg(long, short = 'y')]
    yes: bool,
    /// Skip the smoke-load of the weights
    #[arg(long)]
    no_smoke: bool,
    /// Re-hash cached weights instead of trusting their content-addressed names
    #[arg(long)]
    verify: bool,
    /// Scan the downloaded files before activation and refuse dangerous weights
    #[arg(long)]
    scan: bool,
    /// Install exactly what rskill.lock pins (every skill in it, or just ID)
    #[arg(long)]
    locked: bool,
    /// Install a version whose status is `deleted` (refused otherwise)
    #[arg(long)]
    allow_deleted: bool,
    /// Use a signed governance state that has expired (the publisher did not refresh
    /// it), saying why: --allow-expired "uplink down since Monday"
    #[arg(long, value_name = "REASON")]
    allow_expired: Option<String>,
    /// The lockfile to use with --locked
    #[arg(long, default_value = LOCKFILE)]
    lockfile: PathBuf,
    /// Also write each installed skill's SKILL.md where this coding-agent harness reads
    /// it (repeatable): claude-code, codex, cursor, antigravity, agents
    #[arg(long = "harness", value_name = "HARNESS")]
    harnesses: Vec<Harness>,
    /// With --harness: the user-level folders (~/.claude/skills, ~/.agents/skills)
    /// instead of the current project's
    #[arg(long, requires = "harnesses")]
    global: bool,
    /// Print the registry entry as JSON
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
    /// Connections per big file: files from RSKILL_DOWNLOAD_SPLIT_MIB (default 64) on
    /// are fetched as parallel ranged requests; 1 for one stream (also
    /// RSKILL_DOWNLOAD_CONNECTIONS; default 8, opened only when one proves slow)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    connections: Option<u16>,
}

/// Terminal UI: messages and bars on stderr; prompts only on a terminal.
struct TerminalUi {
    bar: std::sync::Mutex<Option<ProgressBar>>,
    show_progress: bool,
}

impl InstallUi for TerminalUi {
    fn say(&self, line: &str) {
        match self.bar.lock().ok().and_then(|b| b.clone()) {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn confirm(&self, question: &str) -> bool {
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        if std::io::stdin().lock().read_line(&mut answer).is_err() {
            return false;
        }
        matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    }

    fn start_downloads(&self, files: usize, total: u64) -> Arc<dyn Fn(u64) + Send + Sync> {
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if self.show_progress {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("template")
            .progress_chars("=> "),
        );
        bar.set_message(format!("{files} file(s)"));
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar.clone());
        }
        Arc::new(move |n| bar.inc(n))
    }

    fn finish_downloads(&self) {
        if let Some(bar) = self.bar.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let mut client = hub_client(args.token.as_deref())?;
    if let Some(n) = args.connections {
        let parallel = client.parallel().clone().with_connections(n.into());
        client = client.with_parallel(parallel);
    }
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let consent = Consent::from_flags(args.non_commercial, args.yes, interactive);
    let ui = TerminalUi {
        bar: std::sync::Mutex::new(None),
        show_progress: std::io::stderr().is_terminal() && !client.env().disable_progress_bars,
    };

    // Targets: the lockfile's groups and skills, or the one id given.
    let mut targets: Vec<Target> = Vec::new();
    if args.locked {
        let lock = Lockfile::read(&args.lockfile)
            .map_err(|e| CliError::new(e).hint("create one with `rskill lock`"))?;
        for (parsed, glock) in lock
            .group_targets(args.id.as_deref())
            .map_err(|e| CliError::new(e.to_string()))?
        {
            targets.push(Target::Group(parsed, Some(glock)));
        }
        let group_named = !targets.is_empty();
        for (parsed, skill) in lock
            .targets(args.id.as_deref())
            .map_err(|e| CliError::new(e.to_string()))?
        {
            // Members come with their group (unless one is asked for by name).
            if (args.id.is_none() && lock.in_group(&skill.repo)) || group_named {
                continue;
            }
            targets.push(Target::Skill(parsed, Some(skill)));
        }
        if targets.is_empty() {
            return Err(CliError::new(format!(
                "{} pins no skill{}",
                args.lockfile.display(),
                args.id
                    .as_deref()
                    .map(|i| format!(" named {i}"))
                    .unwrap_or_default()
            )));
        }
    } else {
        let Some(raw) = args.id.as_deref() else {
            return Err(CliError::usage("no skill given")
                .hint("rskill install <org>/<name>[@rev], or --locked"));
        };
        let known = known_ids(&client);
        // An id that cannot name a repo is invalid input: exit 2, before any request.
        let mut parsed =
            id::parse(raw, &known).map_err(|e| CliError::usage(e.to_string()).hint(e.hint()))?;
        if let Some(rev) = args.revision.clone() {
            parsed.revision = Some(rev);
        }
        targets.push(if igroup::is_group(&parsed.repo) {
            Target::Group(parsed, None)
        } else {
            Target::Skill(parsed, None)
        });
    }

    let trust = rskill::trust::Policy::load().map_err(|e| {
        CliError::new(e.to_string())
            .hint("fix or remove the trust policy file (`rskill trust list`)")
    })?;
    // Harness folders must be free for what is installed: checked before any download.
    let base = harness::base(args.global).map_err(|e| CliError::new(e.to_string()))?;
    let registry_path = rskill::registry::registry_path()?;
    let record = harness::record_path(&registry_path);
    for h in &args.harnesses {
        harness::skills_root(*h, &base, args.global).map_err(|e| CliError::usage(e.to_string()))?;
    }
    let preflight = if args.harnesses.is_empty() {
        Preflight::default()
    } else {
        let (hs, base, record, global) = (
            args.harnesses.clone(),
            base.clone(),
            record.clone(),
            args.global,
        );
        Preflight(Some(Arc::new(move |skills: &[String]| {
            let conflicts = harness::preflight(&record, &hs, &base, global, skills)
                .map_err(|e| e.to_string())?;
            if conflicts.is_empty() {
                return Ok(());
            }
            Err(format!(
                "harness folders in the way:\n  {}",
                conflicts
                    .iter()
                    .map(|c| format!(
                        "{} ({}): {}",
                        c.path.display(),
                        c.skill,
                        conflict_text(c.action)
                    ))
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ))
        })))
    };

    let rt = runtime()?;
    let mut entries: Vec<serde_json::Value> = Vec::new();
    let mut installed: Vec<String> = Vec::new();
    for target in targets {
        match target {
            Target::Skill(target, locked) => {
                let opts = options(&args, consent, locked, preflight.clone(), &trust);
                let report = rt.block_on(install::install(&client, &target, &opts, &ui))?;
                eprintln!(
                    "installed {} {} ({} file(s), {} downloaded, {} from the cache)",
                    report.entry.repo,
                    report.entry.version,
                    report.entry.files.len(),
                    HumanBytes(report.transferred),
                    report.cached_files
                );
                if !args.json {
                    println!(
                        "{} {} {}",
                        report.entry.repo, report.entry.version, report.entry.commit
                    );
                }
                installed.push(report.entry.repo.clone());
                entries.push(serde_json::to_value(&report.entry).expect("JSON"));
            }
            Target::Group(target, glock) => {
                let opts = options(&args, consent, None, preflight.clone(), &trust);
                let report = rt.block_on(igroup::install_group(
                    &client,
                    &target,
                    &opts,
                    glock.as_ref(),
                    &ui,
                ))?;
                eprintln!(
                    "installed group {} {}: {} member(s), {} distinct file(s), {} downloaded, {} from the cache",
                    report.group.repo,
                    report.group.version,
                    report.members.len(),
                    report.files,
                    HumanBytes(report.transferred),
                    report.cached_files
                );
                for d in &report.dropped {
                    eprintln!(
                        "  removed {} {} (the group no longer needs it)",
                        d.repo, d.version
                    );
                }
                if !args.json {
                    println!(
                        "{} {} {}",
                        report.group.repo, report.group.version, report.group.commit
                    );
                    for m in &report.members {
                        println!("  {} {} {}", m.repo, m.version, m.commit);
                    }
                }
                installed.extend(report.members.iter().map(|m| m.repo.clone()));
                entries.push(serde_json::json!({
                    "group": report.group,
                    "members": report.members,
                }));
            }
        }
    }
    let mut outcome = Outcome::Success;
    if !args.harnesses.is_empty() {
        let reg = rskill::registry::load()?;
        let changes = harness::sync(
            &reg,
            &record,
            &harness::SyncRequest {
                harnesses: &args.harnesses,
                base: &base,
                global: args.global,
                only: Some(&installed),
                remove_others: false,
                dry_run: false,
            },
        )
        .map_err(|e| CliError::new(e.to_string()))?;
        for c in &changes {
            eprintln!(
                "{} {}: {} ({})",
                c.harness,
                c.action,
                c.path.display(),
                c.skill
            );
            if c.is_conflict() {
                outcome = Outcome::Failure;
            }
        }
    }
    if args.json {
        let value = if entries.len() == 1 {
            entries.remove(0)
        } else {
            serde_json::Value::Array(entries)
        };
        println!("{}", serde_json::to_string_pretty(&value).expect("JSON"));
    }
    Ok(outcome)
}

enum Target {
    Skill(
        id::InstallId,
        Option<rskill::install::lockfile::LockedSkill>,
    ),
    Group(id::InstallId, Option<GroupLock>),
}

fn options(
    args: &Args,
    consent: Consent,
    locked: Option<rskill::install::lockfile::LockedSkill>,
    preflight: Preflight,
    trust: &rskill::trust::Policy,
) -> InstallOptions {
    InstallOptions {
        consent,
        no_smoke: args.no_smoke,
        verify: args.verify,
        registry_path: None,
        locked,
        allow_deleted: args.allow_deleted,
        allow_expired: args.allow_expired.clone(),
        trust: trust.clone(),
        scan: args.scan,
        preflight,
    }
}

/// What a harness conflict means, for a person.
pub fn conflict_text(action: &str) -> &'static str {
    match action {
        "not-written-by-rskill" => {
            "a folder rskill did not write; left alone (move it away to let rskill write there)"
        }
        "edited-by-hand" => {
            "edited by hand since rskill wrote it; left alone (move it away, or `rskill harness remove` after restoring it)"
        }
        "name-taken" => "another skill already has this harness name",
        _ => "",
    }
}

pub(crate) fn known_ids(client: &rskill_hub_client::HubClient) -> Vec<String> {
    let registered: Vec<String> = rskill::registry::load()
        .map(|r| r.skills.keys().cloned().collect())
        .unwrap_or_default();
    id::known_ids(&client.env().hub_cache, &registered)
}
