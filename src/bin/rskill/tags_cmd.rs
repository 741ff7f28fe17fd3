//! `rskill tags PATH… --check | --write`: keep model-card reserved tags and license
//! metadata in sync with the manifest. `--write` changes only the front matter.

use std::path::PathBuf;
use std::process::ExitCode;

use rskill::corpus::{CARD_FILE, skill_dir};
use rskill::{card, tags, validate};

use rskill::cli::CliError;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["check", "write"])))]
pub struct Args {
    /// Skill directories, rskill.yaml files, or corpus directories [default: rskills/]
    paths: Vec<PathBuf>,
    /// Exit 1 naming each card whose reserved tags or license drift from its manifest
    #[arg(long)]
    check: bool,
    /// Rewrite the cards' front matter (the body stays byte-for-byte)
    #[arg(long)]
    write: bool,
}

pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let manifests = rskill::corpus::discover_all(&rskill::corpus::paths_or_default(args.paths))?;
    let mut failed = 0usize;
    let mut changed = 0usize;
    for manifest_path in &manifests {
        let card_path = skill_dir(manifest_path).join(CARD_FILE);
        let m = match validate::parse_valid(&read(manifest_path)?) {
            Ok(m) => m,
            Err(violations) => {
                failed += 1;
                eprintln!(
                    "{}: invalid manifest ({} problem(s)); run `rskill validate` first",
                    manifest_path.display(),
                    violations.len()
                );
                continue;
            }
        };
        let text = match std::fs::read_to_string(&card_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && args.write => String::new(),
            Err(e) => {
                failed += 1;
                eprintln!("{}: cannot read: {e}", card_path.display());
                continue;
            }
        };
        if args.check {
            let drift = card::split(&text)
                .and_then(|c| card::metadata(&c))
                .map(|meta| tags::drift(&meta, &m));
            match drift {
                Ok(d) if d.is_clean() => {}
                Ok(d) => {
                    failed += 1;
                    for v in d.violations() {
                        println!("{}", v.render(&card_path.display().to_string()));
                    }
                }
                Err(e) => {
                    failed += 1;
                    println!("{}: {e}", card_path.display());
                }
            }
        } else {
            match tags::rewrite_card(&text, &m) {
                Ok(new) if new == text => {}
                Ok(new) => {
                    write_atomic(&card_path, &new)?;
                    changed += 1;
                    println!("rewrote {}", card_path.display());
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("{}: {e}", card_path.display());
                }
            }
        }
    }
    if args.check {
        eprintln!("{} card(s) checked, {failed} out of sync", manifests.len());
    } else {
        eprintln!("{} card(s) checked, {changed} rewritten", manifests.len());
    }
    if failed > 0 && args.check {
        return Err(
            CliError::new(format!("{failed} card(s) drift from their manifests")).hint(
                "run `rskill tags --write` to rewrite the reserved tags and license metadata",
            ),
        );
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn read(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::new(format!("{}: cannot read: {e}", path.display())))
}

fn write_atomic(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    rskill::fsutil::write_atomic(path, text.as_bytes())
        .map_err(|e| CliError::new(format!("{}: cannot write: {e}", path.display())))
}
