//! The per-commit facet record: what `rskill search` filters, sorts and prints of a
//! manifest, kept beside the cached manifest so a warm search parses no YAML.
//!
//! A commit's manifest never changes, so the facets parsed from it never do either. The
//! first search that parses (and validates) a manifest writes its facets as a small JSON
//! file at `models--<org>--<name>/rskill/facets-v<N>-<commit>.json` in the Hub cache —
//! outside `blobs/`, `snapshots/` and `refs/`, which other Hub clients own, and in a
//! folder of its own that holds every commit's record (a cold search over 1,000 skills
//! creates no folder per record: on ext4, creating folders is most of its system time).
//! Later searches read that instead. A record of another format version has another
//! name and is never read; one that does not parse (a crash mid-write, a hand edit) is
//! ignored and rewritten from the manifest.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::hub::cache::RepoCache;
use crate::hub::ids::CommitId;
use crate::license::LicensePosture;
use crate::manifest::{ActionVerb, EmbodimentTag, Kind, Manifest, ModelFamily, Role, Runtime};
use crate::tags;

/// The record format. Bump it whenever [`Facets`] changes meaning or shape: records of
/// the old version are then left unread (their folder is named after the version).
pub const FORMAT_VERSION: u32 = 1;

/// The fields of a manifest that search filters, sorts and prints, and the reserved
/// tags it projects (to tell tag drift without the manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facets {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub role: Role,
    pub license: LicensePosture,
    pub model_family: Option<ModelFamily>,
    pub embodiment_tags: Vec<EmbodimentTag>,
    pub runtime: Runtime,
    pub description: String,
    pub actions: Vec<ActionVerb>,
    pub objects: Vec<String>,
    pub scenes: Vec<String>,
    pub benchmarks: BTreeMap<String, f64>,
    /// `tags::reserved_tags` of the manifest.
    pub reserved_tags: Vec<String>,
}

impl Facets {
    /// The facets of a (validated) manifest.
    pub fn of(m: &Manifest) -> Facets {
        Facets {
            name: m.name.clone(),
            version: m.version.clone(),
            kind: m.kind,
            role: m.role,
            license: m.license,
            model_family: m.model_family,
            embodiment_tags: m.embodiment_tags.clone(),
            runtime: m.runtime,
            description: m.description.clone(),
            actions: m.actions.clone(),
            objects: m.objects.clone(),
            scenes: m.scenes.clone(),
            benchmarks: m.benchmarks.clone(),
            reserved_tags: tags::reserved_tags(m),
        }
    }

    /// Whether the skill declares itself usable on any embodiment.
    pub fn is_embodiment_agnostic(&self) -> bool {
        self.embodiment_tags.contains(&EmbodimentTag::Any)
    }
}

/// The file as written: the format version, then the facets.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    format: u32,
    facets: Facets,
}

/// Where the record of `commit` lives (a typed commit id can always name a file).
pub fn record_path(cache: &RepoCache, commit: &CommitId) -> PathBuf {
    cache
        .root
        .join("rskill")
        .join(format!("facets-v{FORMAT_VERSION}-{commit}.json"))
}

/// The recorded facets of `commit`, if a record of this format is there and sound.
pub fn read(cache: &RepoCache, commit: &CommitId) -> Option<Facets> {
    let bytes = std::fs::read(record_path(cache, commit)).ok()?;
    let record: Record = serde_json::from_slice(&bytes).ok()?;
    (record.format == FORMAT_VERSION).then_some(record.facets)
}

/// Records the facets of `commit`. Best effort: a cache that cannot be written costs
/// a parse next time, never a failed search.
pub fn write(cache: &RepoCache, commit: &CommitId, facets: &Facets) {
    let path = record_path(cache, commit);
    let record = Record {
        format: FORMAT_VERSION,
        facets: facets.clone(),
    };
    if let Ok(bytes) = serde_json::to_vec(&record) {
        // No fsync: a record lost or torn by a crash does not parse and is rebuilt from
        // the manifest, which costs less than two fsyncs per skill on every cold search.
        let _ = crate::fsutil::write_replacing(&path, &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::RepoId;
    use std::path::Path;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn sha() -> CommitId {
        SHA.parse().unwrap()
    }

    /// A corpus manifest that has benchmarks and objects, so every field is exercised.
    fn manifest() -> Manifest {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rskills"));
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().path().join("rskill.yaml"))
            .filter(|p| p.is_file())
            .collect();
        dirs.sort();
        dirs.iter()
            .filter_map(|p| crate::validate::parse_valid(&std::fs::read_to_string(p).unwrap()).ok())
            .find(|m| !m.benchmarks.is_empty() && !m.objects.is_empty())
            .expect("a corpus skill with benchmarks and objects")
    }

    fn cache(dir: &Path) -> RepoCache {
        RepoCache::new(dir, &"org/skill".parse::<RepoId>().unwrap())
    }

    #[test]
    fn fields_equal_the_manifests() {
        let m = manifest();
        let f = Facets::of(&m);
        assert_eq!(
            (&f.name, &f.version, f.kind, f.role, f.license),
            (&m.name, &m.version, m.kind, m.role, m.license)
        );
        assert_eq!(
            (
                f.model_family,
                &f.embodiment_tags,
                f.runtime,
                &f.description
            ),
            (
                m.model_family,
                &m.embodiment_tags,
                m.runtime,
                &m.description
            )
        );
        assert_eq!(
            (&f.actions, &f.objects, &f.scenes, &f.benchmarks),
            (&m.actions, &m.objects, &m.scenes, &m.benchmarks)
        );
        assert!(!f.benchmarks.is_empty());
        assert_eq!(f.reserved_tags, tags::reserved_tags(&m));
        assert_eq!(f.is_embodiment_agnostic(), m.is_embodiment_agnostic());
    }

    #[test]
    fn written_then_read_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path());
        assert_eq!(read(&c, &sha()), None);
        let f = Facets::of(&manifest());
        write(&c, &sha(), &f);
        let path = record_path(&c, &sha());
        assert!(
            path.ends_with(format!("rskill/facets-v{FORMAT_VERSION}-{SHA}.json")),
            "{}",
            path.display()
        );
        assert!(!path.to_string_lossy().contains("/snapshots/"));
        assert_eq!(read(&c, &sha()), Some(f));
        assert_eq!(
            read(
                &c,
                &"1111111111111111111111111111111111111111".parse().unwrap()
            ),
            None
        );
    }

    #[test]
    fn corrupt_records_are_ignored_and_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path());
        let f = Facets::of(&manifest());
        write(&c, &sha(), &f);
        let path = record_path(&c, &sha());
        let whole = std::fs::read(&path).unwrap();
        for bad in [
            Vec::new(),
            whole[..whole.len() / 2].to_vec(),
            b"not json".to_vec(),
            br#"{"format":1,"facets":{"name":"x"}}"#.to_vec(),
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert_eq!(read(&c, &sha()), None, "{}", String::from_utf8_lossy(&bad));
            write(&c, &sha(), &f);
            assert_eq!(read(&c, &sha()), Some(f.clone()));
        }
    }

    #[test]
    fn another_format_version_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let c = cache(dir.path());
        let f = Facets::of(&manifest());
        write(&c, &sha(), &f);
        let path = record_path(&c, &sha());
        let text = std::fs::read_to_string(&path).unwrap();
        let bumped = text.replacen(
            &format!("\"format\":{FORMAT_VERSION}"),
            &format!("\"format\":{}", FORMAT_VERSION + 1),
            1,
        );
        assert_ne!(bumped, text);
        std::fs::write(&path, bumped).unwrap();
        assert_eq!(
            read(&c, &sha()),
            None,
            "a record of another version is ignored"
        );
        // And a record left by an older version, under its own name, is never looked at.
        assert!(
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("facets-v{FORMAT_VERSION}-"))
        );
    }
}
