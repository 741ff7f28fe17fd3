//! `rskill list`, `rskill uninstall`, `rskill info` and `rskill lock`: reading and
//! changing the installed-skills registry.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use rskill::cli::{CliError, Outcome, hub_client, runtime};
use rskill::install;
use rskill::install::lockfile::{LOCKFILE, LockedSkill, Lockfile};
use rskill::registry::{self, InstalledSkill};

use indicatif::HumanBytes;

#[derive(clap::Args)]
pub struct ListArgs {
    /// Print `{installed: [...], in_tree: [...]}`
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct UninstallArgs {
    /// The installed skill (org/name)
    id: String,
    /// Also delete cached blobs that no other installed skill uses
    #[arg(long)]
    purge: bool,
}

#[derive(clap::Args)]
pub struct InfoArgs {
    /// The skill (org/name)
    id: String,
    #[arg(long)]
    json: bool,
    /// Hub token, for skills that are not installed
    #[arg(long)]
    token: Option<String>,
}

#[derive(clap::Args)]
pub struct LockArgs {
    /// Installed skills to lock [default: all]
    ids: Vec<String>,
    /// Where to write
    #[arg(long, default_value = LOCKFILE)]
    output: PathBuf,
}

pub fn list(args: ListArgs) -> Result<Outcome, CliError> {
    let reg = registry::load()?;
    let in_tree = in_tree_skills();
    if args.json {
        let installed: Vec<&InstalledSkill> = reg.skills.values().collect();
        let tree: Vec<serde_json::Value> = in_tree
            .iter()
            .map(|(path, name, version, valid)| {
                serde_json::json!({"path": path, "name": name, "version": version, "valid": valid})
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"installed": installed, "in_tree": tree})
            )
            .expect("JSON")
        );
        return Ok(Outcome::Success);
    }
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED);
    table.set_header(vec![
        "installed skill",
        "version",
        "commit",
        "kind",
        "license",
        "installed at",
    ]);
    for s in reg.skills.values() {
        table.add_row(vec![
            s.repo.clone(),
            s.version.clone(),
            s.commit[..s.commit.len().min(10)].to_string(),
            s.kind.clone(),
            s.license.clone(),
            s.installed_at.clone(),
        ]);
    }
    if reg.skills.is_empty() {
        eprintln!("no skill installed (rskill install <org>/<name>)");
    } else {
        println!("{table}");
    }
    if !in_tree.is_empty() {
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(vec!["in-tree skill (rskills/)", "version", "valid"]);
        for (_, name, version, valid) in &in_tree {
            t.add_row(vec![
                name.clone(),
                version.clone(),
                if *valid { "yes" } else { "NO" }.into(),
            ]);
        }
        println!("{t}");
    }
    Ok(Outcome::Success)
}

/// The corpus under `./rskills`, when run inside a checkout that has one.
fn in_tree_skills() -> Vec<(PathBuf, String, String, bool)> {
    let Ok(manifests) =
        rskill_manifest::corpus::discover(Path::new(rskill_manifest::corpus::DEFAULT_CORPUS))
    else {
        return Vec::new();
    };
    manifests
        .into_iter()
        .map(|p| {
            let check = rskill_manifest::validate::check_file(&p);
            let version = check
                .manifest
                .as_ref()
                .map(|m| m.version.clone())
                .unwrap_or_default();
            let name = check
                .name
                .clone()
                .unwrap_or_else(|| p.display().to_string());
            let valid = check.is_valid();
            (p, name, version, valid)
        })
        .collect()
}

pub fn uninstall(args: UninstallArgs) -> Result<Outcome, CliError> {
    if registry::load()?.groups.contains_key(&args.id) {
        let done = install::uninstall::uninstall_group(&args.id, args.purge, None)?
            .ok_or_else(|| CliError::new(format!("{} is not installed", args.id)))?;
        eprintln!(
            "uninstalled group {} {}",
            done.group.repo, done.group.version
        );
        for e in &done.removed {
            eprintln!("  removed {} {}", e.repo, e.version);
        }
        for (repo, why) in &done.kept {
            eprintln!("  kept {repo} ({why})");
        }
        if args.purge {
            eprintln!(
                "purged {} of cached blobs no other install uses",
                HumanBytes(done.freed)
            );
        }
        eprintln!("harness folders follow with `rskill harness sync`");
        return Ok(Outcome::Success);
    }
    let Some(done) = install::uninstall::uninstall(&args.id, args.purge, None)? else {
        return Err(CliError::new(format!("{} is not installed", args.id))
            .hint("`rskill list` shows what is"));
    };
    if !done.kept_for.is_empty() {
        eprintln!(
            "{} stays installed: {} need(s) it (uninstall the group to remove it)",
            done.entry.repo,
            done.kept_for.join(", ")
        );
        return Ok(Outcome::Success);
    }
    eprintln!("uninstalled {} {}", done.entry.repo, done.entry.version);
    if args.purge {
        eprintln!(
            "purged {} of cached blobs no other install uses",
            HumanBytes(done.freed)
        );
    }
    Ok(Outcome::Success)
}

/// The skill's governance state from the Hub (offline, or the Hub unreachable: this
/// machine's last copy). A failure to reach it is said on stderr and leaves the rest of
/// `info` alone; a state refused (rolled back, tampered, expired …) is said too, and
/// makes `info` fail: the versions it would show are not to be believed.
fn governance(
    client: &rskill_hub_client::HubClient,
    repo: &rskill_hub_client::RepoId,
) -> (Option<rskill::lifecycle::SkillState>, bool) {
    use rskill::lifecycle::LifecycleError;
    let seen = match rskill::lifecycle::Seen::for_this_machine() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: governance state not checked: {e}");
            return (None, false);
        }
    };
    let Ok(rt) = runtime() else {
        return (None, true);
    };
    match rt.block_on(rskill::lifecycle::remote::read(client, &seen, repo)) {
        Ok(s) => {
            s.notes.iter().for_each(|n| eprintln!("{n}"));
            (Some(s), true)
        }
        Err(e @ LifecycleError::Hub(_)) => match seen.remembered(repo) {
            Some(r) => {
                eprintln!(
                    "versions from this machine's copy of {} ({e})",
                    r.fetched_at
                );
                (Some(r.state), true)
            }
            None => {
                eprintln!("versions unknown: {e}");
                (None, true)
            }
        },
        Err(e) => {
            eprintln!("error: governance state refused: {e}");
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
            (None, false)
        }
    }
}

pub fn info(args: InfoArgs) -> Result<Outcome, CliError> {
    let reg = registry::load()?;
    if let Some(s) = reg.skills.get(&args.id) {
        let (gov, trusted) = match (hub_client(args.token.as_deref()), s.repo.parse()) {
            (Ok(client), Ok(repo)) => governance(&client, &repo),
            _ => (None, true),
        };
        if args.json {
            let mut v = serde_json::to_value(s).expect("JSON");
            if let Some(g) = &gov {
                v["governance"] = super::governance_cmd::versions_json(g);
            }
            println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        } else {
            println!("{} {} (installed {})", s.repo, s.version, s.installed_at);
            println!(
                "  commit:   {} (asked for {})",
                s.commit, s.revision_requested
            );
            println!("  kind:     {}", s.kind);
            println!("  license:  {}", s.license);
            if let Some(w) = &s.weights {
                println!("  weights:  {}@{}", w.repo, w.commit);
            }
            let sig = &s.signature;
            println!(
                "  signed:   {}",
                match (sig.signed, sig.verified) {
                    (false, _) => "no".to_string(),
                    (true, false) => format!(
                        "yes, NOT verified (key {})",
                        sig.key_id.as_deref().unwrap_or("unknown")
                    ),
                    (true, true) => format!(
                        "verified, key {}{}{}",
                        sig.key_id.as_deref().unwrap_or(""),
                        sig.key_name
                            .as_deref()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default(),
                        if sig.weights_locked {
                            ", weights locked"
                        } else {
                            ""
                        }
                    ),
                }
            );
            if !sig.unpinned.is_empty() {
                println!("  unpinned: {} (no signed digest)", sig.unpinned.join(", "));
            }
            if !sig.left_out.is_empty() {
                println!(
                    "  left out: {} (not covered by the signature)",
                    sig.left_out.join(", ")
                );
            }
            if let Some(st) = &s.smoke.safetensors {
                println!("  smoke:    {st}");
            }
            if let Some(o) = &s.smoke.onnx {
                println!("  smoke:    {o}");
            }
            for f in &s.files {
                println!(
                    "  file:     {}:{} {} B sha256 {}",
                    f.repo, f.path, f.size, f.sha256
                );
            }
            if let Some(g) = &gov {
                super::governance_cmd::versions_lines(g)
                    .iter()
                    .for_each(|l| println!("{l}"));
            }
        }
        return Ok(Outcome::from_ok(trusted));
    }
    // Not installed: describe it from the Hub.
    let repo: rskill_hub_client::RepoId = args.id.parse().map_err(|e: String| {
        CliError::usage(e)
            .hint("an id is org/name, e.g. rskill-project/rskill-act-aloha-transfer-cube")
    })?;
    let client = hub_client(args.token.as_deref())?;
    let (gov, trusted) = governance(&client, &repo);
    let manifest = runtime()?.block_on(async {
        let info = client.repo_info(&repo, None).await?;
        let bytes = client
            .read_file_cached(
                &repo,
                &info.sha,
                &rskill_hub_client::ids::RepoPath::manifest(),
            )
            .await?;
        Ok::<_, rskill_hub_client::HubError>(String::from_utf8_lossy(&bytes).into_owned())
    })?;
    let m = rskill_manifest::validate::parse_valid(&manifest).map_err(|v| {
        CliError::new(format!(
            "{} has an invalid manifest ({} problem(s))",
            repo,
            v.len()
        ))
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "installed": false,
                "manifest": m,
                "governance": gov.as_ref().map(super::governance_cmd::versions_json),
            }))
            .expect("JSON")
        );
    } else {
        println!("{} {} (not installed)", m.name, m.version);
        println!("  kind:     {} ({})", m.kind, m.role);
        println!("  license:  {}", m.license);
        println!(
            "  robots:   {}",
            m.embodiment_tags
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "  weights:  {}",
            m.weights_uri.as_deref().unwrap_or("(none)")
        );
        println!("  {}", m.description.trim());
        if let Some(g) = &gov {
            super::governance_cmd::versions_lines(g)
                .iter()
                .for_each(|l| println!("{l}"));
        }
        if std::io::stderr().is_terminal() {
            eprintln!("install it with: rskill install {}", m.name);
        }
    }
    Ok(Outcome::from_ok(trusted))
}

pub fn lock(args: LockArgs) -> Result<Outcome, CliError> {
    let reg = registry::load()?;
    let mut skills: Vec<LockedSkill> = Vec::new();
    if args.ids.is_empty() {
        for s in reg.skills.values() {
            skills.push(LockedSkill::from_installed(s).map_err(CliError::new)?);
        }
    } else {
        for id in args.ids.iter().filter(|i| !reg.groups.contains_key(*i)) {
            let s = reg.skills.get(id).ok_or_else(|| {
                CliError::new(format!("{id} is not installed"))
                    .hint(format!("rskill install {id} first"))
            })?;
            skills.push(LockedSkill::from_installed(s).map_err(CliError::new)?);
        }
    }
    let mut groups = Vec::new();
    for g in reg.groups.values() {
        if !args.ids.is_empty() && !args.ids.contains(&g.repo) {
            continue;
        }
        for m in &g.members {
            if !skills.iter().any(|s| s.repo == m.repo)
                && let Some(s) = reg.skills.get(&m.repo)
            {
                skills.push(LockedSkill::from_installed(s).map_err(CliError::new)?);
            }
        }
        groups.push(
            rskill::install::lockfile::LockedGroup::from_installed(g).map_err(CliError::new)?,
        );
    }
    if skills.is_empty() {
        return Err(CliError::new("nothing to lock: no skill is installed"));
    }
    let count = skills.len();
    Lockfile::new(skills)
        .with_groups(groups)
        .write(&args.output)
        .map_err(|e| CliError::new(format!("cannot write {}: {e}", args.output.display())))?;
    eprintln!("locked {count} skill(s) in {}", args.output.display());
    Ok(Outcome::Success)
}
