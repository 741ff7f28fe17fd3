//! Governance end to end against `rskill-hub` (issue 14): the `rskill-publisher status`
//! and `alias` commands and the manage right, `rskill history` / `info`, install
//! resolution (`@production`, `@latest`, bare, `@1.2.0`, `@v1.2.0`, a commit, a branch),
//! the lockfile's alias, `install --locked` warnings and `--allow-deleted`, `rskill
//! audit` exit codes online and offline, search rows, 20 concurrent alias changes,
//! `kill -9` of a real `rskill-hub` process mid-change, and hostile registry files.
//!
//! Each test starts its own server; skills are `acme/rskill-gov` with versions 1.0.0,
//! 1.1.0 and 1.2.0 (a commit and a `v…` tag each) over a small safetensors weights repo.
//! Tokens: `maria` may manage `acme`, `wes` may only write it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rskill::lifecycle::{self, Op, Seen, remote};
use rskill_hub::RouteLabel;
use rskill_hub::tokens::Rights;
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubEnv, RepoId, Token, TokenSource};
use rskill_test_support::fixtures::{self, Dtype};
use rskill_test_support::test_hub::TestHub;
use serde_json::Value;
use tempfile::TempDir;

pub(crate) const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");
pub(crate) const PUBLISHER: &str = env!("CARGO_BIN_EXE_rskill-publisher");
pub(crate) const SKILL: &str = "acme/rskill-gov";
const VERSIONS: [&str; 3] = ["1.0.0", "1.1.0", "1.2.0"];

fn client_at(endpoint: &str, token: Option<&str>, hf_home: &Path, offline: bool) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: endpoint.to_string(),
        token: token.map(|t| (Token::new(t).unwrap(), TokenSource::EnvVar)),
        hub_cache: hf_home.join("hub"),
        hf_home: hf_home.to_path_buf(),
        offline,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) fn skill_files(version: &str) -> Vec<(String, Vec<u8>)> {
    let manifest = rskill_test_support::paths::manifest_from_corpus(
        "rtdetr-coco-detector",
        &[
            ("name: ", SKILL),
            ("version: ", version),
            ("license: ", "apache-2.0"),
            ("runtime: ", "pytorch"),
            ("weights_uri: ", "hf://acme/weights"),
        ],
    );
    rskill_manifest::validate::parse_valid(&manifest).expect("a valid test manifest");
    vec![
        ("rskill.yaml".into(), manifest.into_bytes()),
        (
            "README.md".into(),
            format!("---\nlicense: other\n---\n# {SKILL} {version}\n").into_bytes(),
        ),
    ]
}

pub(crate) async fn commit(
    client: &HubClient,
    repo: &RepoId,
    files: Vec<(String, Vec<u8>)>,
) -> String {
    let uploads = files
        .into_iter()
        .map(|(path_in_repo, b)| UploadFile {
            path_in_repo,
            content: Bytes::from(b),
        })
        .collect();
    client
        .commit(repo, uploads, Vec::new(), "test files", None)
        .await
        .unwrap()
}

/// Creates the weights repo and `acme/rskill-gov` with three tagged versions; returns
/// the commit of each version.
async fn publish_versions(client: &HubClient) -> Vec<String> {
    let weights: RepoId = "acme/weights".parse().unwrap();
    client.create_repo(&weights, false).await.unwrap();
    let tensors = [("policy.w", Dtype::F32, vec![8, 4])];
    commit(
        client,
        &weights,
        vec![(
            "model.safetensors".into(),
            fixtures::safetensors_bytes(&tensors, 3),
        )],
    )
    .await;
    let repo: RepoId = SKILL.parse().unwrap();
    client.create_repo(&repo, false).await.unwrap();
    let mut commits = Vec::new();
    for v in VERSIONS {
        let c = commit(client, &repo, skill_files(v)).await;
        client
            .create_tag(&repo, &format!("v{v}"), &c, "version")
            .await
            .unwrap();
        commits.push(c);
    }
    commits
}

/// A server, the two tokens, a scratch directory and the commits of the versions.
pub(crate) struct Fx {
    pub(crate) hub: TestHub,
    pub(crate) maria: String,
    pub(crate) wes: String,
    pub(crate) work: TempDir,
    pub(crate) commits: Vec<String>,
    pub(crate) rt: tokio::runtime::Runtime,
}

impl Fx {
    pub(crate) fn new() -> Fx {
        let hub = TestHub::start();
        let manage = Rights {
            write: true,
            manage: true,
        };
        let maria =
            rskill_hub::tokens::create_with(hub.dir.path(), "maria", &["acme".into()], manage)
                .unwrap();
        let wes =
            rskill_hub::tokens::create(hub.dir.path(), "wes", &["acme".into()], true).unwrap();
        let work = tempfile::tempdir().unwrap();
        let rt = rt();
        let client = client_at(
            &hub.url(),
            Some(&maria),
            &work.path().join("setup-hf"),
            false,
        );
        let commits = rt.block_on(publish_versions(&client));
        Fx {
            hub,
            maria,
            wes,
            work,
            commits,
            rt,
        }
    }

    pub(crate) fn hf_home(&self) -> PathBuf {
        self.work.path().join("hf")
    }

    pub(crate) fn data_dir(&self) -> PathBuf {
        self.work.path().join("data")
    }

    /// A client with `token` on its own cache.
    pub(crate) fn client(&self, token: &str) -> HubClient {
        client_at(
            &self.hub.url(),
            Some(token),
            &self.work.path().join("lib-hf"),
            false,
        )
    }

    pub(crate) fn run(
        &self,
        bin: &str,
        args: &[&str],
        token: Option<&str>,
        vars: &[(&str, &str)],
    ) -> Run {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(self.work.path())
            .env("HF_ENDPOINT", self.hub.url())
            .env("HF_HOME", self.hf_home())
            .env("RSKILL_DATA_DIR", self.data_dir())
            .env("HF_TOKEN_PATH", "/nonexistent")
            .env_remove("HF_TOKEN")
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("HF_HUB_CACHE")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        if let Some(t) = token {
            cmd.env("HF_TOKEN", t);
        }
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let started = Instant::now();
        let out = cmd.output().expect("the binary runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: started.elapsed(),
        }
    }

    pub(crate) fn publisher(&self, args: &[&str]) -> Run {
        self.run(PUBLISHER, args, Some(&self.maria), &[])
    }

    pub(crate) fn rskill(&self, args: &[&str]) -> Run {
        self.run(RSKILL, args, None, &[])
    }

    pub(crate) fn state(&self) -> lifecycle::SkillState {
        let client = self.client(&self.maria);
        self.rt
            .block_on(remote::read(
                &client,
                &Seen::default(),
                &SKILL.parse().unwrap(),
            ))
            .unwrap()
    }

    fn installed(&self) -> rskill::registry::InstalledSkill {
        rskill::registry::load_at(&self.data_dir().join(rskill::registry::REGISTRY_FILE))
            .unwrap()
            .skills[SKILL]
            .clone()
    }
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    took: Duration,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.took, self.stdout, self.stderr
        )
    }
}

impl Run {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }
}

#[test]
fn status_and_alias_commands_need_the_manage_right_and_keep_a_history() {
    let fx = Fx::new();
    // A plain write token is refused by the server, with a clear error; nothing changes.
    let r = fx.run(
        PUBLISHER,
        &["alias", "set", SKILL, "production", "1.1.0"],
        Some(&fx.wes),
        &[],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("manage right"), "{r:?}");
    assert!(
        !fx.state().has_file,
        "a refused change leaves no registry file"
    );

    let r = fx.publisher(&[
        "alias",
        "set",
        SKILL,
        "production",
        "1.1.0",
        "--reason",
        "field-tested",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("production") && r.stdout.contains("maria"),
        "{r:?}"
    );
    // Usage errors: no reason for a deprecation, a bad status, a bad alias name.
    for args in [
        vec!["status", "acme/rskill-gov@1.2.0", "deprecated"],
        vec![
            "status",
            "acme/rskill-gov@1.2.0",
            "retired",
            "--reason",
            "x",
        ],
        vec!["status", "acme/rskill-gov", "active"],
        vec!["alias", "set", SKILL, "Prod", "1.1.0"],
    ] {
        let r = fx.publisher(&args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
    }
    let r = fx.publisher(&[
        "status",
        "acme/rskill-gov@v1.2.0",
        "deprecated",
        "--reason",
        "arm drift",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    // deprecated -> draft is not an allowed move; an unknown version is refused.
    let r = fx.publisher(&["status", "acme/rskill-gov@1.2.0", "draft"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("not an allowed move"), "{r:?}");
    let r = fx.publisher(&["alias", "set", SKILL, "staging", "9.9.9"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("9.9.9"), "{r:?}");

    // Deleting 1.1.0 drops `production`, and says so.
    let r = fx.publisher(&[
        "status",
        "acme/rskill-gov@1.1.0",
        "deprecated",
        "--reason",
        "superseded",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.publisher(&[
        "status",
        "acme/rskill-gov@1.1.0",
        "deleted",
        "--reason",
        "unsafe grasp",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("alias `production` removed"), "{r:?}");
    // A deleted version is final, and cannot be aliased.
    let r = fx.publisher(&["status", "acme/rskill-gov@1.1.0", "active"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("deleted"), "{r:?}");

    // The history, whole and per alias, corroborated by the commit log.
    let r = fx.rskill(&["history", SKILL, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let h = r.json();
    let events = h["events"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = events
        .iter()
        .map(|e| {
            (
                e["subject"].as_str().unwrap().to_owned(),
                e["old"].as_str().unwrap_or("-").to_owned(),
                e["new"].as_str().unwrap_or("-").to_owned(),
            )
        })
        .collect();
    let want = [
        ("production", "-", "1.1.0"),
        ("1.2.0", "active", "deprecated"),
        ("1.1.0", "active", "deprecated"),
        ("1.1.0", "deprecated", "deleted"),
        ("production", "1.1.0", "-"),
    ];
    assert_eq!(
        summary,
        want.iter()
            .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
            .collect::<Vec<_>>()
    );
    assert!(events.iter().all(|e| e["who"] == "maria"));
    assert_eq!(events[1]["why"], "arm drift");
    assert_eq!(h["problems"].as_array().unwrap().len(), 0, "{h}");
    let r = fx.rskill(&["history", SKILL, "--alias", "production", "--json"]);
    assert_eq!(r.json()["events"].as_array().unwrap().len(), 2, "{r:?}");

    // info lists the versions, their statuses and aliases.
    let r = fx.rskill(&["info", SKILL, "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let g = &r.json()["governance"];
    let statuses: Vec<(&str, &str)> = g["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap(),
                v["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("1.2.0", "deprecated"),
            ("1.1.0", "deleted"),
            ("1.0.0", "active")
        ]
    );
    assert_eq!(g["latest"], "1.0.0");
    let r = fx.rskill(&["info", SKILL]);
    assert!(r.stdout.contains("deleted"), "{r:?}");
}

#[test]
fn install_resolves_aliases_versions_and_latest_and_the_lock_keeps_the_alias() {
    let fx = Fx::new();
    let install = |rev: &str| {
        let id = format!("{SKILL}{rev}");
        let r = fx.rskill(&["install", &id, "--no-smoke", "--json"]);
        assert_eq!(r.code, 0, "{id}: {r:?}");
        r.json()
    };
    // Bare and @latest: the newest active version.
    assert_eq!(install("")["commit"], fx.commits[2]);
    assert_eq!(fx.installed().alias.as_deref(), Some("latest"));
    assert_eq!(install("@latest")["version"], "1.2.0");
    assert_eq!(install("@1.1.0")["commit"], fx.commits[1]);
    assert_eq!(install("@v1.0.0")["commit"], fx.commits[0]);
    assert_eq!(fx.installed().alias, None);
    assert_eq!(install(&format!("@{}", fx.commits[1]))["version"], "1.1.0");
    assert_eq!(install("@main")["commit"], fx.commits[2]);

    let r = fx.publisher(&["alias", "set", SKILL, "production", "1.0.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let entry = install("@production");
    assert_eq!(entry["commit"], fx.commits[0]);
    assert_eq!(entry["alias"], "production");
    assert_eq!(entry["status"], "active");
    // Deprecating 1.2.0 moves latest back to 1.1.0.
    let r = fx.publisher(&[
        "status",
        "acme/rskill-gov@1.2.0",
        "deprecated",
        "--reason",
        "drift",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        fx.state().resolve_alias("latest").unwrap().to_string(),
        "1.1.0"
    );
    let r = fx.rskill(&["install", &format!("{SKILL}@1.2.0"), "--no-smoke"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("deprecated (deprecated by maria"),
        "{r:?}"
    );
    install("@production");

    // The lockfile records the alias and the commit.
    let r = fx.rskill(&["lock"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lock: Value =
        serde_json::from_slice(&std::fs::read(fx.work.path().join("rskill.lock")).unwrap())
            .unwrap();
    assert_eq!(lock["skills"][0]["alias"], "production");
    assert_eq!(lock["skills"][0]["commit"], fx.commits[0]);

    // The alias moves: --locked still installs the pinned commit, and says so.
    fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    let r = fx.rskill(&["install", "--locked", "--no-smoke", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["commit"], fx.commits[0]);
    assert!(r.stderr.contains("production now points to 1.1.0"), "{r:?}");
    // Deprecated since: a warning, not a refusal.
    fx.publisher(&[
        "status",
        "acme/rskill-gov@1.0.0",
        "deprecated",
        "--reason",
        "slow",
    ]);
    let r = fx.rskill(&["install", "--locked", "--no-smoke"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("warning:") && r.stderr.contains("1.0.0 is deprecated"),
        "{r:?}"
    );
    // Deleted: refused, naming the reason, unless --allow-deleted.
    let r = fx.publisher(&[
        "status",
        "acme/rskill-gov@1.0.0",
        "deleted",
        "--reason",
        "hit a fixture",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.rskill(&["install", "--locked", "--no-smoke"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("deleted") && r.stderr.contains("hit a fixture"),
        "{r:?}"
    );
    assert!(r.stderr.contains("--allow-deleted"), "{r:?}");
    let r = fx.rskill(&["install", &format!("{SKILL}@1.0.0"), "--no-smoke"]);
    assert_eq!(r.code, 1, "{r:?}");
    let r = fx.rskill(&["install", "--locked", "--no-smoke", "--allow-deleted"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("--allow-deleted"), "{r:?}");
}

#[test]
fn audit_reports_deprecations_moved_aliases_and_fails_on_deleted_online_and_offline() {
    let fx = Fx::new();
    fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    let r = fx.rskill(&["install", &format!("{SKILL}@production"), "--no-smoke"]);
    assert_eq!(r.code, 0, "{r:?}");
    let audit = |vars: &[(&str, &str)]| fx.run(RSKILL, &["audit", "--json"], None, vars);
    let r = audit(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let row = &r.json()["skills"][0];
    assert_eq!(row["verdict"], "ok");
    assert_eq!(row["source"], "hub");

    // The alias moves: a warning, exit 0.
    fx.publisher(&["alias", "set", SKILL, "production", "1.2.0"]);
    let r = audit(&[]);
    assert_eq!(r.code, 0, "{r:?}");
    let row = &r.json()["skills"][0];
    assert_eq!(
        (row["verdict"].as_str(), row["alias_moved"].as_bool()),
        (Some("warn"), Some(true))
    );
    assert_eq!(row["alias_now"], "1.2.0");
    // Deprecated since install: a warning.
    fx.publisher(&[
        "status",
        "acme/rskill-gov@1.1.0",
        "deprecated",
        "--reason",
        "drift",
    ]);
    let r = fx.run(RSKILL, &["audit"], None, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with("WARN") && r.stdout.contains("(was active at install)"),
        "{r:?}"
    );
    // Deleted: exit 1.
    fx.publisher(&[
        "status",
        "acme/rskill-gov@1.1.0",
        "deleted",
        "--reason",
        "unsafe",
    ]);
    let r = audit(&[]);
    assert_eq!(r.code, 1, "{r:?}");
    let row = &r.json()["skills"][0];
    assert_eq!(
        (row["verdict"].as_str(), row["status"].as_str()),
        (Some("fail"), Some("deleted"))
    );
    assert!(row["reason"].as_str().unwrap().contains("unsafe"), "{row}");

    // Offline: the same answer from this machine's copy, with its age; no HTTP.
    fx.hub.handle().reset_counts();
    let r = audit(&[("HF_HUB_OFFLINE", "1")]);
    assert_eq!(r.code, 1, "{r:?}");
    let row = &r.json()["skills"][0];
    assert_eq!(row["source"], "cache");
    assert!(row["age_seconds"].as_u64().is_some(), "{row}");
    assert_eq!(fx.hub.handle().request_count(), 0);
    let r = fx.run(RSKILL, &["audit"], None, &[("HF_HUB_OFFLINE", "1")]);
    assert!(
        r.stdout.contains("from this machine's copy of") && r.stdout.contains(" old)"),
        "{r:?}"
    );
    // With no copy at all, the answer is unknown, and that fails too.
    let r = fx.run(
        RSKILL,
        &["audit", "--json"],
        None,
        &[
            ("HF_HUB_OFFLINE", "1"),
            (
                "RSKILL_DATA_DIR",
                fx.work.path().join("other").to_str().unwrap(),
            ),
        ],
    );
    assert_eq!(r.code, 0, "nothing installed there: {r:?}");
    std::fs::remove_dir_all(fx.data_dir().join("governance")).unwrap();
    let r = audit(&[("HF_HUB_OFFLINE", "1")]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.json()["skills"][0]["source"], "none");
}

#[test]
fn search_shows_the_resolved_version_hides_drafts_and_marks_deprecated() {
    let fx = Fx::new();
    let search = |extra: &[&str]| {
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
                    h["version"].as_str().unwrap().to_owned(),
                    h["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let pair = |v: &str, s: &str| vec![(v.to_owned(), s.to_owned())];
    assert_eq!(search(&[]), pair("1.2.0", "active"));
    fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    let r = fx.rskill(&["search", "--author", "acme", "--json"]);
    assert_eq!(r.json()[0]["aliases"]["production"], "1.1.0", "{r:?}");
    // A warm search after a status change: one listing page and the new registry file.
    search(&[]);
    fx.publisher(&[
        "status",
        "acme/rskill-gov@1.2.0",
        "deprecated",
        "--reason",
        "drift",
    ]);
    fx.hub.handle().reset_counts();
    assert_eq!(search(&[]), pair("1.1.0", "active"));
    let resolves = fx.hub.handle().route_count(RouteLabel::Resolve);
    let total = fx.hub.handle().request_count();
    eprintln!("warm search after a status change: {total} request(s), {resolves} file fetch(es)");
    assert_eq!(fx.hub.handle().route_count(RouteLabel::List), 1);
    assert!(resolves <= 2, "{resolves} file fetches");
    assert_eq!(
        search(&["--status", "deprecated"]),
        pair("1.2.0", "deprecated")
    );
    // No active version left: hidden by default, shown (marked) on request.
    fx.publisher(&[
        "status",
        "acme/rskill-gov@1.1.0",
        "deprecated",
        "--reason",
        "drift",
    ]);
    fx.publisher(&["status", "acme/rskill-gov@1.0.0", "draft"]);
    let r = fx.rskill(&["search", "--author", "acme"]);
    assert!(r.stderr.contains("1 skill(s) hidden"), "{r:?}");
    assert_eq!(search(&[]), vec![]);
    assert_eq!(
        search(&["--include-deprecated"]),
        pair("1.2.0", "deprecated")
    );
    assert_eq!(search(&["--status", "draft"]), pair("1.0.0", "draft"));
    let r = fx.rskill(&["search", "--author", "acme", "--include-deprecated"]);
    assert!(r.stdout.contains("1.2.0 (deprecated)"), "{r:?}");
}

#[test]
fn twenty_concurrent_alias_changes_leave_exactly_the_accepted_history() {
    let fx = Fx::new();
    let repo: RepoId = SKILL.parse().unwrap();
    // Twenty more versions (tags on the last commit), one per change.
    let client = fx.client(&fx.maria);
    fx.rt.block_on(async {
        for i in 0..20 {
            client
                .create_tag(&repo, &format!("v2.0.{i}"), &fx.commits[2], "v")
                .await
                .unwrap();
        }
    });
    let seen_dir = fx.work.path().join("seen");
    let results = fx.rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..20 {
            let client = client.clone();
            let repo = repo.clone();
            let seen = Seen::at(&seen_dir);
            set.spawn(async move {
                let op = Op::AliasSet {
                    alias: "production".into(),
                    version: format!("2.0.{i}").parse().unwrap(),
                };
                (
                    i,
                    remote::change(&client, &seen, &repo, &op, &format!("change {i}"), None).await,
                )
            });
        }
        let mut out = Vec::new();
        while let Some(j) = set.join_next().await {
            out.push(j.unwrap());
        }
        out
    });
    let mut accepted = Vec::new();
    for (i, r) in &results {
        match r {
            Ok(applied) => accepted.push((applied.events[0].seq, *i)),
            Err(e) => assert!(
                matches!(e, lifecycle::LifecycleError::Contention { .. }),
                "change {i} failed otherwise: {e}"
            ),
        }
    }
    accepted.sort();
    eprintln!("{} of 20 concurrent changes accepted", accepted.len());
    assert!(accepted.len() >= 10, "{results:?}");
    let state = fx.state();
    let history = &state.registry.history;
    assert_eq!(
        history.len(),
        accepted.len(),
        "exactly the accepted changes"
    );
    for (ev, (seq, i)) in history.iter().zip(&accepted) {
        assert_eq!(ev.seq, *seq);
        assert_eq!(ev.new.as_deref(), Some(format!("2.0.{i}").as_str()));
        assert_eq!(ev.why, format!("change {i}"));
    }
    // Each event's `old` is the one before it: none was overwritten.
    for w in history.windows(2) {
        assert_eq!(w[1].old, w[0].new);
    }
    let last = history.last().unwrap().new.clone().unwrap();
    assert_eq!(state.registry.aliases["production"].to_string(), last);
    // The commit log names every event.
    let log = fx.rt.block_on(remote::commit_log(&client, &repo)).unwrap();
    assert!(remote::corroborate(history, &log).is_empty());
}

#[test]
fn kill_dash_nine_mid_change_leaves_the_previous_state_intact() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    // The token comes from the binary's own `token create --manage`.
    let out = Command::new(rskill_test_support::test_hub::hub_binary())
        .args(["token", "create", "--data"])
        .arg(dir.path())
        .args(["--user", "maria", "--org", "acme", "--manage"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let rt = rt();
    let repo: RepoId = SKILL.parse().unwrap();
    let mut acked = 0usize;
    for round in 0..4u64 {
        let (mut child, url, _out) = rskill_test_support::test_hub::serve_binary(dir.path());
        let client = client_at(&url, Some(&token), &work.path().join("hf"), false);
        if round == 0 {
            rt.block_on(publish_versions(&client));
        } else {
            // What was acknowledged is there, and at most the one change in flight.
            let state = rt
                .block_on(remote::read(&client, &Seen::default(), &repo))
                .expect("the registry file validates after kill -9");
            let n = state.registry.history.len();
            assert!(
                n == acked || n == acked + 1,
                "{n} events, {acked} acknowledged"
            );
            acked = n;
            if let Some(last) = state.registry.history.last() {
                assert_eq!(
                    state
                        .registry
                        .aliases
                        .get("production")
                        .map(|v| v.to_string()),
                    last.new.clone()
                );
            }
        }
        let count = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (client, repo, count) = (client.clone(), repo.clone(), count.clone());
            rt.spawn(async move {
                for n in acked.. {
                    let op = Op::AliasSet {
                        alias: "production".into(),
                        version: VERSIONS[n % 3].parse().unwrap(),
                    };
                    match remote::change(&client, &Seen::default(), &repo, &op, "rotate", None)
                        .await
                    {
                        Ok(_) => {
                            count.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => break,
                    }
                }
            })
        };
        let start = Instant::now();
        while count.load(Ordering::SeqCst) < 2 {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "changes are too slow"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(3 + 7 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        rt.block_on(writer).unwrap();
        acked += count.load(Ordering::SeqCst);
    }
    assert!(acked >= 8, "{acked}");
}

#[test]
fn hostile_registry_files_are_reported_never_trusted() {
    let fx = Fx::new();
    let repo: RepoId = SKILL.parse().unwrap();
    let client = fx.client(&fx.maria);
    fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    fx.publisher(&[
        "status",
        "acme/rskill-gov@1.2.0",
        "deprecated",
        "--reason",
        "drift",
    ]);
    let r = fx.rskill(&["install", &format!("{SKILL}@production"), "--no-smoke"]);
    assert_eq!(r.code, 0, "{r:?}");
    let good = String::from_utf8(
        fx.rt
            .block_on(client.read_file(&repo, "main", remote::REGISTRY_FILE))
            .unwrap(),
    )
    .unwrap();
    let put = |text: &str| {
        fx.rt.block_on(commit(
            &client,
            &repo,
            vec![(remote::REGISTRY_FILE.into(), text.as_bytes().to_vec())],
        ));
    };
    let cases = [
        (
            "unknown status",
            good.replacen("\"deprecated\"", "\"retired\"", 1),
        ),
        ("alias to a missing version", good.replace("1.1.0", "7.0.0")),
        (
            "a rewritten history",
            good.replace("\"who\": \"maria\"", "\"who\": \"mallory\""),
        ),
    ];
    for (what, text) in &cases {
        assert_ne!(text, &good, "{what}: the edit applies");
        put(text);
        let r = fx.rskill(&["history", SKILL]);
        assert_eq!(r.code, 1, "{what}: {r:?}");
        let r = fx.rskill(&["install", &format!("{SKILL}@production"), "--no-smoke"]);
        assert_eq!(r.code, 1, "{what}: {r:?}");
        let r = fx.run(RSKILL, &["audit", "--json"], None, &[]);
        assert_eq!(r.code, 1, "{what}: {r:?}");
        assert_eq!(r.json()["skills"][0]["verdict"], "fail", "{what}");
        if *what == "unknown status" {
            // Search reads the file alone (no tags, no local copy): what does not
            // validate is skipped, naming the file.
            let r = fx.rskill(&["search", "--author", "acme", "--json", "-v"]);
            assert_eq!(r.json().as_array().unwrap().len(), 0, "{what}: {r:?}");
            assert!(r.stderr.contains("rskill.registry.json"), "{r:?}");
        }
        put(&good);
    }
}

#[test]
fn resolving_production_costs_three_requests_cold_and_two_warm() {
    let fx = Fx::new();
    fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    let client = client_at(&fx.hub.url(), None, &fx.work.path().join("fresh-hf"), false);
    let repo: RepoId = SKILL.parse().unwrap();
    let seen = Seen::at(fx.work.path().join("seen"));
    let mut figures = Vec::new();
    for round in ["cold", "warm", "warm"] {
        fx.hub.handle().reset_counts();
        let started = Instant::now();
        let r = fx
            .rt
            .block_on(lifecycle::resolve::resolve(
                &client,
                &seen,
                &repo,
                Some("production"),
            ))
            .unwrap();
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(r.revision, fx.commits[1]);
        let h = fx.hub.handle();
        let counts = (
            h.route_count(RouteLabel::Refs),
            h.route_count(RouteLabel::Info),
            h.route_count(RouteLabel::Resolve),
        );
        // refs + repo info at main, and the registry file once per main commit.
        let want = if round == "cold" {
            (1, 1, 1)
        } else {
            (1, 1, 0)
        };
        assert_eq!(counts, want, "{round}");
        assert_eq!(h.request_count(), counts.0 + counts.1 + counts.2);
        figures.push(format!(
            "{round}: {} requests, {ms:.1} ms",
            h.request_count()
        ));
    }
    eprintln!("resolving @production: {}", figures.join("; "));
}

#[test]
fn publishing_a_draft_records_it_before_its_content_and_tag_and_keeps_the_file() {
    let hub = TestHub::start();
    let work = tempfile::tempdir().unwrap();
    let path = rskill_test_support::paths::corpus_dir()
        .join("smolvla-franka-pick-cube")
        .join("rskill.yaml");
    let m =
        rskill_manifest::validate::parse_valid(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let ups = rskill_test_support::seed::upstreams(std::slice::from_ref(&m)).unwrap();
    let mut orgs: Vec<String> = ups.iter().map(|u| u.repo.org().to_string()).collect();
    orgs.push(m.name.split('/').next().unwrap().to_string());
    orgs.sort();
    orgs.dedup();
    let manage = Rights {
        write: true,
        manage: true,
    };
    let token = rskill_hub::tokens::create_with(hub.dir.path(), "maria", &orgs, manage).unwrap();
    let writer = rskill_hub::tokens::create(hub.dir.path(), "wes", &orgs, true).unwrap();
    let rt = rt();
    let client = client_at(&hub.url(), Some(&token), &work.path().join("hf"), false);
    rt.block_on(rskill_test_support::seed::seed(&client, &ups))
        .unwrap();
    let opts = rskill::publish::PublishOptions {
        public: true,
        draft: true,
        ..Default::default()
    };
    let plan = rskill::publish::plan(&path, &opts);
    // A plain write token cannot publish a draft: the server refuses the registry commit.
    let plain = client_at(&hub.url(), Some(&writer), &work.path().join("hf-w"), false);
    let refused = rt.block_on(rskill::publish::publish(&plain, &plan, &opts));
    assert_eq!(refused.result, rskill::publish::PublishStatus::Failed);
    assert!(
        refused.message.contains("manage right"),
        "{}",
        refused.message
    );
    let outcome = rt.block_on(rskill::publish::publish(&client, &plan, &opts));
    assert_eq!(
        outcome.result,
        rskill::publish::PublishStatus::Published,
        "{}",
        outcome.message
    );
    let repo: RepoId = m.name.parse().unwrap();
    let state = rt
        .block_on(remote::read(&client, &Seen::default(), &repo))
        .unwrap();
    let v: semver::Version = m.version.parse().unwrap();
    assert_eq!(state.registry.status_of(&v), lifecycle::Status::Draft);
    assert_eq!(state.registry.history.len(), 1);
    assert_eq!(state.registry.history[0].old, None);
    // The tagged commit was built on the registry commit, and kept its file.
    let tagged = state.tags[&v].to_string();
    let info = rt.block_on(client.repo_info(&repo, Some(&tagged))).unwrap();
    assert!(info.file(remote::REGISTRY_FILE).is_some());
    // `latest` skips the draft; installing it needs the explicit version.
    assert_eq!(state.resolve_alias("latest"), None);
    let r = lifecycle::resolve::resolve_in(Some(&state), Some(&m.version)).unwrap();
    assert_eq!(r.status, Some(lifecycle::Status::Draft));
    assert_eq!(r.revision, tagged);
}

#[test]
fn setting_an_alias_to_its_current_version_is_a_no_op() {
    let fx = Fx::new();
    let r = fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    let before = fx.state();
    // Again (as after a lost race): success, nothing committed, no event.
    let r = fx.publisher(&["alias", "set", SKILL, "production", "1.1.0"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("already points to 1.1.0"), "{r:?}");
    let r = fx.publisher(&["alias", "set", SKILL, "production", "1.1.0", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v["changed"], false, "{r:?}");
    assert_eq!(v["events"].as_array().map(Vec::len), Some(0), "{r:?}");
    let after = fx.state();
    assert_eq!(after.main, before.main, "no commit");
    assert_eq!(after.registry.history.len(), before.registry.history.len());
    // A real move still commits and says so.
    let r = fx.publisher(&["alias", "set", SKILL, "production", "1.0.0", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.json()["changed"], true, "{r:?}");
}
