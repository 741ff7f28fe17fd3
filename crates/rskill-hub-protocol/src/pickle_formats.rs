//! The one list of file formats that carry pickles (loading them can run arbitrary
//! code), shared by everything that must agree on it: the install guard, the scanner,
//! the server's LFS rule and the publisher's weight-file rule. Defined here, in the
//! crate every other one depends on, so no two lists can drift apart.
//!
//! Two kinds: formats that are pickles (or zip archives of pickles) by name, and NumPy
//! arrays, which hold a pickle only when their dtype is `object` (`|O` in the `.npy`
//! header; a `.npz` is a zip of `.npy` files), so their content decides (the scanner
//! reads the header: `rskill_scan::numpy`).

/// Extensions of files that are pickles or zip checkpoints of pickles: Python's own
/// (`pickle`, `pkl`), joblib and dill dumps, PyTorch checkpoints (`pt`, `pth`, `bin`,
/// `ckpt`: a pickle stream or a zip whose `data.pkl` is one) and TorchServe archives
/// (`mar`, a zip holding a checkpoint). Lowercase.
pub const PICKLE_EXTENSIONS: &[&str] = &[
    "pickle", "pkl", "joblib", "dill", "pt", "pth", "bin", "ckpt", "mar",
];

/// Extensions of NumPy arrays, pickle-bearing when they hold object arrays. Lowercase.
pub const NUMPY_EXTENSIONS: &[&str] = &["npy", "npz"];

/// The lowercase extension of a file name (of the last path component), if it has one.
pub fn extension(path: &str) -> Option<String> {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext.to_ascii_lowercase()),
        _ => None,
    }
}

/// Whether a file is pickle-bearing by its name alone.
pub fn is_pickle_file(path: &str) -> bool {
    extension(path).is_some_and(|e| PICKLE_EXTENSIONS.contains(&e.as_str()))
}

/// Whether a file is a NumPy array (`.npy`, `.npz`): pickle-bearing if its header says
/// `object`.
pub fn is_numpy_file(path: &str) -> bool {
    extension(path).is_some_and(|e| NUMPY_EXTENSIONS.contains(&e.as_str()))
}

/// Whether a file may carry a pickle, by its name: every extension of both lists.
pub fn may_hold_pickles(path: &str) -> bool {
    is_pickle_file(path) || is_numpy_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for f in [
            "m.pt",
            "m.pth",
            "m.bin",
            "m.ckpt",
            "m.pkl",
            "dir/M.PKL",
            "a.pickle",
            "a.joblib",
            "a.dill",
            "handler.mar",
        ] {
            assert!(is_pickle_file(f), "{f}");
            assert!(may_hold_pickles(f), "{f}");
        }
        for f in ["x.npy", "x.NPZ"] {
            assert!(
                !is_pickle_file(f) && is_numpy_file(f) && may_hold_pickles(f),
                "{f}"
            );
        }
        for f in [
            "model.safetensors",
            "model.onnx",
            "README",
            ".pkl",
            "dir.pt/README",
        ] {
            assert!(!may_hold_pickles(f), "{f}");
        }
    }
}
