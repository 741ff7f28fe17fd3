//! Scan records end to end against `rskill-hub` (issue 17, points 2 and 3):
//! `rskill-publisher scan ID@VERSION --record` stores a record for the version's exact
//! commit as a governed change (manage right; a write-only token is refused by the
//! server); `rskill info` and `search --json` show it and `search --scan` filters on
//! it; a poisoned checkpoint is recorded dangerous (exit 1, still recorded); and
//! `rskill trust scan-policy ORG require` refuses an unscanned commit, a commit whose
//! record is another commit's, and a dangerous one, and allows the scanned clean one.
//!
//! Fixtures (a server, `maria` who may manage `acme`, `wes` who may only write it,
//! `acme/rskill-gov` 1.0.0–1.2.0 over safetensors weights) come from `governance`.

use rskill_hub_client::RepoId;
use rskill_test_support::scan_corpus;
use serde_json::Value;

use crate::governance::{Fx, SKILL, commit, skill_files};

/// A card whose license and reserved tags agree with the test manifest, so the
/// manifest scan is clean.
const FULL_CARD: &str = "---\nlicense: apache-2.0\ntags:\n- rskill-org:acme\n- rskill\n- rskill-kind:detector\n- rskill-role:s1\n- embodiment:any\n- license:apache-2.0\n---\n# A detector\n\nA small test detector used to check recorded scans end to end.\n\n## Upstream model\n\nA tiny safetensors file made by the test.\n\n## Supported robots\n\nAny robot with a camera.\n\n## Sensors\n\nOne RGB camera.\n\n## Manifest\n\nSee rskill.yaml.\n\n## License\n\nApache 2.0.\n";

/// Publishes `version` of `repo` (a commit and its `v…` tag); returns the commit.
fn publish(fx: &Fx, repo: &str, version: &str, files: Vec<(String, Vec<u8>)>) -> String {
    let client = fx.client(&fx.maria);
    let repo: RepoId = repo.parse().unwrap();
    fx.rt.block_on(async {
        let c = commit(&client, &repo, files).await;
        client
            .create_tag(&repo, &format!("v{version}"), &c, "version")
            .await
            .unwrap();
        c
    })
}

/// `acme/rskill-gov` 1.3.0 with a full card and a SKILL.md: scans clean.
fn publish_clean(fx: &Fx) -> String {
    let mut files = skill_files("1.3.0");
    files[1].1 = FULL_CARD.as_bytes().to_vec();
    // Named as its folder would be in the corpus (`org/rskill-<slug>` holds `<slug>`).
    files.push((
        "SKILL.md".into(),
        b"---\nname: gov\ndescription: \"Detects objects for the governance tests.\"\n---\n\n# gov\n\nA test skill.\n".to_vec(),
    ));
    publish(fx, SKILL, "1.3.0", files)
}

/// `acme/rskill-bad` 1.0.0 over a zip PyTorch checkpoint whose pickle calls `os.system`.
fn publish_poisoned(fx: &Fx) -> String {
    let client = fx.client(&fx.maria);
    let weights: RepoId = "acme/bad-weights".parse().unwrap();
    let skill: RepoId = "acme/rskill-bad".parse().unwrap();
    fx.rt.block_on(async {
        client.create_repo(&weights, false).await.unwrap();
        client.create_repo(&skill, false).await.unwrap();
        let ckpt = scan_corpus::torch_zip(
            &scan_corpus::reduce_call(2, "os", "system", "id"),
            &[vec![0u8; 24]],
        );
        commit(
            &client,
            &weights,
            vec![
                ("pytorch_model.bin".into(), ckpt),
                ("config.json".into(), b"{}".to_vec()),
            ],
        )
        .await;
    });
    let manifest = rskill_test_support::paths::manifest_from_corpus(
        "rtdetr-coco-detector",
        &[
            ("name: ", "acme/rskill-bad"),
            ("version: ", "1.0.0"),
            ("license: ", "apache-2.0"),
            ("runtime: ", "pytorch"),
            ("weights_uri: ", "hf://acme/bad-weights"),
        ],
    );
    publish(
        fx,
        "acme/rskill-bad",
        "1.0.0",
        vec![
            ("rskill.yaml".into(), manifest.into_bytes()),
            ("README.md".into(), FULL_CARD.as_bytes().to_vec()),
        ],
    )
}

/// The search hits (`--author acme --json` plus `extra`) as `(repo, scan status)`.
fn search(fx: &Fx, extra: &[&str]) -> Vec<(String, Option<String>)> {
    let mut args = vec!["search", "--author", "acme", "--json"];
    args.extend_from_slice(extra);
    let r = fx.rskill(&args);
    assert_eq!(r.code, 0, "{r:?}");
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["repo_id"].as_str().unwrap().to_owned(),
                h["scan"]["status"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// The `scan` of `version` in `rskill info ID --json`.
fn info_scan(fx: &Fx, id: &str, version: &str) -> Value {
    let r = fx.rskill(&["info", id, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    r.json()["governance"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == version)
        .unwrap_or_else(|| panic!("no {version} in {r:?}"))["scan"]
        .clone()
}

#[test]
fn a_recorded_clean_scan_needs_the_manage_right_and_shows_in_info_and_search() {
    let fx = Fx::new();
    let c = publish_clean(&fx);
    let target = format!("{SKILL}@1.3.0");

    // A write-only token: the scan runs and is printed, the record is refused.
    let r = fx.run(
        crate::governance::PUBLISHER,
        &["scan", &target, "--record"],
        Some(&fx.wes),
        &[],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("scan: clean"), "{r:?}");
    assert!(r.stderr.contains("manage right"), "{r:?}");
    assert!(fx.state().registry.scans.is_empty());
    assert_eq!(info_scan(&fx, SKILL, "1.3.0"), Value::Null);

    // Without --record nothing is stored either.
    let r = fx.publisher(&["scan", &target]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(fx.state().registry.scans.is_empty());

    let r = fx.publisher(&[
        "scan",
        &target,
        "--record",
        "--reason",
        "release check",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let out = r.json();
    assert_eq!(out["commit"], c.as_str());
    assert_eq!(out["status"], "clean", "{r:?}");
    assert_eq!(out["recorded"]["events"][0]["what"], "scan");
    let state = fx.state();
    let record = state.registry.scan_of(&c).expect("recorded for the commit");
    assert_eq!(record.status(), rskill_scan::Status::Clean);
    assert_eq!(record.scanner, "rskill-scan");
    assert_eq!(record.skill_version.as_deref(), Some("1.3.0"));
    let ev = state.registry.history.last().unwrap();
    assert_eq!(
        (ev.subject.as_str(), ev.why.as_str(), ev.who.as_str()),
        (c.as_str(), "release check", "maria")
    );

    // info: the record on 1.3.0, none on 1.2.0; the text view names it.
    let scan = info_scan(&fx, SKILL, "1.3.0");
    assert_eq!(scan["status"], "clean", "{scan}");
    assert_eq!(scan["records"]["scan.safetensors.status"], "clean");
    assert_eq!(info_scan(&fx, SKILL, "1.2.0"), Value::Null);
    let r = fx.rskill(&["info", SKILL]);
    assert!(r.stdout.contains("scan:   clean by rskill-scan"), "{r:?}");
    assert!(r.stdout.contains("scan:   not recorded"), "{r:?}");
    // history names the scan event.
    let r = fx.rskill(&["history", SKILL]);
    assert!(r.stdout.contains("scan"), "{r:?}");

    // search: the record of the shown version (latest = 1.3.0), cold and warm.
    for _ in 0..2 {
        let r = fx.rskill(&["search", "--author", "acme", "--json"]);
        let hit = &r.json()[0];
        assert_eq!(hit["version"], "1.3.0", "{r:?}");
        assert_eq!(hit["scan"]["commit"], c.as_str(), "{r:?}");
        assert_eq!(hit["scan"]["status"], "clean");
        assert_eq!(hit["scan"]["records"]["scan.scanner"], "rskill-scan");
    }
    assert_eq!(
        search(&fx, &["--scan", "clean"]),
        vec![(SKILL.to_string(), Some("clean".to_string()))]
    );
    assert!(search(&fx, &["--scan", "dangerous"]).is_empty());
    // A shown version without a record has none, and --scan leaves it out.
    fx.publisher(&["alias", "set", SKILL, "latest", "1.2.0"]);
    assert_eq!(search(&fx, &[]), vec![(SKILL.to_string(), None)]);
    assert!(search(&fx, &["--scan", "clean"]).is_empty());
    let r = fx.rskill(&["search", "--scan", "spotless"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_poisoned_checkpoint_is_recorded_dangerous_and_exits_1() {
    let fx = Fx::new();
    let c = publish_poisoned(&fx);
    let r = fx.publisher(&["scan", "acme/rskill-bad@1.0.0", "--record", "--json"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(
        r.json()["records"]["scan.pickle.status"],
        "dangerous",
        "{r:?}"
    );
    let client = fx.client(&fx.maria);
    let state = fx
        .rt
        .block_on(rskill::lifecycle::remote::read(
            &client,
            &rskill::lifecycle::Seen::default(),
            &"acme/rskill-bad".parse().unwrap(),
        ))
        .unwrap();
    let record = state
        .registry
        .scan_of(&c)
        .expect("recorded although dangerous");
    assert_eq!(record.status(), rskill_scan::Status::Dangerous);
    assert_eq!(
        record.types[&rskill_scan::ScanType::Pickle].fields["dangerous_globals"],
        "os.system"
    );
    assert_eq!(
        info_scan(&fx, "acme/rskill-bad", "1.0.0")["status"],
        "dangerous"
    );
    assert_eq!(
        search(&fx, &["--scan", "dangerous"]),
        vec![("acme/rskill-bad".to_string(), Some("dangerous".to_string()))]
    );
    // A version that is not published is refused before any scan.
    let r = fx.publisher(&["scan", "acme/rskill-bad@9.9.9", "--record"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not published"), "{r:?}");
    let r = fx.publisher(&["scan", "acme/rskill-bad", "--record"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn the_scan_policy_installs_only_commits_with_a_clean_record_of_their_own() {
    let fx = Fx::new();
    let clean = publish_clean(&fx);
    let bad = publish_poisoned(&fx);
    // The recorder's key, trusted for acme's governance on this machine (warn: the
    // test skills' content is not signed).
    let key = fx.work.path().join("gov.pem");
    let public = fx.work.path().join("gov.pub.pem");
    let r = fx.publisher(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.rskill(&[
        "trust",
        "add",
        "acme",
        "--key",
        public.to_str().unwrap(),
        "--role",
        "governance",
        "--mode",
        "warn",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.rskill(&["trust", "scan-policy", "acme", "require"]);
    assert_eq!(r.code, 0, "{r:?}");
    let registry = fx.data_dir().join(rskill::registry::REGISTRY_FILE);
    let install = |id: &str| fx.rskill(&["install", id, "--no-smoke"]);
    let record = |target: &str, signed: bool| {
        let mut args = vec!["scan", target, "--record"];
        if signed {
            args.extend(["--governance-key", key.to_str().unwrap()]);
        }
        fx.publisher(&args)
    };

    // No record at all.
    let r = install(&format!("{SKILL}@1.2.0"));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains(&fx.commits[2]), "names the commit: {r:?}");
    assert!(
        r.stderr.contains("no scan is recorded for this commit"),
        "{r:?}"
    );
    assert!(r.stderr.contains("rskill-publisher scan"), "{r:?}");
    assert!(!registry.exists(), "nothing registered");

    // A clean record nobody signed: anybody who may write the repo could have written
    // it, so it does not count.
    let r = record(&format!("{SKILL}@1.3.0"), false);
    assert_eq!(r.code, 0, "{r:?}");
    let r = install(&format!("{SKILL}@1.3.0"));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not authenticated"), "{r:?}");
    assert!(!registry.exists(), "nothing registered");

    // Recorded again with the governance key: a record for another commit (1.3.0's)
    // does not cover 1.2.0.
    let r = record(&format!("{SKILL}@1.3.0"), true);
    assert_eq!(r.code, 0, "{r:?}");
    let r = install(&format!("{SKILL}@1.2.0"));
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr
            .contains(&format!("records exist for {} only", &clean[..10])),
        "{r:?}"
    );
    assert!(!registry.exists(), "nothing registered");

    // A dangerous record refuses, whatever the pickle opt-in.
    let r = record("acme/rskill-bad@1.0.0", true);
    assert_eq!(r.code, 1, "{r:?}");
    let r = fx.run(
        crate::governance::RSKILL,
        &["install", "acme/rskill-bad@1.0.0", "--no-smoke"],
        None,
        &[("OPENRAL_ALLOW_PICKLE", "1")],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains(&bad), "{r:?}");
    assert!(r.stderr.contains("not clean: pickle=dangerous"), "{r:?}");
    assert!(!registry.exists(), "nothing registered");

    // The scanned commit installs.
    let r = install(&format!("{SKILL}@1.3.0"));
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("scan record: clean"), "{r:?}");
    let reg = rskill::registry::load_at(&registry).unwrap();
    assert_eq!(reg.skills[SKILL].commit.to_string(), clean);

    // Policy off: the unscanned commit installs again.
    let r = fx.rskill(&["trust", "scan-policy", "acme", "off"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = install(&format!("{SKILL}@1.2.0"));
    assert_eq!(r.code, 0, "{r:?}");
}
