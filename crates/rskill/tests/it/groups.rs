//! Skill groups and harness install end to end against `rskill-hub` (issue 16):
//! `rskill-publisher group` (members checked before any write, tags, card, collection,
//! governance of group versions), `rskill install ORG/GROUP` (all or nothing, license
//! guard before any download, one registry update), `uninstall`, `rskill.lock`,
//! `search --groups`, `--harness` and `rskill harness list|sync|remove`, and
//! `rskill marketplace`.
//!
//! Each test starts its own server with skills `acme/rskill-a` … `acme/rskill-d`
//! (version 1.0.0, a `v1.0.0` tag each, each over its own small safetensors weights
//! repo). `maria` may write and manage `acme` and `other`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rskill_hub::tokens::Rights;
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubEnv, RepoId, Token, TokenSource};
use rskill_test_support::fixtures::{self, Dtype};
use rskill_test_support::test_hub::TestHub;
use serde_json::Value;
use tempfile::TempDir;

const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");
const PUBLISHER: &str = env!("CARGO_BIN_EXE_rskill-publisher");
const GROUP: &str = "acme/rskill-group-cell";
const MEMBERS: [&str; 4] = [
    "acme/rskill-a",
    "acme/rskill-b",
    "acme/rskill-c",
    "acme/rskill-d",
];

fn client_at(endpoint: &str, token: &str, hf_home: &Path) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: endpoint.to_string(),
        token: Some((Token::new(token).unwrap(), TokenSource::EnvVar)),
        hub_cache: hf_home.join("hub"),
        hf_home: hf_home.to_path_buf(),
        offline: false,
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

fn manifest(repo: &str, version: &str, license: &str, weights: &str) -> String {
    let m = rskill_test_support::paths::manifest_from_corpus(
        "rtdetr-coco-detector",
        &[
            ("name: ", repo),
            ("version: ", version),
            ("license: ", license),
            ("runtime: ", "pytorch"),
            ("weights_uri: ", &format!("hf://{weights}")),
        ],
    );
    rskill_manifest::validate::parse_valid(&m).expect("a valid test manifest");
    m
}

async fn commit(client: &HubClient, repo: &RepoId, files: Vec<(String, Vec<u8>)>) -> String {
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

/// Creates `repo` at `version` over its own weights repo (`weights` bytes for
/// `model.safetensors`, valid ones when `None`); returns the tagged commit.
async fn skill(
    client: &HubClient,
    repo: &str,
    version: &str,
    license: &str,
    weights: Option<Vec<u8>>,
) -> String {
    let w = format!("{repo}-weights");
    let wrepo: RepoId = w.parse().unwrap();
    if client.repo_info(&wrepo, None).await.is_err() {
        client.create_repo(&wrepo, false).await.unwrap();
    }
    let bytes = weights.unwrap_or_else(|| {
        fixtures::safetensors_bytes(&[("policy.w", Dtype::F32, vec![64, 16])], repo.len() as u64)
    });
    commit(client, &wrepo, vec![("model.safetensors".into(), bytes)]).await;
    let r: RepoId = repo.parse().unwrap();
    if client.repo_info(&r, None).await.is_err() {
        client.create_repo(&r, false).await.unwrap();
    }
    let c = commit(
        client,
        &r,
        vec![
            (
                "rskill.yaml".into(),
                manifest(repo, version, license, &w).into_bytes(),
            ),
            (
                "README.md".into(),
                format!("---\nlicense: other\n---\n# {repo} {version}\n").into_bytes(),
            ),
        ],
    )
    .await;
    client
        .create_tag(&r, &format!("v{version}"), &c, "version")
        .await
        .unwrap();
    c
}

fn group_yaml(name: &str, version: &str, members: &[(&str, &str)]) -> String {
    let mut out = format!(
        "name: {name}\nversion: {version}\ndescription: A pick-and-place cell whose skills were tested together.\nmembers:\n"
    );
    for (id, v) in members {
        out.push_str(&format!("  - id: {id}\n    version: {v}\n"));
    }
    out
}

struct Fx {
    hub: TestHub,
    maria: String,
    work: TempDir,
    rt: tokio::runtime::Runtime,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
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

impl Fx {
    /// A server with the four member skills (apache-2.0).
    fn new() -> Fx {
        let hub = TestHub::start();
        let maria = rskill_hub::tokens::create_with(
            hub.dir.path(),
            "maria",
            &["acme".into(), "other".into()],
            Rights {
                write: true,
                manage: true,
            },
        )
        .unwrap();
        let work = tempfile::tempdir().unwrap();
        let fx = Fx {
            hub,
            maria,
            work,
            rt: rt(),
        };
        let c = fx.client();
        fx.rt.block_on(async {
            for m in MEMBERS {
                skill(&c, m, "1.0.0", "apache-2.0", None).await;
            }
        });
        std::fs::create_dir_all(fx.project()).unwrap();
        std::fs::create_dir_all(fx.home()).unwrap();
        fx
    }

    fn client(&self) -> HubClient {
        client_at(
            &self.hub.url(),
            &self.maria,
            &self.work.path().join("setup-hf"),
        )
    }

    fn project(&self) -> PathBuf {
        self.work.path().join("project")
    }

    fn home(&self) -> PathBuf {
        self.work.path().join("home")
    }

    fn data_dir(&self) -> PathBuf {
        self.work.path().join("data")
    }

    fn hf_home(&self) -> PathBuf {
        self.work.path().join("hf")
    }

    fn registry_path(&self) -> PathBuf {
        self.data_dir().join(rskill::registry::REGISTRY_FILE)
    }

    fn registry_bytes(&self) -> Option<Vec<u8>> {
        std::fs::read(self.registry_path()).ok()
    }

    fn registry(&self) -> rskill::registry::Registry {
        rskill::registry::load_at(&self.registry_path()).unwrap()
    }

    fn run(&self, bin: &str, args: &[&str]) -> Run {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(self.project())
            .env("HOME", self.home())
            .env("HF_ENDPOINT", self.hub.url())
            .env("HF_HOME", self.hf_home())
            .env("RSKILL_DATA_DIR", self.data_dir())
            .env("HF_TOKEN_PATH", "/nonexistent")
            .env("HF_TOKEN", &self.maria)
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("HF_HUB_CACHE")
            .env_remove("OPENRAL_ALLOW_NONCOMMERCIAL")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        let started = Instant::now();
        let out = cmd.output().expect("the binary runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: started.elapsed(),
        }
    }

    fn rskill(&self, args: &[&str]) -> Run {
        self.run(RSKILL, args)
    }

    /// Writes a group folder and runs `rskill-publisher group DIR --publish …`.
    fn publish_group(&self, yaml: &str, extra: &[&str]) -> Run {
        let dir = self.work.path().join(format!("groups-{}", rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("rskill-group.yaml"), yaml).unwrap();
        let d = dir.to_string_lossy().into_owned();
        let mut args = vec!["group", d.as_str(), "--publish"];
        args.extend_from_slice(extra);
        self.run(PUBLISHER, &args)
    }

    fn publish_cell(&self) {
        let members: Vec<(&str, &str)> = MEMBERS.iter().map(|m| (*m, "1.0.0")).collect();
        let r = self.publish_group(&group_yaml(GROUP, "1.0.0", &members), &[]);
        assert_eq!(r.code, 0, "{r:?}");
    }

    /// Weight blobs in the CLI's Hub cache (the downloads; manifests are read before).
    fn cached_blobs(&self) -> usize {
        walk(&self.hf_home().join("hub"))
            .into_iter()
            .filter(|p| p.parent().is_some_and(|d| d.ends_with("blobs")))
            .filter(|p| p.to_string_lossy().contains("-weights/"))
            .count()
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed).to_string()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn publishing_a_group_checks_every_member_before_any_write() {
    let fx = Fx::new();
    // Member b's only version is deleted; acme/rskill-missing does not exist; c has no 2.0.0.
    for to in ["deprecated", "deleted"] {
        let r = fx.run(
            PUBLISHER,
            &[
                "status",
                "acme/rskill-b@1.0.0",
                to,
                "--reason",
                "drops parts",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
    }
    fx.hub.handle().reset_counts();
    let yaml = group_yaml(
        GROUP,
        "1.0.0",
        &[
            ("acme/rskill-a", "1.0.0"),
            ("acme/rskill-b", "1.0.0"),
            ("acme/rskill-missing", "1.0.0"),
            ("acme/rskill-c", "2.0.0"),
        ],
    );
    let r = fx.publish_group(&yaml, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("member acme/rskill-b 1.0.0 is deleted (")
            && r.stderr.contains("drops parts"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("member acme/rskill-missing does not exist on the Hub"),
        "{r:?}"
    );
    assert!(
        r.stderr
            .contains("member acme/rskill-c has no published version 2.0.0"),
        "{r:?}"
    );
    assert!(r.stderr.contains("nothing was written"), "{r:?}");
    let h = fx.hub.handle();
    for label in [
        rskill_hub::RouteLabel::CreateRepo,
        rskill_hub::RouteLabel::Commit,
        rskill_hub::RouteLabel::Tag,
        rskill_hub::RouteLabel::Collection,
    ] {
        assert_eq!(h.route_count(label), 0, "{label:?} was requested: {r:?}");
    }
    let c = fx.client();
    let missing = fx.rt.block_on(c.repo_info(&GROUP.parse().unwrap(), None));
    assert!(missing.is_err(), "the group repo must not exist");

    // Invalid files are refused before any request at all (exit 2), naming the rule.
    fx.hub.handle().reset_counts();
    let clash = group_yaml(
        GROUP,
        "1.0.0",
        &[("acme/rskill-a", "1.0.0"), ("other/rskill-a", "1.0.0")],
    );
    let r = fx.publish_group(&clash, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stderr.contains("members[1].id") && r.stderr.contains("[group/harness-name]"),
        "{r:?}"
    );
    let nested = group_yaml(GROUP, "1.0.0", &[("acme/rskill-group-other", "1.0.0")]);
    let r = fx.publish_group(&nested, &[]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(r.stderr.contains("[group/nesting]"), "{r:?}");
    let cycle = group_yaml(GROUP, "1.0.0", &[(GROUP, "1.0.0")]);
    let r = fx.publish_group(&cycle, &[]);
    assert!(r.code == 2 && r.stderr.contains("[group/cycle]"), "{r:?}");
    assert_eq!(fx.hub.handle().requests().total, 0);
}

#[test]
fn a_published_group_has_tags_card_collection_and_the_governance_of_skills() {
    let fx = Fx::new();
    fx.publish_cell();
    let c = fx.client();
    let g: RepoId = GROUP.parse().unwrap();
    let refs = fx.rt.block_on(c.refs(&g)).unwrap();
    let at = refs.tag("v1.0.0").expect("tagged v1.0.0").to_string();
    let file = fx
        .rt
        .block_on(c.read_file_at_most(&g, &at, "rskill-group.yaml", 1 << 20))
        .unwrap();
    let published = rskill_manifest::group::parse_valid(&file).unwrap();
    assert!(
        published.members.iter().all(|m| m.commit.is_some()),
        "members pinned to commits"
    );
    let card = fx
        .rt
        .block_on(c.read_file_at_most(&g, &at, "README.md", 1 << 20))
        .unwrap();
    let tags = rskill_manifest::card::tags_of_card_text(&String::from_utf8(card).unwrap());
    assert!(
        tags.contains(&"rskill-group".to_string()) && tags.contains(&"rskill-org:acme".to_string()),
        "{tags:?}"
    );
    // The collection mirrors the group and its members.
    let cols = fx
        .rt
        .block_on(rskill::publish::collection::collections_of(&c, "acme"))
        .unwrap();
    let col = cols
        .iter()
        .find(|c| c.title == "rskill-group-cell")
        .expect("a collection");
    let col = fx.rt.block_on(c.collection(&col.slug)).unwrap();
    for id in std::iter::once(GROUP).chain(MEMBERS) {
        assert!(
            col.items.iter().any(|i| i.id == id),
            "{id} not in the collection"
        );
    }
    // Publishing again changes nothing; other content under the same version is refused.
    let members: Vec<(&str, &str)> = MEMBERS.iter().map(|m| (*m, "1.0.0")).collect();
    let r = fx.publish_group(&group_yaml(GROUP, "1.0.0", &members), &[]);
    assert!(r.code == 0 && r.stderr.contains("unchanged"), "{r:?}");
    let r = fx.publish_group(&group_yaml(GROUP, "1.0.0", &members[..3]), &[]);
    assert!(
        r.code == 1 && r.stderr.contains("versions are immutable"),
        "{r:?}"
    );
    // Group versions follow the lifecycle: alias, install through it, history.
    let r = fx.publish_group(&group_yaml(GROUP, "1.1.0", &members[..3]), &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.run(
        PUBLISHER,
        &[
            "alias",
            "set",
            GROUP,
            "production",
            "1.0.0",
            "--reason",
            "cell 7 trials",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.rskill(&["install", &format!("{GROUP}@production")]);
    assert_eq!(r.code, 0, "{r:?}");
    let reg = fx.registry();
    assert_eq!(reg.groups[GROUP].version, "1.0.0");
    assert_eq!(reg.groups[GROUP].alias.as_deref(), Some("production"));
    assert_eq!(reg.skills.len(), 4);
    let r = fx.rskill(&["history", GROUP]);
    assert!(r.code == 0 && r.stdout.contains("production"), "{r:?}");
    // Deleting the group version refuses its install, naming the reason.
    for to in ["deprecated", "deleted"] {
        let r = fx.run(
            PUBLISHER,
            &[
                "status",
                &format!("{GROUP}@1.1.0"),
                to,
                "--reason",
                "bad mix",
            ],
        );
        assert_eq!(r.code, 0, "{r:?}");
    }
    let r = fx.rskill(&["install", &format!("{GROUP}@1.1.0")]);
    assert!(
        r.code == 1 && r.stderr.contains("1.1.0 is deleted") && r.stderr.contains("bad mix"),
        "{r:?}"
    );
    // The group is found by search --groups.
    let r = fx.rskill(&["search", "--groups", "cell", "--json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let hits: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(hits[0]["repo_id"], GROUP, "{r:?}");
    assert_eq!(
        hits[0]["members"].as_array().unwrap().len(),
        3,
        "main holds 1.1.0: {r:?}"
    );
    let r = fx.rskill(&["search", "--groups", "no-such-word"]);
    assert!(r.code == 0 && r.stdout.is_empty(), "{r:?}");
}

#[test]
fn a_group_installs_locks_and_uninstalls_as_one_unit() {
    let fx = Fx::new();
    fx.publish_cell();
    // d is also installed by name: it must outlive the group.
    let r = fx.rskill(&["install", "acme/rskill-d"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.rskill(&["install", GROUP]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("installed group acme/rskill-group-cell 1.0.0: 4 member(s)"),
        "{r:?}"
    );
    let reg = fx.registry();
    let g = &reg.groups[GROUP];
    assert_eq!(g.members.len(), 4);
    for m in &g.members {
        assert_eq!(reg.skills[&m.repo].commit, m.commit);
    }
    assert!(!reg.skills["acme/rskill-a"].explicit);
    assert!(reg.skills["acme/rskill-d"].explicit);
    // Uninstalling a member the group needs keeps it.
    let r = fx.rskill(&["uninstall", "acme/rskill-a"]);
    assert!(r.code == 0 && r.stderr.contains("stays installed"), "{r:?}");
    assert!(fx.registry().skills.contains_key("acme/rskill-a"));
    // The lockfile pins the group.
    let r = fx.rskill(&["lock"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lock =
        rskill::install::lockfile::Lockfile::read(&fx.project().join("rskill.lock")).unwrap();
    assert_eq!(lock.groups.len(), 1);
    assert_eq!(lock.groups[0].commit.as_str(), g.commit);
    assert_eq!(lock.groups[0].members.len(), 4);
    // Uninstall: the members nothing else needs go, d stays.
    let r = fx.rskill(&["uninstall", GROUP]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("kept acme/rskill-d (installed by name)"),
        "{r:?}"
    );
    let reg = fx.registry();
    assert!(reg.groups.is_empty());
    assert_eq!(reg.skills.keys().collect::<Vec<_>>(), ["acme/rskill-d"]);
    // A member file failing its digest check mid-download refuses the whole group.
    let text = std::fs::read_to_string(fx.project().join("rskill.lock")).unwrap();
    let sha = lock
        .skills
        .iter()
        .find(|s| s.repo == "acme/rskill-c")
        .unwrap()
        .files[0]
        .sha256
        .to_string();
    std::fs::write(
        fx.project().join("tampered.lock"),
        text.replace(&sha, &"0".repeat(64)),
    )
    .unwrap();
    let before = fx.registry_bytes().unwrap();
    let r = fx.rskill(&["install", "--locked", "--lockfile", "tampered.lock"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("acme/rskill-c/") && r.stderr.contains("checksum mismatch"),
        "{r:?}"
    );
    assert_eq!(fx.registry_bytes().unwrap(), before, "the registry changed");
    // install --locked brings the group back at the locked commits.
    let r = fx.rskill(&["install", "--locked"]);
    assert_eq!(r.code, 0, "{r:?}");
    let reg = fx.registry();
    assert_eq!(reg.groups[GROUP].commit, g.commit);
    assert_eq!(reg.skills.len(), 4);
}

#[test]
fn one_non_commercial_member_blocks_the_group_before_any_download() {
    let fx = Fx::new();
    let c = fx.client();
    fx.rt.block_on(skill(
        &c,
        "acme/rskill-nc",
        "1.0.0",
        "nvidia_non_commercial",
        None,
    ));
    let yaml = group_yaml(
        GROUP,
        "1.0.0",
        &[("acme/rskill-a", "1.0.0"), ("acme/rskill-nc", "1.0.0")],
    );
    assert_eq!(fx.publish_group(&yaml, &[]).code, 0);
    let r = fx.rskill(&["install", GROUP]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("member acme/rskill-nc"), "{r:?}");
    assert!(
        r.stderr.contains("nothing of the group was installed"),
        "{r:?}"
    );
    assert_eq!(fx.cached_blobs(), 0, "nothing may be downloaded: {r:?}");
    assert!(fx.registry_bytes().is_none(), "no registry written");
    let r = fx.rskill(&["install", GROUP, "--non-commercial"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(fx.registry().skills.len(), 2);
}

#[test]
fn a_member_failing_its_smoke_load_leaves_the_registry_as_it_was() {
    let fx = Fx::new();
    let c = fx.client();
    // c 1.1.0's weights are not safetensors at all.
    fx.rt.block_on(skill(
        &c,
        "acme/rskill-c",
        "1.1.0",
        "apache-2.0",
        Some(b"not safetensors".repeat(8)),
    ));
    let yaml = group_yaml(
        GROUP,
        "1.0.0",
        &[
            ("acme/rskill-a", "1.0.0"),
            ("acme/rskill-b", "1.0.0"),
            ("acme/rskill-c", "1.1.0"),
        ],
    );
    assert_eq!(fx.publish_group(&yaml, &[]).code, 0);
    let r = fx.rskill(&["install", "acme/rskill-d"]);
    assert_eq!(r.code, 0, "{r:?}");
    let before = fx.registry_bytes().unwrap();
    let r = fx.rskill(&["install", GROUP, "--harness", "claude-code"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("member acme/rskill-c") && r.stderr.contains("smoke-load failed"),
        "{r:?}"
    );
    assert_eq!(fx.registry_bytes().unwrap(), before, "the registry changed");
    assert!(
        !fx.project().join(".claude").exists(),
        "no harness folder written"
    );
}

#[test]
fn a_hostile_group_file_is_refused_at_install() {
    let fx = Fx::new();
    let c = fx.client();
    let g: RepoId = GROUP.parse().unwrap();
    fx.rt.block_on(async {
        c.create_repo(&g, false).await.unwrap();
        // Written by hand, past the publisher: two members with one harness name.
        let yaml = group_yaml(
            GROUP,
            "1.0.0",
            &[("acme/rskill-a", "1.0.0"), ("other/rskill-a", "1.0.0")],
        );
        let at = commit(
            &c,
            &g,
            vec![("rskill-group.yaml".into(), yaml.into_bytes())],
        )
        .await;
        c.create_tag(&g, "v1.0.0", &at, "v").await.unwrap();
    });
    let r = fx.rskill(&["install", GROUP]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("invalid group") && r.stderr.contains("[group/harness-name]"),
        "{r:?}"
    );
    assert!(fx.registry_bytes().is_none());
}

fn skill_md(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("SKILL.md"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

#[test]
fn harness_install_writes_skill_md_and_sync_follows_the_registry() {
    let fx = Fx::new();
    fx.publish_cell();
    let claude = fx.project().join(".claude/skills");
    // A folder rskill did not write blocks the install before any download.
    std::fs::create_dir_all(claude.join("rskill-b")).unwrap();
    std::fs::write(claude.join("rskill-b/SKILL.md"), "mine").unwrap();
    let r = fx.rskill(&["install", GROUP, "--harness", "claude-code"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stderr.contains("rskill-b") && r.stderr.contains("did not write"),
        "{r:?}"
    );
    assert_eq!(fx.cached_blobs(), 0, "{r:?}");
    assert!(fx.registry_bytes().is_none());
    std::fs::remove_dir_all(claude.join("rskill-b")).unwrap();

    let r = fx.rskill(&[
        "install",
        GROUP,
        "--harness",
        "claude-code",
        "--harness",
        "cursor",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    for root in [claude.clone(), fx.project().join(".cursor/skills")] {
        for m in MEMBERS {
            let name = m.split('/').nth(1).unwrap();
            let text = skill_md(&root.join(name));
            assert!(
                rskill_manifest::agent_skill::skill_md_checks(&text, Some(name)).is_empty(),
                "{text}"
            );
            let pointer = text
                .lines()
                .find_map(|l| l.strip_prefix("- Manifest: `"))
                .and_then(|l| l.strip_suffix('`'))
                .expect("a pointer to the manifest");
            let manifest = std::fs::read_to_string(pointer).unwrap();
            assert!(manifest.contains(&format!("name: {m}")));
        }
    }
    let r = fx.rskill(&["harness", "list", "--json"]);
    let rows: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 8, "{r:?}");

    // Edited by hand: sync reports it and leaves it alone; the rest follows the registry.
    let edited = claude.join("rskill-a/SKILL.md");
    std::fs::write(&edited, "my notes").unwrap();
    let r = fx.rskill(&["uninstall", GROUP]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.rskill(&["harness", "sync"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout.contains("edited-by-hand") && r.stderr.contains("left alone"),
        "{r:?}"
    );
    assert_eq!(std::fs::read_to_string(&edited).unwrap(), "my notes");
    assert!(
        !claude.join("rskill-b").exists() && !fx.project().join(".cursor/skills/rskill-a").exists(),
        "{r:?}"
    );
    // A version change is an update; a new install an add.
    let r = fx.rskill(&["install", "acme/rskill-b"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = fx.rskill(&["harness", "sync", "--harness", "cursor"]);
    assert!(r.code == 0 && r.stdout.contains("added"), "{r:?}");
    fx.rt.block_on(skill(
        &fx.client(),
        "acme/rskill-b",
        "1.1.0",
        "apache-2.0",
        None,
    ));
    assert_eq!(fx.rskill(&["install", "acme/rskill-b@1.1.0"]).code, 0);
    let r = fx.rskill(&["harness", "sync", "--harness", "cursor"]);
    assert!(r.code == 0 && r.stdout.contains("updated"), "{r:?}");
    assert!(skill_md(&fx.project().join(".cursor/skills/rskill-b")).contains("1.1.0"));
    // remove: only what rskill wrote.
    let r = fx.rskill(&["harness", "remove", "--harness", "cursor"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!fx.project().join(".cursor/skills/rskill-b").exists());

    // --global writes under HOME; harnesses without a user folder are a usage error.
    let r = fx.rskill(&[
        "install",
        "acme/rskill-c",
        "--harness",
        "claude-code",
        "--global",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(fx.home().join(".claude/skills/rskill-c/SKILL.md").is_file());
    let r = fx.rskill(&[
        "install",
        "acme/rskill-c",
        "--harness",
        "cursor",
        "--global",
    ]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn marketplace_output_follows_the_documented_format() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("market");
    let root = rskill_test_support::paths::repo_root();
    let r = Command::new(RSKILL)
        .args(["marketplace", "--out"])
        .arg(&dir)
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let market: Value = serde_json::from_slice(
        &std::fs::read(dir.join(".claude-plugin/marketplace.json")).unwrap(),
    )
    .unwrap();
    assert!(market["name"].is_string() && market["owner"]["name"].is_string());
    let plugins = market["plugins"].as_array().unwrap();
    assert!(plugins.len() >= 2);
    for p in plugins {
        for f in ["name", "source", "description", "version"] {
            assert!(p[f].as_str().is_some_and(|s| !s.is_empty()), "{f} in {p}");
        }
        let pdir = dir.join(p["source"].as_str().unwrap());
        let pj: Value = serde_json::from_slice(
            &std::fs::read(pdir.join(".claude-plugin/plugin.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(pj["name"], p["name"]);
        assert!(std::fs::read_dir(pdir.join("skills")).unwrap().count() >= 3);
    }
    assert!(rskill::marketplace::check(&dir).is_empty());
    // The check fails on output that breaks the format.
    let mut broken = market.clone();
    broken["plugins"][0]
        .as_object_mut()
        .unwrap()
        .remove("version");
    std::fs::write(
        dir.join(".claude-plugin/marketplace.json"),
        broken.to_string(),
    )
    .unwrap();
    let problems = rskill::marketplace::check(&dir);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("plugins[0]") && p.contains("`version`")),
        "{problems:?}"
    );
    let md = dir
        .join(plugins[1]["source"].as_str().unwrap())
        .join("skills");
    let first = std::fs::read_dir(&md)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::rename(&first, md.join("Bad_Name")).unwrap();
    assert!(
        rskill::marketplace::check(&dir)
            .iter()
            .any(|p| p.contains("Bad_Name"))
    );
}

/// The figure for the closing note: a 4-member group install against the members one by
/// one, each on a fresh cache against the same server, with the requests counted.
#[test]
fn group_install_time_and_requests_against_one_by_one() {
    let fx = Fx::new();
    fx.publish_cell();
    let h = fx.hub.handle();
    let fresh = |fx: &Fx| {
        let _ = std::fs::remove_dir_all(fx.hf_home());
        let _ = std::fs::remove_dir_all(fx.data_dir());
    };
    let mut group_ms = Vec::new();
    let mut single_ms = Vec::new();
    let mut group_requests = 0;
    let mut group_routes = Default::default();
    let mut single_requests = 0;
    for _ in 0..3 {
        fresh(&fx);
        h.reset_counts();
        let r = fx.rskill(&["install", GROUP, "--no-smoke"]);
        assert_eq!(r.code, 0, "{r:?}");
        group_ms.push(r.took.as_secs_f64() * 1000.0);
        group_requests = h.requests().total;
        group_routes = h.requests().by_route;
        fresh(&fx);
        h.reset_counts();
        let mut took = Duration::ZERO;
        for m in MEMBERS {
            let r = fx.rskill(&["install", &format!("{m}@1.0.0"), "--no-smoke"]);
            assert_eq!(r.code, 0, "{r:?}");
            took += r.took;
        }
        single_ms.push(took.as_secs_f64() * 1000.0);
        single_requests = h.requests().total;
    }
    group_ms.sort_by(f64::total_cmp);
    single_ms.sort_by(f64::total_cmp);
    println!(
        "group of 4: median {:.0} ms, {group_requests} requests; one by one: median {:.0} ms, {single_requests} requests",
        group_ms[1], single_ms[1]
    );
    println!("group install requests by route: {group_routes:?}");
    // Per member: refs, info, the registry-file probe … the group adds its own few.
    assert!(
        group_requests <= single_requests + 6,
        "{group_requests} vs {single_requests}"
    );
}
