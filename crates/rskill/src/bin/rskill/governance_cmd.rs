//! `rskill history ID [--alias A]`, `rskill audit`, and the versions block of `rskill
//! info`: reading a skill's governance state (statuses, aliases, history) and checking
//! installed skills against it.

use rskill::cli::{CliError, Outcome, event_line, hub_client, parse_repo, runtime};
use rskill::lifecycle::audit::{self, Verdict};
use rskill::lifecycle::{Seen, SkillState, remote};

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// The skill (org/name)
    id: String,
    /// Only the events of this alias
    #[arg(long)]
    alias: Option<String>,
    #[arg(long)]
    json: bool,
    #[arg(long)]
    token: Option<String>,
}

#[derive(clap::Args)]
pub struct AuditArgs {
    #[arg(long)]
    json: bool,
    #[arg(long)]
    token: Option<String>,
}

/// `rskill history`: the events, checked against the commit log of `main`.
pub fn history(args: HistoryArgs) -> Result<Outcome, CliError> {
    let repo = parse_repo(&args.id)?;
    let client = hub_client(args.token.as_deref())?;
    let seen = Seen::for_this_machine().map_err(|e| CliError::new(e.to_string()))?;
    let (state, log) = runtime()?.block_on(async {
        let state = remote::read(&client, &seen, &repo).await?;
        let log = remote::commit_log(&client, &repo).await;
        Ok::<_, rskill::lifecycle::LifecycleError>((state, log))
    })?;
    let mut problems = state.problems.clone();
    match &log {
        Ok(log) => problems.extend(remote::corroborate(&state.registry.history, log)),
        Err(e) => problems.push(format!(
            "the commit log could not be read to corroborate: {e}"
        )),
    }
    let events: Vec<_> = match &args.alias {
        Some(a) => state.registry.alias_history(a),
        None => state.registry.history.iter().collect(),
    };
    if args.json {
        let v = serde_json::json!({
            "repo": repo.as_str(),
            "main": state.main.as_str(),
            "alias": args.alias,
            "events": events,
            "problems": problems,
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
    } else {
        for e in &events {
            println!("{}", event_line(e));
        }
        if events.is_empty() {
            eprintln!(
                "{repo}: no governance events{}",
                args.alias
                    .as_deref()
                    .map(|a| format!(" for alias `{a}`"))
                    .unwrap_or_default()
            );
        }
        for p in &problems {
            eprintln!("problem: {p}");
        }
    }
    Ok(Outcome::from_ok(problems.is_empty()))
}

/// The versions block of `rskill info`, as JSON.
pub fn versions_json(state: &SkillState) -> serde_json::Value {
    let versions: Vec<_> = state
        .tags
        .iter()
        .rev()
        .map(|(v, c)| {
            serde_json::json!({
                "version": v.to_string(),
                "status": state.registry.status_of(v),
                "commit": c.as_str(),
                "aliases": state.registry.aliases_of(v),
                "scan": state.registry.scan_of(c.as_str()).map(|r| serde_json::json!({
                    "status": r.status(),
                    "record": r,
                    "records": r.records(),
                })),
            })
        })
        .collect();
    serde_json::json!({
        "versions": versions,
        "aliases": state.registry.aliases.iter().map(|(a, v)| (a.clone(), v.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
        "latest": state.resolve_alias("latest").map(|v| v.to_string()),
        "history_events": state.registry.history.len(),
        "problems": state.problems,
        "signature": signature_json(state),
    })
}

/// The governance signature as `info` and `history` show it.
fn signature_json(state: &SkillState) -> serde_json::Value {
    use rskill::lifecycle::signed::Authenticity;
    match &state.authenticity {
        Authenticity::Verified {
            state: s,
            key_id,
            key_name,
        } => serde_json::json!({
            "status": "verified",
            "version": s.version,
            "expires": s.expires,
            "key_id": key_id,
            "key_name": key_name,
        }),
        Authenticity::Unverified { key_id, reason } => serde_json::json!({
            "status": "unverified",
            "key_id": key_id,
            "reason": reason,
        }),
        Authenticity::Unsigned => serde_json::json!({"status": "unsigned"}),
    }
}

/// The versions block of `rskill info`, as lines.
pub fn versions_lines(state: &SkillState) -> Vec<String> {
    let latest = state.resolve_alias("latest");
    let mut out = vec![match state.authenticity.verified() {
        Some(s) => format!(
            "  governance: signed, verified (state version {}, valid until {})",
            s.version, s.expires
        ),
        None => format!("  governance: {}", state.authenticity.label()),
    }];
    for (v, c) in state.tags.iter().rev() {
        let mut aliases = state.registry.aliases_of(v);
        if latest.as_ref() == Some(v) && !aliases.iter().any(|a| a == "latest") {
            aliases.push("latest".into());
        }
        out.push(format!(
            "  version:  {v:<12} {:<10} {}{}",
            state.registry.status_of(v).as_str(),
            &c.as_str()[..10],
            if aliases.is_empty() {
                String::new()
            } else {
                format!("  <- {}", aliases.join(", "))
            }
        ));
        match state.registry.scan_of(c.as_str()) {
            Some(r) => {
                let types: Vec<String> = r
                    .types
                    .iter()
                    .map(|(t, tr)| format!("{t}={}", tr.status))
                    .collect();
                out.push(format!(
                    "    scan:   {} by {} {} at {} ({})",
                    r.status(),
                    r.scanner,
                    r.version,
                    r.time,
                    types.join(", ")
                ));
            }
            None => out.push("    scan:   not recorded".into()),
        }
    }
    if state.tags.is_empty() {
        out.push("  version:  (no version tags: installs follow main)".into());
    }
    for p in &state.problems {
        out.push(format!("  problem:  {p}"));
    }
    out
}

/// `rskill audit`: exit 1 when an installed skill is deleted or cannot be checked.
pub fn audit(args: AuditArgs) -> Result<Outcome, CliError> {
    let reg = rskill::registry::load()?;
    let installed: Vec<_> = reg.skills.values().cloned().collect();
    let client = hub_client(args.token.as_deref())?;
    let seen = Seen::for_this_machine().map_err(|e| CliError::new(e.to_string()))?;
    let rows = runtime()?.block_on(audit::audit(&client, &seen, &installed));
    let worst = rows.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Ok);
    if args.json {
        let v = serde_json::json!({"skills": rows, "verdict": worst});
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
    } else {
        for r in &rows {
            let status = r.status.map_or("unknown".to_string(), |s| s.to_string());
            let mut line = format!(
                "{:<5} {} {} {status}",
                match r.verdict {
                    Verdict::Ok => "ok",
                    Verdict::Warn => "WARN",
                    Verdict::Fail => "FAIL",
                },
                r.repo,
                r.version
            );
            if let Some(at) = &r.status_at_install
                && at != &status
            {
                line.push_str(&format!(" (was {at} at install)"));
            }
            if let Some(a) = &r.alias {
                if r.alias_moved {
                    line.push_str(&format!(
                        "; installed as @{a}, which now points to {}",
                        r.alias_now.as_deref().unwrap_or("nothing")
                    ));
                } else {
                    line.push_str(&format!("; @{a}"));
                }
            }
            if let Some(reason) = &r.reason {
                line.push_str(&format!("; {reason}"));
            }
            match (r.source, r.age_seconds) {
                ("cache", Some(age)) => line.push_str(&format!(
                    "; from this machine's copy of {} ({} old)",
                    r.checked_at.as_deref().unwrap_or("?"),
                    humantime::format_duration(std::time::Duration::from_secs(age))
                )),
                ("none", _) => line.push_str("; no answer"),
                _ => {}
            }
            println!("{line}");
            for n in &r.notes {
                eprintln!("  {}: {n}", r.repo);
            }
        }
        eprintln!(
            "audit: {} installed skill(s), {} ok, {} warning(s), {} failing",
            rows.len(),
            rows.iter().filter(|r| r.verdict == Verdict::Ok).count(),
            rows.iter().filter(|r| r.verdict == Verdict::Warn).count(),
            rows.iter().filter(|r| r.verdict == Verdict::Fail).count()
        );
    }
    Ok(Outcome::from_ok(worst != Verdict::Fail))
}
