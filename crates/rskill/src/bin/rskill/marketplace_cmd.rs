//! `rskill marketplace --out DIR [--name N] [--owner O]`: writes a Claude Code plugin
//! marketplace for the corpus's groups (one plugin per group, its members' SKILL.md),
//! then checks what it wrote against the format.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rskill::cli::{CliError, Outcome};
use rskill::marketplace;
use rskill_manifest::group;

#[derive(clap::Args)]
pub struct Args {
    /// The folder to write (new, empty, or a marketplace written before)
    #[arg(long)]
    out: PathBuf,
    /// The marketplace name (lowercase letters, digits, hyphens)
    #[arg(long, default_value = "rskill-catalog")]
    name: String,
    /// The owner shown in the marketplace
    #[arg(long, default_value = "rskill-project")]
    owner: String,
    /// The groups folder
    #[arg(long, default_value = group::DEFAULT_GROUPS_DIR)]
    groups: PathBuf,
    /// The skills corpus the groups' members come from
    #[arg(long, default_value = rskill_manifest::corpus::DEFAULT_CORPUS)]
    corpus: PathBuf,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let files = group::discover(&args.groups);
    if files.is_empty() {
        return Err(CliError::usage(format!(
            "{}: no groups (groups/<name>/{})",
            args.groups.display(),
            group::GROUP_FILE
        )));
    }
    let mut groups = Vec::new();
    for f in &files {
        let check = group::check_file(f);
        match check.group {
            Some(g) if check.violations.is_empty() => groups.push(g),
            _ => {
                return Err(CliError::new(format!(
                    "{} is invalid: {}",
                    f.display(),
                    check
                        .violations
                        .iter()
                        .map(|v| format!("{} [{}]", v.render(&f.display().to_string()), v.rule))
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
                .hint("run `rskill validate groups/`"));
            }
        }
    }
    let mut manifests = BTreeMap::new();
    for m in rskill_manifest::corpus::discover(&args.corpus)? {
        let text = std::fs::read_to_string(&m)
            .map_err(|e| CliError::new(format!("{}: {e}", m.display())))?;
        if let Ok(parsed) = rskill_manifest::validate::parse_valid(&text) {
            manifests.insert(parsed.name.clone(), parsed);
        }
    }
    let out = marketplace::build(&args.name, &args.owner, &groups, &manifests)
        .map_err(|e| CliError::new(e.to_string()))?;
    marketplace::write(&args.out, &out).map_err(|e| CliError::new(e.to_string()))?;
    let problems = marketplace::check(&args.out);
    if !problems.is_empty() {
        return Err(CliError::new(format!(
            "the marketplace written to {} does not check:\n  {}",
            args.out.display(),
            problems.join("\n  ")
        )));
    }
    println!("{}", args.out.display());
    eprintln!(
        "marketplace {}: {} plugin(s), {} file(s); add it with `/plugin marketplace add {}`",
        args.name,
        groups.len(),
        out.len(),
        args.out.display()
    );
    Ok(Outcome::Success)
}
