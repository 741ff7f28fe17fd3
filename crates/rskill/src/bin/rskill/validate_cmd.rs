//! `rskill validate [PATH…] [--json]`: schema + rules + card checks, one report per skill,
//! and the group files (`rskill-group.yaml`: schema + group rules) found in the paths
//! (by default `rskills/` and `groups/`).

use std::io::IsTerminal;
use std::path::PathBuf;

use rskill_manifest::group;
use rskill_manifest::skill::{self, CheckOptions, Finding, SkillReport};

use rskill::cli::{CliError, Outcome, paint, use_color};

#[derive(clap::Args)]
pub struct Args {
    /// Skill directories, rskill.yaml files, corpus directories, group folders or
    /// rskill-group.yaml files [default: rskills/ and groups/]
    paths: Vec<PathBuf>,
    /// Print `[{path, name, valid, errors:[{file, field, message, rule, line, column}], warnings:[…]}]`
    #[arg(long)]
    json: bool,
    /// Check the manifest only (no model card, tags, SKILL.md or eval checks)
    #[arg(long)]
    manifest_only: bool,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    // Group files are checked where they are found; the other paths hold skills.
    let defaulted = args.paths.is_empty();
    let mut group_files = Vec::new();
    let mut skill_paths = Vec::new();
    for p in rskill_manifest::corpus::paths_or_default(args.paths) {
        let found = group::discover(&p);
        if found.is_empty() {
            skill_paths.push(p);
        } else {
            group_files.extend(found);
        }
    }
    if defaulted {
        group_files.extend(group::discover(std::path::Path::new(
            group::DEFAULT_GROUPS_DIR,
        )));
    }
    let manifests = if skill_paths.is_empty() {
        Vec::new()
    } else {
        rskill_manifest::corpus::discover_all(&skill_paths)?
    };
    let opts = CheckOptions {
        manifest_only: args.manifest_only,
    };
    let mut reports: Vec<SkillReport> = manifests.iter().map(|m| skill::check(m, opts)).collect();
    reports.extend(group_files.iter().map(|p| group_report(p)));
    if args.json {
        print_json(&reports);
    } else {
        print_text(&reports, group_files.len());
    }
    let all_valid = reports.iter().all(SkillReport::is_valid);
    Ok(if all_valid {
        Outcome::Success
    } else {
        Outcome::Failure
    })
}

/// A group file's check, in the report shape of a skill (rule named in each message).
fn group_report(path: &std::path::Path) -> SkillReport {
    let check = group::check_file(path);
    SkillReport {
        path: path.to_path_buf(),
        name: check.group.as_ref().map(|g| g.name.clone()),
        manifest: None,
        findings: check
            .violations
            .into_iter()
            .map(|mut v| {
                v.message = format!("{} [{}]", v.message, v.rule);
                Finding {
                    file: path.to_path_buf(),
                    violation: v,
                }
            })
            .collect(),
        warnings: Vec::new(),
    }
}

fn print_json(reports: &[SkillReport]) {
    let items: Vec<serde_json::Value> = reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "path": r.path,
                "name": r.name,
                "valid": r.is_valid(),
                "errors": r.findings,
                "warnings": r.warnings,
            })
        })
        .collect();
    println!("{}", serde_json::to_string_pretty(&items).expect("JSON"));
}

fn print_text(reports: &[SkillReport], groups: usize) {
    let color = use_color(std::io::stdout().is_terminal());
    for r in reports {
        let name = r.name.as_deref().unwrap_or("(no name)");
        if r.is_valid() {
            println!(
                "{} {name}  {}",
                paint("ok     ", "32", color),
                r.path.display()
            );
        } else {
            println!(
                "{} {name}  {} ({} problem{})",
                paint("invalid", "31", color),
                r.path.display(),
                r.findings.len(),
                if r.findings.len() == 1 { "" } else { "s" }
            );
            for f in &r.findings {
                println!("    {}", f.render());
            }
        }
        for w in &r.warnings {
            println!("    {} {}", paint("warning:", "33", color), w.render());
        }
    }
    let invalid = reports.iter().filter(|r| !r.is_valid()).count();
    let warnings: usize = reports.iter().map(|r| r.warnings.len()).sum();
    eprintln!(
        "{}{} checked: {} valid, {invalid} invalid{}",
        match reports.len() - groups {
            1 => "1 skill".to_string(),
            n => format!("{n} skills"),
        },
        match groups {
            0 => String::new(),
            1 => " and 1 group".into(),
            n => format!(" and {n} groups"),
        },
        reports.len() - invalid,
        match warnings {
            0 => String::new(),
            1 => ", 1 warning".into(),
            n => format!(", {n} warnings"),
        }
    );
}
