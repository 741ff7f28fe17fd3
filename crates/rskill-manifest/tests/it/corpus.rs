//! The in-repo CI check over `rskills/`: every skill validates with all checks, cards'
//! tags are in sync, the corpus covers what it must; and the card / tags / eval /
//! SKILL.md checks fail on broken copies of a skill in a temp directory.

use std::path::{Path, PathBuf};

use rskill_manifest::manifest::{EmbodimentTag, Kind, Manifest, Runtime};
use rskill_manifest::skill::{self, Finding, SkillReport};
use rskill_test_support::paths::*;
use serde_json::{Value, json};

fn corpus_manifests() -> Vec<PathBuf> {
    rskill_manifest::corpus::discover(&corpus_dir()).expect("rskills/ holds skills")
}

fn render_all(r: &SkillReport) -> String {
    r.findings
        .iter()
        .map(|f| format!("\n    {}  [{}]", f.render(), f.violation.rule))
        .collect()
}

fn corpus_reports() -> Vec<SkillReport> {
    corpus_manifests()
        .iter()
        .map(|p| skill::check(p, Default::default()))
        .collect()
}

fn manifests() -> Vec<Manifest> {
    corpus_reports()
        .into_iter()
        .map(|r| r.manifest.expect("valid corpus manifest"))
        .collect()
}

// ------------------------------------------------------------------ the corpus

#[test]
fn corpus_has_at_least_14_skills() {
    let n = corpus_manifests().len();
    assert!(n >= 14, "rskills/ has {n} skills");
}

#[test]
fn every_corpus_skill_passes_every_check() {
    let reports = corpus_reports();
    let failing: Vec<String> = reports
        .iter()
        .filter(|r| !r.is_valid())
        .map(|r| format!("{}:{}", r.path.display(), render_all(r)))
        .collect();
    assert!(failing.is_empty(), "{}", failing.join("\n"));
    for r in &reports {
        let m = r.manifest.as_ref().unwrap();
        assert_eq!(r.name.as_deref(), Some(m.name.as_str()));
        // Skill repos are `org/rskill-<slug>`, the directory is the slug.
        let slug = r
            .path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(
            m.name.split_once('/').unwrap().1,
            format!("rskill-{slug}"),
            "{}",
            r.path.display()
        );
    }
}

#[test]
fn corpus_names_are_unique_and_references_resolve() {
    let ms = manifests();
    let names: Vec<&str> = ms.iter().map(|m| m.name.as_str()).collect();
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "duplicate skill names");
    for m in &ms {
        for r in m
            .fallback_skill_id
            .iter()
            .chain(m.reward_rskill_name.iter())
        {
            assert!(
                names.contains(&r.as_str()),
                "{}: {r} is not in the corpus",
                m.name
            );
        }
        if let Some(p) = &m.playbook {
            for t in &p.composes_tools {
                assert!(
                    names.contains(&t.as_str()),
                    "{}: tool {t} is not in the corpus",
                    m.name
                );
            }
        }
    }
}

#[test]
fn corpus_covers_the_format() {
    let ms = manifests();
    for k in Kind::ALL {
        assert!(ms.iter().any(|m| m.kind == *k), "no skill of kind {k}");
    }
    let franka = ms
        .iter()
        .filter(|m| m.embodiment_tags.contains(&EmbodimentTag::FrankaPanda))
        .count();
    assert!(franka >= 3, "{franka} franka_panda skills");
    assert!(
        ms.iter()
            .any(|m| m.embodiment_tags.contains(&EmbodimentTag::Any))
    );
    assert!(
        ms.iter()
            .any(|m| m.embodiment_tags.contains(&EmbodimentTag::Custom))
    );
    let mut nc: Vec<&str> = ms
        .iter()
        .filter(|m| m.license.is_non_commercial())
        .map(|m| m.license.as_str())
        .collect();
    nc.sort_unstable();
    nc.dedup();
    assert!(nc.len() >= 2, "non-commercial postures: {nc:?}");
    assert!(
        ms.iter().any(|m| matches!(
            m.license,
            rskill_manifest::license::LicensePosture::Proprietary
                | rskill_manifest::license::LicensePosture::Unknown
        )),
        "no proprietary or unknown skill"
    );
    let uris: Vec<&str> = ms.iter().filter_map(|m| m.weights_uri.as_deref()).collect();
    assert!(
        uris.iter()
            .any(|u| u.starts_with("hf://") && u.contains('@')),
        "no pinned weights_uri"
    );
    assert!(
        uris.iter()
            .any(|u| u.starts_with("hf://") && !u.contains('@')),
        "no unpinned weights_uri"
    );
    assert!(
        ms.iter()
            .any(|m| m.kind == Kind::Detector && m.runtime == Runtime::Onnx),
        "no ONNX detector"
    );
    assert!(
        ms.iter().any(|m| !m.benchmarks.is_empty()),
        "no benchmark results"
    );
    assert!(ms.iter().any(|m| {
        m.action_contract
            .as_ref()
            .is_some_and(|c| c.slots.is_some())
    }));
}

// ------------------------------------------------------------------ broken copies

const SKILL: &str = "smolvla-franka-pick-cube";

struct Copy {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

impl Copy {
    fn new() -> Copy {
        let (tmp, dir) = skill_copy(SKILL);
        Copy { _tmp: tmp, dir }
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }
    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }
    fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }
    /// Replaces exactly one occurrence of `from` in a file.
    fn replace(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert_eq!(
            text.matches(from).count(),
            1,
            "{rel}: {from:?} must occur once"
        );
        self.write(rel, &text.replacen(from, to, 1));
    }
    /// Edits the manifest as a JSON value and writes it back (JSON is YAML).
    fn edit_manifest(&self, f: impl FnOnce(&mut Value)) {
        let (mut v, _) = rskill_manifest::yaml::load(&self.read("rskill.yaml"), false).unwrap();
        f(&mut v);
        self.write("rskill.yaml", &serde_json::to_string_pretty(&v).unwrap());
    }
    fn check(&self) -> SkillReport {
        skill::check(&self.path("rskill.yaml"), Default::default())
    }
}

/// The finding with this rule about this file, whose message contains `needle`.
fn find<'a>(r: &'a SkillReport, rule: &str, file: &Path, needle: &str) -> &'a Finding {
    find_in(&r.findings, "finding", rule, file, needle, || render_all(r))
}

/// The warning with this rule about this file, whose message contains `needle`.
fn find_warning<'a>(r: &'a SkillReport, rule: &str, file: &Path, needle: &str) -> &'a Finding {
    find_in(&r.warnings, "warning", rule, file, needle, || {
        format!("{:?}", r.warnings)
    })
}

fn find_in<'a>(
    list: &'a [Finding],
    what: &str,
    rule: &str,
    file: &Path,
    needle: &str,
    all: impl Fn() -> String,
) -> &'a Finding {
    list.iter()
        .find(|f| {
            f.violation.rule == rule && f.file == file && f.violation.message.contains(needle)
        })
        .unwrap_or_else(|| {
            panic!(
                "no [{rule}] {what} on {} containing {needle:?}; {what}s:{}",
                file.display(),
                all()
            )
        })
}

fn rules(r: &SkillReport) -> Vec<&str> {
    r.findings
        .iter()
        .map(|f| f.violation.rule.as_str())
        .collect()
}

#[test]
fn the_untouched_copy_is_valid() {
    let c = Copy::new();
    let r = c.check();
    assert!(r.is_valid(), "{}", render_all(&r));
}

#[test]
fn readme_missing() {
    let c = Copy::new();
    std::fs::remove_file(c.path("README.md")).unwrap();
    let r = c.check();
    find(&r, "card/missing", &c.path("README.md"), "README.md");
    assert_eq!(rules(&r), vec!["card/missing"], "{}", render_all(&r));
    // --manifest-only does not look at the card.
    let r = skill::check(
        &c.path("rskill.yaml"),
        rskill_manifest::skill::CheckOptions {
            manifest_only: true,
        },
    );
    assert!(r.is_valid(), "{}", render_all(&r));
}

#[test]
fn readme_under_200_characters() {
    // The whole README counts (stripped), front matter included.
    let c = Copy::new();
    let body = "# Upstream\n## Robots\n## Sensors\n## Manifest\n## License\nShort.";
    c.write("README.md", &format!("\n{body}\n\n"));
    let r = c.check();
    let f = find(&r, "card/length", &c.path("README.md"), "at least 200");
    assert_eq!(f.violation.field, "readme.body");
    // An untagged card is only warned about.
    assert_eq!(rules(&r), vec!["card/length"], "{}", render_all(&r));

    // Exactly at the bound: 200 characters of text pass.
    let filler = "x".repeat(200 - body.chars().count() - 1);
    c.write("README.md", &format!("  {body}\n{filler}\n  "));
    let r = c.check();
    assert!(r.is_valid(), "{}", render_all(&r));
}

#[test]
fn each_missing_required_heading() {
    let sections: [(&str, &str, &[&str]); 5] = [
        (
            "upstream",
            "upstream model",
            &[
                "upstream",
                "model",
                "training",
                "provenance",
                "architecture",
            ],
        ),
        (
            "robots",
            "supported robots / embodiments",
            &["robot", "embodiment", "supported"],
        ),
        (
            "sensors",
            "sensors / observation contract",
            &["sensor", "observation", "input"],
        ),
        ("manifest", "manifest summary", &["manifest"]),
        ("license", "license", &["license"]),
    ];
    for (label, what, words) in sections {
        let c = Copy::new();
        let text = c.read("README.md");
        let card = rskill_manifest::card::split(&text).unwrap();
        let head = &text[..text.len() - card.body.len()];
        // Rename every heading that names the section; keep the text under it.
        let body: String = card
            .body
            .split_inclusive('\n')
            .map(|line| {
                let lower = line.to_lowercase();
                if line.starts_with('#') && words.iter().any(|w| lower.contains(w)) {
                    "## Notes\n".to_string()
                } else {
                    line.to_string()
                }
            })
            .collect();
        c.write("README.md", &format!("{head}{body}"));
        let r = c.check();
        let f = find(&r, "card/section", &c.path("README.md"), what);
        assert!(f.violation.message.contains(words[0]), "{}", f.render());
        assert_eq!(f.violation.field, format!("readme.section.{label}"));
        assert_eq!(rules(&r), vec!["card/section"], "{what}:{}", render_all(&r));
    }
}

#[test]
fn headings_inside_code_fences_do_not_count() {
    let c = Copy::new();
    c.replace("README.md", "## License\n", "```\n## License\n```\n");
    let r = c.check();
    find(&r, "card/section", &c.path("README.md"), "license");
}

#[test]
fn each_placeholder_sentinel_in_the_card() {
    let sentinels = rskill_manifest::card::PLACEHOLDER_SENTINELS;
    assert_eq!(
        sentinels,
        [
            "TEMPLATE_ORG",
            "TEMPLATE_ID",
            "TODO:",
            "<TODO>",
            "FIXME:",
            "<FIXME>",
            "<fill-in>",
            "<your-org>",
            "<your-skill>",
            "TBD:",
            "XXX:",
        ],
        "the spec's list, exactly"
    );
    for s in sentinels {
        let c = Copy::new();
        let mut text = c.read("README.md");
        let line = text.lines().count() + 1;
        text.push_str(&format!("Status: {s} finish this section.\n"));
        c.write("README.md", &text);
        let r = c.check();
        let f = find(&r, "card/placeholder", &c.path("README.md"), s);
        assert_eq!(f.violation.line, Some(line), "{s}: {}", f.render());
        assert_eq!(f.violation.field, "readme.placeholder");
        assert!(
            f.violation.message.contains(&format!("line {line}")),
            "{}",
            f.render()
        );
        assert_eq!(
            rules(&r),
            vec!["card/placeholder"],
            "{s}:{}",
            render_all(&r)
        );
    }
}

#[test]
fn placeholder_words_elsewhere_are_not_placeholders() {
    // Only the spec's sentinels count: ordinary words and the description are free.
    let c = Copy::new();
    c.edit_manifest(|m| {
        m["description"] =
            json!("SmolVLA policy that picks a cube on a Franka Panda. TODO: add eval.")
    });
    let mut text = c.read("README.md");
    text.push_str("\nA todo list, a lorem ipsum paragraph and REPLACE_ME are fine here.\n");
    c.write("README.md", &text);
    let r = c.check();
    assert!(r.is_valid(), "{}", render_all(&r));
}

#[test]
fn description_too_short() {
    let c = Copy::new();
    c.edit_manifest(|m| m["description"] = json!("Picks a cube."));
    let r = c.check();
    let f = find(
        &r,
        "card/description",
        &c.path("rskill.yaml"),
        "at least 30",
    );
    assert_eq!(f.violation.field, "manifest.description");
    assert!(f.violation.line.is_some());
    assert_eq!(rules(&r), vec!["card/description"], "{}", render_all(&r));

    // 30 characters (after trimming) is enough.
    let c = Copy::new();
    c.edit_manifest(|m| m["description"] = json!(format!("  {}  ", "p".repeat(30))));
    let r = c.check();
    assert!(r.is_valid(), "{}", render_all(&r));
}

#[test]
fn description_that_is_scaffold_text() {
    for (d, marker) in [
        (
            "Scaffold template generated by rskill new: picks a cube on a robot arm.",
            "Scaffold template generated by",
        ),
        (
            "Edit this description to say what the skill does and on which robot.",
            "Edit this description",
        ),
    ] {
        let c = Copy::new();
        c.edit_manifest(|m| m["description"] = json!(d));
        let r = c.check();
        let f = find(&r, "card/description", &c.path("rskill.yaml"), marker);
        assert_eq!(f.violation.field, "manifest.description");
        assert!(f.violation.line.is_some(), "{}", f.render());
    }
}

#[test]
fn template_repos_in_weights_uri_or_source_repo() {
    for field in ["weights_uri", "source_repo"] {
        let c = Copy::new();
        c.edit_manifest(|m| m[field] = json!("hf://TEMPLATE_ORG/TEMPLATE_ID"));
        let r = c.check();
        let f = find(&r, "card/template", &c.path("rskill.yaml"), "TEMPLATE");
        assert_eq!(f.violation.field, format!("manifest.{field}"));
    }
}

#[test]
fn neither_paper_url_nor_source_repo() {
    let c = Copy::new();
    c.edit_manifest(|m| {
        let o = m.as_object_mut().unwrap();
        o.remove("paper_url");
        o.remove("source_repo");
    });
    let r = c.check();
    let f = find(&r, "card/provenance", &c.path("rskill.yaml"), "paper_url");
    assert_eq!(
        f.violation.field,
        "manifest.paper_url, manifest.source_repo"
    );
    assert_eq!(rules(&r), vec!["card/provenance"], "{}", render_all(&r));

    for keep in ["paper_url", "source_repo"] {
        let c = Copy::new();
        c.edit_manifest(|m| {
            let other = if keep == "paper_url" {
                "source_repo"
            } else {
                "paper_url"
            };
            m[other] = Value::Null;
        });
        let r = c.check();
        assert!(r.is_valid(), "only {keep}: {}", render_all(&r));
    }
}

#[test]
fn tags_drifted() {
    let readme = |c: &Copy| c.path("README.md");
    // A reserved tag missing.
    let c = Copy::new();
    c.replace("README.md", "- rskill-kind:vla\n", "");
    let r = c.check();
    find(
        &r,
        "tags",
        &readme(&c),
        "missing reserved tags: rskill-kind:vla",
    );
    assert!(
        find(&r, "tags", &readme(&c), "")
            .violation
            .message
            .contains("rskill tags --write")
    );
    // A reserved tag the manifest does not project.
    let c = Copy::new();
    c.replace(
        "README.md",
        "- robotics\n",
        "- robotics\n- embodiment:ur5e\n",
    );
    let r = c.check();
    find(&r, "tags", &readme(&c), "does not project: embodiment:ur5e");
    // Reserved tags out of canonical order.
    let c = Copy::new();
    c.replace(
        "README.md",
        "- rskill-org:rskill-project\n- rskill\n",
        "- rskill\n- rskill-org:rskill-project\n",
    );
    let r = c.check();
    find(&r, "tags", &readme(&c), "canonical order");
    // The manifest changed, the card did not.
    let c = Copy::new();
    c.edit_manifest(|m| m["role"] = json!("s0"));
    let r = c.check();
    let f = find(&r, "tags", &readme(&c), "rskill-role:s0");
    assert!(f.violation.message.contains("missing"), "{}", f.render());
    find(&r, "tags", &readme(&c), "rskill-role:s1");
    // Free-form tags are the card's own business.
    let c = Copy::new();
    c.replace(
        "README.md",
        "- manipulation\n",
        "- manipulation\n- my-own-tag\n",
    );
    assert!(c.check().is_valid());
}

#[test]
fn license_metadata_disagreeing() {
    let c = Copy::new();
    c.replace(
        "README.md",
        "license: apache-2.0\ntags:",
        "license: mit\ntags:",
    );
    let r = c.check();
    let f = find(
        &r,
        "tags",
        &c.path("README.md"),
        "license metadata is `license: mit`",
    );
    assert!(
        f.violation.message.contains("`license: apache-2.0`"),
        "{}",
        f.render()
    );

    let c = Copy::new();
    c.replace("README.md", "license: apache-2.0\ntags:", "tags:");
    let r = c.check();
    find(
        &r,
        "tags",
        &c.path("README.md"),
        "license metadata is absent",
    );

    // A posture without a Hub id needs `other` + `license_name`.
    let c = Copy::new();
    c.edit_manifest(|m| m["license"] = json!("nvidia_non_commercial"));
    c.replace(
        "README.md",
        "- license:apache-2.0\n",
        "- license:nvidia_non_commercial\n",
    );
    c.replace(
        "README.md",
        "license: apache-2.0\ntags:",
        "license: other\ntags:",
    );
    let r = c.check();
    find(
        &r,
        "tags",
        &c.path("README.md"),
        "license_name: nvidia-non-commercial",
    );
    c.replace(
        "README.md",
        "license: other\ntags:",
        "license: other\nlicense_name: nvidia-non-commercial\ntags:",
    );
    let r = c.check();
    assert!(r.is_valid(), "{}", render_all(&r));
}

#[test]
fn eval_result_disagreeing_with_the_manifest_is_a_warning() {
    let eval = "eval/maniskill3_panda.json";
    let c = Copy::new();
    c.replace(
        eval,
        "\"avg_success_rate\": 0.78",
        "\"avg_success_rate\": 0.5",
    );
    let r = c.check();
    assert!(r.is_valid(), "a warning, not an error: {}", render_all(&r));
    let w = find_warning(&r, "eval/agreement", &c.path(eval), "0.5");
    assert!(w.violation.message.contains("0.78"), "{}", w.render());
    assert_eq!(w.violation.field, "results.avg_success_rate");
}

#[test]
fn eval_files_and_benchmark_keys_need_not_pair() {
    // A key without a file.
    let c = Copy::new();
    std::fs::remove_file(c.path("eval/maniskill3_panda.json")).unwrap();
    let r = c.check();
    assert!(r.is_valid() && r.warnings.is_empty(), "{}", render_all(&r));
    // Suite and scene files whose stems match no key.
    let c = Copy::new();
    let result = c.read("eval/maniskill3_panda.json");
    c.write("eval/maniskill.json", &result);
    c.write("eval/scene_lab_bench.json", &result);
    let r = c.check();
    assert!(r.is_valid() && r.warnings.is_empty(), "{}", render_all(&r));
}

#[test]
fn malformed_result_files_name_file_path_and_rule() {
    let eval = "eval/maniskill3_panda.json";
    let edit = |f: &dyn Fn(&mut Value)| {
        let c = Copy::new();
        let mut v: Value = serde_json::from_str(&c.read(eval)).unwrap();
        f(&mut v);
        c.write(eval, &serde_json::to_string_pretty(&v).unwrap());
        let r = c.check();
        (c, r)
    };
    /// What the case breaks, how, and the field, rule and message text expected.
    type Case = (
        &'static str,
        Box<dyn Fn(&mut Value)>,
        &'static str,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "missing source",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("source");
            }),
            "source",
            "schema/required",
            "required",
        ),
        (
            "missing source.evaluated_by",
            Box::new(|v| {
                v["source"].as_object_mut().unwrap().remove("evaluated_by");
            }),
            "source.evaluated_by",
            "schema/required",
            "required",
        ),
        (
            "reproduced_locally of the wrong type",
            Box::new(|v| v["source"]["reproduced_locally"] = json!("yes")),
            "source.reproduced_locally",
            "schema/type",
            "expected boolean",
        ),
        (
            "benchmark.robot missing",
            Box::new(|v| {
                v["benchmark"].as_object_mut().unwrap().remove("robot");
            }),
            "benchmark.robot",
            "schema/required",
            "required",
        ),
        (
            "results not an object",
            Box::new(|v| v["results"] = json!([0.78])),
            "results",
            "schema/type",
            "expected object",
        ),
        (
            "trace_id in upper case",
            Box::new(|v| v["trace_id"] = json!("0123456789ABCDEF0123456789ABCDEF")),
            "trace_id",
            "schema/pattern",
            "pattern",
        ),
        (
            "trace_id too short",
            Box::new(|v| v["trace_id"] = json!("abc123")),
            "trace_id",
            "schema/pattern",
            "pattern",
        ),
        (
            "reproduction_cli a number",
            Box::new(|v| v["source"]["reproduction_cli"] = json!(3)),
            "source.reproduction_cli",
            "schema/type",
            "expected",
        ),
    ];
    for (what, f, field, rule, needle) in cases {
        let (c, r) = edit(&*f);
        let found = find(&r, rule, &c.path(eval), needle);
        assert_eq!(found.violation.field, field, "{what}: {}", found.render());
        assert!(!r.is_valid(), "{what}");
    }
    // Extra keys at every level are accepted; a null trace_id too.
    let (_, r) = edit(&|v| {
        v["extra"] = json!(1);
        v["source"]["extra"] = json!({"a": 1});
        v["benchmark"]["extra"] = json!(null);
        v["trace_id"] = Value::Null;
    });
    assert!(r.is_valid(), "{}", render_all(&r));

    let c = Copy::new();
    c.write("eval/notes.json", "{\n  \"source\": nope\n}");
    let r = c.check();
    let f = find(&r, "json", &c.path("eval/notes.json"), "not valid JSON");
    assert_eq!(f.violation.line, Some(2), "{}", f.render());
    assert!(f.violation.column.is_some());

    let c = Copy::new();
    c.write("eval/list.json", "[1, 2]");
    let r = c.check();
    find(
        &r,
        "schema/type",
        &c.path("eval/list.json"),
        "expected object",
    );
}

#[test]
fn skill_md_without_description() {
    let c = Copy::new();
    let text = c.read("SKILL.md");
    let line = text
        .lines()
        .find(|l| l.starts_with("description:"))
        .unwrap();
    c.replace("SKILL.md", &format!("{line}\n"), "");
    let r = c.check();
    let f = find(
        &r,
        "skill-md/description",
        &c.path("SKILL.md"),
        "`description`",
    );
    assert_eq!(f.violation.field, "skill_md.description");
    assert_eq!(
        rules(&r),
        vec!["skill-md/description"],
        "{}",
        render_all(&r)
    );

    let c = Copy::new();
    c.replace("SKILL.md", &format!("{line}\n"), "description: \"  \"\n");
    find(
        &c.check(),
        "skill-md/description",
        &c.path("SKILL.md"),
        "characters",
    );

    let c = Copy::new();
    let long = "d".repeat(1025);
    c.replace(
        "SKILL.md",
        &format!("{line}\n"),
        &format!("description: {long}\n"),
    );
    find(
        &c.check(),
        "skill-md/description",
        &c.path("SKILL.md"),
        "1025",
    );

    // SKILL.md is optional.
    let c = Copy::new();
    std::fs::remove_file(c.path("SKILL.md")).unwrap();
    assert!(c.check().is_valid());
}

#[test]
fn skill_md_names() {
    let name_line = format!("name: {SKILL}\n");
    for (name, needle) in [
        ("Smolvla-pick", "lowercase"),
        ("-smolvla", "hyphen"),
        ("smolvla-", "hyphen"),
        ("smolvla--pick", "doubled hyphen"),
        ("smolvla_pick", "lowercase letters, digits and hyphens"),
        ("", "1 to 64"),
        ("other-skill", "folder"),
    ] {
        let c = Copy::new();
        c.replace("SKILL.md", &name_line, &format!("name: \"{name}\"\n"));
        let r = c.check();
        let f = find(&r, "skill-md/name", &c.path("SKILL.md"), needle);
        assert_eq!(f.violation.field, "skill_md.name", "{name}");
    }
    let c = Copy::new();
    c.replace(
        "SKILL.md",
        &name_line,
        &format!("name: {}\n", "a".repeat(65)),
    );
    find(
        &c.check(),
        "skill-md/name",
        &c.path("SKILL.md"),
        "65 characters",
    );

    // compatibility is bounded; metadata is read leniently; extra keys are allowed.
    let c = Copy::new();
    c.replace(
        "SKILL.md",
        &name_line,
        &format!("{name_line}compatibility: {}\n", "c".repeat(501)),
    );
    find(
        &c.check(),
        "skill-md/compatibility",
        &c.path("SKILL.md"),
        "501",
    );
    let c = Copy::new();
    c.replace(
        "SKILL.md",
        &name_line,
        &format!(
            "{name_line}metadata:\n  nested: {{a: [1, 2]}}\n  flag: true\nallowed-tools: Bash Read\nx-extra: 1\n"
        ),
    );
    let r = c.check();
    assert!(r.is_valid(), "{}", render_all(&r));
}

#[test]
fn readme_delegating_to_a_sibling() {
    let (tmp, dir) = skill_copy(SKILL);
    let sibling = tmp.path().join("sibling");
    copy_dir(&dir, &sibling);
    let stub = |target: &str| {
        let text = std::fs::read_to_string(dir.join("README.md")).unwrap();
        let card = rskill_manifest::card::split(&text).unwrap();
        let head = &text[..text.len() - card.body.len()];
        format!(
            "{head}\n# Stub\n\n<!--  OPENRAL:rskill-readme-delegates-to :  {target}  -->\n\n{}\n",
            "This skill shares its documentation with a sibling skill of the same family. "
                .repeat(3)
        )
    };
    let check = || skill::check(&dir.join("rskill.yaml"), Default::default());
    // Sections come from the sibling's README.
    std::fs::write(dir.join("README.md"), stub("../sibling/README.md")).unwrap();
    let r = check();
    assert!(r.is_valid(), "{}", render_all(&r));
    // A sibling without a license section fails, naming the sibling.
    let sib = std::fs::read_to_string(sibling.join("README.md")).unwrap();
    std::fs::write(
        sibling.join("README.md"),
        sib.replace("## License", "## Terms"),
    )
    .unwrap();
    let r = check();
    let f = find(
        &r,
        "card/section",
        &dir.join("README.md"),
        "../sibling/README.md",
    );
    assert_eq!(f.violation.field, "readme.section.license");
    // A missing target.
    std::fs::write(dir.join("README.md"), stub("../nowhere/README.md")).unwrap();
    let r = check();
    let f = find(
        &r,
        "card/delegation",
        &dir.join("README.md"),
        "does not exist",
    );
    assert_eq!(f.violation.field, "readme.delegation");
    // Single hop only.
    std::fs::write(sibling.join("README.md"), stub("../sibling/README.md")).unwrap();
    std::fs::write(dir.join("README.md"), stub("../sibling/README.md")).unwrap();
    find(
        &check(),
        "card/delegation",
        &dir.join("README.md"),
        "single hop",
    );
    // A target outside the corpus, or not a regular file, is not read.
    std::fs::write(
        dir.join("README.md"),
        stub("../../../../../../etc/hostname"),
    )
    .unwrap();
    find(
        &check(),
        "card/delegation",
        &dir.join("README.md"),
        "outside",
    );
    // Placeholders in the stub still count.
    std::fs::write(sibling.join("README.md"), &sib).unwrap();
    let mut text = stub("../sibling/README.md");
    text.push_str("TODO: say more\n");
    std::fs::write(dir.join("README.md"), text).unwrap();
    find(
        &check(),
        "card/placeholder",
        &dir.join("README.md"),
        "TODO:",
    );
}

#[test]
fn a_catalog_in_the_fields_format_validates() {
    let catalog = repo_root().join("tests/fakes/catalog");
    let skills = rskill_manifest::corpus::discover(&catalog).unwrap();
    assert_eq!(skills.len(), 3);
    for m in skills {
        let r = skill::check(&m, Default::default());
        assert!(r.is_valid(), "{}", render_all(&r));
        // Untagged cards are not wrong: only warned about.
        assert!(
            r.warnings.iter().all(|w| w.violation.rule == "tags"),
            "{:?}",
            r.warnings
        );
    }
}

#[cfg(unix)]
#[test]
fn hostile_files_in_a_skill_folder_are_findings_not_hangs() {
    // Run in a thread with a deadline: before the fix, the FIFO blocked the open forever
    // and /dev/zero was read without end.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let c = Copy::new();
        let link = |target: &str, rel: &str| {
            let _ = std::fs::remove_file(c.path(rel));
            std::os::unix::fs::symlink(target, c.path(rel)).unwrap();
        };
        link("/dev/zero", "README.md");
        let fifo = c.path("SKILL.md");
        std::fs::remove_file(&fifo).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        link("/etc/hostname", "eval/maniskill3_panda.json");
        c.write("eval/huge.json", &" ".repeat(2 << 20));
        let r = c.check();
        let _ = tx.send((render_all(&r), r.findings.clone(), c));
    });
    let (all, findings, c) = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("validation finished instead of hanging");
    let has = |rule: &str, rel: &str, needle: &str| {
        assert!(
            findings.iter().any(|f| f.violation.rule == rule
                && f.file == c.path(rel)
                && f.violation.message.contains(needle)),
            "[{rule}] {rel} {needle:?}:{all}"
        )
    };
    has("file/outside", "README.md", "/dev/zero");
    has("file/type", "SKILL.md", "FIFO");
    has(
        "file/outside",
        "eval/maniskill3_panda.json",
        "outside the skill folder",
    );
    has("file", "eval/huge.json", "larger than 1024 KiB");

    // The manifest itself, as a link out of the folder or a FIFO.
    let c = Copy::new();
    std::fs::remove_file(c.path("rskill.yaml")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", c.path("rskill.yaml")).unwrap();
    let r = c.check();
    find(&r, "file/outside", &c.path("rskill.yaml"), "outside");
}

#[test]
fn card_front_matter_never_closed() {
    let c = Copy::new();
    let text = c.read("README.md");
    let card = rskill_manifest::card::split(&text).unwrap();
    c.write("README.md", &format!("---\n{}", card.front_matter.unwrap()));
    let r = c.check();
    find(
        &r,
        "card/front-matter",
        &c.path("README.md"),
        "never closed",
    );
}

#[test]
fn an_invalid_manifest_skips_the_card_checks() {
    let c = Copy::new();
    c.edit_manifest(|m| m["kind"] = json!("vlaa"));
    std::fs::remove_file(c.path("README.md")).unwrap();
    let r = c.check();
    assert_eq!(rules(&r), vec!["schema/enum"], "{}", render_all(&r));
    assert!(r.manifest.is_none());
}

#[test]
fn local_weights_stay_inside_the_local_root() {
    for uri in [
        "local:///etc/weights",
        "local://../outside/model.safetensors",
        "local://a/../../b",
    ] {
        let c = Copy::new();
        c.edit_manifest(|m| m["weights_uri"] = json!(uri));
        let r = c.check();
        let f = find(
            &r,
            "weights/local-root",
            &c.path("rskill.yaml"),
            "RSKILL_LOCAL_ROOT",
        );
        assert_eq!(f.violation.field, "weights_uri", "{uri}");
    }
    // A relative path inside the root is fine, whether or not the weights are there yet.
    let c = Copy::new();
    c.edit_manifest(|m| m["weights_uri"] = json!("local://weights/pick-cube"));
    let r = c.check();
    assert!(
        !r.findings
            .iter()
            .any(|f| f.violation.rule == "weights/local-root"),
        "{}",
        render_all(&r)
    );
}
