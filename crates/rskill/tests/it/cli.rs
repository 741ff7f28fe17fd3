//! The `rskill` binary end to end: `validate` (text and `--json`, exit codes, located
//! findings) and `tags --check | --write` (drift, byte-for-byte body, idempotence,
//! usage errors).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rskill_test_support::paths::*;
use rskill_test_support::test_hub::hub_binary;
use serde_json::Value;

const SKILL: &str = "smolvla-franka-pick-cube";

fn rskill(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rskill"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("run rskill")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        stdout(o),
        stderr(o)
    )
}

/// A temp dir holding a copy of one corpus skill; commands run inside the temp dir.
fn copy() -> (tempfile::TempDir, PathBuf) {
    skill_copy(SKILL)
}

/// The bytes after the closing `---` line of a card's front matter.
fn body_bytes(card: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(card).unwrap();
    rskill_manifest::card::split(text)
        .unwrap()
        .body
        .as_bytes()
        .to_vec()
}

// ------------------------------------------------------------------ validate

#[test]
fn validate_in_the_repo_root_exits_0() {
    let o = rskill(&["validate"], &repo_root());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let n = corpus_manifests_count();
    let g = corpus_groups_count();
    assert!(g >= 2, "the corpus has at least two groups");
    assert_eq!(
        stdout(&o).lines().filter(|l| l.starts_with("ok ")).count(),
        n + g,
        "{}",
        show(&o)
    );
    assert!(
        stderr(&o).contains(&format!(
            "{n} skills and {g} groups checked: {} valid, 0 invalid",
            n + g
        )),
        "{}",
        show(&o)
    );
    let o = rskill(&["validate", "rskills", "--manifest-only"], &repo_root());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
}

fn corpus_manifests_count() -> usize {
    rskill_manifest::corpus::discover(&corpus_dir())
        .unwrap()
        .len()
}

/// The first-party groups (`groups/`), which `rskill validate` checks by default too.
fn corpus_groups_count() -> usize {
    rskill_manifest::group::discover(&repo_root().join("groups")).len()
}

#[test]
fn validate_a_broken_copy_exits_1_with_a_located_line() {
    let (tmp, dir) = copy();
    let manifest = dir.join("rskill.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let line = text
        .lines()
        .position(|l| l == "kind: vla")
        .expect("kind line")
        + 1;
    std::fs::write(&manifest, text.replace("\nkind: vla\n", "\nkind: vlaa\n")).unwrap();
    let o = rskill(&["validate", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let expected = format!(
        "{SKILL}/rskill.yaml:{line}:7: kind: \"vlaa\" is not one of vla, wam, ros_action, ros_service, detector, vlm, reward, playbook"
    );
    assert!(
        stdout(&o).lines().any(|l| l.trim() == expected),
        "expected line {expected:?}\n{}",
        show(&o)
    );
    assert!(stdout(&o).contains("invalid"), "{}", show(&o));
    assert!(
        stderr(&o).contains("1 skill checked: 0 valid, 1 invalid"),
        "{}",
        show(&o)
    );
}

#[test]
fn validate_json_reports_every_skill() {
    let (tmp, dir) = copy();
    let manifest = dir.join("rskill.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let line = text.lines().position(|l| l == "kind: vla").unwrap() + 1;
    std::fs::write(&manifest, text.replace("\nkind: vla\n", "\nkind: vlaa\n")).unwrap();
    let o = rskill(&["validate", "--json", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: Value =
        serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", show(&o)));
    let items = v.as_array().expect("a JSON array");
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["path"], format!("{SKILL}/rskill.yaml"));
    assert_eq!(
        item["name"],
        "rskill-project/rskill-smolvla-franka-pick-cube"
    );
    assert_eq!(item["valid"], false);
    let errors = item["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e["field"], "kind");
    assert_eq!(e["rule"], "schema/enum");
    assert_eq!(e["line"], line);
    assert_eq!(e["column"], 7);
    assert_eq!(e["file"], format!("{SKILL}/rskill.yaml"));
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("\"vlaa\" is not one of vla, wam")
    );
    assert!(
        e.get("pointer").is_none(),
        "internal pointer is not part of the output"
    );
}

#[test]
fn validate_json_on_the_corpus() {
    let o = rskill(&["validate", "--json"], &repo_root());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let items = v.as_array().unwrap();
    assert_eq!(
        items.len(),
        corpus_manifests_count() + corpus_groups_count()
    );
    for item in items {
        assert_eq!(item["valid"], true, "{item}");
        assert_eq!(item["errors"], serde_json::json!([]), "{item}");
        assert!(
            item["name"]
                .as_str()
                .unwrap()
                .starts_with("rskill-project/"),
            "{item}"
        );
        let path = item["path"].as_str().unwrap();
        assert!(
            path.ends_with("/rskill.yaml") || path.ends_with("/rskill-group.yaml"),
            "{item}"
        );
    }
}

#[test]
fn usage_errors_exit_2_in_every_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let rskill_in = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rskill"))
            .args(args)
            .current_dir(tmp.path())
            .env("HF_HOME", tmp.path())
            .env("HF_HUB_OFFLINE", "1")
            .env("RSKILL_DATA_DIR", tmp.path())
            .output()
            .unwrap()
    };
    for args in [
        &["install"][..],
        &["info", "bad id"],
        &["install", "not-an-id"],
        &["search", "--kind", "vlaa"],
        &["validate", "--no-such-flag"],
    ] {
        let o = rskill_in(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
        assert!(stderr(&o).contains("error"), "{args:?}: {}", show(&o));
    }
    for bin in [
        PathBuf::from(env!("CARGO_BIN_EXE_rskill-publisher")),
        hub_binary(),
    ] {
        let o = Command::new(&bin).arg("--no-such-flag").output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{}: {}", bin.display(), show(&o));
    }
}

#[test]
fn validate_json_card_findings_name_their_file() {
    let (tmp, dir) = copy();
    std::fs::remove_file(dir.join("README.md")).unwrap();
    let o = rskill(&["validate", "--json", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let e = &v[0]["errors"][0];
    assert_eq!(e["rule"], "card/missing");
    assert_eq!(e["file"], format!("{SKILL}/README.md"));
    assert_eq!(e["field"], "readme");
    assert_eq!(e["line"], Value::Null);
    // The manifest alone is fine.
    let o = rskill(&["validate", "--manifest-only", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
}

#[test]
fn validate_takes_files_directories_and_corpora_without_repeats() {
    let (tmp, _dir) = copy();
    let file = format!("{SKILL}/rskill.yaml");
    let o = rskill(&["validate", "--json", SKILL, &file, SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}

#[test]
fn the_same_skill_spelt_two_ways_is_checked_once() {
    // `X` and `./X` (or a corpus `.` holding X) name the same manifest file.
    let (tmp, _dir) = copy();
    let dotted = format!("./{SKILL}");
    let o = rskill(&["validate", "--json", SKILL, &dotted, "."], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v.as_array().unwrap().len(),
        1,
        "one skill, reported once: {v}"
    );
}

#[test]
fn validate_reports_every_broken_skill_and_keeps_going() {
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        SKILL,
        "ros-nav2-navigate-to-pose",
        "owlv2-open-vocab-detector",
    ] {
        copy_dir(&corpus_dir().join(name), &tmp.path().join(name));
    }
    let nav = tmp.path().join("ros-nav2-navigate-to-pose/rskill.yaml");
    let text = std::fs::read_to_string(&nav).unwrap();
    std::fs::write(&nav, text.replace("chunk_size: 1\n", "chunk_size: 4\n")).unwrap();
    std::fs::write(tmp.path().join("owlv2-open-vocab-detector/rskill.yaml"), "").unwrap();
    let o = rskill(&["validate", "."], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = stdout(&o);
    assert!(
        out.contains("./ros-nav2-navigate-to-pose/rskill.yaml:"),
        "{}",
        show(&o)
    );
    assert!(
        out.contains("chunk_size: must be 1 for kind `ros_action` (found 4)"),
        "{}",
        show(&o)
    );
    assert!(
        out.contains("./owlv2-open-vocab-detector/rskill.yaml: the file is empty"),
        "{}",
        show(&o)
    );
    assert!(
        stderr(&o).contains("3 skills checked: 1 valid, 2 invalid"),
        "{}",
        show(&o)
    );
}

#[test]
fn validate_without_a_corpus_is_an_error_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    let o = rskill(&["validate"], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        stderr(&o).contains("error: rskills: no such file or directory"),
        "{}",
        show(&o)
    );
    assert!(stderr(&o).contains("hint: "), "{}", show(&o));
    assert!(stdout(&o).is_empty(), "{}", show(&o));
}

#[test]
fn usage_errors_exit_2() {
    let root = repo_root();
    for args in [
        &["tags"][..],
        &["tags", "rskills"][..],
        &["tags", "--check", "--write", "rskills"][..],
        &["validate", "--bogus"][..],
        &["no-such-command"][..],
        &[][..],
    ] {
        let o = rskill(args, &root);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}");
        assert!(stdout(&o).is_empty(), "{args:?}: {}", show(&o));
    }
    let o = rskill(&["tags", "rskills"], &root);
    assert!(
        stderr(&o).contains("--check") && stderr(&o).contains("--write"),
        "{}",
        show(&o)
    );
}

// ------------------------------------------------------------------ tags

/// Drifts a copy's card: a reserved tag removed, a foreign one added, a wrong license,
/// and a body with CRLF, a horizontal rule and no final newline.
fn drift(dir: &Path) -> Vec<u8> {
    let readme = dir.join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    let text = text
        .replacen("- rskill-kind:vla\n", "", 1)
        .replacen("- robotics\n", "- robotics\n- rskill-kind:vlm\n", 1)
        .replacen("license: apache-2.0\ntags:", "license: mit\ntags:", 1);
    let text = format!("{text}\n---\n\nTrailing   \r\nlast line without newline");
    std::fs::write(&readme, &text).unwrap();
    text.into_bytes()
}

#[test]
fn tags_check_on_a_drifted_copy_exits_1_naming_the_card() {
    let (tmp, dir) = copy();
    drift(&dir);
    let o = rskill(&["tags", "--check", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let card = format!("{SKILL}/README.md");
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with(&format!(
            "{card}: README.md is missing reserved tags: rskill-kind:vla"
        ))),
        "{}",
        show(&o)
    );
    assert!(out.contains("rskill-kind:vlm"), "{}", show(&o));
    assert!(
        out.contains("license metadata is `license: mit`"),
        "{}",
        show(&o)
    );
    assert!(
        stderr(&o).contains("error: 1 card(s) drift"),
        "{}",
        show(&o)
    );
    assert!(stderr(&o).contains("hint: "), "{}", show(&o));
}

#[test]
fn tags_write_fixes_keeps_the_body_and_is_idempotent() {
    let (tmp, dir) = copy();
    let readme = dir.join("README.md");
    let before = drift(&dir);
    let body_before = body_bytes(&before);

    let o = rskill(&["tags", "--write", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        stdout(&o).contains(&format!("rewrote {SKILL}/README.md")),
        "{}",
        show(&o)
    );
    let after = std::fs::read(&readme).unwrap();
    assert_ne!(after, before);
    assert_eq!(body_bytes(&after), body_before, "the Markdown body changed");
    assert!(after.ends_with(b"last line without newline"));

    // The front matter now agrees with the manifest and keeps the other keys.
    let text = String::from_utf8(after.clone()).unwrap();
    let card = rskill_manifest::card::split(&text).unwrap();
    let meta = rskill_manifest::card::metadata(&card).unwrap();
    assert_eq!(meta["license"], "apache-2.0");
    assert_eq!(meta["pipeline_tag"], "robotics");
    assert_eq!(meta["library_name"], "lerobot");
    let tags = rskill_manifest::card::tags(&meta);
    assert_eq!(
        tags,
        vec![
            "rskill-org:rskill-project",
            "rskill",
            "rskill-kind:vla",
            "rskill-role:s1",
            "embodiment:franka_panda",
            "license:apache-2.0",
            "robotics",
            "lerobot",
            "manipulation"
        ]
    );

    // Idempotent: a second run changes nothing, not even a byte.
    let o = rskill(&["tags", "--write", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(!stdout(&o).contains("rewrote"), "{}", show(&o));
    assert!(stderr(&o).contains("0 rewritten"), "{}", show(&o));
    assert_eq!(std::fs::read(&readme).unwrap(), after);

    let o = rskill(&["tags", "--check", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = rskill(&["validate", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
}

#[test]
fn tags_write_generates_a_missing_skill_md_deterministically() {
    let (tmp, dir) = copy();
    let skill_md = dir.join("SKILL.md");
    std::fs::remove_file(&skill_md).unwrap();
    let o = rskill(&["tags", "--write", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        stdout(&o).contains(&format!("wrote {SKILL}/SKILL.md")),
        "{}",
        show(&o)
    );
    let first = std::fs::read(&skill_md).unwrap();
    let text = String::from_utf8(first.clone()).unwrap();
    assert!(
        text.starts_with(&format!("---\nname: \"{SKILL}\"\n")),
        "{text}"
    );
    assert!(
        text.contains("rskill-project/rskill-smolvla-franka-pick-cube"),
        "{text}"
    );
    // It passes the checks it is held to, and validation stays green.
    let o = rskill(&["validate", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // The same manifest gives the same bytes; an existing SKILL.md is never touched.
    std::fs::remove_file(&skill_md).unwrap();
    rskill(&["tags", "--write", SKILL], tmp.path());
    assert_eq!(std::fs::read(&skill_md).unwrap(), first);
    std::fs::write(&skill_md, "---\nname: x\n---\nmine\n").unwrap();
    let o = rskill(&["tags", "--write", SKILL], tmp.path());
    assert!(!stdout(&o).contains("SKILL.md"), "{}", show(&o));
    assert_eq!(
        std::fs::read_to_string(&skill_md).unwrap(),
        "---\nname: x\n---\nmine\n"
    );
    // A folder whose name cannot be a skill name gets no SKILL.md, and says why.
    let bad = tmp.path().join("Bad_Folder");
    std::fs::rename(&dir, &bad).unwrap();
    std::fs::remove_file(bad.join("SKILL.md")).unwrap();
    let o = rskill(&["tags", "--write", "Bad_Folder"], tmp.path());
    assert!(stderr(&o).contains("rename the folder"), "{}", show(&o));
    assert!(!bad.join("SKILL.md").exists());
}

#[test]
fn tags_write_on_the_corpus_copy_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&corpus_dir(), &tmp.path().join("rskills"));
    let o = rskill(&["tags", "--write"], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(!stdout(&o).contains("rewrote"), "{}", show(&o));
    for m in rskill_manifest::corpus::discover(&tmp.path().join("rskills")).unwrap() {
        let card = m.parent().unwrap().join("README.md");
        let name = card.parent().unwrap().file_name().unwrap();
        let original = corpus_dir().join(name).join("README.md");
        assert_eq!(
            std::fs::read(&card).unwrap(),
            std::fs::read(&original).unwrap(),
            "{}",
            card.display()
        );
    }
}

#[test]
fn tags_write_adds_front_matter_to_a_bare_card() {
    let (tmp, dir) = copy();
    let readme = dir.join("README.md");
    let text = std::fs::read_to_string(&readme).unwrap();
    let body = rskill_manifest::card::split(&text)
        .unwrap()
        .body
        .to_string();
    std::fs::write(&readme, &body).unwrap();
    let o = rskill(&["tags", "--check", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let o = rskill(&["tags", "--write", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let after = std::fs::read(&readme).unwrap();
    assert!(after.starts_with(b"---\n"));
    assert_eq!(body_bytes(&after), body.as_bytes());
    let o = rskill(&["tags", "--check", SKILL], tmp.path());
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
}

#[test]
fn tags_refuses_an_invalid_manifest() {
    let (tmp, dir) = copy();
    let manifest = dir.join("rskill.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\nkind: vla\n", "\nkind: vlaa\n")).unwrap();
    let card_before = std::fs::read(dir.join("README.md")).unwrap();
    for mode in ["--check", "--write"] {
        let o = rskill(&["tags", mode, SKILL], tmp.path());
        assert_eq!(o.status.code(), Some(1), "{mode}: {}", show(&o));
        assert!(
            stderr(&o).contains("invalid manifest"),
            "{mode}: {}",
            show(&o)
        );
    }
    assert_eq!(std::fs::read(dir.join("README.md")).unwrap(), card_before);
}

#[test]
fn corpus_tags_are_in_sync_cli() {
    let out = Command::new(env!("CARGO_BIN_EXE_rskill"))
        .args(["tags", "--check", "rskills"])
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------ CLI on bad paths

fn rskill_plain(args: &[&str], dir: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rskill"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run rskill")
}

#[test]
fn a_directory_without_a_manifest_is_an_error_with_a_hint() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    for args in [
        &["validate", "empty"][..],
        &["validate", "--json", "empty"][..],
        &["tags", "--check", "empty"][..],
    ] {
        let out = rskill_plain(args, tmp.path());
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("error: empty: no rskill.yaml here"),
            "{args:?}: {err}"
        );
        assert!(err.contains("hint: "), "{args:?}: {err}");
    }
    let out = rskill_plain(&["validate", "no-such-dir"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: no-such-dir: no such file or directory"),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
}

#[test]
fn bad_files_through_the_cli_exit_1_with_a_located_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "utf8",
            b"name: acme/x\nkind: \xff\n".to_vec(),
            "rskill.yaml:2: not valid UTF-8",
        ),
        (
            "syntax",
            b"name: acme/x\nkind: wam: x\n".to_vec(),
            "rskill.yaml:2:10: YAML syntax error",
        ),
        ("empty", Vec::new(), "rskill.yaml: the file is empty"),
        ("list", b"- a\n- b\n".to_vec(), "must be a YAML mapping"),
    ];
    for (name, bytes, expected) in cases {
        let dir = tmp.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("rskill.yaml"), bytes).unwrap();
        let out = rskill_plain(&["validate", name], tmp.path());
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(expected), "{name}: {stdout}");
    }
    let big = tmp.path().join("big");
    std::fs::create_dir(&big).unwrap();
    std::fs::write(
        big.join("rskill.yaml"),
        vec![b'#'; rskill_manifest::validate::MAX_MANIFEST_BYTES as usize + 10],
    )
    .unwrap();
    let out = rskill_plain(&["validate", "big"], tmp.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("larger than 1024 KiB"));
}

/// `rskill install --connections` takes 1 to 64; anything else is a usage error.
#[test]
fn install_connections_out_of_range_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0", "65", "x"] {
        let o = rskill(
            &["install", "acme/rskill-x", "--connections", bad],
            dir.path(),
        );
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", show(&o));
        assert!(stderr(&o).contains("--connections"), "{bad}: {}", show(&o));
    }
}
