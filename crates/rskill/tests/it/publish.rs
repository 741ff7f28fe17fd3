//! The publisher and the drift check against an in-process `rskill-hub`, through the
//! library (`rskill::publish`, `rskill::drift`) and the binaries (`rskill-publisher`,
//! `rskill drift`): dry run, refusals before any network call, the whole corpus,
//! no-op republish, immutable versions, the public flip and its license rule,
//! visibility re-checks, the size limit, concurrent failures, token errors,
//! `--bump-revision`, drift (in sync, drifted, not published, skipped) and collections.
//!
//! Each test runs its own server on a temporary data directory with three tokens of
//! its own (write and read-only for `rskill-project`, write for `other`) and works on
//! copies of the corpus skills it needs: `rskills/` is never modified.

use rskill_test_support::paths::corpus_dir;
use std::ffi::OsStr;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Command;

use rskill::drift::{self, DriftStatus};
use rskill::publish::{self, Outcome, Plan, PublishOptions, PublishStatus};
use rskill_hub::{self, RouteLabel};
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubEnv, HubError, RepoId, Token, TokenSource};
use rskill_test_support::test_hub::{TestHub, noise, sha256_hex};
use serde_json::Value;
use tempfile::TempDir;

const ORG: &str = "rskill-project";
const PUBLISHER: &str = env!("CARGO_BIN_EXE_rskill-publisher");
const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");
/// The corpus has 21 skills.
const CORPUS_SIZE: usize = 21;

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A library client for `endpoint`, configured explicitly (nothing read from the
/// process environment).
fn client_for(endpoint: &str, token: Option<&str>, home: &Path, offline: bool) -> HubClient {
    let hf_home = home.join("hf-lib");
    HubClient::new(HubEnv {
        endpoint: endpoint.to_string(),
        token: token.map(|t| (Token::new(t).expect("token"), TokenSource::EnvVar)),
        hub_cache: hf_home.join("hub"),
        hf_home,
        offline,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .expect("client")
}

/// What a binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
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

/// Runs `bin` against `endpoint` with a private HF_HOME, HF_TOKEN only when given and
/// HF_TOKEN_PATH pointing at a file that does not exist, so no login on this machine
/// leaks in.
fn run_bin<S: AsRef<OsStr>>(
    bin: &str,
    endpoint: &str,
    home: &Path,
    token: Option<&str>,
    env: &[(&str, &str)],
    args: &[S],
) -> Run {
    let mut cmd = Command::new(bin);
    for var in [
        "HF_TOKEN",
        "HF_HUB_OFFLINE",
        "HF_HUB_CACHE",
        "HF_ENDPOINT",
        "XDG_CACHE_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home.join("hf-bin"))
        .env("HF_TOKEN_PATH", home.join("no-such-token-file"))
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env("NO_COLOR", "1");
    if let Some(t) = token {
        cmd.env("HF_TOKEN", t);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).output().expect("binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A server with tokens for `rskill-project`, and a scratch directory for skill copies
/// and HF_HOME.
struct Fixture {
    hub: TestHub,
    /// User `publisher`, member of `rskill-project`, write rights.
    write: String,
    /// User `reader`, member of `rskill-project`, read-only.
    read: String,
    /// User `carol`, member of `other`, write rights there only.
    other: String,
    work: TempDir,
}

impl Fixture {
    fn new() -> Self {
        let hub = TestHub::start();
        let write =
            rskill_hub::tokens::create(hub.dir.path(), "publisher", &[ORG.into()], true).unwrap();
        let read =
            rskill_hub::tokens::create(hub.dir.path(), "reader", &[ORG.into()], false).unwrap();
        let other = hub.carol.clone();
        Fixture {
            hub,
            write,
            read,
            other,
            work: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn url(&self) -> String {
        self.hub.url()
    }

    fn requests(&self) -> u64 {
        self.hub.handle().request_count()
    }

    fn count(&self, label: RouteLabel) -> u64 {
        self.hub.handle().route_count(label)
    }

    fn client(&self, token: Option<&str>) -> HubClient {
        client_for(&self.url(), token, self.work.path(), false)
    }

    fn writer(&self) -> HubClient {
        self.client(Some(&self.write))
    }

    /// Copies `rskills/<slug>` to the scratch directory and returns the copy.
    fn copy(&self, slug: &str) -> PathBuf {
        let dest = self.work.path().join("skills").join(slug);
        copy_tree(&corpus_dir().join(slug), &dest);
        dest
    }

    /// Copies the whole corpus and returns the copy.
    fn copy_corpus(&self) -> PathBuf {
        let dest = self.work.path().join("corpus");
        copy_tree(&corpus_dir(), &dest);
        dest
    }

    fn publisher<S: AsRef<OsStr>>(&self, token: Option<&str>, args: &[S]) -> Run {
        run_bin(PUBLISHER, &self.url(), self.work.path(), token, &[], args)
    }

    fn rskill<S: AsRef<OsStr>>(
        &self,
        token: Option<&str>,
        env: &[(&str, &str)],
        args: &[S],
    ) -> Run {
        run_bin(RSKILL, &self.url(), self.work.path(), token, env, args)
    }

    /// Publishes `dirs` through the library with the write token.
    fn publish(&self, dirs: &[&Path], opts: &PublishOptions) -> Vec<Outcome> {
        block_on(publish::publish_all(
            &self.writer(),
            plans(dirs, opts),
            opts,
        ))
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Relative paths of every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &rel, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

fn plans(dirs: &[&Path], opts: &PublishOptions) -> Vec<Plan> {
    let paths: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    rskill_manifest::corpus::discover_all(&paths)
        .expect("skills found")
        .iter()
        .map(|m| publish::plan(m, opts))
        .collect()
}

fn plan_of(dir: &Path, opts: &PublishOptions) -> Plan {
    publish::plan(&dir.join("rskill.yaml"), opts)
}

fn repo_of(dir: &Path) -> RepoId {
    plan_of(dir, &PublishOptions::default())
        .repo
        .expect("the manifest names a repo")
}

/// Replaces exactly one occurrence of `from` in the file.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{from:?} appears once in {}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn is_commit_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn public() -> PublishOptions {
    PublishOptions {
        public: true,
        ..PublishOptions::default()
    }
}

/// The one outcome of a one-skill publish.
fn single(mut outcomes: Vec<Outcome>) -> Outcome {
    assert_eq!(outcomes.len(), 1, "{outcomes:?}");
    outcomes.remove(0)
}

/// The one skill of a `--json` publish summary.
fn single_json(run: &Run) -> Value {
    let v = run.json();
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{run:?}");
    v[0].clone()
}

#[test]
fn dry_run_reports_files_tags_and_blockers_and_sends_nothing() {
    let fx = Fixture::new();
    let ready = fx.copy("diffusion-pusht");
    let mut expected_files = files_under(&ready);
    // Secrets, caches and OS litter are never uploaded; other files are.
    for litter in [
        ".env",
        ".env.local",
        "deploy.key",
        "tls.pem",
        "stray.pyc",
        ".DS_Store",
        "__pycache__/helper.cpython-312.pyc",
    ] {
        let p = ready.join(litter);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "HF_TOKEN=hf_do_not_ship\n").unwrap();
    }
    std::fs::create_dir_all(ready.join("scripts")).unwrap();
    std::fs::write(ready.join("scripts/rollout.py"), "print('rollout')\n").unwrap();
    expected_files.push("scripts/rollout.py".into());
    expected_files.sort();
    let expected_excluded = [
        ".DS_Store",
        ".env",
        ".env.local",
        "__pycache__",
        "deploy.key",
        "stray.pyc",
        "tls.pem",
    ];
    // A card whose reserved tags drifted from the manifest.
    let drifted = fx.copy("smolvla-so101-sort-blocks");
    edit(
        &drifted.join("README.md"),
        "- rskill-kind:vla\n",
        "- rskill-kind:wam\n",
    );
    let before = fx.requests();

    // Library.
    let p = plan_of(&ready, &PublishOptions::default());
    assert!(p.can_publish(), "{:?}", p.blockers);
    assert!(p.report.findings.is_empty());
    assert!(p.tag_diff.is_none());
    let names: Vec<&str> = p
        .selection
        .files
        .iter()
        .map(|f| f.path_in_repo.as_str())
        .collect();
    assert_eq!(names, expected_files);
    for f in &p.selection.files {
        let bytes = std::fs::read(ready.join(&f.path_in_repo)).unwrap();
        assert_eq!(f.sha256, sha256_hex(&bytes), "{}", f.path_in_repo);
        assert_eq!(f.size, bytes.len() as u64);
    }
    let mut excluded: Vec<&str> = p
        .selection
        .excluded
        .iter()
        .map(|e| e.path.as_str())
        .collect();
    excluded.sort();
    assert_eq!(excluded, expected_excluded);
    let q = plan_of(&drifted, &PublishOptions::default());
    assert!(!q.can_publish());
    let diff = q.tag_diff.as_ref().expect("tag diff");
    assert!(diff.current.iter().any(|t| t == "rskill-kind:wam"));
    assert!(diff.expected.iter().any(|t| t == "rskill-kind:vla"));
    assert!(!diff.expected.iter().any(|t| t == "rskill-kind:wam"));
    assert!(
        q.blockers.iter().any(|b| b.contains("rskill tags --write")),
        "{:?}",
        q.blockers
    );

    // Binary, text: exit 1 because one skill is blocked.
    let r = fx.publisher(Some(&fx.write), &[&ready, &drifted]);
    assert_eq!(r.code, 1, "{r:?}");
    for needle in [
        "ready   rskill-project/rskill-diffusion-pusht 1.0.0",
        "blocked rskill-project/rskill-smolvla-so101-sort-blocks 0.4.0",
        "upload scripts/rollout.py",
        "skip   .env ",
        "skip   __pycache__ ",
        "tags now:",
        "tags expected:",
        "rskill tags --write",
    ] {
        assert!(r.stdout.contains(needle), "{needle:?} in {r:?}");
    }
    let uploads: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("    upload "))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    for e in expected_excluded {
        assert!(!uploads.iter().any(|u| u.starts_with(e)), "{e} uploaded?");
    }
    assert!(r.stderr.contains("nothing was sent"), "{r:?}");

    // Binary, JSON: the exact file list and the tag diff.
    let r = fx.publisher(
        Some(&fx.write),
        &[OsStr::new("--json"), ready.as_os_str(), drifted.as_os_str()],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let v = r.json();
    assert_eq!(v[0]["can_publish"], true);
    let listed: Vec<&str> = v[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path_in_repo"].as_str().unwrap())
        .collect();
    assert_eq!(listed, expected_files);
    assert_eq!(
        v[0]["excluded"].as_array().unwrap().len(),
        expected_excluded.len()
    );
    assert_eq!(v[1]["can_publish"], false);
    assert!(
        v[1]["tag_diff"]["current"]
            .as_array()
            .unwrap()
            .contains(&Value::from("rskill-kind:wam"))
    );
    assert!(
        v[1]["tag_diff"]["expected"]
            .as_array()
            .unwrap()
            .contains(&Value::from("rskill-kind:vla"))
    );

    // Nothing blocked: exit 0.
    let r = fx.publisher(Some(&fx.write), &[&ready]);
    assert_eq!(r.code, 0, "{r:?}");

    assert_eq!(fx.requests(), before, "a dry run sends no request");
}

#[test]
fn blocked_skills_are_refused_before_any_request() {
    let fx = Fixture::new();
    let invalid = fx.copy("diffusion-pusht");
    edit(
        &invalid.join("rskill.yaml"),
        "version: 1.0.0",
        "version: one",
    );
    let undocumented = fx.copy("playbook-tidy-table");
    let card = std::fs::read_to_string(undocumented.join("README.md")).unwrap();
    let end = card[3..].find("---\n").unwrap() + 3 + 4;
    std::fs::write(
        undocumented.join("README.md"),
        format!("{}\n# Tidy\n\nShort.\n", &card[..end]),
    )
    .unwrap();
    let drifted = fx.copy("smolvla-so101-sort-blocks");
    edit(
        &drifted.join("README.md"),
        "- rskill-kind:vla\n",
        "- rskill-kind:wam\n",
    );
    let dirs = [invalid.as_path(), undocumented.as_path(), drifted.as_path()];
    let before = fx.requests();

    let outcomes = fx.publish(&dirs, &PublishOptions::default());
    assert_eq!(outcomes.len(), 3);
    for o in &outcomes {
        assert_eq!(o.result, PublishStatus::Failed, "{o:?}");
        assert!(o.message.starts_with("refused: "), "{}", o.message);
        assert_eq!((o.commits, o.uploaded_bytes), (0, 0));
    }
    assert!(
        outcomes[0]
            .message
            .contains("validation / documentation problem(s)")
    );
    assert!(
        outcomes[1]
            .message
            .contains("validation / documentation problem(s)")
    );
    assert!(outcomes[2].message.contains("run `rskill tags --write"));

    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            invalid.as_os_str(),
            undocumented.as_os_str(),
            drifted.as_os_str(),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(r.stdout.matches("FAILED").count(), 3, "{r:?}");
    assert_eq!(r.stderr.matches(": refused: ").count(), 3, "{r:?}");
    assert!(r.stderr.contains("rskill tags --write"), "{r:?}");

    assert_eq!(fx.requests(), before, "refused before any network call");
}

#[test]
fn whole_corpus_publishes_private_tagged_and_verified_and_a_republish_is_a_no_op() {
    let fx = Fixture::new();
    let corpus = fx.copy_corpus();
    let opts = PublishOptions::default();
    let plans = plans(&[&corpus], &opts);
    assert_eq!(plans.len(), CORPUS_SIZE);
    assert!(plans.iter().all(Plan::can_publish));
    let client = fx.writer();
    let outcomes = block_on(publish::publish_all(&client, plans.clone(), &opts));
    assert_eq!(outcomes.len(), CORPUS_SIZE);
    assert_eq!(fx.count(RouteLabel::Commit), CORPUS_SIZE as u64);

    let anonymous = fx.client(None);
    let mut commits = Vec::new();
    block_on(async {
        for (plan, o) in plans.iter().zip(&outcomes) {
            let repo = plan.repo.as_ref().unwrap();
            let version = &plan.manifest().unwrap().version;
            assert_eq!(o.skill, repo.as_str(), "outcomes come in input order");
            assert_eq!(o.result, PublishStatus::Published, "{o:?}");
            assert_eq!(o.visibility, Some("private"));
            assert_eq!(o.commits, 1);
            let size: u64 = plan.selection.files.iter().map(|f| f.size).sum();
            assert_eq!(o.uploaded_bytes, size);
            let commit = o.commit.clone().unwrap();
            assert!(is_commit_sha(&commit), "{commit}");
            let refs = client.refs(repo).await.unwrap();
            assert_eq!(refs.tag(&format!("v{version}")), Some(commit.as_str()));
            let info = client.repo_info(repo, None).await.unwrap();
            assert!(info.private);
            assert_eq!(info.sha, commit);
            let mut remote: Vec<&str> = info
                .siblings
                .iter()
                .map(|s| s.rfilename.as_str())
                .filter(|n| *n != ".gitattributes")
                .collect();
            remote.sort();
            assert_eq!(remote, files_under(&plan.dir));
            for f in &plan.selection.files {
                let published = client
                    .read_file(repo, &commit, &f.path_in_repo)
                    .await
                    .unwrap();
                let local = std::fs::read(&f.abs_path).unwrap();
                assert_eq!(sha256_hex(&published), sha256_hex(&local));
            }
            assert!(
                matches!(
                    anonymous.repo_info(repo, None).await,
                    Err(HubError::RepoNotFound { .. })
                ),
                "{repo} is private"
            );
            commits.push(commit);
        }
    });

    // Republish through the binary: nothing changed, so no commit and no byte.
    let (commit_routes, preuploads, tags) = (
        fx.count(RouteLabel::Commit),
        fx.count(RouteLabel::Preupload),
        fx.count(RouteLabel::Tag),
    );
    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--json"),
            corpus.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), CORPUS_SIZE);
    for (row, commit) in v.as_array().unwrap().iter().zip(&commits) {
        assert_eq!(row["result"], "unchanged", "{row}");
        assert_eq!(row["commits"], 0);
        assert_eq!(row["uploaded_bytes"], 0);
        assert_eq!(row["commit"], commit.as_str());
        assert_eq!(row["visibility"], "private");
    }
    // The table says the same.
    let r = fx.publisher(
        Some(&fx.write),
        &[OsStr::new("--publish"), corpus.as_os_str()],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout.matches(" unchanged ").count(),
        CORPUS_SIZE,
        "{r:?}"
    );
    assert!(
        r.stderr.contains(&format!(
            "{CORPUS_SIZE} skill(s): 0 commit(s), 0 bytes uploaded"
        )),
        "{r:?}"
    );
    // And through the library.
    let again = block_on(publish::publish_all(&client, plans, &opts));
    for o in &again {
        assert_eq!(o.result, PublishStatus::Unchanged, "{o:?}");
        assert_eq!((o.commits, o.uploaded_bytes), (0, 0));
        assert!(o.message.contains("no commit"), "{}", o.message);
    }
    assert_eq!(fx.count(RouteLabel::Commit), commit_routes, "no new commit");
    assert_eq!(fx.count(RouteLabel::Preupload), preuploads);
    assert_eq!(fx.count(RouteLabel::Tag), tags, "no new tag");
}

#[test]
fn a_published_version_is_immutable_until_the_version_is_bumped() {
    let fx = Fixture::new();
    let dir = fx.copy("playbook-grasp-retry");
    let repo = repo_of(&dir);
    let first = single(fx.publish(&[&dir], &PublishOptions::default()));
    assert_eq!(first.result, PublishStatus::Published, "{first:?}");
    let c1 = first.commit.unwrap();
    let old_card = std::fs::read(dir.join("README.md")).unwrap();

    let mut card = String::from_utf8(old_card.clone()).unwrap();
    card.push_str("\nThe grasp retry budget was tuned on 40 more trials.\n");
    std::fs::write(dir.join("README.md"), &card).unwrap();
    let commit_routes = fx.count(RouteLabel::Commit);

    let refused = single(fx.publish(&[&dir], &PublishOptions::default()));
    assert_eq!(refused.result, PublishStatus::Failed);
    assert!(
        refused
            .message
            .contains("version 0.2.0 is already published (v0.2.0 at"),
        "{}",
        refused.message
    );
    assert!(refused.message.contains("bump `version` in rskill.yaml"));
    assert_eq!((refused.commits, refused.uploaded_bytes), (0, 0));
    let r = fx.publisher(Some(&fx.write), &[OsStr::new("--publish"), dir.as_os_str()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("FAILED"), "{r:?}");
    assert!(r.stderr.contains("bump `version` in rskill.yaml"), "{r:?}");
    assert_eq!(fx.count(RouteLabel::Commit), commit_routes, "no commit");
    let head = block_on(fx.writer().repo_info(&repo, None)).unwrap().sha;
    assert_eq!(head, c1);

    edit(&dir.join("rskill.yaml"), "version: 0.2.0", "version: 0.2.1");
    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--json"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let row = single_json(&r);
    assert_eq!(row["result"], "published");
    assert_eq!(row["version"], "0.2.1");
    let c2 = row["commit"].as_str().unwrap().to_owned();
    assert_ne!(c2, c1);
    let client = fx.writer();
    let refs = block_on(client.refs(&repo)).unwrap();
    assert_eq!(refs.tag("v0.2.0"), Some(c1.as_str()));
    assert_eq!(refs.tag("v0.2.1"), Some(c2.as_str()));
    assert_eq!(
        block_on(client.read_file(&repo, "v0.2.0", "README.md")).unwrap(),
        old_card
    );
    assert_eq!(
        block_on(client.read_file(&repo, "v0.2.1", "README.md")).unwrap(),
        card.as_bytes()
    );
}

#[test]
fn public_flag_flips_a_verified_repo_public_for_anonymous_readers() {
    let fx = Fixture::new();
    let dir = fx.copy("diffusion-pusht");
    let repo = repo_of(&dir);
    let anonymous = fx.client(None);
    let private = single(fx.publish(&[&dir], &PublishOptions::default()));
    assert_eq!(private.visibility, Some("private"));
    assert!(matches!(
        block_on(anonymous.repo_info(&repo, None)),
        Err(HubError::RepoNotFound { .. })
    ));
    let commit_routes = fx.count(RouteLabel::Commit);

    // Library: same content, now public: a flip, no commit.
    let flipped = single(fx.publish(&[&dir], &public()));
    assert_eq!(flipped.result, PublishStatus::Unchanged, "{flipped:?}");
    assert_eq!(flipped.visibility, Some("public"));
    assert!(
        flipped.message.contains("; made public")
            && flipped.message.ends_with("/rskill-index updated"),
        "{}",
        flipped.message
    );
    assert_eq!(flipped.commits, 0);
    // No commit to the skill; one to its org's catalog index, which now lists it.
    assert_eq!(fx.count(RouteLabel::Commit), commit_routes + 1);
    let info = block_on(anonymous.repo_info(&repo, None)).unwrap();
    assert!(!info.private);
    assert_eq!(
        block_on(anonymous.read_file(&repo, "v1.0.0", "rskill.yaml")).unwrap(),
        std::fs::read(dir.join("rskill.yaml")).unwrap()
    );

    // Binary: a new skill straight to public.
    let other = fx.copy("ros-franka-gripper-grasp");
    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--public"),
            OsStr::new("--json"),
            other.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let row = single_json(&r);
    assert_eq!(row["result"], "published");
    assert_eq!(row["visibility"], "public");
    let info = block_on(anonymous.repo_info(&repo_of(&other), None)).unwrap();
    assert!(!info.private);
    assert_eq!(Some(info.sha.as_str()), row["commit"].as_str());
}

#[test]
fn a_non_commercial_skill_shipping_weights_is_never_made_public() {
    let fx = Fixture::new();
    let dir = fx.copy("cosmos-wam-franka-tabletop");
    std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
    std::fs::write(dir.join("checkpoints/model.safetensors"), noise(4096, 7)).unwrap();
    let repo = repo_of(&dir);
    let plan = plan_of(&dir, &PublishOptions::default());
    assert!(plan.manifest().unwrap().license.is_non_commercial());
    assert!(plan.ships_weights() && plan.can_publish());

    // Private is fine: the weights stay among the org's members.
    let private = single(fx.publish(&[&dir], &PublishOptions::default()));
    assert_eq!(private.result, PublishStatus::Published, "{private:?}");
    assert_eq!(private.visibility, Some("private"));

    let before = fx.requests();
    let plan = plan_of(&dir, &public());
    assert!(!plan.can_publish());
    let refused = single(fx.publish(&[&dir], &public()));
    assert_eq!(refused.result, PublishStatus::Failed);
    assert!(
        refused
            .message
            .contains("license `nvidia_non_commercial` is non-commercial and the skill directory holds weight files"),
        "{}",
        refused.message
    );
    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--public"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("is non-commercial"), "{r:?}");
    assert_eq!(fx.requests(), before, "refused before any network call");

    assert!(
        block_on(fx.writer().repo_info(&repo, None))
            .unwrap()
            .private
    );
    assert!(matches!(
        block_on(fx.client(None).repo_info(&repo, None)),
        Err(HubError::RepoNotFound { .. })
    ));
}

#[test]
fn a_non_commercial_manifest_only_skill_may_be_public() {
    let fx = Fixture::new();
    let dir = fx.copy("rldx-rizon4-peg-insertion");
    let plan = plan_of(&dir, &public());
    assert!(plan.manifest().unwrap().license.is_non_commercial());
    assert!(!plan.ships_weights());
    assert!(plan.can_publish(), "{:?}", plan.blockers);
    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--public"),
            OsStr::new("--json"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let row = single_json(&r);
    assert_eq!(row["result"], "published");
    assert_eq!(row["visibility"], "public");
    let info = block_on(fx.client(None).repo_info(&repo_of(&dir), None)).unwrap();
    assert!(!info.private);
}

#[test]
fn an_existing_public_repo_is_not_updated_by_a_private_publish() {
    let fx = Fixture::new();
    let dir = fx.copy("ros-ur5e-vacuum-io");
    let repo = repo_of(&dir);
    let client = fx.writer();
    block_on(client.create_repo(&repo, false)).unwrap();

    let refused = single(fx.publish(&[&dir], &PublishOptions::default()));
    assert_eq!(refused.result, PublishStatus::Failed);
    assert!(
        refused
            .message
            .contains("is public on the Hub but a private publish was asked"),
        "{}",
        refused.message
    );
    let r = fx.publisher(Some(&fx.write), &[OsStr::new("--publish"), dir.as_os_str()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("pass --public"), "{r:?}");
    assert_eq!(fx.count(RouteLabel::Commit), 0, "nothing uploaded");
    let info = block_on(client.repo_info(&repo, None)).unwrap();
    assert!(
        info.siblings
            .iter()
            .all(|s| s.rfilename == ".gitattributes")
    );

    // Asking for what the repo is goes through.
    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--public"),
            OsStr::new("--json"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(single_json(&r)["visibility"], "public");
    // The skill's commit, and its org's catalog index.
    assert_eq!(fx.count(RouteLabel::Commit), 2);
}

#[test]
fn a_file_over_the_size_limit_blocks_unless_allow_large() {
    let fx = Fixture::new();
    let dir = fx.copy("diffusion-pusht");
    let big = noise(1536 * 1024, 3);
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(dir.join("assets/demo.mp4"), &big).unwrap();
    let limit = PublishOptions {
        max_file_bytes: 1024 * 1024,
        ..PublishOptions::default()
    };
    let plan = plan_of(&dir, &limit);
    assert_eq!(plan.selection.too_large.len(), 1);
    assert_eq!(plan.selection.too_large[0].path, "assets/demo.mp4");
    assert!(
        plan.blockers
            .iter()
            .any(|b| b.contains("over the 1048576-byte limit (use --allow-large)")),
        "{:?}",
        plan.blockers
    );
    let allowed = PublishOptions {
        allow_large: true,
        ..limit.clone()
    };
    assert!(plan_of(&dir, &allowed).can_publish());
    let before = fx.requests();

    let r = fx.publisher(
        None::<&str>,
        &[
            OsStr::new("--max-file-mb"),
            OsStr::new("1"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("blocked: assets/demo.mp4"), "{r:?}");
    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--max-file-mb"),
            OsStr::new("1"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("use --allow-large"), "{r:?}");
    assert_eq!(fx.requests(), before);

    let r = fx.publisher(
        Some(&fx.write),
        &[
            OsStr::new("--publish"),
            OsStr::new("--max-file-mb"),
            OsStr::new("1"),
            OsStr::new("--allow-large"),
            OsStr::new("--json"),
            dir.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let row = single_json(&r);
    assert_eq!(row["result"], "published");
    assert!(row["uploaded_bytes"].as_u64().unwrap() > big.len() as u64);
    let commit = row["commit"].as_str().unwrap();
    let back = block_on(fx.writer().read_file_at_most(
        &repo_of(&dir),
        commit,
        "assets/demo.mp4",
        big.len() as u64,
    ))
    .unwrap();
    assert_eq!(sha256_hex(&back), sha256_hex(&big));
}

#[test]
fn one_failing_skill_does_not_hide_the_others() {
    let fx = Fixture::new();
    let good = [
        fx.copy("diffusion-pusht"),
        fx.copy("playbook-tidy-table"),
        fx.copy("ros-franka-gripper-grasp"),
    ];
    // Fails on the Hub: its repo exists and is public.
    let public_repo = fx.copy("ros-ur5e-vacuum-io");
    block_on(fx.writer().create_repo(&repo_of(&public_repo), false)).unwrap();
    // Fails before the Hub: invalid manifest.
    let invalid = fx.copy("siglip-progress-reward");
    edit(
        &invalid.join("rskill.yaml"),
        "kind: reward",
        "kind: teleport",
    );
    let args: Vec<&OsStr> = [
        OsStr::new("--publish"),
        OsStr::new("--concurrency"),
        OsStr::new("2"),
    ]
    .into_iter()
    .chain([
        good[0].as_os_str(),
        public_repo.as_os_str(),
        good[1].as_os_str(),
        invalid.as_os_str(),
        good[2].as_os_str(),
    ])
    .collect();
    let r = fx.publisher(Some(&fx.write), &args);
    assert_eq!(r.code, 1, "{r:?}");
    // The table's rows, below its header.
    let rows: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with('│'))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 5, "{r:?}");
    for (row, ok) in rows.iter().zip([true, false, true, false, true]) {
        let want = if ok { "published" } else { "FAILED" };
        assert!(row.contains(want), "{row}");
    }
    assert!(
        r.stdout.contains("visibility"),
        "summary table header: {r:?}"
    );
    assert!(r.stderr.contains("is public on the Hub"), "{r:?}");
    assert!(r.stderr.contains("refused:"), "{r:?}");
    assert_eq!(fx.count(RouteLabel::Commit), 3);
    let client = fx.writer();
    for dir in &good {
        let refs = block_on(client.refs(&repo_of(dir))).unwrap();
        let version = plan_of(dir, &PublishOptions::default())
            .manifest()
            .unwrap()
            .version
            .clone();
        assert!(
            refs.tag(&format!("v{version}")).is_some(),
            "{}",
            dir.display()
        );
    }

    // The library keeps input order and the same verdicts.
    let dirs = [
        good[0].as_path(),
        public_repo.as_path(),
        good[1].as_path(),
        invalid.as_path(),
        good[2].as_path(),
    ];
    let opts = PublishOptions {
        concurrency: 2,
        ..PublishOptions::default()
    };
    let outcomes = fx.publish(&dirs, &opts);
    let results: Vec<PublishStatus> = outcomes.iter().map(|o| o.result).collect();
    use PublishStatus::{Failed, Unchanged};
    assert_eq!(results, [Unchanged, Failed, Unchanged, Failed, Unchanged]);
    assert_eq!(outcomes[1].skill, repo_of(&public_repo).as_str());
}

#[test]
fn token_errors_say_missing_invalid_read_only_or_other_org_and_never_print_the_token() {
    let fx = Fixture::new();
    let dir = fx.copy("diffusion-pusht");
    let repo = repo_of(&dir);
    let invalid = "hf_NotARealTokenAtAll0123456789abcd";
    let cases: [(Option<&str>, &str); 4] = [
        (None, "needs a token, and none is set"),
        (Some(invalid), "was rejected by"),
        (Some(&fx.read), "read-only"),
        (Some(&fx.other), "may not write to `rskill-project`"),
    ];
    for (i, (token, expected)) in cases.iter().enumerate() {
        let r = fx.publisher(*token, &[OsStr::new("--publish"), dir.as_os_str()]);
        assert_eq!(r.code, 1, "{r:?}");
        assert!(r.stderr.contains(expected), "{expected:?} in {r:?}");
        for (j, (_, others)) in cases.iter().enumerate() {
            if i != j {
                assert!(!r.all().contains(others), "{others:?} in {r:?}");
            }
        }
        if let Some(t) = token {
            assert!(!r.all().contains(t), "the token leaked: {r:?}");
        }
    }
    assert!(
        fx.publisher(None::<&str>, &[OsStr::new("--publish"), dir.as_os_str()])
            .stderr
            .contains("hint: pass --token, set HF_TOKEN")
    );

    // The library says the same through typed errors.
    for (token, expected) in cases {
        let client = fx.client(token);
        let plans = plans(&[&dir], &PublishOptions::default());
        let o = single(block_on(publish::publish_all(
            &client,
            plans,
            &PublishOptions::default(),
        )));
        assert_eq!(o.result, PublishStatus::Failed);
        let e = o.error.as_deref().expect("a typed error");
        match token {
            None => assert!(matches!(e, HubError::TokenMissing { .. }), "{e:?}"),
            Some(t) if t == invalid => {
                assert!(matches!(e, HubError::TokenInvalid { .. }), "{e:?}")
            }
            Some(_) => assert!(matches!(e, HubError::Forbidden { .. }), "{e:?}"),
        }
        assert!(
            o.message.contains(expected),
            "{expected:?} in {}",
            o.message
        );
        if let Some(t) = token {
            assert!(!o.message.contains(t) && !format!("{e:?}").contains(t));
            assert!(!format!("{:?}", client.env()).contains(t));
        }
    }
    assert!(matches!(
        block_on(fx.writer().repo_info(&repo, None)),
        Err(HubError::RepoNotFound { .. })
    ));
    assert_eq!(fx.count(RouteLabel::Commit), 0);
}

#[test]
fn bump_revision_pins_upstream_uris_and_keeps_the_rest_byte_for_byte() {
    let fx = Fixture::new();
    let client = fx.writer();
    let upstream: RepoId = "rskill-project/smolvla-so101-sort-blocks".parse().unwrap();
    let (tagged, head) = block_on(async {
        client.create_repo(&upstream, true).await.unwrap();
        let file = |p: &str, c: &[u8]| UploadFile {
            path_in_repo: p.into(),
            content: bytes::Bytes::copy_from_slice(c),
        };
        let first = client
            .commit(
                &upstream,
                vec![
                    file("model.safetensors", &noise(2048, 1)),
                    file("policy_preprocessor.json", b"{\"v\":1}"),
                    file("policy_postprocessor.json", b"{\"v\":1}"),
                ],
                vec![],
                "first checkpoint",
                None,
            )
            .await
            .unwrap();
        client
            .create_tag(&upstream, "v1", &first, "v1")
            .await
            .unwrap();
        let second = client
            .commit(
                &upstream,
                vec![file("model.safetensors", &noise(2048, 2))],
                vec![],
                "retrained",
                Some(&first),
            )
            .await
            .unwrap();
        (first, second)
    });
    assert!(is_commit_sha(&tagged) && is_commit_sha(&head) && tagged != head);

    let dir = fx.copy("smolvla-so101-sort-blocks");
    let manifest = dir.join("rskill.yaml");
    edit(
        &manifest,
        "weights_uri: hf://rskill-project/smolvla-so101-sort-blocks\n",
        "# Upstream checkpoint: --bump-revision pins it.\nweights_uri: hf://rskill-project/smolvla-so101-sort-blocks   # tracks main\n",
    );
    edit(
        &manifest,
        "  preprocessor_uri: hf://rskill-project/smolvla-so101-sort-blocks/policy_preprocessor.json",
        "  preprocessor_uri: \"hf://rskill-project/smolvla-so101-sort-blocks/policy_preprocessor.json\"",
    );
    let before = std::fs::read_to_string(&manifest).unwrap();

    // The binary, with a read-only token: resolving needs no write rights.
    let r = fx.publisher(
        Some(&fx.read),
        &[OsStr::new("--bump-revision"), dir.as_os_str()],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains(&format!("@{head}")), "{r:?}");
    let after = std::fs::read_to_string(&manifest).unwrap();
    let (old, new): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    assert_eq!(old.len(), new.len());
    assert!(after.ends_with('\n'));
    let changed: Vec<(&str, &str)> = old
        .iter()
        .zip(&new)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (*a, *b))
        .collect();
    assert_eq!(
        changed,
        vec![
            (
                "weights_uri: hf://rskill-project/smolvla-so101-sort-blocks   # tracks main",
                &*format!(
                    "weights_uri: hf://rskill-project/smolvla-so101-sort-blocks@{head}   # tracks main"
                ),
            ),
            (
                "  preprocessor_uri: \"hf://rskill-project/smolvla-so101-sort-blocks/policy_preprocessor.json\"",
                &*format!(
                    "  preprocessor_uri: \"hf://rskill-project/smolvla-so101-sort-blocks@{head}/policy_preprocessor.json\""
                ),
            ),
            (
                "  postprocessor_uri: hf://rskill-project/smolvla-so101-sort-blocks/policy_postprocessor.json",
                &*format!(
                    "  postprocessor_uri: hf://rskill-project/smolvla-so101-sort-blocks@{head}/policy_postprocessor.json"
                ),
            ),
        ]
    );
    assert!(plan_of(&dir, &PublishOptions::default()).can_publish());
    // Pinned already: a second run changes nothing.
    let reader = fx.client(Some(&fx.read));
    assert!(
        block_on(publish::bump::bump_revisions(&reader, &manifest))
            .unwrap()
            .is_empty()
    );
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), after);

    // A revision name resolves to the commit it points to, not to main.
    let named = fx.work.path().join("named");
    copy_tree(&corpus_dir().join("smolvla-so101-sort-blocks"), &named);
    edit(
        &named.join("rskill.yaml"),
        "weights_uri: hf://rskill-project/smolvla-so101-sort-blocks\n",
        "weights_uri: hf://rskill-project/smolvla-so101-sort-blocks@v1\n",
    );
    let bumps = block_on(publish::bump::bump_revisions(
        &reader,
        &named.join("rskill.yaml"),
    ))
    .unwrap();
    let fields: Vec<(&str, &str)> = bumps
        .iter()
        .map(|b| (b.field.as_str(), b.to.as_str()))
        .collect();
    let weights = format!("hf://rskill-project/smolvla-so101-sort-blocks@{tagged}");
    let pre =
        format!("hf://rskill-project/smolvla-so101-sort-blocks@{head}/policy_preprocessor.json");
    let post =
        format!("hf://rskill-project/smolvla-so101-sort-blocks@{head}/policy_postprocessor.json");
    assert_eq!(
        fields,
        [
            ("weights_uri", weights.as_str()),
            ("processors.preprocessor_uri", pre.as_str()),
            ("processors.postprocessor_uri", post.as_str()),
        ]
    );
    assert_eq!(
        bumps[0].from,
        "hf://rskill-project/smolvla-so101-sort-blocks@v1"
    );

    // An upstream that does not exist is an error, and the manifest is left alone.
    let missing = fx.copy("diffusion-pusht");
    let text = std::fs::read(missing.join("rskill.yaml")).unwrap();
    let r = fx.publisher(
        Some(&fx.read),
        &[OsStr::new("--bump-revision"), missing.as_os_str()],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("lerobot/diffusion_pusht"), "{r:?}");
    assert_eq!(std::fs::read(missing.join("rskill.yaml")).unwrap(), text);
}

#[test]
fn drift_reports_in_sync_drifted_and_not_published() {
    let fx = Fixture::new();
    let a = fx.copy("diffusion-pusht");
    let b = fx.copy("playbook-tidy-table");
    let unpublished = fx.copy("ros-nav2-navigate-to-pose");
    let outcomes = fx.publish(&[&a, &b], &PublishOptions::default());
    assert!(
        outcomes
            .iter()
            .all(|o| o.result == PublishStatus::Published)
    );

    // Reading private twins needs only a read token.
    let r = fx.rskill(
        Some(&fx.read),
        &[],
        &[
            OsStr::new("drift"),
            a.as_os_str(),
            b.as_os_str(),
            unpublished.as_os_str(),
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("in-sync       rskill-project/rskill-diffusion-pusht"),
        "{r:?}"
    );
    assert!(
        lines[1].starts_with("in-sync       rskill-project/rskill-playbook-tidy-table"),
        "{r:?}"
    );
    assert!(
        lines[2].starts_with("not-published rskill-project/rskill-ros-nav2-navigate-to-pose"),
        "{r:?}"
    );

    // A comment is not drift; a field is.
    edit(
        &b.join("rskill.yaml"),
        "chunk_size: 1\n",
        "chunk_size: 1 # one step\n",
    );
    edit(
        &a.join("rskill.yaml"),
        "chunk_size: 16\n",
        "chunk_size: 8\n",
    );
    let r = fx.rskill(
        Some(&fx.read),
        &[],
        &[OsStr::new("drift"), a.as_os_str(), b.as_os_str()],
    );
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        r.stdout
            .starts_with("DRIFTED       rskill-project/rskill-diffusion-pusht"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("    chunk_size: in-repo 8 / Hub 16"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("in-sync       rskill-project/rskill-playbook-tidy-table"),
        "{r:?}"
    );
    let r = fx.rskill(
        Some(&fx.read),
        &[],
        &[
            OsStr::new("drift"),
            OsStr::new("--json"),
            a.as_os_str(),
            b.as_os_str(),
        ],
    );
    assert_eq!(r.code, 1, "{r:?}");
    let v = r.json();
    assert_eq!(v[0]["status"], "drifted");
    assert_eq!(v[0]["diff"].as_array().unwrap().len(), 1);
    assert_eq!(v[0]["diff"][0]["field"], "chunk_size");
    assert_eq!(v[0]["diff"][0]["local"], 8);
    assert_eq!(v[0]["diff"][0]["hub"], 16);
    assert_eq!(v[1]["status"], "in_sync");

    // The library agrees.
    let reader = fx.client(Some(&fx.read));
    let report = block_on(drift::check(&reader, &a.join("rskill.yaml")));
    assert_eq!(report.status, DriftStatus::Drifted);
    assert!(report.is_failure());
    assert_eq!(report.diff[0].field, "chunk_size");
    let report = block_on(drift::check(&reader, &unpublished.join("rskill.yaml")));
    assert_eq!(report.status, DriftStatus::NotPublished);
    assert!(!report.is_failure());
}

#[test]
fn drift_offline_or_unreachable_is_skipped_never_in_sync() {
    let fx = Fixture::new();
    let a = fx.copy("diffusion-pusht");
    let b = fx.copy("playbook-tidy-table");
    fx.publish(&[&a, &b], &PublishOptions::default());
    let manifests = [a.join("rskill.yaml"), b.join("rskill.yaml")];
    let online = block_on(drift::check_all(&fx.client(Some(&fx.read)), &manifests));
    assert!(online.iter().all(|r| r.status == DriftStatus::InSync));

    // Offline: not one request.
    let before = fx.requests();
    let r = fx.rskill(
        Some(&fx.read),
        &[("HF_HUB_OFFLINE", "1")],
        &[OsStr::new("drift"), a.as_os_str(), b.as_os_str()],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.starts_with("skipped "))
            .count(),
        2,
        "{r:?}"
    );
    assert!(!r.stdout.contains("in-sync"), "{r:?}");
    assert!(r.stderr.contains("2 skill(s) skipped"), "{r:?}");
    let offline = client_for(&fx.url(), Some(&fx.read), fx.work.path(), true);
    let reports = block_on(drift::check_all(&offline, &manifests));
    assert!(
        reports
            .iter()
            .all(|r| r.status == DriftStatus::Skipped && !r.is_failure())
    );
    assert_eq!(fx.requests(), before);

    // Unreachable: a port nobody listens on. The client retries connection failures
    // with backoff, so the binary and the library run side by side.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let (r, report) = std::thread::scope(|s| {
        let binary = s.spawn(|| {
            run_bin(
                RSKILL,
                &closed,
                fx.work.path(),
                Some(&fx.read),
                &[],
                &[
                    OsStr::new("drift"),
                    OsStr::new("--json"),
                    a.as_os_str(),
                    b.as_os_str(),
                ],
            )
        });
        let down = client_for(&closed, Some(&fx.read), fx.work.path(), false);
        let report = block_on(drift::check(&down, &manifests[0]));
        (binary.join().unwrap(), report)
    });
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 2);
    for row in v.as_array().unwrap() {
        assert_eq!(row["status"], "skipped", "{row}");
        assert!(
            row["message"]
                .as_str()
                .unwrap()
                .contains("cannot reach the Hub"),
            "{row}"
        );
    }
    assert!(r.stderr.contains("2 skill(s) skipped"), "{r:?}");
    assert_eq!(report.status, DriftStatus::Skipped);
    assert!(!report.is_failure());
    assert!(
        report.message.contains("cannot reach the Hub"),
        "{}",
        report.message
    );
}

#[test]
fn collection_is_created_once_and_rerunning_adds_nothing() {
    let fx = Fixture::new();
    let dirs = [
        fx.copy("diffusion-pusht"),
        fx.copy("playbook-tidy-table"),
        fx.copy("ros-franka-gripper-grasp"),
        fx.copy("rtdetr-coco-detector"),
    ];
    let refs: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
    fx.publish(&refs[..3], &PublishOptions::default());
    let repos: Vec<String> = dirs.iter().map(|d| repo_of(d).to_string()).collect();
    let client = fx.writer();
    let listed = || block_on(publish::collection::collections_of(&client, ORG)).unwrap();

    let mut args = vec![
        OsStr::new("collection"),
        OsStr::new("--title"),
        OsStr::new("rSkills"),
        OsStr::new("--namespace"),
        OsStr::new(ORG),
    ];
    args.extend(dirs[..3].iter().map(|d| d.as_os_str()));
    let r = fx.publisher(Some(&fx.write), &args);
    assert_eq!(r.code, 0, "{r:?}");
    let slug = r.stdout.trim().to_owned();
    assert!(slug.starts_with("rskill-project/rskills-"), "{r:?}");
    assert!(
        r.stderr.contains("created: 3 added, 0 already present"),
        "{r:?}"
    );
    let all = listed();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].slug.as_str(), all[0].title.as_str()),
        (slug.as_str(), "rSkills")
    );
    let ids: Vec<&str> = all[0].items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, repos[..3]);

    let r = fx.publisher(Some(&fx.write), &args);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), slug);
    assert!(
        r.stderr.contains("updated: 0 added, 3 already present"),
        "{r:?}"
    );
    let all = listed();
    assert_eq!(all.len(), 1, "still one collection");
    assert_eq!(all[0].items.len(), 3);

    // The library: idempotent too, and a newly published skill is added once.
    fx.publish(&refs[3..], &PublishOptions::default());
    let ids: Vec<RepoId> = dirs.iter().map(|d| repo_of(d)).collect();
    let out = block_on(publish::collection::ensure_collection(
        &client, ORG, "rSkills", "", &ids,
    ))
    .unwrap();
    assert!(!out.created);
    assert_eq!(out.slug, slug);
    assert_eq!(out.added, [ids[3].clone()]);
    assert_eq!(out.already_present, 3);
    let out = block_on(publish::collection::ensure_collection(
        &client, ORG, "rSkills", "", &ids,
    ))
    .unwrap();
    assert!(out.added.is_empty() && out.already_present == 4);
    let all = listed();
    assert_eq!(all.len(), 1);
    let listed_ids: Vec<&str> = all[0].items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(listed_ids, repos);
}

async fn create_collection(
    url: &str,
    token: &str,
    namespace: &str,
    title: &str,
    private: bool,
) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{url}/api/collections"))
        .bearer_auth(token)
        .json(&serde_json::json!({"title": title, "namespace": namespace, "private": private}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

async fn get_json(url: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn titles(v: &Value) -> Vec<&str> {
    v.as_array()
        .expect("a JSON array")
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect()
}

#[test]
fn collections_are_listed_by_owner_and_private_ones_only_to_members() {
    let fx = Fixture::new();
    let url = fx.url();
    block_on(async {
        let shared = create_collection(&url, &fx.write, ORG, "Shared", false).await;
        create_collection(&url, &fx.write, ORG, "Internal", true).await;
        create_collection(&url, &fx.other, "other", "Theirs", false).await;
        let listing = |query: &str| format!("{url}/api/collections{query}");

        let (status, anon) = get_json(&listing("?owner=rskill-project"), None).await;
        assert_eq!(status, 200);
        assert_eq!(titles(&anon), ["Shared"]);
        let (_, member) = get_json(&listing("?owner=rskill-project"), Some(&fx.read)).await;
        assert_eq!(titles(&member), ["Shared", "Internal"]);
        let (_, outsider) = get_json(&listing("?owner=rskill-project"), Some(&fx.other)).await;
        assert_eq!(titles(&outsider), ["Shared"]);
        let (_, theirs) = get_json(&listing("?owner=other"), None).await;
        assert_eq!(titles(&theirs), ["Theirs"]);
        let (_, everyone) = get_json(&listing(""), None).await;
        assert_eq!(titles(&everyone), ["Shared", "Theirs"]);
        let (_, limited) =
            get_json(&listing("?owner=rskill-project&limit=1"), Some(&fx.read)).await;
        assert_eq!(titles(&limited), ["Shared"]);
        let (_, nobody) = get_json(&listing("?owner=nobody"), None).await;
        assert_eq!(nobody, Value::Array(vec![]));
        let (status, err) = get_json(&listing("?limit=many"), None).await;
        assert_eq!(status, 400);
        assert!(err["error"].as_str().unwrap().contains("many"), "{err}");

        // Same shape as a single collection.
        let slug = shared["slug"].as_str().unwrap();
        let (_, single) = get_json(&listing(&format!("/{slug}")), None).await;
        assert_eq!(anon[0], single);
    });
    assert_eq!(fx.count(RouteLabel::Collection), 12);
}
