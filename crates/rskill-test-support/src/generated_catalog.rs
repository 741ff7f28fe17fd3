//! Generated catalogs of public skills from the in-repo corpus, written straight into an
//! `rskill-hub` data directory (no HTTP, no fsync), for benchmarks (`seed_catalog`) and
//! for tests that need hundreds of skills. Skill i is corpus template `i % templates`,
//! renamed `ORG/rskill-<slug>-<i>`; two out of three (those not embodiment-agnostic) get
//! another robot from a fixed rotation, kept only when the manifest still validates.
//! Each repo holds `rskill.yaml` and a `README.md` whose reserved tags are regenerated
//! from the manifest. The server must not be running on the directory.

use std::path::PathBuf;
use std::time::Instant;

use rskill_hub::catalog::{Catalog, CommitOp, CommitRequest, Content};
use rskill_hub::{RepoId, RepoKind, Store, StoreOptions};
use rskill_manifest::manifest::{EmbodimentTag, Manifest};
use rskill_manifest::{tags, validate};

/// Robots handed out in turn.
const ROTATION: &[EmbodimentTag] = &[
    EmbodimentTag::FrankaPanda,
    EmbodimentTag::Ur5e,
    EmbodimentTag::Widowx,
    EmbodimentTag::So100Follower,
    EmbodimentTag::FrankaPanda,
    EmbodimentTag::Ur10e,
    EmbodimentTag::Sawyer,
    EmbodimentTag::GoogleRobot,
];

struct Template {
    slug: String,
    yaml: String,
    card: String,
}

fn templates(corpus: &std::path::Path) -> Result<Vec<Template>, String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus)
        .map_err(|e| format!("{}: {e}", corpus.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("rskill.yaml").is_file())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|d| {
            let read = |f: &str| {
                std::fs::read_to_string(d.join(f)).map_err(|e| format!("{}/{f}: {e}", d.display()))
            };
            Ok(Template {
                slug: d.file_name().unwrap().to_string_lossy().into_owned(),
                yaml: read("rskill.yaml")?,
                card: read("README.md").unwrap_or_default(),
            })
        })
        .collect()
}

/// `text` with the first line starting with `key:` replaced by `line`.
fn replace_line(text: &str, key: &str, line: &str) -> String {
    let mut done = false;
    let mut out = String::with_capacity(text.len() + 64);
    for l in text.lines() {
        if !done && l.starts_with(key) {
            out.push_str(line);
            done = true;
        } else {
            out.push_str(l);
        }
        out.push('\n');
    }
    out
}

/// The i-th generated skill: its manifest text and parsed manifest.
fn generate(t: &Template, i: usize, org: &str) -> Result<(String, Manifest), String> {
    let name = format!("{org}/rskill-{}-{i:05}", t.slug);
    let base = replace_line(&t.yaml, "name:", &format!("name: {name}"));
    let original = validate::parse_valid(&base)
        .map_err(|v| format!("template {} is invalid: {v:?}", t.slug))?;
    if !i.is_multiple_of(3) && !original.is_embodiment_agnostic() {
        let robot = ROTATION[(i / 3) % ROTATION.len()];
        let varied = replace_line(
            &base,
            "embodiment_tags:",
            &format!("embodiment_tags: [{robot}]"),
        );
        if let Ok(m) = validate::parse_valid(&varied) {
            return Ok((varied, m));
        }
    }
    Ok((base, original))
}

/// The templates of `corpus` and the catalog stored in `data` (no fsync).
fn open(
    data: &std::path::Path,
    corpus: &std::path::Path,
) -> Result<(Vec<Template>, Catalog), String> {
    let templates = templates(corpus)?;
    if templates.is_empty() {
        return Err(format!("no skills under {}", corpus.display()));
    }
    let store = Store::open(
        data,
        StoreOptions {
            durable: false,
            fail_blob_write_at: None,
            ..StoreOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;
    let (catalog, _) = Catalog::open(store).map_err(|e| e.to_string())?;
    Ok((templates, catalog))
}

/// Commits `files` on `id`'s `main`.
fn commit(
    catalog: &Catalog,
    id: &RepoId,
    summary: String,
    files: Vec<(&str, Vec<u8>)>,
) -> Result<(), String> {
    let mut ops = Vec::new();
    for (path, bytes) in files {
        let blob = catalog
            .store()
            .stage_bytes(&bytes)
            .map_err(|e| e.to_string())?;
        ops.push(CommitOp::Put {
            path: path.into(),
            content: Content::Staged(blob),
        });
    }
    let request = CommitRequest {
        branch: "main".into(),
        parent: None,
        author: "seed".into(),
        summary,
        description: String::new(),
        ops,
    };
    catalog
        .apply_commit(RepoKind::Model, id, request)
        .map_err(|e| format!("{id}: {e}"))?;
    Ok(())
}

/// Seeds `count` skills under `org/`; returns how many match `--embodiment franka_panda`.
pub fn seed(
    data: &std::path::Path,
    count: usize,
    org: &str,
    corpus: &std::path::Path,
) -> Result<usize, String> {
    let started = Instant::now();
    let (templates, catalog) = open(data, corpus)?;
    let mut franka = 0;
    for i in 0..count {
        let t = &templates[i % templates.len()];
        let (yaml, m) = generate(t, i, org)?;
        let card = if t.card.is_empty() {
            format!(
                "---\ntags:\n{}---\n# {}\n",
                tags::reserved_tags(&m)
                    .iter()
                    .map(|t| format!("- {t}\n"))
                    .collect::<String>(),
                m.name
            )
        } else {
            tags::rewrite_card(&t.card, &m).map_err(|e| format!("{}: {e}", t.slug))?
        };
        let matches_franka =
            m.embodiment_tags.contains(&EmbodimentTag::FrankaPanda) || m.is_embodiment_agnostic();
        franka += usize::from(matches_franka);
        let id = RepoId::parse(&m.name).map_err(|e| e.to_string())?;
        catalog
            .create_repo(RepoKind::Model, &id, false, "seed")
            .map_err(|e| format!("{id}: {e}"))?;
        commit(
            &catalog,
            &id,
            format!("Publish {id}"),
            vec![
                ("rskill.yaml", yaml.into_bytes()),
                ("README.md", card.into_bytes()),
            ],
        )?;
    }
    eprintln!(
        "seeded {count} skills under {org}/ in {:.2}s ({franka} match --embodiment franka_panda)",
        started.elapsed().as_secs_f64()
    );
    Ok(franka)
}

/// Gives one seeded skill in `every` a new commit with the next patch version (a
/// catalog changed since its index was written).
pub fn change(
    data: &std::path::Path,
    count: usize,
    org: &str,
    corpus: &std::path::Path,
    every: usize,
) -> Result<usize, String> {
    let started = Instant::now();
    let (templates, catalog) = open(data, corpus)?;
    let mut changed = 0;
    for i in (0..count).step_by(every.max(1)) {
        let (yaml, m) = generate(&templates[i % templates.len()], i, org)?;
        let bumped = bump_patch(&m.version)
            .ok_or_else(|| format!("{}: version {} is not MAJOR.MINOR.PATCH", m.name, m.version))?;
        let yaml = replace_line(&yaml, "version:", &format!("version: {bumped}"));
        validate::parse_valid(&yaml)
            .map_err(|v| format!("{} with version {bumped} is invalid: {v:?}", m.name))?;
        let id = RepoId::parse(&m.name).map_err(|e| e.to_string())?;
        commit(
            &catalog,
            &id,
            format!("Publish {id} {bumped}"),
            vec![("rskill.yaml", yaml.into_bytes())],
        )?;
        changed += 1;
    }
    eprintln!(
        "changed {changed} of {count} skills under {org}/ in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    Ok(changed)
}

/// `1.2.3` → `1.2.4`, `0.1.0-beta.1` → `0.1.1`.
fn bump_patch(version: &str) -> Option<String> {
    let mut parts = version.splitn(3, '.');
    let (major, minor, patch) = (parts.next()?, parts.next()?, parts.next()?);
    let digits: String = patch.chars().take_while(char::is_ascii_digit).collect();
    let patch: u64 = digits.parse().ok()?;
    Some(format!("{major}.{minor}.{}", patch + 1))
}
