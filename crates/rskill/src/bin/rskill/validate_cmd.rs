//! `rskill validate [PATH…] [--json]`: schema + rules + card checks, one report per skill.

use std::io::IsTerminal;
use std::path::PathBuf;

use rskill_manifest::skill::{self, CheckOptions, SkillReport};

use rskill::cli::{CliError, Outcome, paint, use_color};

#[derive(clap::Args)]
pub struct Args {
    /// Skill directories, rskill.yaml files, or corpus directories [default: rskills/]
    paths: Vec<PathBuf>,
    /// Print `[{path, name, valid, errors:[{file, field, message, rule, line, column}], warnings:[…]}]`
    #[arg(long)]
    json: bool,
    /// Check the manifest only (no model card, tags, SKILL.md or eval checks)
    #[arg(long)]
    manifest_only: bool,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let manifests = rskill_manifest::corpus::discover_all(
        &rskill_manifest::corpus::paths_or_default(args.paths),
    )?;
    let opts = CheckOptions {
        manifest_only: args.manifest_only,
    };
    let reports: Vec<SkillReport> = manifests.iter().map(|m| skill::check(m, opts)).collect();
    if args.json {
        print_json(&reports);
    } else {
        print_text(&reports);
    }
    let all_valid = reports.iter().all(SkillReport::is_valid);
    Ok(if all_valid {
        Outcome::Success
    } else {
        Outcome::Failure
    })
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

fn print_text(reports: &[SkillReport]) {
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
        "{} skill{} checked: {} valid, {invalid} invalid{}",
        reports.len(),
        if reports.len() == 1 { "" } else { "s" },
        reports.len() - invalid,
        match warnings {
            0 => String::new(),
            1 => ", 1 warning".into(),
            n => format!(", {n} warnings"),
        }
    );
}
