//! Finding the ONNX Runtime shared library (`ORT_DYLIB_PATH`, the active Python's
//! `onnxruntime` wheel, the loader's directories), and saying how to get one.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

/// The ONNX Runtime release the `ort` crate is built against: ort 2.0.0-rc.15 with
/// feature `api-31` asks the library for C API version 31 (ONNX Runtime 1.31) and
/// refuses anything older.
pub const ONNXRUNTIME_VERSION: &str = "1.31.1";
/// The oldest ONNX Runtime minor version (1.x) that `ort` accepts.
pub const ONNXRUNTIME_MIN_MINOR: u32 = 31;
/// Points at the runtime library explicitly (the `ort` crate's own convention).
pub const ORT_DYLIB_PATH_ENV: &str = "ORT_DYLIB_PATH";
/// The Python interpreter whose `onnxruntime` wheel to use.
pub const PYTHON_ENV: &str = "RSKILL_PYTHON";

pub(super) fn runtime_hint() -> String {
    format!(
        "pip install onnxruntime=={ONNXRUNTIME_VERSION} and set {ORT_DYLIB_PATH_ENV}=<path to libonnxruntime.so> \
         (it is in the wheel's onnxruntime/capi/ directory; any 1.{ONNXRUNTIME_MIN_MINOR}.x or newer works)"
    )
}

/// Where the runtime library was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuntimeSource {
    /// The `ORT_DYLIB_PATH` environment variable.
    EnvVar,
    /// The `onnxruntime` wheel of this Python interpreter.
    PythonWheel { python: String },
    /// A directory the dynamic loader searches.
    SystemLibrary,
}

impl fmt::Display for RuntimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeSource::EnvVar => write!(f, "{ORT_DYLIB_PATH_ENV}"),
            RuntimeSource::PythonWheel { python } => write!(f, "the onnxruntime wheel of {python}"),
            RuntimeSource::SystemLibrary => f.write_str("the system library path"),
        }
    }
}

/// A located ONNX Runtime shared library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeInfo {
    pub dylib: PathBuf,
    pub source: RuntimeSource,
    /// The version, when the file name carries it (`libonnxruntime.so.1.31.1`).
    pub version: Option<String>,
}

impl fmt::Display for RuntimeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ONNX Runtime ")?;
        if let Some(v) = &self.version {
            write!(f, "{v} ")?;
        }
        write!(f, "at {} (from {})", self.dylib.display(), self.source)
    }
}

/// No usable ONNX Runtime library: where we looked, and how to get one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("ONNX Runtime not found ({}); the ONNX smoke-load needs it\nhint: {hint}", tried.join("; "))]
pub struct RuntimeMissing {
    /// What was tried, and why each place did not do.
    pub tried: Vec<String>,
    pub hint: String,
}

/// Locates the ONNX Runtime shared library: `ORT_DYLIB_PATH`, else the `onnxruntime`
/// wheel of the active Python (`RSKILL_PYTHON`, else `$VIRTUAL_ENV/bin/python`, else
/// `python3`), else the directories the dynamic loader searches (`LD_LIBRARY_PATH` and
/// the standard library directories). Libraries older than 1.31 are passed over.
pub fn onnx_runtime() -> Result<RuntimeInfo, RuntimeMissing> {
    let mut tried = Vec::new();

    if let Some(value) = std::env::var_os(ORT_DYLIB_PATH_ENV).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        // An explicit setting that does not work is an error, not a reason to pick
        // some other library silently.
        return match usable_dylib(&path) {
            Ok(version) => Ok(RuntimeInfo {
                dylib: path,
                source: RuntimeSource::EnvVar,
                version,
            }),
            Err(why) => Err(RuntimeMissing {
                tried: vec![format!("{ORT_DYLIB_PATH_ENV}={}: {why}", path.display())],
                hint: runtime_hint(),
            }),
        };
    }
    tried.push(format!("{ORT_DYLIB_PATH_ENV} is not set"));

    let python = python_interpreter();
    match wheel_dir(&python) {
        Ok(dir) => {
            let capi = dir.join("capi");
            match pick_dylib(&capi, &mut tried) {
                Some((dylib, version)) => {
                    return Ok(RuntimeInfo {
                        dylib,
                        source: RuntimeSource::PythonWheel { python },
                        version,
                    });
                }
                None => tried.push(format!(
                    "the onnxruntime wheel of {python} has no usable library in {}",
                    capi.display()
                )),
            }
        }
        Err(why) => tried.push(format!("{python}: {why}")),
    }

    for dir in system_library_dirs() {
        if let Some((dylib, version)) = pick_dylib(&dir, &mut tried) {
            return Ok(RuntimeInfo {
                dylib,
                source: RuntimeSource::SystemLibrary,
                version,
            });
        }
    }
    tried.push(format!(
        "no {} on the system library path",
        dylib_base_name()
    ));
    Err(RuntimeMissing {
        tried,
        hint: runtime_hint(),
    })
}

fn python_interpreter() -> String {
    if let Some(p) = std::env::var(PYTHON_ENV).ok().filter(|p| !p.is_empty()) {
        return p;
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let bin = if cfg!(windows) {
            "Scripts/python.exe"
        } else {
            "bin/python"
        };
        let p = Path::new(&venv).join(bin);
        if p.exists() {
            return p.to_string_lossy().into_owned();
        }
    }
    "python3".to_string()
}

/// Asks `python` where its `onnxruntime` package lives.
fn wheel_dir(python: &str) -> Result<PathBuf, String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run it ({e})"))?;
    if !out.status.success() {
        return Err("it cannot import onnxruntime".to_string());
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if dir.is_empty() {
        return Err("it printed no onnxruntime directory".to_string());
    }
    Ok(PathBuf::from(dir))
}

fn dylib_base_name() -> String {
    format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// `libonnxruntime.so`, `libonnxruntime.so.1.31.1`, `libonnxruntime.1.31.1.dylib`, …
/// but not `libonnxruntime_providers_shared.so`. Returns the version in the name.
fn runtime_file_version(file_name: &str) -> Option<Option<String>> {
    let prefix = format!("{}onnxruntime", std::env::consts::DLL_PREFIX);
    let rest = file_name.strip_prefix(&prefix)?;
    let suffix = std::env::consts::DLL_SUFFIX;
    if !(rest.starts_with('.') && file_name.contains(suffix)) {
        return None;
    }
    let version = rest.replacen(suffix, "", 1);
    let version = version.trim_matches('.');
    let is_version = !version.is_empty()
        && version
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    Some(is_version.then(|| version.to_string()))
}

/// Too old for `ort`?
fn version_too_old(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let major = parts.next().unwrap_or(0);
    let minor = parts.next().unwrap_or(0);
    major < 1 || (major == 1 && minor < ONNXRUNTIME_MIN_MINOR)
}

/// Checks an explicitly named library file; returns its version if the name has one.
fn usable_dylib(path: &Path) -> Result<Option<String>, String> {
    if !path.is_file() {
        return Err("no such file".to_string());
    }
    let version = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(runtime_file_version)
        .flatten();
    if let Some(v) = &version
        && version_too_old(v)
    {
        return Err(format!(
            "version {v} is older than 1.{ONNXRUNTIME_MIN_MINOR}, which ort needs"
        ));
    }
    Ok(version)
}

/// The newest usable runtime library in `dir`, if any.
fn pick_dylib(dir: &Path, tried: &mut Vec<String>) -> Option<(PathBuf, Option<String>)> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut candidates: Vec<(Vec<u32>, PathBuf, Option<String>)> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(version) = name.to_str().and_then(runtime_file_version) else {
            continue;
        };
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        if let Some(v) = &version
            && version_too_old(v)
        {
            tried.push(format!(
                "{}: version {v} is older than 1.{ONNXRUNTIME_MIN_MINOR}",
                path.display()
            ));
            continue;
        }
        let key = version
            .as_deref()
            .map(|v| v.split('.').map(|p| p.parse().unwrap_or(0)).collect())
            .unwrap_or_default();
        candidates.push((key, path, version));
    }
    // Prefer the highest version; an unversioned name (usually a symlink) last.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    candidates.into_iter().next().map(|(_, p, v)| (p, v))
}

fn system_library_dirs() -> Vec<PathBuf> {
    let var = if cfg!(target_os = "macos") {
        "DYLD_LIBRARY_PATH"
    } else {
        "LD_LIBRARY_PATH"
    };
    let mut dirs: Vec<PathBuf> = std::env::var_os(var)
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    let arch_dir = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    for d in [
        "/usr/local/lib",
        arch_dir.as_str(),
        "/usr/lib64",
        "/usr/lib",
        "/lib",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_file_names() {
        let so = |v: &str| format!("libonnxruntime.so{v}");
        if cfg!(target_os = "linux") {
            assert_eq!(runtime_file_version(&so("")), Some(None));
            assert_eq!(
                runtime_file_version(&so(".1.31.1")),
                Some(Some("1.31.1".to_string()))
            );
            assert_eq!(
                runtime_file_version("libonnxruntime_providers_shared.so"),
                None
            );
            assert_eq!(runtime_file_version("libonnxruntime.so.bak.x"), Some(None));
        }
        assert!(version_too_old("1.20.0"));
        assert!(!version_too_old("1.31.0"));
        assert!(!version_too_old("2.0"));
    }
}
