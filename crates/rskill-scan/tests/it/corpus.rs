//! Every hostile corpus file is flagged, every benign one passes, nothing panics —
//! file by file, as a folder, and on every truncation of every pickle.

use rskill_scan::report::{ScanReport, ScanType, Severity, Status};
use rskill_scan::{pickle, scan_file, scan_path};
use rskill_test_support::scan_corpus::{self, corpus};

fn scan_one(dir: &std::path::Path, name: &str) -> ScanReport {
    let mut r = ScanReport::new(name);
    scan_file(&dir.join(name), name, &mut r);
    r.finish();
    r
}

#[test]
fn every_hostile_file_is_flagged_and_every_benign_one_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let files = scan_corpus::write_corpus(tmp.path()).unwrap();
    let mut wrong = Vec::new();
    for f in &files {
        let r = scan_one(tmp.path(), f.name);
        if r.fails() != f.hostile || r.types.is_empty() {
            wrong.push(format!(
                "{} ({}): hostile={} status={} findings={:?}",
                f.name,
                f.family,
                f.hostile,
                r.status(),
                r.findings
            ));
        }
    }
    assert!(wrong.is_empty(), "misjudged:\n{}", wrong.join("\n"));
}

#[test]
fn findings_name_the_global_and_the_zip_entry() {
    let tmp = tempfile::tempdir().unwrap();
    scan_corpus::write_corpus(tmp.path()).unwrap();
    let r = scan_one(tmp.path(), "zip_checkpoint_os_system.pt");
    assert!(
        r.findings.iter().any(|f| f.severity == Severity::Dangerous
            && f.file == "zip_checkpoint_os_system.pt:archive/data.pkl"
            && f.message.contains("`os.system`")),
        "{:?}",
        r.findings
    );
    let r = scan_one(tmp.path(), "second_pickle_after_stop.pkl");
    assert_eq!(r.records()["scan.pickle.dangerous_globals"], "os.system");
    let r = scan_one(tmp.path(), "dynamic_stack_global.pkl");
    assert!(
        r.findings
            .iter()
            .any(|f| f.message.contains("computed at load time"))
    );
    let r = scan_one(tmp.path(), "benign_state_dict.pt");
    let rec = r.records();
    assert_eq!(rec["scan.pickle.status"], "clean");
    assert!(rec["scan.pickle.globals"].contains("torch._utils._rebuild_tensor_v2"));
    let r = scan_one(tmp.path(), "escaping_external.onnx");
    assert!(r.findings.iter().any(|f| f.message.contains("climbs out")));
    let r = scan_one(tmp.path(), "benign.onnx");
    assert_eq!(r.records()["scan.onnx.opset"], "ai.onnx:17");
}

#[test]
fn the_whole_corpus_as_a_folder_fails_and_the_benign_half_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let files = scan_corpus::write_corpus(tmp.path()).unwrap();
    let r = scan_path(tmp.path());
    assert_eq!(r.status(), Status::Error, "a truncated pickle is an error");
    assert_eq!(
        r.types[&ScanType::Safetensors].status,
        Some(Status::Dangerous)
    );
    assert_eq!(r.types[&ScanType::Onnx].status, Some(Status::Dangerous));
    let benign = tempfile::tempdir().unwrap();
    for f in files.iter().filter(|f| !f.hostile) {
        std::fs::write(benign.path().join(f.name), &f.bytes).unwrap();
    }
    let r = scan_path(benign.path());
    assert!(!r.fails(), "{:?}", r.findings);
}

#[test]
fn no_truncation_or_corruption_of_any_corpus_pickle_panics() {
    for f in corpus().iter().filter(|f| f.name.ends_with(".pkl")) {
        for n in 0..f.bytes.len() {
            let w = pickle::walk(&f.bytes[..n]);
            // A cut stream never passes as complete unless the cut falls between pickles.
            if w.error.is_none() {
                assert!(w.pickles >= 1, "{} cut at {n}", f.name);
            }
        }
        let mut seed = 0x9e3779b97f4a7c15u64;
        for _ in 0..200 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut c = f.bytes.clone();
            let i = (seed as usize) % c.len();
            c[i] = (seed >> 32) as u8;
            let _ = pickle::walk(&c[..]);
        }
    }
}
