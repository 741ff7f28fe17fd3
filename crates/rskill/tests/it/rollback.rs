//! Governance nobody can quietly roll back (issue 24), end to end against `rskill-hub`
//! with the real binaries: a publisher signs skills and their governance state
//! (`--sign-key`, `--governance-key`), a robot trusts the key for both and requires
//! signatures, and then an attacker tries each roll-back of the issue:
//! - a release tag moved onto an older version's commit, and a recalled commit tagged as
//!   a new version (a write token can do both on huggingface.co);
//! - the repo deleted and re-created from the signed files, without its history;
//! - a Hub (or a proxy) replaying genuine old answers for `main` and the refs;
//! - a scan record rewritten to clean.
//!
//! On rskill-hub the moves themselves need the manage right (its own tests); here the
//! attacker's raw writes use the manager's token, standing in for a write token on a Hub
//! that has no manage right, and what is tested is that the robot refuses the result.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rskill_hub::tokens::{self, Rights};
use rskill_hub_client::{HubClient, HubEnv, RepoId, Token, TokenSource};
use rskill_test_support::paths::{copy_dir, corpus_dir};
use rskill_test_support::recording_proxy::RecordingProxy;
use rskill_test_support::test_hub::TestHub;
use serde_json::Value;
use tempfile::TempDir;

const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");
const PUBLISHER: &str = env!("CARGO_BIN_EXE_rskill-publisher");
const SLUG: &str = "rtdetr-coco-detector";
const ORG: &str = "rskill-project";
const SKILL: &str = "rskill-project/rskill-rtdetr-coco-detector";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl Run {
    fn ok(self, what: &str) -> Run {
        assert_eq!(self.code, 0, "{what}: {self:?}");
        self
    }

    fn refused(self, what: &str, needle: &str) -> Run {
        assert_eq!(self.code, 1, "{what}: {self:?}");
        assert!(
            self.stderr.contains(needle) || self.stdout.contains(needle),
            "{what}: expected `{needle}` in {self:?}"
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }
}

/// A Hub with one skill published signed at 1.0.0 and 1.1.0, its governance signed,
/// `production` on 1.1.0; the publisher's key; a scratch directory per machine.
struct Fx {
    hub: TestHub,
    token: String,
    /// A token that may write the org but not manage it.
    writer: String,
    work: TempDir,
    rt: tokio::runtime::Runtime,
    key: PathBuf,
    public_key: PathBuf,
    commits: Vec<String>,
}

fn machine(root: &Path, name: &str) -> PathBuf {
    let m = root.join(name);
    std::fs::create_dir_all(m.join("project")).unwrap();
    m
}

fn client(endpoint: &str, token: Option<&str>, hf_home: &Path) -> HubClient {
    HubClient::new(HubEnv {
        endpoint: endpoint.to_string(),
        token: token.map(|t| (Token::new(t).unwrap(), TokenSource::EnvVar)),
        hub_cache: hf_home.join("hub"),
        hf_home: hf_home.to_path_buf(),
        offline: false,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .unwrap()
}

impl Fx {
    fn new() -> Fx {
        Fx::publishing(true)
    }

    /// `signed_governance`: publish with `--governance-key` (else as before this change:
    /// skills signed, governance not).
    fn publishing(signed_governance: bool) -> Fx {
        let hub = TestHub::start();
        let work = TempDir::new().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let corpus = work.path().join("rskills");
        copy_dir(&corpus_dir().join(SLUG), &corpus.join(SLUG));
        let manifest = rskill_manifest::validate::parse_valid(
            &std::fs::read_to_string(corpus.join(SLUG).join("rskill.yaml")).unwrap(),
        )
        .unwrap();
        let ups = rskill_test_support::seed::upstreams(&[manifest]).unwrap();
        let mut orgs: Vec<String> = ups.iter().map(|u| u.repo.org().to_string()).collect();
        orgs.push(ORG.into());
        orgs.sort();
        orgs.dedup();
        let manage = Rights {
            write: true,
            manage: true,
        };
        let token = tokens::create_with(hub.dir.path(), "maria", &orgs, manage).unwrap();
        let writer = tokens::create(hub.dir.path(), "wes", &orgs, true).unwrap();
        let publisher = machine(work.path(), "publisher");
        rt.block_on(rskill_test_support::seed::seed(
            &client(&hub.url(), Some(&token), &publisher.join("seed")),
            &ups,
        ))
        .unwrap();
        let key = publisher.join("key.pem");
        let public_key = publisher.join("key.pub.pem");
        let mut fx = Fx {
            hub,
            token,
            writer,
            work,
            rt,
            key,
            public_key,
            commits: Vec::new(),
        };
        fx.publisher(&[
            "keygen",
            "--out",
            fx.key.to_str().unwrap(),
            "--public",
            fx.public_key.to_str().unwrap(),
        ])
        .ok("keygen");
        for version in ["1.0.0", "1.1.0"] {
            fx.set_version(version);
            let mut args = vec![
                corpus.to_str().unwrap(),
                "--publish",
                "--public",
                "--sign-key",
                fx.key.to_str().unwrap(),
                "--json",
            ];
            if signed_governance {
                args.extend(["--governance-key", fx.key.to_str().unwrap()]);
            }
            let out = fx.publisher(&args).ok("publish");
            assert_eq!(
                out.stdout.contains("released in signed governance state"),
                signed_governance,
                "{out:?}"
            );
            fx.commits.push(fx.tag_commit(&format!("v{version}")));
        }
        let alias = [
            "alias",
            "set",
            SKILL,
            "production",
            "1.1.0",
            "--reason",
            "go",
        ];
        if signed_governance {
            fx.governed(&alias).ok("alias set");
        } else {
            fx.publisher(&alias).ok("alias set");
        }
        fx
    }

    fn set_version(&self, version: &str) {
        let path = self
            .work
            .path()
            .join("rskills")
            .join(SLUG)
            .join("rskill.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("version:") {
                    format!("version: {version}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&path, text + "\n").unwrap();
    }

    fn run(&self, bin: &str, machine_name: &str, args: &[&str], endpoint: &str) -> Run {
        self.run_with(bin, machine_name, args, endpoint, true)
    }

    /// A robot run with extra environment variables (signatures required).
    fn run_env(&self, bin: &str, machine_name: &str, args: &[&str], vars: &[(&str, &str)]) -> Run {
        self.run_full(bin, machine_name, args, &self.hub.url(), true, vars)
    }

    fn run_with(
        &self,
        bin: &str,
        machine_name: &str,
        args: &[&str],
        endpoint: &str,
        require_signed: bool,
    ) -> Run {
        self.run_full(bin, machine_name, args, endpoint, require_signed, &[])
    }

    /// `require_signed`: robots run with `OPENRAL_REQUIRE_SIGNED_SKILLS=1`.
    fn run_full(
        &self,
        bin: &str,
        machine_name: &str,
        args: &[&str],
        endpoint: &str,
        require_signed: bool,
        vars: &[(&str, &str)],
    ) -> Run {
        let m = machine(self.work.path(), machine_name);
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .current_dir(m.join("project"))
            .env("HOME", &m)
            .env("HF_HOME", m.join("hf-home"))
            .env("RSKILL_DATA_DIR", m.join("rskill-data"))
            .env("HF_ENDPOINT", endpoint)
            .env("HF_TOKEN_PATH", "/nonexistent")
            .env("NO_COLOR", "1")
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("HF_HUB_CACHE")
            .env_remove("XDG_DATA_HOME")
            .env_remove("RSKILL_GOVERNANCE_KEY")
            .env_remove("RSKILL_SIGN_KEY")
            .stdin(Stdio::null());
        if bin == PUBLISHER {
            cmd.env("HF_TOKEN", &self.token);
        } else if require_signed {
            cmd.env_remove("HF_TOKEN")
                .env("OPENRAL_REQUIRE_SIGNED_SKILLS", "1");
        } else {
            cmd.env_remove("HF_TOKEN")
                .env_remove("OPENRAL_REQUIRE_SIGNED_SKILLS");
        }
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("the binary runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn publisher(&self, args: &[&str]) -> Run {
        self.run(PUBLISHER, "publisher", args, &self.hub.url())
    }

    /// A governance change signed with the publisher's key.
    fn governed(&self, args: &[&str]) -> Run {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--governance-key", self.key.to_str().unwrap()]);
        self.publisher(&all)
    }

    /// A robot that trusts the key for skills and governance (signatures required).
    fn robot(&self, name: &str, args: &[&str]) -> Run {
        self.robot_at(name, args, &self.hub.url())
    }

    fn robot_at(&self, name: &str, args: &[&str], endpoint: &str) -> Run {
        let trust = self.work.path().join(name).join("rskill-data/trust.json");
        if !trust.exists() {
            self.run(
                RSKILL,
                name,
                &[
                    "trust",
                    "add",
                    ORG,
                    "--key",
                    self.public_key.to_str().unwrap(),
                    "--role",
                    "skills,governance",
                ],
                endpoint,
            )
            .ok("trust add");
        }
        self.run(RSKILL, name, args, endpoint)
    }

    /// A robot that trusts the key for skills only: governance unsigned to it.
    fn skills_only_robot(&self, name: &str, args: &[&str]) -> Run {
        let trust = self.work.path().join(name).join("rskill-data/trust.json");
        if !trust.exists() {
            self.run(
                RSKILL,
                name,
                &[
                    "trust",
                    "add",
                    ORG,
                    "--key",
                    self.public_key.to_str().unwrap(),
                ],
                &self.hub.url(),
            )
            .ok("trust add");
        }
        self.run(RSKILL, name, args, &self.hub.url())
    }

    fn attacker(&self) -> HubClient {
        client(
            &self.hub.url(),
            Some(&self.token),
            &self.work.path().join("attacker"),
        )
    }

    /// A raw request with the attacker's token; returns the status.
    fn raw(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> u16 {
        self.raw_as(&self.token, method, path, body)
    }

    fn raw_as(&self, token: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> u16 {
        let url = format!("{}{path}", self.hub.url());
        self.rt.block_on(async {
            let mut req = reqwest::Client::new()
                .request(method, url)
                .bearer_auth(token);
            if let Some(b) = body {
                req = req.json(&b);
            }
            req.send().await.unwrap().status().as_u16()
        })
    }

    fn delete_tag(&self, tag: &str) {
        let status = self.raw(
            reqwest::Method::DELETE,
            &format!("/api/models/{SKILL}/tag/{tag}"),
            None,
        );
        assert_eq!(status, 200, "delete tag {tag}");
    }

    fn delete_repo(&self) {
        let (org, name) = SKILL.split_once('/').unwrap();
        let status = self.raw(
            reqwest::Method::DELETE,
            "/api/repos/delete",
            Some(serde_json::json!({"name": name, "organization": org, "type": "model"})),
        );
        assert_eq!(status, 200, "delete repo");
    }

    fn tag_commit(&self, tag: &str) -> String {
        let repo: RepoId = SKILL.parse().unwrap();
        let refs = self.rt.block_on(self.attacker().refs(&repo)).unwrap();
        refs.tag(tag).unwrap().to_string()
    }

    fn install(&self, robot: &str, rev: &str) -> Run {
        let id = format!("{SKILL}{rev}");
        self.robot(robot, &["install", &id, "--no-smoke", "--yes", "--json"])
    }
}

#[test]
fn a_moved_release_tag_and_a_recalled_commit_tagged_anew_are_refused() {
    let fx = Fx::new();
    // The robot installs production (1.1.0) and remembers the signed state.
    let first = fx.install("robot", "@production").ok("install production");
    assert_eq!(first.json()["version"], "1.1.0", "{first:?}");
    let repo: RepoId = SKILL.parse().unwrap();
    let attacker = fx.attacker();
    // Attack 1: v1.1.0 deleted and re-created on 1.0.0's commit. rskill-hub refuses it
    // to a write token; a Hub without a manage right would not.
    let tag_path = format!("/api/models/{SKILL}/tag/v1.1.0");
    assert_eq!(
        fx.raw_as(&fx.writer, reqwest::Method::DELETE, &tag_path, None),
        403
    );
    fx.delete_tag("v1.1.0");
    fx.rt.block_on(async {
        attacker
            .create_tag(&repo, "v1.1.0", &fx.commits[0], "moved")
            .await
            .unwrap();
    });
    fx.install("robot", "@production")
        .refused("moved tag", "the tag was moved");
    // A new robot that verifies governance refuses it too (no memory needed).
    fx.install("fresh", "@production")
        .refused("moved tag, fresh robot", "the tag was moved");
    // A robot that does not verify governance still refuses: the manifest at that
    // commit says 1.0.0.
    fx.skills_only_robot(
        "unsigned-gov",
        &["install", &format!("{SKILL}@1.1.0"), "--no-smoke", "--yes"],
    )
    .refused("moved tag, governance not verified", "the manifest at");
    // `rskill audit` on the robot that installed 1.1.0 reports it.
    let audit = fx.robot("robot", &["audit", "--json"]);
    assert_eq!(audit.code, 1, "{audit:?}");
    assert!(audit.stdout.contains("the tag was moved"), "{audit:?}");

    // Offline, the robot still knows its last read was refused.
    let offline = fx.run_env(
        RSKILL,
        "robot",
        &["audit", "--json"],
        &[("HF_HUB_OFFLINE", "1")],
    );
    assert_eq!(offline.code, 1, "{offline:?}");
    assert!(offline.stdout.contains("was refused"), "{offline:?}");
    assert!(offline.stdout.contains("the tag was moved"), "{offline:?}");
    fx.run_env(
        RSKILL,
        "robot",
        &[
            "install",
            &format!("{SKILL}@production"),
            "--no-smoke",
            "--yes",
        ],
        &[("HF_HUB_OFFLINE", "1")],
    )
    .refused("offline after a refusal", "was refused");

    // The tag put back; the manager deletes 1.1.0; the attacker tags the recalled
    // commit as 1.1.1.
    fx.delete_tag("v1.1.0");
    fx.rt.block_on(async {
        attacker
            .create_tag(&repo, "v1.1.0", &fx.commits[1], "back")
            .await
            .unwrap();
    });
    fx.governed(&[
        "status",
        &format!("{SKILL}@1.1.0"),
        "deprecated",
        "--reason",
        "drops cubes",
    ])
    .ok("deprecate 1.1.0");
    fx.governed(&[
        "status",
        &format!("{SKILL}@1.1.0"),
        "deleted",
        "--reason",
        "drops cubes",
    ])
    .ok("delete 1.1.0");
    fx.rt.block_on(async {
        attacker
            .create_tag(&repo, "v1.1.1", &fx.commits[1], "recalled, renamed")
            .await
            .unwrap();
    });
    // A plain install resolves `latest` among signed releases: 1.0.0, not the recalled one.
    let plain = fx.install("robot2", "").ok("plain install");
    assert_eq!(plain.json()["version"], "1.0.0", "{plain:?}");
    assert!(plain.stderr.contains("v1.1.1 is not released"), "{plain:?}");
    fx.install("robot2", "@1.1.1")
        .refused("the recalled commit by its new tag", "1.1.1");
    fx.skills_only_robot(
        "unsigned-gov2",
        &["install", &format!("{SKILL}@1.1.1"), "--no-smoke", "--yes"],
    )
    .refused(
        "the recalled commit, governance not verified",
        "the manifest at",
    );
    // The signer does not release it either.
    let refresh = fx.governed(&["governance", "refresh", SKILL]).ok("refresh");
    assert!(
        refresh.stderr.contains("tag v1.1.1") && refresh.stderr.contains("is not released"),
        "{refresh:?}"
    );
}

#[test]
fn a_repo_deleted_and_recreated_without_its_history_is_refused() {
    let fx = Fx::new();
    fx.governed(&[
        "status",
        &format!("{SKILL}@1.1.0"),
        "deprecated",
        "--reason",
        "drift",
    ])
    .ok("deprecate");
    fx.governed(&[
        "status",
        &format!("{SKILL}@1.1.0"),
        "deleted",
        "--reason",
        "recalled",
    ])
    .ok("delete");
    fx.install("robot", "@1.0.0").ok("install 1.0.0");
    // Re-created from the signed files of 1.1.0, without the registry or its signature.
    let repo: RepoId = SKILL.parse().unwrap();
    let attacker = fx.attacker();
    let files = fx.rt.block_on(async {
        let at = attacker
            .repo_info(&repo, Some(&fx.commits[1]))
            .await
            .unwrap();
        let mut files = Vec::new();
        for s in &at.siblings {
            let path = s.rfilename.to_string();
            let bytes = attacker
                .read_file_cached(&repo, &at.sha, &s.rfilename)
                .await
                .unwrap();
            files.push(rskill_hub_client::write::UploadFile {
                path_in_repo: path,
                content: bytes.into(),
            });
        }
        files
    });
    let (org, name) = SKILL.split_once('/').unwrap();
    assert_eq!(
        fx.raw_as(
            &fx.writer,
            reqwest::Method::DELETE,
            "/api/repos/delete",
            Some(serde_json::json!({"name": name, "organization": org, "type": "model"})),
        ),
        403,
        "rskill-hub keeps a governed repo from a write token"
    );
    fx.delete_repo();
    fx.rt.block_on(async {
        attacker.create_repo(&repo, false).await.unwrap();
        let c = attacker
            .commit(&repo, files, Vec::new(), "re-created", None)
            .await
            .unwrap();
        attacker.create_tag(&repo, "v1.1.0", &c, "v").await.unwrap();
    });
    // What was re-created carries the registry file and signed state of the time
    // 1.1.0 was published (1.0.0 released, no events): genuine, and older.
    let r = fx.install("robot", "");
    r.refused("re-created repo", "lost events: 4 seen before, 0 now");
    fx.robot("robot", &["history", SKILL])
        .refused("history of the re-created repo", "lost events");
    let audit = fx.robot("robot", &["audit", "--json"]);
    assert_eq!(audit.code, 1, "{audit:?}");
    assert!(audit.stdout.contains("lost events"), "{audit:?}");
    // A new robot cannot know what it never saw, but still installs only what the
    // old signed state released: 1.0.0, never the recalled 1.1.0.
    let fresh = fx.install("fresh", "").ok("fresh robot");
    assert_eq!(fresh.json()["version"], "1.0.0", "{fresh:?}");
    fx.install("fresh", "@1.1.0").refused(
        "recalled version, fresh robot",
        "not released in the signed governance state",
    );
    // Without even the file, the history is gone: refused by name.
    fx.rt.block_on(async {
        attacker
            .commit(
                &repo,
                Vec::new(),
                vec![
                    rskill_hub_protocol::REGISTRY_FILE.to_string(),
                    "rskill.registry.sig".to_string(),
                ],
                "no history",
                None,
            )
            .await
            .unwrap();
    });
    fx.install("robot", "")
        .refused("registry file removed", "history vanished");
    fx.install("fresh", "").refused(
        "registry file removed, fresh robot",
        "governance state is unsigned",
    );
}

#[test]
fn a_replayed_main_and_refs_are_refused_by_a_robot_that_saw_newer() {
    let fx = Fx::new();
    let proxy = RecordingProxy::start(&fx.hub.url());
    // The robot reads through the proxy, which keeps every answer of that moment.
    proxy.capture();
    fx.robot_at(
        "robot",
        &[
            "install",
            &format!("{SKILL}@production"),
            "--no-smoke",
            "--yes",
        ],
        &proxy.url(),
    )
    .ok("install through the proxy");
    proxy.forward();
    // The manager deletes 1.1.0 (production goes with it); the robot sees it.
    fx.governed(&[
        "status",
        &format!("{SKILL}@1.1.0"),
        "deprecated",
        "--reason",
        "drift",
    ])
    .ok("deprecate");
    fx.governed(&[
        "status",
        &format!("{SKILL}@1.1.0"),
        "deleted",
        "--reason",
        "recalled",
    ])
    .ok("delete");
    fx.robot_at("robot", &["info", SKILL, "--json"], &proxy.url())
        .ok("info after the deletion");
    // Now the proxy replays the old answers: refs, main, files, every one once true.
    proxy.replay();
    let r = fx.robot_at(
        "robot",
        &[
            "install",
            &format!("{SKILL}@production"),
            "--no-smoke",
            "--yes",
        ],
        &proxy.url(),
    );
    r.refused("replayed state", "lost events: 4 seen before");
    let audit = fx.robot_at("robot", &["audit", "--json"], &proxy.url());
    assert_eq!(audit.code, 1, "{audit:?}");

    // A replay that keeps the history but goes back one signed version (a refresh
    // since): the version rule alone catches it.
    proxy.forward();
    proxy.capture();
    fx.robot_at("robot2", &["info", SKILL, "--json"], &proxy.url())
        .ok("info before the refresh");
    proxy.forward();
    fx.governed(&["governance", "refresh", SKILL]).ok("refresh");
    fx.robot_at("robot2", &["info", SKILL, "--json"], &proxy.url())
        .ok("info after the refresh");
    proxy.replay();
    fx.robot_at("robot2", &["info", SKILL, "--json"], &proxy.url())
        .refused("an older signed version", "a rollback");
}

#[test]
fn a_rewritten_scan_record_or_an_edited_registry_is_refused() {
    let fx = Fx::new();
    // A robot that trusts the key in `warn` mode reads the signed state once.
    let warn = |args: &[&str]| fx.run_with(RSKILL, "warn-robot", args, &fx.hub.url(), false);
    warn(&[
        "trust",
        "add",
        ORG,
        "--key",
        fx.public_key.to_str().unwrap(),
        "--role",
        "governance",
        "--mode",
        "warn",
    ])
    .ok("trust (warn)");
    warn(&["info", SKILL, "--json"]).ok("info, signed");
    // The registry file changed without the key (a write token on a plain Hub): the
    // signature no longer vouches for it.
    let repo: RepoId = SKILL.parse().unwrap();
    let attacker = fx.attacker();
    fx.rt.block_on(async {
        let info = attacker.repo_info(&repo, None).await.unwrap();
        let path: rskill_hub_protocol::ids::RepoPath =
            rskill_hub_protocol::REGISTRY_FILE.parse().unwrap();
        let bytes = attacker
            .read_file_cached(&repo, &info.sha, &path)
            .await
            .unwrap();
        // A well-formed change, as rskill itself would write it: only the signature
        // tells it apart.
        let mut registry = rskill::lifecycle::Registry::parse(&bytes).unwrap();
        let tagged = ["1.0.0", "1.1.0"]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect();
        registry
            .set_alias(
                "production",
                &"1.0.0".parse().unwrap(),
                &tagged,
                &rskill::lifecycle::model::Change {
                    who: "maria",
                    when: "2026-12-08T00:00:00Z",
                    why: "looks legit",
                },
            )
            .unwrap();
        attacker
            .commit(
                &repo,
                vec![rskill_hub_client::write::UploadFile {
                    path_in_repo: rskill_hub_protocol::REGISTRY_FILE.into(),
                    content: registry.to_bytes().into(),
                }],
                Vec::new(),
                "edit",
                None,
            )
            .await
            .unwrap();
    });
    fx.install("robot", "@production")
        .refused("edited registry", "changed without signing");
    // The signature deleted too: a robot that requires signed governance refuses the
    // unsigned state; one that only warns (it trusts the key in `warn` mode) still
    // remembers that it was signed.
    fx.rt.block_on(async {
        attacker
            .commit(
                &repo,
                Vec::new(),
                vec!["rskill.registry.sig".to_string()],
                "unsigned now",
                None,
            )
            .await
            .unwrap();
    });
    fx.install("robot", "@production")
        .refused("signature removed", "governance state is unsigned");
    warn(&["info", SKILL, "--json"]).refused(
        "signature removed, warn robot",
        "the governance state was signed (version",
    );
}

#[test]
fn the_signed_state_expires_and_a_refresh_renews_it() {
    let fx = Fx::new();
    fx.governed(&["governance", "refresh", SKILL, "--valid-for", "1s"])
        .ok("a short-lived state");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    fx.install("robot", "@production")
        .refused("expired", "expired at");
    let r = fx
        .robot(
            "robot",
            &[
                "install",
                &format!("{SKILL}@production"),
                "--no-smoke",
                "--yes",
                "--allow-expired",
                "uplink down",
            ],
        )
        .ok("allowed with a reason");
    assert!(r.stderr.contains("uplink down"), "{r:?}");
    let audit = fx.robot("robot", &["audit", "--json"]);
    assert_eq!(audit.code, 1, "{audit:?}");
    assert!(audit.stdout.contains("expired"), "{audit:?}");
    fx.governed(&["governance", "refresh", SKILL]).ok("refresh");
    fx.install("robot", "@production").ok("after the refresh");
    // A change without the key cannot leave the signed state behind.
    fx.publisher(&["alias", "set", SKILL, "staging", "1.0.0", "--reason", "x"])
        .refused("unsigned change of a signed skill", "--governance-key");
}

#[test]
fn a_skill_published_before_signed_governance_keeps_installing_with_a_warning() {
    let fx = Fx::publishing(false);
    // A robot that trusts the key for skills: installs, and says governance is unsigned.
    let r = fx
        .skills_only_robot(
            "robot",
            &[
                "install",
                &format!("{SKILL}@production"),
                "--no-smoke",
                "--yes",
                "--json",
            ],
        )
        .ok("unsigned governance, skills key");
    assert_eq!(r.json()["version"], "1.1.0", "{r:?}");
    assert!(
        r.stderr
            .contains("its governance (release tags, statuses, aliases) is unsigned"),
        "{r:?}"
    );
    // One that trusts it for governance too, and requires it, refuses until the
    // publisher signs; then installs.
    fx.install("strict", "@production").refused(
        "unsigned governance, governance key required",
        "governance state is unsigned",
    );
    // The publisher's machine requires signed governance too: its first signing
    // still reads the unsigned state it replaces.
    fx.run(
        RSKILL,
        "publisher",
        &[
            "trust",
            "add",
            ORG,
            "--key",
            fx.public_key.to_str().unwrap(),
            "--role",
            "governance",
        ],
        &fx.hub.url(),
    )
    .ok("trust on the publisher's machine");
    let refresh = fx
        .governed(&["governance", "refresh", SKILL, "--json"])
        .ok("first signing");
    let v = refresh.json();
    assert_eq!(v["governance"]["version"], 1, "{refresh:?}");
    assert_eq!(
        v["governance"]["releases"],
        serde_json::json!({"1.0.0": fx.commits[0], "1.1.0": fx.commits[1]}),
        "{refresh:?}"
    );
    let ok = fx
        .install("strict", "@production")
        .ok("after the first signing");
    assert_eq!(ok.json()["version"], "1.1.0", "{ok:?}");
}

#[test]
fn verifying_signed_governance_costs_one_request_cold_and_none_warm() {
    use rskill::lifecycle::signed::GovernancePolicy;
    use rskill::lifecycle::{Seen, resolve};
    use rskill::trust::{Mode, Policy, Role, TrustFile};
    use rskill_hub::RouteLabel;
    let fx = Fx::new();
    let key = rskill_signing::PublicKey::read(&fx.public_key).unwrap();
    let repo: RepoId = SKILL.parse().unwrap();
    let mut figures = Vec::new();
    for (label, roles) in [
        ("governance not verified", vec![Role::Skills]),
        ("governance verified", vec![Role::Skills, Role::Governance]),
    ] {
        let mut trust = TrustFile::default();
        trust.add(ORG, &key, None, Mode::Require, &roles.into_iter().collect());
        let seen =
            Seen::at(fx.work.path().join(label).join("seen")).with_policy(GovernancePolicy {
                trust: Policy::from_files(&[trust], false),
                allow_expired: None,
            });
        let c = client(&fx.hub.url(), None, &fx.work.path().join(label).join("hf"));
        for round in ["cold", "warm", "warm"] {
            fx.hub.handle().reset_counts();
            let started = std::time::Instant::now();
            let r = fx
                .rt
                .block_on(resolve::resolve(&c, &seen, &repo, Some("production")))
                .unwrap();
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            assert_eq!(r.revision, fx.commits[1]);
            let h = fx.hub.handle();
            let counts = (
                h.route_count(RouteLabel::Refs),
                h.route_count(RouteLabel::Info),
                h.route_count(RouteLabel::Resolve),
            );
            // refs + repo info at main; the registry file and its signature once per
            // main commit (read through the per-commit cache), whether or not a key is
            // trusted to verify it.
            let want = if round == "cold" {
                (1, 1, 2)
            } else {
                (1, 1, 0)
            };
            assert_eq!(counts, want, "{label}, {round}");
            assert_eq!(h.request_count(), counts.0 + counts.1 + counts.2);
            figures.push(format!(
                "{label}, {round}: {} requests, {ms:.1} ms",
                h.request_count()
            ));
        }
    }
    eprintln!(
        "resolving @production with a signed state:\n  {}",
        figures.join("\n  ")
    );
}

#[test]
fn a_trust_policy_that_cannot_be_read_is_an_error_never_an_empty_policy() {
    let fx = Fx::new();
    fx.install("robot", "@production").ok("install");
    let trust = fx.work.path().join("robot/rskill-data/trust.json");
    std::fs::write(&trust, b"{ not json").unwrap();
    for args in [
        vec!["history", SKILL],
        vec!["audit", "--json"],
        vec!["info", SKILL],
    ] {
        let r = fx.robot("robot", &args);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        assert!(r.stderr.contains("trust.json"), "{args:?}: {r:?}");
    }
}
