//! `rskill install ID[@rev]` (and `--locked`): the terminal side of the install flow —
//! progress bars on stderr (hidden without a terminal), the confirmation prompt, the
//! summary on stdout or `--json`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rskill::cli::{CliError, Outcome, hub_client, runtime};
use rskill::install::guard::Consent;
use rskill::install::lockfile::{LOCKFILE, Lockfile};
use rskill::install::{self, InstallOptions, InstallUi, id};

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
    /// The lockfile to use with --locked
    #[arg(long, default_value = LOCKFILE)]
    lockfile: PathBuf,
    /// Print the registry entry as JSON
    #[arg(long)]
    json: bool,
    /// Hub token (else HF_TOKEN, HF_TOKEN_PATH, $HF_HOME/token)
    #[arg(long)]
    token: Option<String>,
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
    let client = hub_client(args.token.as_deref())?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let consent = Consent::from_flags(args.non_commercial, args.yes, interactive);
    let ui = TerminalUi {
        bar: std::sync::Mutex::new(None),
        show_progress: std::io::stderr().is_terminal() && !client.env().disable_progress_bars,
    };

    // Targets: the lockfile's skills, or the one id given.
    let mut targets = Vec::new();
    if args.locked {
        let lock = Lockfile::read(&args.lockfile)
            .map_err(|e| CliError::new(e).hint("create one with `rskill lock`"))?;
        for (parsed, skill) in lock
            .targets(args.id.as_deref())
            .map_err(|e| CliError::new(e.to_string()))?
        {
            targets.push((parsed, Some(skill)));
        }
        if targets.is_empty() {
            return Err(CliError::new(format!(
                "{} pins no skill{}",
                args.lockfile.display(),
                args.id.map(|i| format!(" named {i}")).unwrap_or_default()
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
        if let Some(rev) = args.revision {
            parsed.revision = Some(rev);
        }
        targets.push((parsed, None));
    }

    let trust = rskill::trust::Policy::load().map_err(|e| {
        CliError::new(e.to_string())
            .hint("fix or remove the trust policy file (`rskill trust list`)")
    })?;
    let rt = runtime()?;
    let mut reports = Vec::new();
    for (target, locked) in targets {
        let opts = InstallOptions {
            consent,
            no_smoke: args.no_smoke,
            verify: args.verify,
            registry_path: None,
            locked,
            allow_deleted: args.allow_deleted,
            trust: trust.clone(),
            scan: args.scan,
        };
        let report = rt.block_on(install::install(&client, &target, &opts, &ui))?;
        eprintln!(
            "installed {} {} ({} file(s), {} downloaded, {} from the cache)",
            report.entry.repo,
            report.entry.version,
            report.entry.files.len(),
            HumanBytes(report.transferred),
            report.cached_files
        );
        reports.push(report);
    }
    if args.json {
        let entries: Vec<_> = reports.iter().map(|r| &r.entry).collect();
        let value = if entries.len() == 1 {
            serde_json::to_value(entries[0])
        } else {
            serde_json::to_value(&entries)
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&value.expect("JSON")).expect("JSON")
        );
    } else {
        for r in &reports {
            println!("{} {} {}", r.entry.repo, r.entry.version, r.entry.commit);
        }
    }
    Ok(Outcome::Success)
}

pub(crate) fn known_ids(client: &rskill_hub_client::HubClient) -> Vec<String> {
    let registered: Vec<String> = rskill::registry::load()
        .map(|r| r.skills.keys().cloned().collect())
        .unwrap_or_default();
    id::known_ids(&client.env().hub_cache, &registered)
}
