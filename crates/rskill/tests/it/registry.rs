//! The installed-skills registry under concurrency and damage: ten processes installing
//! at once all get registered, a corrupt registry is reported and never overwritten,
//! and what is written reads back identically.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rskill::registry::{
    self, InstalledFile, InstalledSkill, Registry, RegistryError, SmokeRecord, WeightsSource,
    load_at, update_at,
};

fn skill(repo: &str) -> InstalledSkill {
    InstalledSkill {
        repo: repo.to_string(),
        revision_requested: "main".to_string(),
        commit: "0123456789abcdef0123456789abcdef01234567".to_string(),
        version: "1.2.0".to_string(),
        alias: None,
        status: None,
        kind: "policy".to_string(),
        license: "apache-2.0".to_string(),
        weights: Some(WeightsSource {
            repo: "upstream/weights".to_string(),
            commit: "89abcdef0123456789abcdef0123456789abcdef".to_string(),
        }),
        files: vec![InstalledFile {
            repo: "upstream/weights".to_string(),
            path: "model.safetensors".to_string(),
            sha256: "ab".repeat(32),
            size: 1234,
            blob_path: PathBuf::from("/cache/models--upstream--weights/blobs/abab"),
        }],
        installed_at: registry::now_rfc3339(),
        smoke: SmokeRecord {
            safetensors: Some("2 tensors, 20 params (F32×2), header 128 B, data 80 B".to_string()),
            onnx: Some("skipped: ONNX Runtime not found".to_string()),
        },
        signature: Default::default(),
        explicit: true,
    }
}

fn registry_in(dir: &Path) -> PathBuf {
    dir.join("data").join(registry::REGISTRY_FILE)
}

#[test]
fn round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = registry_in(dir.path());
    assert_eq!(load_at(&path).unwrap(), Registry::default());
    assert!(
        !path.parent().unwrap().exists(),
        "loading must not create directories"
    );

    let a = skill("acme/rskill-pick");
    let mut b = skill("acme/rskill-place");
    b.weights = None;
    b.smoke = SmokeRecord::default();
    let returned = update_at(&path, |r| {
        r.skills.insert(a.repo.clone(), a.clone());
        r.skills.insert(b.repo.clone(), b.clone());
        r.skills.len()
    })
    .unwrap();
    assert_eq!(returned, 2);

    let back = load_at(&path).unwrap();
    assert_eq!(back.version, 1);
    assert_eq!(back.skills["acme/rskill-pick"], a);
    assert_eq!(back.skills["acme/rskill-place"], b);

    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["skills"]["acme/rskill-pick"]["commit"], a.commit);
    assert!(json["skills"]["acme/rskill-place"]["weights"].is_null());

    update_at(&path, |r| r.skills.remove("acme/rskill-pick")).unwrap();
    assert_eq!(
        load_at(&path).unwrap().skills.keys().collect::<Vec<_>>(),
        ["acme/rskill-place"]
    );
    assert!(
        a.installed_at.ends_with('Z') && a.installed_at.len() == 20,
        "{}",
        a.installed_at
    );
}

fn assert_refused(contents: &[u8], wanted: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = registry_in(dir.path());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, contents).unwrap();

    let err = load_at(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains(wanted), "expected {wanted:?} in: {msg}");
    assert!(
        msg.contains("hint:") && msg.contains("left untouched"),
        "{msg}"
    );

    let mut called = false;
    let err = update_at(&path, |r| {
        called = true;
        r.skills.insert("x/y".to_string(), skill("x/y"));
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::Corrupt { .. } | RegistryError::UnsupportedVersion { .. }
        ),
        "{err:?}"
    );
    assert!(!called, "update must not run on a corrupt registry");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        contents,
        "the file must be left byte-identical"
    );
}

#[test]
fn corrupt_registry_is_reported_and_left_alone() {
    assert_refused(b"{\"version\": 1, \"skills\": {", "invalid JSON");
    assert_refused(b"", "invalid JSON");
    assert_refused(br#"{"skills": {}}"#, "no `version` field");
    assert_refused(br#"{"version": "one", "skills": {}}"#, "not a number");
    assert_refused(
        br#"{"version": 1, "skills": {"a/b": {"repo": "a/b"}}}"#,
        "missing field",
    );
    let mut mismatched = Registry::default();
    mismatched.skills.insert("a/b".to_string(), skill("c/d"));
    assert_refused(
        &serde_json::to_vec(&mismatched).unwrap(),
        "entry \"a/b\" describes skill \"c/d\"",
    );
}

#[test]
fn newer_format_is_reported_not_overwritten() {
    assert_refused(
        br#"{"version": 2, "skills": {}, "new": true}"#,
        "format version 2, but this rskill reads version 1",
    );
}

#[test]
fn ten_threads_each_opening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = registry_in(dir.path());
    std::thread::scope(|s| {
        for k in 0..10 {
            let path = &path;
            s.spawn(move || {
                update_at(path, |r| {
                    // Widen the read-modify-write window so a missing lock loses entries.
                    std::thread::sleep(Duration::from_millis(10));
                    let repo = format!("threads/rskill-{k}");
                    r.skills.insert(repo.clone(), skill(&repo));
                })
                .unwrap();
            });
        }
    });
    assert_eq!(load_at(&path).unwrap().skills.len(), 10);
}

const CHILD_SKILL: &str = "RSKILL_TEST_REGISTER_SKILL";
const CHILD_GO: &str = "RSKILL_TEST_GO_FILE";

#[test]
fn ten_concurrent_processes_end_with_ten_entries() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let go = dir.path().join("go");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..10)
        .map(|k| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "registry::register_one_skill_child",
                    "--ignored",
                    "--nocapture",
                ])
                .env(registry::DATA_DIR_ENV, &data)
                .env(CHILD_SKILL, format!("procs/rskill-{k}"))
                .env(CHILD_GO, &go)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Let them all start, then release them at once.
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&go, b"go").unwrap();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let reg = load_at(&data.join(registry::REGISTRY_FILE)).unwrap();
    let names: Vec<&String> = reg.skills.keys().collect();
    let expected: Vec<String> = (0..10).map(|k| format!("procs/rskill-{k}")).collect();
    assert_eq!(names, expected.iter().collect::<Vec<_>>());
}

#[test]
#[ignore = "helper: run in child processes by ten_concurrent_processes_end_with_ten_entries"]
fn register_one_skill_child() {
    let repo = std::env::var(CHILD_SKILL).expect("run by the parent test");
    let go = PathBuf::from(std::env::var(CHILD_GO).unwrap());
    let start = Instant::now();
    while !go.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "never released");
        std::thread::sleep(Duration::from_millis(5));
    }
    // The environment decides the location, as it does for `rskill install`.
    registry::update(|r| {
        std::thread::sleep(Duration::from_millis(20));
        r.skills.insert(repo.clone(), skill(&repo));
    })
    .unwrap();
}

#[test]
fn data_dir_follows_the_environment() {
    let exe = std::env::current_exe().unwrap();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("RSKILL_DATA_DIR", "/d"),
                ("XDG_DATA_HOME", "/x"),
                ("HOME", "/h"),
            ],
            "/d/registry.json",
        ),
        (
            &[
                ("RSKILL_DATA_DIR", ""),
                ("XDG_DATA_HOME", "/x"),
                ("HOME", "/h"),
            ],
            "/x/rskill/registry.json",
        ),
        (
            &[
                ("RSKILL_DATA_DIR", ""),
                ("XDG_DATA_HOME", ""),
                ("HOME", "/h"),
            ],
            "/h/.local/share/rskill/registry.json",
        ),
    ];
    for (envs, expected) in cases {
        let mut cmd = Command::new(&exe);
        cmd.args([
            "--exact",
            "registry::registry_path_child",
            "--ignored",
            "--nocapture",
        ])
        .env("RSKILL_TEST_EXPECTED_PATH", expected);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "{expected}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
#[ignore = "helper: run in child processes by data_dir_follows_the_environment"]
fn registry_path_child() {
    let expected = std::env::var("RSKILL_TEST_EXPECTED_PATH").expect("run by the parent test");
    assert_eq!(registry::registry_path().unwrap(), PathBuf::from(expected));
}
