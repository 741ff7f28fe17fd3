//! `rskill tags PATH… --check | --write`: keep model-card reserved tags and license
//! metadata in sync with the manifest. `--write` changes only the front matter, and
//! generates a missing `SKILL.md` from the manifest.

use std::path::PathBuf;

use rskill_manifest::corpus::{CARD_FILE, SKILL_MD_FILE, skill_dir};
use rskill_manifest::skill_file::{self, MAX_TEXT_BYTES};
use rskill_manifest::{agent_skill, card, tags, validate};

use rskill::cli::{CliError, Outcome};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).args(["check", "write"])))]
pub struct Args {
    /// Skill directories, rskill.yaml files, or corpus directories [default: rskills/]
    paths: Vec<PathBuf>,
    /// Exit 1 naming each card whose reserved tags or license drift from its manifest
    #[arg(long)]
    check: bool,
    /// Rewrite the cards' front matter (the body stays byte-for-byte), and write a
    /// SKILL.md generated from the manifest where there is none
    #[arg(long)]
    write: bool,
}

pub fn run(args: Args) -> Result<Outcome, CliError> {
    let manifests = rskill_manifest::corpus::discover_all(
        &rskill_manifest::corpus::paths_or_default(args.paths),
    )?;
    let mut failed = 0usize;
    let mut changed = 0usize;
    for manifest_path in &manifests {
        let dir = skill_dir(manifest_path);
        let card_path = dir.join(CARD_FILE);
        let manifest_text =
            skill_file::read_text(&dir, manifest_path, validate::MAX_MANIFEST_BYTES)
                .map_err(|e| CliError::new(format!("{}: {e}", manifest_path.display())))?
                .ok_or_else(|| {
                    CliError::new(format!("{}: does not exist", manifest_path.display()))
                })?;
        let m = match validate::parse_valid(&manifest_text) {
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
        if args.write {
            match write_missing_skill_md(&dir, &m) {
                Ok(Some(path)) => {
                    changed += 1;
                    println!("wrote {}", path.display());
                }
                Ok(None) => {}
                Err(e) => {
                    failed += 1;
                    eprintln!("{e}");
                }
            }
        }
        let text = match skill_file::read_text(&dir, &card_path, MAX_TEXT_BYTES) {
            Ok(Some(t)) => t,
            Ok(None) if args.write => String::new(),
            Ok(None) => {
                failed += 1;
                eprintln!("{}: does not exist", card_path.display());
                continue;
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e}", card_path.display());
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
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

/// Writes `SKILL.md` generated from the manifest when the skill has none; the path
/// written, if any.
fn write_missing_skill_md(
    dir: &std::path::Path,
    m: &rskill_manifest::manifest::Manifest,
) -> Result<Option<PathBuf>, String> {
    let path = dir.join(SKILL_MD_FILE);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(None);
    }
    let folder = agent_skill::folder_name(dir)
        .ok_or_else(|| format!("{}: cannot name the skill folder", dir.display()))?;
    if let Some(problem) = agent_skill::skill_name_problem(&folder) {
        return Err(format!(
            "{}: cannot generate {SKILL_MD_FILE}: the folder name \"{folder}\" {problem} \
             (SKILL.md's name must equal it; rename the folder)",
            dir.display()
        ));
    }
    rskill_hub_protocol::fsutil::write_atomic(&path, agent_skill::generate(m, &folder).as_bytes())
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    Ok(Some(path))
}

fn write_atomic(path: &std::path::Path, text: &str) -> Result<(), CliError> {
    rskill_hub_protocol::fsutil::write_atomic(path, text.as_bytes())
        .map_err(|e| CliError::new(format!("{}: cannot write: {e}", path.display())))
}
