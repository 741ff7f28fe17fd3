//! Which files of a skill directory are uploaded: everything but secrets, caches and
//! OS litter, and nothing larger than the size limit unless asked. Weight files are
//! recognised so a non-commercial skill that ships them is never made public.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::digest::{self, Digests};

/// Default largest file uploaded without `--allow-large`.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// Extensions of model weights, besides the pickle-bearing formats (the one list,
/// `rskill_hub_protocol::pickle_formats`), which count as weights too.
const WEIGHT_EXTENSIONS: &[&str] = &[
    "safetensors",
    "onnx",
    "gguf",
    "h5",
    "msgpack",
    "engine",
    "plan",
    "tflite",
];

/// A file to upload.
#[derive(Debug, Clone, Serialize)]
pub struct LocalFile {
    /// Path in the repo (`/`-separated).
    pub path_in_repo: String,
    #[serde(skip)]
    pub abs_path: PathBuf,
    pub size: u64,
    pub sha256: String,
    #[serde(skip)]
    pub git_sha1: String,
}

/// A file left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    pub path: String,
    pub reason: String,
}

/// The files of a skill directory, split into uploaded, excluded and blocking.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileSelection {
    pub files: Vec<LocalFile>,
    pub excluded: Vec<Excluded>,
    /// Files over the size limit (publishing is blocked while there are any).
    pub too_large: Vec<Excluded>,
}

/// Why a name is never uploaded, if it is not.
fn exclusion(name: &str, is_dir: bool) -> Option<&'static str> {
    if is_dir {
        return match name {
            "__pycache__" => Some("Python cache"),
            ".git" | ".hg" | ".svn" => Some("version-control data"),
            _ => None,
        };
    }
    if name.starts_with(".env") {
        Some("environment file (may hold secrets)")
    } else if name.ends_with(".key") || name.ends_with(".pem") {
        Some("key material")
    } else if name.ends_with(".pyc") {
        Some("Python bytecode")
    } else if name == ".DS_Store" {
        Some("OS metadata")
    } else if name == rskill_hub_protocol::REGISTRY_FILE {
        Some(
            "governance file: changed on the Hub by `rskill-publisher status|alias`, never uploaded",
        )
    } else {
        None
    }
}

pub fn is_weight_file(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| WEIGHT_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
        || crate::license::may_hold_pickles(path)
}

/// Walks `dir` and sorts its files.
pub fn select(
    dir: &Path,
    max_file_bytes: u64,
    allow_large: bool,
) -> std::io::Result<FileSelection> {
    let mut out = FileSelection::default();
    walk(dir, "", max_file_bytes, allow_large, &mut out)?;
    out.files
        .sort_by(|a, b| a.path_in_repo.cmp(&b.path_in_repo));
    Ok(out)
}

fn walk(
    dir: &Path,
    prefix: &str,
    max: u64,
    allow_large: bool,
    out: &mut FileSelection,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let ft = entry.file_type()?;
        if ft.is_symlink() {
            out.excluded.push(Excluded {
                path: rel,
                reason: "symbolic link".into(),
            });
            continue;
        }
        if let Some(reason) = exclusion(&name, ft.is_dir()) {
            out.excluded.push(Excluded {
                path: rel,
                reason: reason.into(),
            });
            continue;
        }
        if ft.is_dir() {
            walk(&entry.path(), &rel, max, allow_large, out)?;
            continue;
        }
        if !ft.is_file() {
            // A FIFO, socket or device: reading it could block or never end.
            out.excluded.push(Excluded {
                path: rel,
                reason: "not a regular file".into(),
            });
            continue;
        }
        let size = entry.metadata()?.len();
        if size > max && !allow_large {
            out.too_large.push(Excluded {
                path: rel,
                reason: format!("{size} bytes, over the {max}-byte limit (use --allow-large)"),
            });
            continue;
        }
        let bytes = std::fs::read(entry.path())?;
        let Digests {
            sha256, git_sha1, ..
        } = digest::digests(&bytes);
        out.files.push(LocalFile {
            path_in_repo: rel,
            abs_path: entry.path(),
            size,
            sha256,
            git_sha1,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_litter_are_left_out() {
        let d = tempfile::tempdir().unwrap();
        for f in [
            "rskill.yaml",
            ".env",
            ".env.local",
            "id.key",
            "c.pem",
            "x.pyc",
            ".DS_Store",
        ] {
            std::fs::write(d.path().join(f), "x").unwrap();
        }
        std::fs::create_dir_all(d.path().join("__pycache__")).unwrap();
        std::fs::write(d.path().join("__pycache__/a.py"), "x").unwrap();
        std::fs::create_dir_all(d.path().join("eval")).unwrap();
        std::fs::write(d.path().join("eval/a.json"), "{}").unwrap();
        std::fs::write(d.path().join("big.bin"), vec![0u8; 2048]).unwrap();
        let s = select(d.path(), 1024, false).unwrap();
        let names: Vec<&str> = s.files.iter().map(|f| f.path_in_repo.as_str()).collect();
        assert_eq!(names, vec!["eval/a.json", "rskill.yaml"]);
        assert_eq!(s.excluded.len(), 7);
        #[cfg(unix)]
        {
            let fifo = d.path().join("pipe");
            assert!(
                std::process::Command::new("mkfifo")
                    .arg(&fifo)
                    .status()
                    .unwrap()
                    .success()
            );
            let s = select(d.path(), 1024, false).unwrap();
            assert!(
                s.excluded
                    .iter()
                    .any(|e| e.path == "pipe" && e.reason == "not a regular file")
            );
            std::fs::remove_file(fifo).unwrap();
        }
        assert_eq!(s.too_large.len(), 1);
        let s = select(d.path(), 1024, true).unwrap();
        assert!(s.too_large.is_empty());
        assert!(s.files.iter().any(|f| f.path_in_repo == "big.bin"));
    }

    #[test]
    fn weights_are_recognised() {
        assert!(is_weight_file("model.safetensors"));
        assert!(is_weight_file("sub/model.ONNX"));
        assert!(!is_weight_file("README.md"));
    }
}
