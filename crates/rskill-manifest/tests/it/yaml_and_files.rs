//! Bad input never panics and always gets one clear finding naming the problem, with
//! line:column where the problem has a place: encoding, YAML syntax, duplicate keys,
//! size, alias bombs, empty and non-mapping documents, several documents, missing
//! skill directories; and field positions on schema findings.

use std::time::{Duration, Instant};

use crate::util::*;
use rskill_manifest::validate::{MAX_MANIFEST_BYTES, check_bytes, check_file, check_text};
use rskill_test_support::paths::*;

/// A valid manifest whose lines are known (kind on line 4, column 7).
const MANIFEST: &str = "name: acme/rskill-x
version: 1.0.0
description: A test manifest for a world-action model.
kind: wam
embodiment_tags: [any]
chunk_size: 1
latency_budget:
  per_chunk_ms: 10
  warmup_ms: 5
actions: [pick]
";

fn only(
    check: &rskill_manifest::validate::ManifestCheck,
) -> &rskill_manifest::diagnostic::Violation {
    assert_eq!(
        check.violations.len(),
        1,
        "expected one finding:{}",
        describe(&check.violations)
    );
    &check.violations[0]
}

fn assert_clear(v: &rskill_manifest::diagnostic::Violation) {
    assert!(!v.message.trim().is_empty(), "{v:?}");
    assert!(wording_problems(v).is_none(), "{v:?}");
}

#[test]
fn the_reference_manifest_is_valid() {
    let c = check_text(MANIFEST);
    assert!(c.is_valid(), "{}", describe(&c.violations));
}

// ------------------------------------------------------------------ encoding and size

#[test]
fn invalid_utf8_names_the_line() {
    let bytes = b"name: acme/x\nversion: 1.0.0\nkind: w\xffam\n".to_vec();
    let c = check_bytes(&bytes);
    let v = only(&c);
    assert_eq!(v.rule, "file");
    assert!(v.message.contains("UTF-8"), "{v:?}");
    assert!(v.message.contains("offset 35"), "{v:?}");
    assert_eq!(v.line, Some(3));
    assert_clear(v);

    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("rskill.yaml");
    std::fs::write(&path, &bytes).unwrap();
    let c = check_file(&path);
    assert_eq!(only(&c).rule, "file");
    assert_eq!(only(&c).line, Some(3));
}

#[test]
fn a_utf16_file_is_not_utf8() {
    let mut bytes = vec![0xff, 0xfe];
    for u in "name: a/b\n".encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    let c = check_bytes(&bytes);
    let v = only(&c);
    assert_eq!(v.rule, "file");
    assert_eq!(v.line, Some(1));
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    // YAML allows a byte order mark at the start of a stream; editors on Windows write
    // one. It must not turn the first key into an unknown "\u{feff}name".
    let text = format!("\u{feff}{MANIFEST}");
    let c = check_text(&text);
    assert!(c.is_valid(), "{}", describe(&c.violations));
}

#[test]
fn files_over_one_mib_are_refused_unparsed() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("rskill.yaml");
    let mut text = MANIFEST.to_string();
    text.push_str(&"#".repeat(MAX_MANIFEST_BYTES as usize + 1 - text.len()));
    assert_eq!(text.len() as u64, MAX_MANIFEST_BYTES + 1);
    std::fs::write(&path, &text).unwrap();
    let start = Instant::now();
    let c = check_file(&path);
    let v = only(&c);
    assert_eq!(v.rule, "file");
    assert!(v.message.contains("larger than 1024 KiB"), "{v:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_file_of_exactly_one_mib_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("rskill.yaml");
    let mut text = MANIFEST.to_string();
    while text.len() < MAX_MANIFEST_BYTES as usize {
        let room = MAX_MANIFEST_BYTES as usize - text.len();
        let line = format!("#{}\n", "c".repeat(room.clamp(1, 80) - 1));
        text.push_str(&line[..room.min(line.len())]);
    }
    assert_eq!(text.len() as u64, MAX_MANIFEST_BYTES);
    std::fs::write(&path, &text).unwrap();
    let c = check_file(&path);
    assert!(c.is_valid(), "{}", describe(&c.violations));
}

#[test]
fn a_missing_file_is_a_file_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let c = check_file(&tmp.path().join("rskill.yaml"));
    let v = only(&c);
    assert_eq!(v.rule, "file");
    assert!(v.message.contains("cannot read"), "{v:?}");
}

// ------------------------------------------------------------------ YAML syntax

#[test]
fn syntax_errors_carry_line_and_column() {
    let cases: [(&str, usize, usize); 3] = [
        ("name: acme/x\nversion: 1.0.0\nkind: wam: x\n", 3, 10),
        (
            "name: acme/x\nversion: 1.0.0\nkind: [wam\nchunk_size: 1\n",
            4,
            11,
        ),
        ("name: acme/x\n  version: 1.0.0\n", 2, 10),
    ];
    for (text, line, column) in cases {
        let c = check_text(text);
        let v = only(&c);
        assert_eq!(v.rule, "yaml", "{text:?}");
        assert!(v.message.starts_with("YAML syntax error: "), "{v:?}");
        assert_eq!(
            (v.line, v.column),
            (Some(line), Some(column)),
            "{text:?}: {v:?}"
        );
        assert_eq!(
            v.render("rskill.yaml"),
            format!("rskill.yaml:{line}:{column}: {}", v.message)
        );
    }
}

#[test]
fn unterminated_quote_and_unknown_anchor() {
    for text in ["name: 'acme/x\n", "name: *nowhere\n"] {
        let c = check_text(text);
        let v = only(&c);
        assert_eq!(v.rule, "yaml", "{text:?}");
        assert_eq!(v.line, Some(1), "{text:?}: {v:?}");
        assert_clear(v);
    }
}

#[test]
fn explicit_core_tags_are_honoured() {
    // `!!str` forces a string: the way to write a version-like value unquoted.
    let text = format!("schema_version: !!str 0.1\n{MANIFEST}");
    let c = check_text(&text);
    assert!(c.is_valid(), "{}", describe(&c.violations));
    let (v, _) =
        rskill_manifest::yaml::load("a: !!str 5\nb: !!int 7\nc: !!float 1\n", false).unwrap();
    assert_eq!(v, serde_json::json!({"a": "5", "b": 7, "c": 1}));
}

#[test]
fn unsupported_or_mismatched_tags_are_refused_with_a_position() {
    for (text, needle) in [
        (
            "a: !!python/object/apply:os.system x\n",
            "unsupported YAML tag",
        ),
        (
            "name: acme/x\nchunk_size: !!int many\n",
            "not a valid !!int",
        ),
        ("name: acme/x\nflag: !!bool maybe\n", "not a valid !!bool"),
    ] {
        let c = check_text(text);
        let v = only(&c);
        assert_eq!(v.rule, "yaml", "{text:?}");
        assert!(v.message.contains(needle), "{text:?}: {v:?}");
        assert!(v.line.is_some(), "{text:?}: {v:?}");
    }
}

#[test]
fn duplicate_keys_name_the_second_line() {
    let text = "name: acme/x\nversion: 1.0.0\nname: acme/y\n";
    let c = check_text(text);
    let v = only(&c);
    assert_eq!(v.rule, "yaml");
    assert!(v.message.contains("duplicate key \"name\""), "{v:?}");
    assert!(
        v.message.contains("line 1"),
        "names the first definition: {v:?}"
    );
    assert_eq!((v.line, v.column), (Some(3), Some(1)));

    let nested = MANIFEST.replace("  warmup_ms: 5\n", "  warmup_ms: 5\n  per_chunk_ms: 20\n");
    let c = check_text(&nested);
    let v = only(&c);
    assert!(
        v.message.contains("duplicate key \"per_chunk_ms\""),
        "{v:?}"
    );
    assert_eq!((v.line, v.column), (Some(10), Some(3)));
}

#[test]
fn non_finite_numbers_and_complex_keys_are_refused() {
    for (text, line) in [
        ("chunk_size: .inf\n", 1),
        ("name: a/b\nchunk_size: .nan\n", 2),
        ("? [a, b]\n: 1\n", 1),
    ] {
        let c = check_text(text);
        let v = only(&c);
        assert_eq!(v.rule, "yaml", "{text:?}");
        assert_eq!(v.line, Some(line), "{text:?}: {v:?}");
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for n in [100, 10_000, 200_000] {
        let text = format!("a: {}{}", "[".repeat(n), "]".repeat(n));
        let c = check_text(&text);
        assert!(!c.is_valid());
        assert_eq!(only(&c).rule, "yaml");
        let text = format!(
            "a:\n{}",
            (1..200)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>()
        );
        let c = check_text(&text);
        assert!(!c.is_valid());
    }
}

// ------------------------------------------------------------------ alias bombs

fn billion_laughs() -> String {
    let mut text = String::from("lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        text.push_str(&format!(
            "lol{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text
}

#[test]
fn billion_laughs_is_refused_fast() {
    let text = billion_laughs();
    let start = Instant::now();
    let c = check_text(&text);
    let elapsed = start.elapsed();
    let v = only(&c);
    assert_eq!(v.rule, "yaml");
    assert!(v.message.contains("alias bomb"), "{v:?}");
    assert!(v.line.is_some());
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[test]
fn a_few_aliases_are_fine() {
    let text = MANIFEST.replace(
        "actions: [pick]\n",
        "actions: &verbs [pick, place]\nobjects: [cube]\nscenes: *verbs\n",
    );
    let c = check_text(&text);
    assert!(c.is_valid(), "{}", describe(&c.violations));
    assert_eq!(c.manifest.unwrap().scenes, vec!["pick", "place"]);
}

#[test]
fn alias_bomb_of_long_strings_is_refused() {
    // 48 KB of YAML: one 32 KiB string and 4,000 aliases to it expand to 128 MiB of
    // strings while staying far below the node limit. Within the 1 MiB file limit the
    // same trick reaches tens of GiB. Expansion must be bounded by size, not only by
    // node count.
    let big = "x".repeat(32 * 1024);
    let mut text = format!("name: acme/x\nbig: &s \"{big}\"\nlist: [");
    for _ in 0..4000 {
        text.push_str("*s, ");
    }
    text.push_str("*s]\n");
    assert!(text.len() < 64 * 1024);
    let start = Instant::now();
    let result = rskill_manifest::yaml::load(&text, false);
    let elapsed = start.elapsed();
    // (Never Debug-print an Ok here: it holds 128 MiB of text.)
    let err = match result {
        Ok((value, _)) => panic!(
            "a 48 KB document expanding to {} aliased strings of 32 KiB was accepted",
            value["list"].as_array().map_or(0, Vec::len)
        ),
        Err(e) => e,
    };
    assert!(err.message.contains("alias"), "{err:?}");
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

// ------------------------------------------------------------------ empty and odd documents

#[test]
fn empty_and_whitespace_only_files() {
    for text in ["", " ", "\n\n", " \t\n  \r\n"] {
        let c = check_text(text);
        let v = only(&c);
        assert_eq!(v.rule, "file", "{text:?}");
        assert_eq!(v.message, "the file is empty");
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("rskill.yaml");
    std::fs::write(&path, "").unwrap();
    assert_eq!(only(&check_file(&path)).message, "the file is empty");
}

#[test]
fn comment_only_file_holds_no_document() {
    let c = check_text("# just a comment\n# and another\n");
    let v = only(&c);
    assert_eq!(v.rule, "yaml");
    assert!(v.message.contains("no YAML document"), "{v:?}");
}

#[test]
fn top_level_list_or_scalar_is_not_a_manifest() {
    for text in [
        "- name: acme/x\n- kind: wam\n",
        "hello\n",
        "42\n",
        "~\n",
        "null\n",
        "\"acme/x\"\n",
        "[]\n",
    ] {
        let c = check_text(text);
        let v = only(&c);
        assert_eq!(v.rule, "schema/type", "{text:?}");
        assert!(
            v.message.contains("must be a YAML mapping"),
            "{text:?}: {v:?}"
        );
        assert!(c.manifest.is_none());
    }
    // An empty mapping is a mapping: it is missing every required key instead.
    let c = check_text("{}\n");
    assert_eq!(c.violations.len(), 7, "{}", describe(&c.violations));
    assert!(c.violations.iter().all(|v| v.rule == "schema/required"));
}

#[test]
fn several_documents_are_refused_at_the_second() {
    let text = format!("{MANIFEST}---\n{MANIFEST}");
    let c = check_text(&text);
    let v = only(&c);
    assert_eq!(v.rule, "yaml");
    assert!(v.message.contains("several YAML documents"), "{v:?}");
    assert_eq!(v.line, Some(11));
}

#[test]
fn one_document_with_explicit_markers_is_fine() {
    let c = check_text(&format!("---\n{MANIFEST}...\n"));
    assert!(c.is_valid(), "{}", describe(&c.violations));
}

#[test]
fn truncated_and_mangled_manifests_never_panic() {
    let text = std::fs::read(corpus_dir().join("smolvla-franka-pick-cube/rskill.yaml")).unwrap();
    let start = Instant::now();
    let mut checked = 0;
    for cut in (0..text.len()).step_by(7) {
        let prefix = text[..cut].to_vec();
        let r = std::panic::catch_unwind(|| check_bytes(&prefix));
        assert!(r.is_ok(), "panicked on the first {cut} bytes");
        // Flip one byte to a YAML indicator.
        let mut mangled = text.clone();
        let indicators = b"[]{}:-&*!|>'\"%@`#,?\t\x00";
        mangled[cut] = indicators[cut % indicators.len()];
        let r = std::panic::catch_unwind(|| check_bytes(&mangled));
        assert!(r.is_ok(), "panicked with byte {cut} mangled");
        checked += 2;
    }
    assert!(checked > 500);
    assert!(start.elapsed() < Duration::from_secs(20));
}

// ------------------------------------------------------------------ positions

#[test]
fn wrong_kind_renders_with_line_and_column() {
    let text = MANIFEST.replace("kind: wam", "kind: vlaa");
    let c = check_text(&text);
    let v = only(&c);
    assert_eq!((v.field.as_str(), v.rule.as_str()), ("kind", "schema/enum"));
    assert_eq!((v.line, v.column), (Some(4), Some(7)));
    assert_eq!(
        v.render("rskills/x/rskill.yaml"),
        "rskills/x/rskill.yaml:4:7: kind: \"vlaa\" is not one of vla, wam, ros_action, ros_service, detector, vlm, reward, playbook"
    );
}

#[test]
fn schema_version_unquoted_is_a_number() {
    let text = format!("schema_version: 0.1\n{MANIFEST}");
    let c = check_text(&text);
    let v = only(&c);
    assert_eq!(v.field, "schema_version");
    assert_eq!(v.rule, "schema/const");
    assert_eq!((v.line, v.column), (Some(1), Some(17)));
    assert!(
        v.message.contains("0.1") && v.message.contains("\"0.1\""),
        "{v:?}"
    );
    assert!(check_text(&format!("schema_version: \"0.1\"\n{MANIFEST}")).is_valid());
    assert!(check_text(&format!("schema_version: '0.1'\n{MANIFEST}")).is_valid());
}

#[test]
fn unquoted_version_numbers_and_yaml11_booleans_are_type_errors() {
    let c = check_text(&MANIFEST.replace("version: 1.0.0", "version: 1.0"));
    let v = only(&c);
    assert_eq!(
        (v.field.as_str(), v.rule.as_str()),
        ("version", "schema/type")
    );
    assert_eq!(v.line, Some(2));
    // YAML 1.2 core schema: `yes` is a string, not a boolean.
    let c = check_text(&format!("{MANIFEST}envelope:\n  deadman_required: yes\n"));
    let v = only(&c);
    assert_eq!(v.field, "envelope.deadman_required");
    assert_eq!((v.line, v.column), (Some(12), Some(21)));
}

#[test]
fn findings_are_located_where_the_author_looks() {
    // Unknown key: at the key.
    let c = check_text(&MANIFEST.replace("  warmup_ms: 5\n", "  warmup_ms: 5\n  warmup: 7\n"));
    let v = only(&c);
    assert_eq!(v.field, "latency_budget.warmup");
    assert_eq!((v.line, v.column), (Some(10), Some(3)));
    // Bad nested value: at the value.
    let c = check_text(&MANIFEST.replace("per_chunk_ms: 10", "per_chunk_ms: 0"));
    let v = only(&c);
    assert_eq!(v.field, "latency_budget.per_chunk_ms");
    assert_eq!((v.line, v.column), (Some(8), Some(17)));
    // Missing nested key: at the mapping that lacks it.
    let c = check_text(&MANIFEST.replace("  per_chunk_ms: 10\n", ""));
    let v = only(&c);
    assert_eq!(v.field, "latency_budget.per_chunk_ms");
    assert_eq!(v.rule, "schema/required");
    assert_eq!(v.line, Some(7));
    // Missing top-level key: somewhere in the document, never nowhere.
    let c = check_text(&MANIFEST.replace("chunk_size: 1\n", ""));
    let v = only(&c);
    assert_eq!(v.field, "chunk_size");
    assert!(v.line.is_some(), "{v:?}");
    // A rule finding: at the value.
    let c = check_text(&format!("{MANIFEST}fallback_skill_id: acme/rskill-x\n"));
    let v = only(&c);
    assert_eq!(
        (v.field.as_str(), v.rule.as_str()),
        ("fallback_skill_id", "rule/1")
    );
    assert_eq!((v.line, v.column), (Some(11), Some(20)));
    // A per-kind requirement about an absent field: at `kind:`.
    let c = check_text(&MANIFEST.replace("kind: wam", "kind: vlm"));
    let v = only(&c);
    assert_eq!(
        (v.field.as_str(), v.rule.as_str()),
        ("weights_uri", "rule/5")
    );
    assert_eq!((v.line, v.column), (Some(4), Some(7)));
    // An item of a flow list.
    let c = check_text(&MANIFEST.replace("actions: [pick]", "actions: [pick, fly]"));
    let v = only(&c);
    assert_eq!(v.field, "actions[1]");
    assert_eq!((v.line, v.column), (Some(10), Some(17)));
}
