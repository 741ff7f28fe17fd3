//! Scanning a folder or a file: each file goes to the scanner its name (or, for
//! pickles, its first bytes) calls for — pickles and zip PyTorch checkpoints, safetensors,
//! ONNX, Python code and `auto_map` configs (remote code), the skill's manifest and
//! card — and everything lands in one [`ScanReport`].

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use crate::onnx::scan_onnx;
use crate::pickle::{self, PickleWalk};
use crate::policy::pickle_global_allowed;
use crate::report::{ScanReport, ScanType, Severity};
use crate::safetensors::scan_safetensors;

/// Files a folder scan looks at, at most.
pub const MAX_FILES: usize = 100_000;
/// Largest `config.json` read for `auto_map`.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// Entries of a zip checkpoint looked at, at most.
pub const MAX_ZIP_ENTRIES: usize = 100_000;

/// File extensions of pickle-based files: the one list, shared with the install guard.
pub use rskill_manifest::license::{NUMPY_EXTENSIONS, PICKLE_EXTENSIONS};

const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// What a file is, for the scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pickle,
    /// `.npy` / `.npz`: a pickle inside when the header says `object`.
    Numpy,
    Safetensors,
    Onnx,
    Python,
    Config,
    Manifest,
    Other,
}

/// Classifies a file by its path inside the scanned tree.
pub fn kind_of(rel: &str) -> FileKind {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        _ if rel == "rskill.yaml" => FileKind::Manifest,
        _ if name == "config.json" => FileKind::Config,
        "safetensors" => FileKind::Safetensors,
        "onnx" => FileKind::Onnx,
        "py" => FileKind::Python,
        e if PICKLE_EXTENSIONS.contains(&e) => FileKind::Pickle,
        e if NUMPY_EXTENSIONS.contains(&e) => FileKind::Numpy,
        _ => FileKind::Other,
    }
}

/// Scans a folder (recursively; `.git` skipped, symlinked folders not followed) or a
/// single file.
pub fn scan_path(path: &Path) -> ScanReport {
    let mut report = ScanReport::new(path.display().to_string());
    if path.is_dir() {
        let mut files = Vec::new();
        let mut truncated = false;
        collect(path, path, &mut files, &mut truncated);
        if truncated {
            report.push(
                ScanType::Pickle,
                Severity::Error,
                path.display().to_string(),
                format!("more than {MAX_FILES} files; the rest was not scanned"),
            );
        }
        files.sort();
        for (abs, rel) in files {
            scan_file(&abs, &rel, &mut report);
        }
    } else {
        let rel = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        scan_file(path, &rel, &mut report);
    }
    report.finish();
    report
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>, truncated: &mut bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if out.len() >= MAX_FILES {
            *truncated = true;
            return;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if entry.file_name() != ".git" {
                collect(root, &path, out, truncated);
            }
            continue;
        }
        // Files may be symlinks (a Hub cache snapshot); folders behind links are not walked.
        if path.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((path, rel));
        }
    }
}

/// Scans one file (shown as `rel`) into `report`, by its kind.
pub fn scan_file(path: &Path, rel: &str, report: &mut ScanReport) {
    match kind_of(rel) {
        FileKind::Pickle => scan_pickle_file(path, rel, report),
        FileKind::Numpy => scan_numpy(path, rel, report),
        FileKind::Safetensors => scan_safetensors(path, rel, report),
        FileKind::Onnx => scan_onnx(path, rel, report),
        FileKind::Python => remote_code_file(rel, report),
        FileKind::Config => scan_config(path, rel, report),
        FileKind::Manifest => scan_manifest(path, rel, report),
        FileKind::Other => {
            // A pickle under another name still runs code when unpickled.
            if starts_like_pickle(path) {
                scan_pickle_file(path, rel, report);
            }
        }
    }
}

fn starts_like_pickle(path: &Path) -> bool {
    let mut head = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head[0] == 0x80
        && (2..=5).contains(&head[1])
}

/// A NumPy array (`.npy`) or a zip of them (`.npz`): an object array's pickle (after
/// its header) is walked like any pickle; a header that cannot be read is an error.
pub fn scan_numpy(path: &Path, rel: &str, report: &mut ScanReport) {
    const P: ScanType = ScanType::Pickle;
    report.touch(P).files += 1;
    let mut file = match File::open(path) {
        Ok(f) => BufReader::new(f),
        Err(e) => return report.push(P, Severity::Error, rel, format!("cannot open: {e}")),
    };
    if !rel.to_ascii_lowercase().ends_with(".npz") {
        return numpy_stream(&mut file, rel, report);
    }
    let mut archive = match zip::ZipArchive::new(file) {
        Ok(a) => a,
        Err(e) => {
            return report.push(P, Severity::Error, rel, format!("not a readable .npz: {e}"));
        }
    };
    report.field(P, "format", "npz");
    for i in 0..archive.len().min(MAX_ZIP_ENTRIES) {
        let mut entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                report.push(
                    P,
                    Severity::Error,
                    rel,
                    format!("entry {i} cannot be read: {e}"),
                );
                continue;
            }
        };
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        numpy_stream(&mut entry, &format!("{rel}:{name}"), report);
    }
}

/// One `.npy` stream: its header, then (object arrays) the pickle after it.
fn numpy_stream(input: &mut impl Read, rel: &str, report: &mut ScanReport) {
    const P: ScanType = ScanType::Pickle;
    match crate::numpy::read_header(&mut *input) {
        Err(e) => report.push(P, Severity::Error, rel, format!("not a readable .npy: {e}")),
        Ok(h) if h.holds_objects => {
            report.field(P, "format", "npy object array");
            judge(&pickle::walk(input), rel, report);
        }
        Ok(_) => {}
    }
}

/// Why the file at `path` (shown as `rel`) carries a pickle, by name or content, if it
/// does: a pickle format by name; a NumPy array whose header says `object` or cannot
/// be read (a `.npz` member included); a zip holding a `*.pkl` (a checkpoint under any
/// name); a pickle stream under any name. `None`: no pickle. For the install guard.
pub fn pickle_bearing(path: &Path, rel: &str) -> Option<String> {
    if rskill_manifest::license::is_pickle_file(rel) {
        return Some("a pickle format".into());
    }
    let numpy = |input: &mut dyn Read, what: &str| match crate::numpy::read_header(input) {
        Ok(h) if h.holds_objects => Some(format!("{what}an object array (dtype {})", h.descr)),
        Ok(_) => None,
        Err(e) => Some(format!("{what}a .npy header that cannot be read ({e})")),
    };
    let mut file = match File::open(path) {
        Ok(f) => BufReader::new(f),
        Err(e) => return Some(format!("cannot be opened to check ({e})")),
    };
    let lower = rel.to_ascii_lowercase();
    if lower.ends_with(".npy") {
        return numpy(&mut file, "");
    }
    let mut magic = [0u8; 4];
    let read = file.read(&mut magic).unwrap_or(0);
    if read >= 2 && magic[0] == 0x80 && (2..=5).contains(&magic[1]) {
        return Some("a pickle stream".into());
    }
    let is_zip = read == 4 && &magic == ZIP_MAGIC;
    if !is_zip {
        return lower
            .ends_with(".npz")
            .then(|| "a .npz that is not a zip".into());
    }
    let file = File::open(path).ok()?;
    let mut archive = match zip::ZipArchive::new(BufReader::new(file)) {
        Ok(a) => a,
        Err(e) => return Some(format!("a zip that cannot be read ({e})")),
    };
    for i in 0..archive.len().min(MAX_ZIP_ENTRIES) {
        let Ok(mut entry) = archive.by_index(i) else {
            return Some(format!("a zip whose entry {i} cannot be read"));
        };
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if name.ends_with(".pkl") {
            return Some(format!("a zip checkpoint (holds {name})"));
        }
        if lower.ends_with(".npz")
            && let Some(why) = numpy(&mut entry, &format!("{name}: "))
        {
            return Some(why);
        }
    }
    None
}

/// A pickle-based file: a zip checkpoint (every `*.pkl` inside is walked) or a plain
/// pickle stream (every pickle in it is walked).
pub fn scan_pickle_file(path: &Path, rel: &str, report: &mut ScanReport) {
    const P: ScanType = ScanType::Pickle;
    report.touch(P).files += 1;
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return report.push(P, Severity::Error, rel, format!("cannot open: {e}")),
    };
    let mut magic = [0u8; 4];
    let is_zip = file.read_exact(&mut magic).is_ok() && &magic == ZIP_MAGIC;
    drop(file);
    if is_zip {
        return scan_zip(path, rel, report);
    }
    match File::open(path) {
        Ok(f) => {
            let walk = pickle::walk(f);
            judge(&walk, rel, report);
        }
        Err(e) => report.push(P, Severity::Error, rel, format!("cannot open: {e}")),
    }
}

fn scan_zip(path: &Path, rel: &str, report: &mut ScanReport) {
    const P: ScanType = ScanType::Pickle;
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return report.push(P, Severity::Error, rel, format!("cannot open: {e}")),
    };
    let mut archive = match zip::ZipArchive::new(BufReader::new(file)) {
        Ok(a) => a,
        Err(e) => {
            return report.push(
                P,
                Severity::Error,
                rel,
                format!("a zip archive that cannot be read: {e}"),
            );
        }
    };
    report.field(P, "format", "zip");
    if archive.len() > MAX_ZIP_ENTRIES {
        return report.push(
            P,
            Severity::Error,
            rel,
            format!(
                "{} zip entries, above the {MAX_ZIP_ENTRIES} scanned",
                archive.len()
            ),
        );
    }
    let mut pickles = 0;
    for i in 0..archive.len() {
        let entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                report.push(
                    P,
                    Severity::Error,
                    rel,
                    format!("zip entry {i} cannot be read: {e}"),
                );
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
        };
        if !name.ends_with(".pkl") {
            continue;
        }
        pickles += 1;
        let walk = pickle::walk(entry);
        judge(&walk, &format!("{rel}:{name}"), report);
    }
    if pickles == 0 {
        report.push(
            P,
            Severity::Warning,
            rel,
            "a zip archive without any *.pkl entry (not a PyTorch checkpoint?)",
        );
    }
}

/// Turns a walk into findings: globals outside the allowlist, dynamic imports and
/// extension-registry lookups are dangerous; a stream that could not be walked is an
/// error (exit 1), whatever was found before it.
pub fn judge(walk: &PickleWalk, rel: &str, report: &mut ScanReport) {
    const P: ScanType = ScanType::Pickle;
    report.bytes_scanned += walk.bytes;
    report.field(P, "protocol", walk.protocol.to_string());
    for g in &walk.globals {
        report.field(P, "globals", g.to_string());
        if !pickle_global_allowed(g) {
            report.field(P, "dangerous_globals", g.to_string());
            report.push(
                P,
                Severity::Dangerous,
                rel,
                format!("imports `{g}`, which is not a tensor-rebuilding callable"),
            );
        }
    }
    for o in &walk.oddities {
        let message = match o {
            pickle::Oddity::DynamicGlobal { offset } => format!(
                "STACK_GLOBAL at byte {offset} imports a name computed at load time (not a constant string)"
            ),
            pickle::Oddity::Extension { code, offset } => format!(
                "EXT opcode at byte {offset} imports extension-registry code {code} (any global)"
            ),
        };
        report.push(P, Severity::Dangerous, rel, message);
    }
    if let Some(e) = &walk.error {
        report.push(
            P,
            Severity::Error,
            rel,
            format!(
                "could not be scanned to its end after {} pickle(s): {e}",
                walk.pickles
            ),
        );
    }
    if let Some(t) = &walk.trailing {
        let severity = if walk.torch_legacy {
            Severity::Info
        } else {
            Severity::Warning
        };
        report.push(P, severity, rel, t.clone());
    }
}

/// A Python file: remote code (named, never read).
pub fn remote_code_file(rel: &str, report: &mut ScanReport) {
    report.touch(ScanType::RemoteCode).files += 1;
    report.field(ScanType::RemoteCode, "python_files", rel);
    report.push(
        ScanType::RemoteCode,
        Severity::Warning,
        rel,
        "Python code: loading with trust_remote_code would run it",
    );
}

fn scan_config(path: &Path, rel: &str, report: &mut ScanReport) {
    let bytes = match File::open(path).and_then(|f| {
        let mut out = Vec::new();
        f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut out)?;
        Ok(out)
    }) {
        Ok(b) => b,
        Err(e) => {
            return report.push(
                ScanType::RemoteCode,
                Severity::Error,
                rel,
                format!("cannot read: {e}"),
            );
        }
    };
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return report.push(
            ScanType::RemoteCode,
            Severity::Error,
            rel,
            format!("larger than {MAX_CONFIG_BYTES} bytes; not scanned for auto_map"),
        );
    }
    report.touch(ScanType::RemoteCode).files += 1;
    let Ok(serde_json::Value::Object(config)) = serde_json::from_slice(&bytes) else {
        return;
    };
    if let Some(auto_map) = config.get("auto_map") {
        report.field(ScanType::RemoteCode, "auto_map", rel);
        report.push(
            ScanType::RemoteCode,
            Severity::Warning,
            rel,
            format!("asks for remote code (auto_map: {auto_map})"),
        );
    }
}

fn scan_manifest(path: &Path, rel: &str, report: &mut ScanReport) {
    const M: ScanType = ScanType::Manifest;
    report.touch(M).files += 1;
    let checked = rskill_manifest::skill::check(path, Default::default());
    if let Some(m) = &checked.manifest {
        report.field(M, "license", m.license.to_string());
        report.field(M, "version", m.version.clone());
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let base = rel.rsplit_once('/').map_or("", |(d, _)| d);
    for (f, severity) in checked
        .findings
        .iter()
        .map(|f| (f, Severity::Warning))
        .chain(checked.warnings.iter().map(|f| (f, Severity::Info)))
    {
        let name = f
            .file
            .strip_prefix(dir)
            .unwrap_or(&f.file)
            .display()
            .to_string();
        let file = if base.is_empty() {
            name
        } else {
            format!("{base}/{name}")
        };
        let v = &f.violation;
        let mut message = v.line.map(|l| format!("line {l}: ")).unwrap_or_default();
        if !v.field.is_empty() {
            message.push_str(&format!("{}: ", v.field));
        }
        message.push_str(&v.message);
        report.push(M, severity, file, message);
    }
}
