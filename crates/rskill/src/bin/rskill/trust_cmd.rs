//! `rskill trust add|list|remove` (the trust policy) and `rskill verify PATH|ID`.

use std::path::PathBuf;

use clap::Subcommand;
use rskill::cli::{CliError, Outcome, hub_client, runtime};
use rskill::trust::{Mode, PROJECT_TRUST_FILE, Policy, Role, TrustFile};
use rskill::verify::{self, VerifyReport};
use rskill_signing::PublicKey;

#[derive(clap::Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    command: TrustCommand,
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Trust a publisher's public key for an org (several keys per org: rotation)
    Add {
        /// The org whose skills the key signs
        org: String,
        /// The public key (PEM, P-256)
        #[arg(long, value_name = "PUB.pem")]
        key: PathBuf,
        /// A name for the key (shown by install and info)
        #[arg(long)]
        name: Option<String>,
        /// require: unsigned or unverifiable skills are refused; warn: installed with a warning
        #[arg(long, value_enum, default_value = "require")]
        mode: ModeArg,
        /// What the key may sign: skills (model.sig, the default), governance
        /// (rskill.registry.sig: releases, statuses, aliases, scans), or both
        /// (`--role skills --role governance`, or `--role skills,governance`)
        #[arg(long, value_delimiter = ',', value_name = "ROLE")]
        role: Vec<Role>,
        /// Write the project's policy file (./rskill-trust.json) instead of the data dir's
        #[arg(long)]
        project: bool,
    },
    /// Show the trust policy in force (data dir and project)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Require a recorded clean scan of the exact commit for an org's installs
    /// (`rskill-publisher scan ID@VERSION --record`), or stop requiring it
    ScanPolicy {
        /// The org
        org: String,
        /// require or off
        #[arg(value_enum)]
        setting: ScanSetting,
        /// Write the project's policy file (./rskill-trust.json) instead of the data dir's
        #[arg(long)]
        project: bool,
    },
    /// Stop trusting a key (by id, id prefix or name), or a whole org
    Remove {
        org: String,
        /// The key id (or a prefix of it) or name; all of the org's keys when absent
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        project: bool,
    },
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum ScanSetting {
    Require,
    Off,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Require,
    Warn,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A skill folder, or a skill on the Hub (org/name[@rev])
    target: String,
    /// Also trust this public key (PEM) for the skill's org
    #[arg(long, value_name = "PUB.pem")]
    key: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    token: Option<String>,
}

fn policy_file(project: bool) -> Result<PathBuf, CliError> {
    if project {
        return Ok(PathBuf::from(PROJECT_TRUST_FILE));
    }
    rskill::trust::user_file().map_err(|e| CliError::new(e.to_string()))
}

fn load(path: &std::path::Path) -> Result<TrustFile, CliError> {
    TrustFile::load(path).map_err(|e| CliError::new(e.to_string()).hint("fix or remove that file"))
}

pub fn trust(args: TrustArgs) -> Result<Outcome, CliError> {
    match args.command {
        TrustCommand::Add {
            org,
            key,
            name,
            mode,
            role,
            project,
        } => {
            if org.is_empty() || org.contains('/') {
                return Err(CliError::usage(format!("{org:?} is not an org"))
                    .hint("name the org only, e.g. rskill-project"));
            }
            let public = PublicKey::read(&key).map_err(|e| {
                let hint = e.hint();
                CliError::usage(e.to_string()).hint(hint)
            })?;
            let path = policy_file(project)?;
            let mut file = load(&path)?;
            let mode = match mode {
                ModeArg::Require => Mode::Require,
                ModeArg::Warn => Mode::Warn,
            };
            let roles: std::collections::BTreeSet<Role> = if role.is_empty() {
                [Role::Skills].into()
            } else {
                role.into_iter().collect()
            };
            file.add(&org, &public, name, mode, &roles);
            file.save(&path).map_err(|e| CliError::new(e.to_string()))?;
            let roles: Vec<String> = roles.iter().map(Role::to_string).collect();
            eprintln!(
                "{org}: trusting key {} for {} ({mode}) in {}",
                public.id(),
                roles.join(" and "),
                path.display()
            );
            println!("{}", public.id());
            Ok(Outcome::Success)
        }
        TrustCommand::ScanPolicy {
            org,
            setting,
            project,
        } => {
            if org.is_empty() || org.contains('/') {
                return Err(CliError::usage(format!("{org:?} is not an org"))
                    .hint("name the org only, e.g. rskill-project"));
            }
            let path = policy_file(project)?;
            let mut file = load(&path)?;
            let required = setting == ScanSetting::Require;
            if file.set_scan_required(&org, required) {
                file.save(&path).map_err(|e| CliError::new(e.to_string()))?;
            }
            eprintln!(
                "{org}: {} in {}",
                if required {
                    "installs need a recorded clean scan of the commit installed"
                } else {
                    "no recorded scan required"
                },
                path.display()
            );
            Ok(Outcome::Success)
        }
        TrustCommand::List { json } => {
            let policy = Policy::load().map_err(|e| CliError::new(e.to_string()))?;
            if json {
                let orgs: serde_json::Value = policy
                    .orgs
                    .iter()
                    .map(|(org, p)| {
                        let keys: Vec<_> = p
                            .keys
                            .iter()
                            .map(|k| serde_json::json!({"id": k.id, "name": k.name, "roles": k.roles}))
                            .collect();
                        (
                            org.clone(),
                            serde_json::json!({"mode": p.mode, "keys": keys}),
                        )
                    })
                    .collect::<serde_json::Map<_, _>>()
                    .into();
                let out = serde_json::json!({"require_all": policy.require_all, "orgs": orgs, "scan_required": policy.scan_required});
                println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
            } else {
                if policy.require_all {
                    println!(
                        "{}=1: unsigned skills are refused for every org",
                        rskill::trust::REQUIRE_ENV
                    );
                }
                for org in &policy.scan_required {
                    println!("{org}\tscan-policy\trequire");
                }
                for (org, p) in &policy.orgs {
                    for k in &p.keys {
                        let roles: Vec<String> = k.roles.iter().map(|r| r.to_string()).collect();
                        println!(
                            "{org}\t{}\t{}\t{}\t{}",
                            p.mode,
                            k.id,
                            roles.join(","),
                            k.name.as_deref().unwrap_or("")
                        );
                    }
                }
            }
            Ok(Outcome::Success)
        }
        TrustCommand::Remove { org, key, project } => {
            let path = policy_file(project)?;
            let mut file = load(&path)?;
            let n = file.remove(&org, key.as_deref());
            if n == 0 {
                return Err(CliError::new(format!(
                    "{}: no trusted key of {org}{} there",
                    path.display(),
                    key.map(|k| format!(" matching {k}")).unwrap_or_default()
                ))
                .hint("see `rskill trust list`"));
            }
            file.save(&path).map_err(|e| CliError::new(e.to_string()))?;
            eprintln!("{org}: removed {n} key(s) from {}", path.display());
            Ok(Outcome::Success)
        }
    }
}

pub fn verify(args: VerifyArgs) -> Result<Outcome, CliError> {
    let mut extra = Vec::new();
    for k in &args.key {
        extra.push(PublicKey::read(k).map_err(|e| CliError::usage(e.to_string()).hint(e.hint()))?);
    }
    let policy = Policy::load().map_err(|e| CliError::new(e.to_string()))?;
    let path = std::path::Path::new(&args.target);
    let report = if path.is_dir() {
        verify::verify_folder(path, &policy, &extra)
    } else {
        let (id, rev) = match args.target.split_once('@') {
            Some((i, r)) => (i, Some(r.to_string())),
            None => (args.target.as_str(), None),
        };
        let repo: rskill_hub_client::RepoId = id.parse().map_err(|e: String| {
            CliError::usage(format!(
                "{}: neither a folder nor a skill id: {e}",
                args.target
            ))
            .hint("rskill verify rskills/<slug> or rskill verify org/name[@rev]")
        })?;
        let client = hub_client(args.token.as_deref())?;
        runtime()?.block_on(verify::verify_hub(
            &client,
            &repo,
            rev.as_deref(),
            &policy,
            &extra,
        ))?
    };
    render(&report, args.json);
    Ok(Outcome::from_ok(report.ok))
}

fn render(r: &VerifyReport, json: bool) {
    if json {
        println!("{}", serde_json::to_string_pretty(r).expect("JSON"));
        return;
    }
    if r.ok {
        println!(
            "{}: verified, key {}{}, {} file(s){}{}",
            r.target,
            r.signature.key_id.as_deref().unwrap_or(""),
            r.signature
                .key_name
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default(),
            r.files,
            if r.signature.weights_locked {
                format!(", weights locked ({} file(s))", r.weight_files)
            } else {
                String::new()
            },
            if r.processor_files > 0 {
                format!(", processors pinned ({} file(s))", r.processor_files)
            } else {
                String::new()
            }
        );
    } else {
        println!("{}: NOT verified", r.target);
        for p in &r.problems {
            println!("  {p}");
        }
    }
}
