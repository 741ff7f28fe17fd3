//! How a stored file presents itself to Hub clients: git blob ids (SHA-1 over
//! `blob {len}\0` + content), Git LFS pointers and the rule that decides which files are
//! LFS files, and the ETag each kind of file carries.

use sha1::{Digest, Sha1};

/// Files at least this large are LFS files whatever their name.
pub const LFS_SIZE_THRESHOLD: u64 = 10 * 1024 * 1024;

/// Extensions the Hub's default `.gitattributes` sends to LFS (binary weights, archives,
/// array and table formats), besides the pickle-bearing formats (the one list,
/// `rskill_hub_protocol::pickle_formats`), which are always LFS files.
const LFS_EXTENSIONS: &[&str] = &[
    "7z",
    "arrow",
    "bz2",
    "ftz",
    "gguf",
    "ggml",
    "gz",
    "h5",
    "mlmodel",
    "model",
    "msgpack",
    "onnx",
    "ot",
    "parquet",
    "pb",
    "rar",
    "safetensors",
    "tar",
    "tflite",
    "tgz",
    "wasm",
    "xz",
    "zip",
    "zst",
];

/// Whether a file of this path and size is an LFS file (empty files never are).
pub fn is_lfs(path: &str, size: u64) -> bool {
    if size == 0 {
        return false;
    }
    if size >= LFS_SIZE_THRESHOLD {
        return true;
    }
    match rskill_hub_protocol::pickle_formats::extension(path) {
        Some(ext) => {
            LFS_EXTENSIONS.contains(&ext.as_str())
                || rskill_hub_protocol::pickle_formats::may_hold_pickles(path)
        }
        None => false,
    }
}

/// Lines of a `.gitattributes` file read at most.
const MAX_ATTRIBUTE_LINES: usize = 10_000;

/// The `filter` attribute rules of a branch's `.gitattributes`, to tell which paths the
/// repo sends to LFS (as the Hub's preupload does). As in git, the last line whose
/// pattern matches a path and that sets or unsets `filter` decides; a pattern without
/// `/` matches the file name at any depth, one with `/` the path from the repo root.
#[derive(Debug, Default)]
pub struct LfsAttributes {
    rules: Vec<(globset::GlobMatcher, bool, bool)>,
}

impl LfsAttributes {
    /// Reads `.gitattributes` text; lines whose pattern is not a valid glob are skipped.
    pub fn parse(text: &str) -> Self {
        let mut rules = Vec::new();
        for line in text.lines().take(MAX_ATTRIBUTE_LINES) {
            let mut words = line.split_whitespace();
            let Some(pattern) = words.next().filter(|p| !p.starts_with('#')) else {
                continue;
            };
            let lfs = words.fold(None, |acc, attr| match attr {
                "filter=lfs" => Some(true),
                "-filter" | "!filter" => Some(false),
                a if a.starts_with("filter=") => Some(false),
                _ => acc,
            });
            let Some(lfs) = lfs else { continue };
            let rooted = pattern.contains('/');
            let glob = globset::GlobBuilder::new(pattern.trim_start_matches('/'))
                .literal_separator(true)
                .build();
            if let Ok(glob) = glob {
                rules.push((glob.compile_matcher(), rooted, lfs));
            }
        }
        LfsAttributes { rules }
    }

    /// Whether the rules send `path` to LFS.
    pub fn is_lfs(&self, path: &str) -> bool {
        let file_name = path.rsplit('/').next().unwrap_or(path);
        self.rules
            .iter()
            .rev()
            .find(|(glob, rooted, _)| glob.is_match(if *rooted { path } else { file_name }))
            .is_some_and(|(_, _, lfs)| *lfs)
    }
}

/// The Git LFS pointer text standing for a file in git.
pub fn lfs_pointer(sha256: &str, size: u64) -> String {
    format!("version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n")
}

/// A streaming git blob id: SHA-1 over `blob {len}\0` then the content.
pub struct GitBlobHasher(Sha1);

impl GitBlobHasher {
    pub fn new(len: u64) -> Self {
        let mut h = Sha1::new();
        h.update(format!("blob {len}\0").as_bytes());
        GitBlobHasher(h)
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// The git blob id of `content`.
pub fn git_blob_id(content: &[u8]) -> String {
    let mut h = GitBlobHasher::new(content.len() as u64);
    h.update(content);
    h.finish()
}

/// Hex SHA-1 of `bytes` (commit ids are the SHA-1 of their canonical record).
pub fn sha1_hex(bytes: &[u8]) -> String {
    hex::encode(Sha1::digest(bytes))
}

pub use rskill_hub_protocol::digest::sha256_hex;

/// Whether `s` is 64 lowercase hex digits (a SHA-256).
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// How one stored file is described to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    pub size: u64,
    pub sha256: String,
    /// The git object id: the blob id of the content, or of the LFS pointer.
    pub blob_id: String,
    /// `Some(pointer size)` for LFS files.
    pub lfs_pointer_size: Option<u64>,
}

impl FileView {
    pub fn new(path: &str, size: u64, sha256: &str, content_git_sha1: &str) -> Self {
        if is_lfs(path, size) {
            let pointer = lfs_pointer(sha256, size);
            FileView {
                size,
                sha256: sha256.to_owned(),
                blob_id: git_blob_id(pointer.as_bytes()),
                lfs_pointer_size: Some(pointer.len() as u64),
            }
        } else {
            FileView {
                size,
                sha256: sha256.to_owned(),
                blob_id: content_git_sha1.to_owned(),
                lfs_pointer_size: None,
            }
        }
    }

    /// The ETag clients cache the file under: SHA-256 for LFS files, the git blob id
    /// otherwise.
    pub fn etag(&self) -> &str {
        if self.lfs_pointer_size.is_some() {
            &self.sha256
        } else {
            &self.blob_id
        }
    }

    pub fn is_lfs(&self) -> bool {
        self.lfs_pointer_size.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_blob_id_matches_git() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            git_blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        // The empty blob.
        assert_eq!(git_blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn lfs_rule() {
        assert!(is_lfs("model.safetensors", 10));
        assert!(is_lfs("sub/w.ONNX", 10));
        assert!(!is_lfs("README.md", 100));
        assert!(is_lfs("big.json", LFS_SIZE_THRESHOLD));
        assert!(!is_lfs("empty.bin", 0));
        assert!(!is_lfs(".bin", 3));
    }

    #[test]
    fn gitattributes_rules() {
        let attrs = LfsAttributes::parse(
            "# comment\n*.dat filter=lfs diff=lfs merge=lfs -text\ndata/*.csv filter=lfs\n\
             keep.dat -filter\n[ filter=lfs\n",
        );
        assert!(attrs.is_lfs("a.dat"));
        assert!(attrs.is_lfs("deep/dir/b.dat"));
        assert!(!attrs.is_lfs("keep.dat"), "a later line unsets it");
        assert!(attrs.is_lfs("data/x.csv"));
        assert!(
            !attrs.is_lfs("data/sub/x.csv"),
            "rooted patterns keep `/` literal"
        );
        assert!(!attrs.is_lfs("x.csv"));
        assert!(!LfsAttributes::default().is_lfs("a.dat"));
    }

    #[test]
    fn views() {
        let small = FileView::new(
            "a.txt",
            6,
            &sha256_hex(b"hello\n"),
            &git_blob_id(b"hello\n"),
        );
        assert_eq!(small.etag(), git_blob_id(b"hello\n"));
        let sha = sha256_hex(b"w");
        let big = FileView::new("w.safetensors", 1, &sha, &git_blob_id(b"w"));
        assert_eq!(big.etag(), sha);
        assert_eq!(
            big.lfs_pointer_size,
            Some(lfs_pointer(&sha, 1).len() as u64)
        );
    }
}
