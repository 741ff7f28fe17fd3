//! `rskill scan PATH` end to end: exit 1 on a folder with a dangerous file (or one that
//! cannot be scanned), 0 on clean ones and on the in-repo corpus skills, 2 on a usage
//! error; `--json` carries the typed report and its `scan.<type>.<field>` records. (Hub
//! skills and `install --scan` are tested in `install`.)

use std::path::Path;
use std::process::{Command, Output};

use rskill_test_support::paths::corpus_dir;
use rskill_test_support::scan_corpus;
use serde_json::Value;

fn rskill(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rskill"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", dir.join("hf"))
        .output()
        .expect("run rskill")
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn every_hostile_corpus_file_exits_1_and_every_benign_one_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let files = scan_corpus::write_corpus(&tmp.path().join("c")).unwrap();
    for f in &files {
        let path = tmp.path().join("c").join(f.name);
        let o = rskill(&["scan", path.to_str().unwrap()], tmp.path());
        let want = if f.hostile { 1 } else { 0 };
        assert_eq!(
            o.status.code(),
            Some(want),
            "{} ({}): {}",
            f.name,
            f.family,
            show(&o)
        );
    }
}

#[test]
fn json_report_of_a_folder_with_a_poisoned_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("skill");
    std::fs::create_dir_all(dir.join("weights")).unwrap();
    std::fs::write(
        dir.join("weights/model.pt"),
        scan_corpus::torch_zip(&scan_corpus::reduce_call(2, "builtins", "exec", "x"), &[]),
    )
    .unwrap();
    std::fs::write(dir.join("weights/helper.py"), "print('hi')\n").unwrap();
    let o = rskill(&["scan", dir.to_str().unwrap(), "--json"], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["status"], "dangerous");
    assert_eq!(v["records"]["scan.pickle.status"], "dangerous");
    assert_eq!(
        v["records"]["scan.pickle.dangerous_globals"],
        "builtins.exec"
    );
    assert_eq!(v["records"]["scan.remote_code.status"], "warning");
    assert_eq!(
        v["records"]["scan.remote_code.python_files"],
        "weights/helper.py"
    );
    assert_eq!(v["types"]["pickle"]["files"], 1);
    assert!(v["scanned_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        v["findings"][0]["file"], "weights/model.pt:archive/data.pkl",
        "{v}"
    );
}

#[test]
fn the_corpus_skills_scan_clean_and_usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let skill = corpus_dir().join("smolvla-franka-pick-cube");
    let o = rskill(&["scan", skill.to_str().unwrap()], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("manifest     clean"), "{}", show(&o));
    assert!(
        out.ends_with("scan: clean (0 finding(s), 0 byte(s) read)\n"),
        "{}",
        show(&o)
    );

    // Neither a path nor a skill id: a usage error, before any request.
    let o = rskill(&["scan", "no-such-thing"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("hint:"),
        "{}",
        show(&o)
    );
    let o = rskill(&["scan"], tmp.path());
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}
