//! `rskill search` against `rskill-hub` with the published corpus: every facet alone and
//! combined gives exactly the set computed from the in-repo manifests; untagged and
//! drifted repos; skipped repos; private repos of other orgs; cache reuse over 1,000
//! skills (counted on the server); offline mode; retries; an unreachable Hub; the CLI.
//!
//! Expected sets are always computed from `rskills/*/rskill.yaml` with plain code, never
//! written down, so the tests follow the corpus as it evolves.

use rskill_test_support::paths::repo_root;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rskill::publish;
use rskill::search::{self, SearchOutcome, SearchQuery, SortKey};
use rskill::{search_facets, search_index};
use rskill_hub::catalog::{Catalog, CommitOp, CommitRequest, Content};
use rskill_hub::{self, RepoKind, RouteLabel, Store, StoreOptions};
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubEnv, HubError, RepoId, Token, TokenSource};
use rskill_manifest::license::LicensePosture;
use rskill_manifest::manifest::{
    ActionVerb, Benchmark, EmbodimentTag, Kind, Manifest, ModelFamily, Role, Runtime,
};
use rskill_manifest::validate;
use rskill_test_support::test_hub::{TestHub, card};
use serde_json::Value;
use tempfile::TempDir;

const ORG: &str = "rskill-project";

// ---------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------

/// One in-repo skill: its manifest file, text and parsed manifest.
struct Skill {
    path: PathBuf,
    text: String,
    m: Manifest,
}

/// Every `rskills/*/rskill.yaml`, parsed and validated.
fn corpus() -> Vec<Skill> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo_root().join("rskills"))
        .unwrap()
        .map(|e| e.unwrap().path().join("rskill.yaml"))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    assert!(paths.len() >= 10, "the corpus is there");
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let m = validate::parse_valid(&text)
                .unwrap_or_else(|v| panic!("{} is invalid: {v:?}", path.display()));
            Skill { path, text, m }
        })
        .collect()
}

/// A manifest text with another `name`.
fn renamed(text: &str, name: &str) -> String {
    let mut done = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if !done && l.starts_with("name:") {
                done = true;
                format!("name: {name}")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(done, "the template has a name line");
    out.join("\n") + "\n"
}

/// Hub settings for `endpoint`, with the Hub cache under `home`.
fn client_env(endpoint: &str, token: Option<&str>, home: &Path, offline: bool) -> HubEnv {
    HubEnv {
        endpoint: endpoint.to_string(),
        token: token.map(|t| (Token::new(t).unwrap(), TokenSource::EnvVar)),
        hf_home: home.to_path_buf(),
        hub_cache: home.join("hub"),
        offline,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    }
}

/// A running hub holding the published corpus (public), a write token for the corpus
/// org, and a private `HF_HOME` (its `hub/` is the Hub cache).
struct Fx {
    hub: TestHub,
    url: String,
    /// With the publisher's token (made once: building a client is not free).
    client: HubClient,
    publisher: String,
    home: TempDir,
    skills: Vec<Skill>,
}

async fn fixture() -> Fx {
    let hub = TestHub::start_with(|c| c.durable = false);
    let publisher =
        rskill_hub::tokens::create(hub.dir.path(), "publisher", &[ORG.to_string()], true).unwrap();
    let home = tempfile::tempdir().unwrap();
    let url = hub.url();
    let fx = Fx {
        client: HubClient::new(client_env(&url, Some(&publisher), home.path(), false)).unwrap(),
        url,
        hub,
        publisher,
        home,
        skills: corpus(),
    };
    // Published private (the publisher's default), then made public here with the same
    // client: `--public` would also read each repo back anonymously, which is covered
    // by the publisher's own tests and costs a client per skill.
    let opts = publish::PublishOptions {
        concurrency: 8,
        ..publish::PublishOptions::default()
    };
    let plans = fx
        .skills
        .iter()
        .map(|s| publish::plan(&s.path, &opts))
        .collect();
    let outcomes = publish::publish_all(&fx.client, plans, &opts).await;
    assert_eq!(outcomes.len(), fx.skills.len());
    for o in &outcomes {
        assert_eq!(
            (o.result, o.visibility),
            (publish::PublishStatus::Published, Some("private")),
            "{}: {}",
            o.skill,
            o.message
        );
    }
    let flips = fx.skills.iter().map(|s| {
        let repo: RepoId = s.m.name.parse().unwrap();
        let client = fx.client.clone();
        async move { client.set_private(&repo, false).await }
    });
    for r in futures::future::join_all(flips).await {
        r.unwrap();
    }
    fx.hub.handle().reset_counts();
    fx
}

impl Fx {
    fn cache(&self) -> PathBuf {
        self.home.path().join("hub")
    }

    fn env(&self, token: Option<&str>, offline: bool) -> HubEnv {
        client_env(&self.url, token, self.home.path(), offline)
    }

    /// A client with the publisher's token.
    fn client(&self) -> HubClient {
        self.client.clone()
    }

    fn offline_client(&self) -> HubClient {
        HubClient::new(self.env(Some(&self.publisher), true)).unwrap()
    }

    async fn search(&self, q: &SearchQuery) -> SearchOutcome {
        search::search(&self.client(), q).await.unwrap()
    }

    /// The corpus repos whose manifest satisfies `f`.
    fn expect(&self, f: impl Fn(&Manifest) -> bool) -> BTreeSet<String> {
        self.skills
            .iter()
            .filter(|s| f(&s.m))
            .map(|s| s.m.name.clone())
            .collect()
    }

    fn all(&self) -> BTreeSet<String> {
        self.expect(|_| true)
    }

    /// Creates `repo` (as the holder of `token`) and commits `files` to it.
    async fn put(
        &self,
        token: &str,
        repo: &str,
        private: bool,
        files: &[(&str, Vec<u8>)],
    ) -> String {
        let client = HubClient::new(self.env(Some(token), false)).unwrap();
        let id: RepoId = repo.parse().unwrap();
        client.create_repo(&id, private).await.unwrap();
        commit(&client, &id, files).await
    }
}

async fn commit(client: &HubClient, id: &RepoId, files: &[(&str, Vec<u8>)]) -> String {
    let files = files
        .iter()
        .map(|(p, b)| UploadFile {
            path_in_repo: p.to_string(),
            content: Bytes::from(b.clone()),
        })
        .collect();
    client
        .commit(id, files, Vec::new(), "test", None)
        .await
        .unwrap()
}

fn ids(o: &SearchOutcome) -> BTreeSet<String> {
    o.hits.iter().map(|h| h.repo_id.clone()).collect()
}

fn skipped(o: &SearchOutcome) -> BTreeSet<String> {
    o.skipped.iter().map(|s| s.repo_id.clone()).collect()
}

fn q() -> SearchQuery {
    SearchQuery::default()
}

/// The plain-code reading of a text query: every word, case-insensitively, in the repo
/// id, the description, an action, an object or a scene.
fn text_hit(text: &str, m: &Manifest) -> bool {
    let mut fields = vec![m.name.to_lowercase(), m.description.to_lowercase()];
    fields.extend(m.actions.iter().map(|a| a.as_str().to_string()));
    fields.extend(m.objects.iter().map(|o| o.to_lowercase()));
    fields.extend(m.scenes.iter().map(|s| s.to_lowercase()));
    text.split_whitespace()
        .all(|w| fields.iter().any(|f| f.contains(&w.to_lowercase())))
}

fn embodiment_hit(m: &Manifest, wanted: &[EmbodimentTag], strict: bool) -> bool {
    wanted.iter().any(|e| m.embodiment_tags.contains(e))
        || (!strict && m.embodiment_tags.contains(&EmbodimentTag::Any))
}

// ---------------------------------------------------------------------------------------
// Facets
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn no_filter_finds_the_whole_corpus_by_tag_and_by_author() {
    let fx = fixture().await;
    let all = fx.search(&q()).await;
    assert_eq!(ids(&all), fx.all());
    assert!(all.skipped.is_empty(), "{:?}", all.skipped);
    assert!(
        all.drifted.is_empty(),
        "published cards carry exact tags: {:?}",
        all.drifted
    );
    assert!(!all.offline);
    for h in &all.hits {
        let s = fx.skills.iter().find(|s| s.m.name == h.repo_id).unwrap();
        assert_eq!(h.name, s.m.name);
        assert_eq!(h.version, s.m.version);
        assert_eq!(h.kind, s.m.kind);
        assert_eq!(h.license, s.m.license);
        assert_eq!(h.embodiment_tags, s.m.embodiment_tags);
        assert_eq!(h.sha.len(), 40, "the commit the manifest was read at");
    }
    let by_author = fx
        .search(&SearchQuery {
            authors: vec![ORG.into()],
            ..q()
        })
        .await;
    assert_eq!(ids(&by_author), fx.all());
    let other = fx
        .search(&SearchQuery {
            authors: vec!["nobody-here".into()],
            ..q()
        })
        .await;
    assert!(other.hits.is_empty() && other.candidates == 0);

    let limited = fx
        .search(&SearchQuery {
            limit: Some(3),
            ..q()
        })
        .await;
    let first3: BTreeSet<String> = fx.all().into_iter().take(3).collect();
    assert_eq!(
        ids(&limited),
        first3,
        "--limit keeps the first N by repo id"
    );
}

#[tokio::test]
async fn kind_role_license_and_commercial_each_alone() {
    let fx = fixture().await;
    let mut union = BTreeSet::new();
    for &kind in Kind::ALL {
        let got = ids(&fx
            .search(&SearchQuery {
                kind: Some(kind),
                ..q()
            })
            .await);
        assert_eq!(got, fx.expect(|m| m.kind == kind), "--kind {kind}");
        union.extend(got);
    }
    assert_eq!(union, fx.all(), "the kinds partition the corpus");

    let mut union = BTreeSet::new();
    for &role in Role::ALL {
        let got = ids(&fx
            .search(&SearchQuery {
                role: Some(role),
                ..q()
            })
            .await);
        assert_eq!(got, fx.expect(|m| m.role == role), "--role {role}");
        union.extend(got);
    }
    assert_eq!(union, fx.all());

    let mut non_empty = 0;
    for &license in LicensePosture::ALL {
        let got = ids(&fx
            .search(&SearchQuery {
                license: Some(license),
                ..q()
            })
            .await);
        assert_eq!(
            got,
            fx.expect(|m| m.license == license),
            "--license {license}"
        );
        non_empty += usize::from(!got.is_empty());
    }
    assert!(non_empty >= 3, "the corpus exercises several licenses");

    let commercial = ids(&fx
        .search(&SearchQuery {
            commercial: true,
            ..q()
        })
        .await);
    let want = fx.expect(|m| m.license.commercial_use_allowed());
    assert_eq!(commercial, want, "--commercial");
    assert!(
        !want.is_empty() && want != fx.all(),
        "--commercial really filters"
    );
}

#[tokio::test]
async fn runtime_model_family_and_action_each_alone() {
    let fx = fixture().await;
    for &runtime in Runtime::ALL {
        let got = ids(&fx
            .search(&SearchQuery {
                runtime: Some(runtime),
                ..q()
            })
            .await);
        assert_eq!(
            got,
            fx.expect(|m| m.runtime == runtime),
            "--runtime {runtime}"
        );
    }
    let mut non_empty = 0;
    for &family in ModelFamily::ALL {
        let got = ids(&fx
            .search(&SearchQuery {
                model_family: Some(family),
                ..q()
            })
            .await);
        assert_eq!(
            got,
            fx.expect(|m| m.model_family == Some(family)),
            "--model-family {family}"
        );
        non_empty += usize::from(!got.is_empty());
    }
    assert!(non_empty >= 3);
    let mut non_empty = 0;
    for &action in ActionVerb::ALL {
        let got = ids(&fx
            .search(&SearchQuery {
                action: Some(action),
                ..q()
            })
            .await);
        assert_eq!(
            got,
            fx.expect(|m| m.actions.contains(&action)),
            "--action {action}"
        );
        non_empty += usize::from(!got.is_empty());
    }
    assert!(non_empty >= 5);
}

#[tokio::test]
async fn every_embodiment_with_any_semantics_and_strict() {
    let fx = fixture().await;
    let agnostic = fx.expect(|m| m.embodiment_tags.contains(&EmbodimentTag::Any));
    assert!(
        !agnostic.is_empty(),
        "the corpus holds embodiment-agnostic skills"
    );
    for &e in EmbodimentTag::ALL {
        let out = fx
            .search(&SearchQuery {
                embodiments: vec![e],
                ..q()
            })
            .await;
        assert_eq!(
            ids(&out),
            fx.expect(|m| embodiment_hit(m, &[e], false)),
            "--embodiment {e}"
        );
        assert!(
            agnostic.is_subset(&ids(&out)),
            "`any` skills match --embodiment {e}"
        );
        for h in &out.hits {
            let direct = h.embodiment_tags.contains(&e);
            assert_eq!(
                h.agnostic_match, !direct,
                "{} marked for --embodiment {e}",
                h.repo_id
            );
        }
        let strict = fx
            .search(&SearchQuery {
                embodiments: vec![e],
                strict_embodiment: true,
                ..q()
            })
            .await;
        assert_eq!(
            ids(&strict),
            fx.expect(|m| embodiment_hit(m, &[e], true)),
            "--embodiment {e} --strict-embodiment"
        );
        assert!(strict.hits.iter().all(|h| !h.agnostic_match));
    }
    // Repeated embodiments are ORed.
    let pair = [EmbodimentTag::Ur5e, EmbodimentTag::FrankaPanda];
    let got = ids(&fx
        .search(&SearchQuery {
            embodiments: pair.to_vec(),
            strict_embodiment: true,
            ..q()
        })
        .await);
    let want = fx.expect(|m| embodiment_hit(m, &pair, true));
    assert_eq!(got, want);
    assert!(want.iter().any(|r| r.contains("ur5e")) && want.iter().any(|r| r.contains("franka")));
}

#[tokio::test]
async fn query_text_matches_ids_descriptions_actions_objects_and_scenes() {
    let fx = fixture().await;
    // Words chosen from each field of the corpus itself.
    let mut words: Vec<String> = vec![
        "franka".into(),           // repo ids and descriptions
        "rskill-diffusion".into(), // a repo id only
        "CUBE".into(),             // case-insensitive
        "bimanual handover".into(),
        "zzz-no-such-word".into(),
    ];
    let s0 = &fx.skills[0].m;
    words.push(s0.actions[0].as_str().to_string());
    if let Some(o) = fx.skills.iter().find_map(|s| s.m.objects.first()) {
        words.push(o.clone());
    }
    if let Some(sc) = fx.skills.iter().find_map(|s| s.m.scenes.first()) {
        words.push(sc.clone());
    }
    let mut non_empty = 0;
    for w in &words {
        let got = ids(&fx
            .search(&SearchQuery {
                text: Some(w.clone()),
                ..q()
            })
            .await);
        let want = fx.expect(|m| text_hit(w, m));
        assert_eq!(got, want, "query {w:?}");
        non_empty += usize::from(!want.is_empty());
    }
    assert!(
        non_empty >= words.len() - 1,
        "only the nonsense word finds nothing"
    );
}

#[tokio::test]
async fn combined_facets() {
    let fx = fixture().await;
    let franka = [EmbodimentTag::FrankaPanda];
    type Expect = Box<dyn Fn(&Manifest) -> bool>;
    let cases: Vec<(SearchQuery, Expect)> = vec![
        (
            SearchQuery {
                kind: Some(Kind::Vla),
                embodiments: franka.to_vec(),
                ..q()
            },
            Box::new(move |m| m.kind == Kind::Vla && embodiment_hit(m, &franka, false)),
        ),
        (
            SearchQuery {
                commercial: true,
                embodiments: franka.to_vec(),
                ..q()
            },
            Box::new(move |m| {
                m.license.commercial_use_allowed() && embodiment_hit(m, &franka, false)
            }),
        ),
        (
            SearchQuery {
                commercial: true,
                embodiments: franka.to_vec(),
                strict_embodiment: true,
                role: Some(Role::S1),
                ..q()
            },
            Box::new(move |m| {
                m.license.commercial_use_allowed()
                    && embodiment_hit(m, &franka, true)
                    && m.role == Role::S1
            }),
        ),
        (
            SearchQuery {
                license: Some(LicensePosture::Apache2),
                runtime: Some(Runtime::Onnx),
                ..q()
            },
            Box::new(|m| m.license == LicensePosture::Apache2 && m.runtime == Runtime::Onnx),
        ),
        (
            SearchQuery {
                action: Some(ActionVerb::Grasp),
                role: Some(Role::S1),
                commercial: true,
                ..q()
            },
            Box::new(|m| {
                m.actions.contains(&ActionVerb::Grasp)
                    && m.role == Role::S1
                    && m.license.commercial_use_allowed()
            }),
        ),
        (
            SearchQuery {
                text: Some("pick".into()),
                kind: Some(Kind::Vla),
                model_family: Some(ModelFamily::Smolvla),
                ..q()
            },
            Box::new(|m| {
                text_hit("pick", m)
                    && m.kind == Kind::Vla
                    && m.model_family == Some(ModelFamily::Smolvla)
            }),
        ),
        (
            SearchQuery {
                kind: Some(Kind::Detector),
                embodiments: vec![EmbodimentTag::Ur5e],
                authors: vec![ORG.into()],
                ..q()
            },
            Box::new(|m| {
                m.kind == Kind::Detector && embodiment_hit(m, &[EmbodimentTag::Ur5e], false)
            }),
        ),
        (
            SearchQuery {
                kind: Some(Kind::Wam),
                license: Some(LicensePosture::Apache2),
                ..q()
            },
            Box::new(|m| m.kind == Kind::Wam && m.license == LicensePosture::Apache2),
        ),
    ];
    let mut non_empty = 0;
    for (i, (query, f)) in cases.iter().enumerate() {
        let got = ids(&fx.search(query).await);
        let want = fx.expect(f);
        assert_eq!(got, want, "case {i}: {query:?}");
        non_empty += usize::from(!want.is_empty());
    }
    assert!(non_empty >= 5, "most combinations find something");
}

// ---------------------------------------------------------------------------------------
// Tags are hints, the manifest decides
// ---------------------------------------------------------------------------------------

/// A corpus manifest of `kind`, renamed to `repo`.
fn manifest_as(fx: &Fx, kind: Kind, repo: &str) -> (Vec<u8>, Manifest) {
    let s = fx.skills.iter().find(|s| s.m.kind == kind).unwrap();
    let text = renamed(&s.text, repo);
    let m = validate::parse_valid(&text).unwrap();
    (text.into_bytes(), m)
}

#[tokio::test]
async fn repos_without_reserved_tags_are_found() {
    let fx = fixture().await;
    let publisher = fx.publisher.clone();
    // Tagged `rskill` only: found by the Hub-wide search.
    let only_rskill = format!("{ORG}/rskill-only-rskill-tag");
    let (yaml, m1) = manifest_as(&fx, Kind::Vla, &only_rskill);
    fx.put(
        &publisher,
        &only_rskill,
        false,
        &[("rskill.yaml", yaml), ("README.md", card(&["rskill"]))],
    )
    .await;
    // A card with no tags at all: found with --author.
    let no_tags = format!("{ORG}/rskill-no-tags");
    let (yaml, m2) = manifest_as(&fx, Kind::Detector, &no_tags);
    fx.put(
        &publisher,
        &no_tags,
        false,
        &[
            ("rskill.yaml", yaml),
            ("README.md", b"# no front matter\n".to_vec()),
        ],
    )
    .await;
    // No card at all: found with --author.
    let no_card = format!("{ORG}/rskill-no-card");
    let (yaml, m3) = manifest_as(&fx, Kind::Playbook, &no_card);
    fx.put(&publisher, &no_card, false, &[("rskill.yaml", yaml)])
        .await;

    let tagged = fx.search(&q()).await;
    let mut want = fx.all();
    want.insert(only_rskill.clone());
    assert_eq!(
        ids(&tagged),
        want,
        "untagged repos are invisible to a tag listing, rskill-tagged ones are found"
    );

    let by_author = fx
        .search(&SearchQuery {
            authors: vec![ORG.into()],
            ..q()
        })
        .await;
    want.extend([no_tags.clone(), no_card.clone()]);
    assert_eq!(ids(&by_author), want);
    assert!(by_author.skipped.is_empty(), "{:?}", by_author.skipped);
    // Lacking reserved tags is not disagreeing with the manifest: no drift warning.
    assert!(
        by_author.drifted.is_empty(),
        "repos without reserved tags reported as drifted: {:?}",
        by_author.drifted
    );

    // Their facets come from the manifest alone (Hub-wide and by author).
    let vla = fx
        .search(&SearchQuery {
            kind: Some(Kind::Vla),
            ..q()
        })
        .await;
    let mut want_vla = fx.expect(|m| m.kind == Kind::Vla);
    want_vla.insert(only_rskill.clone());
    assert_eq!((ids(&vla), m1.kind), (want_vla, Kind::Vla));
    let detectors = ids(&fx
        .search(&SearchQuery {
            authors: vec![ORG.into()],
            kind: Some(Kind::Detector),
            ..q()
        })
        .await);
    let mut want = fx.expect(|m| m.kind == Kind::Detector);
    want.insert(no_tags.clone());
    assert_eq!(detectors, want);
    let first = m2.embodiment_tags[0];
    let emb = ids(&fx
        .search(&SearchQuery {
            authors: vec![ORG.into()],
            embodiments: vec![first],
            strict_embodiment: true,
            ..q()
        })
        .await);
    assert!(emb.contains(&no_tags));
    let playbooks = ids(&fx
        .search(&SearchQuery {
            authors: vec![ORG.into()],
            kind: Some(m3.kind),
            ..q()
        })
        .await);
    assert!(playbooks.contains(&no_card));
}

#[tokio::test]
async fn drifted_tags_are_reported_and_the_manifest_decides() {
    let fx = fixture().await;
    let repo = format!("{ORG}/rskill-drifted");
    let (yaml, m) = manifest_as(&fx, Kind::Vla, &repo);
    assert_eq!(m.kind, Kind::Vla);
    // Reserved tags of the manifest, but kind `wam` instead of `vla`.
    let tags: Vec<String> = rskill_manifest::tags::reserved_tags(&m)
        .into_iter()
        .map(|t| {
            if t == "rskill-kind:vla" {
                "rskill-kind:wam".into()
            } else {
                t
            }
        })
        .collect();
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    fx.put(
        &fx.publisher,
        &repo,
        false,
        &[("rskill.yaml", yaml), ("README.md", card(&tags))],
    )
    .await;

    let wam = fx
        .search(&SearchQuery {
            kind: Some(Kind::Wam),
            ..q()
        })
        .await;
    assert_eq!(
        ids(&wam),
        fx.expect(|m| m.kind == Kind::Wam),
        "not found through its wrong tag"
    );
    let vla = fx
        .search(&SearchQuery {
            kind: Some(Kind::Vla),
            ..q()
        })
        .await;
    let mut want = fx.expect(|m| m.kind == Kind::Vla);
    want.insert(repo.clone());
    assert_eq!(ids(&vla), want, "found through its manifest");
    for o in [&wam, &vla] {
        assert_eq!(o.drifted.len(), 1, "{:?}", o.drifted);
        let d = &o.drifted[0];
        assert_eq!(d.repo_id, repo);
        assert_eq!(d.unexpected, vec!["rskill-kind:wam".to_string()]);
        assert_eq!(d.missing, vec!["rskill-kind:vla".to_string()]);
    }
}

#[tokio::test]
async fn repos_without_a_valid_manifest_are_skipped_with_a_reason() {
    let fx = fixture().await;
    let publisher = fx.publisher.clone();
    let no_manifest = format!("{ORG}/rskill-no-manifest");
    fx.put(
        &publisher,
        &no_manifest,
        false,
        &[("README.md", card(&["rskill"]))],
    )
    .await;
    let invalid = format!("{ORG}/rskill-invalid");
    let (yaml, _) = manifest_as(&fx, Kind::Vla, &invalid);
    let broken = String::from_utf8(yaml)
        .unwrap()
        .replace("kind: vla", "kind: vlaa");
    fx.put(
        &publisher,
        &invalid,
        false,
        &[
            ("rskill.yaml", broken.into_bytes()),
            ("README.md", card(&["rskill"])),
        ],
    )
    .await;
    let elsewhere = format!("{ORG}/rskill-names-another");
    let (yaml, _) = manifest_as(&fx, Kind::Vla, &format!("{ORG}/rskill-somewhere-else"));
    fx.put(
        &publisher,
        &elsewhere,
        false,
        &[("rskill.yaml", yaml), ("README.md", card(&["rskill"]))],
    )
    .await;

    for authors in [vec![], vec![ORG.to_string()]] {
        let out = fx
            .search(&SearchQuery {
                authors: authors.clone(),
                ..q()
            })
            .await;
        assert_eq!(ids(&out), fx.all(), "authors {authors:?}");
        assert_eq!(
            skipped(&out),
            BTreeSet::from([no_manifest.clone(), invalid.clone(), elsewhere.clone()])
        );
        let reason = |r: &str| {
            out.skipped
                .iter()
                .find(|s| s.repo_id == r)
                .map(|s| s.reason.clone())
                .unwrap()
        };
        assert!(
            reason(&no_manifest).contains("no rskill.yaml"),
            "{}",
            reason(&no_manifest)
        );
        assert!(
            reason(&invalid).contains("invalid manifest"),
            "{}",
            reason(&invalid)
        );
        assert!(reason(&invalid).contains("kind"), "{}", reason(&invalid));
        assert!(
            reason(&elsewhere).contains("another repo"),
            "{}",
            reason(&elsewhere)
        );
    }
}

#[tokio::test]
async fn private_repos_of_other_orgs_are_absent_not_an_error() {
    let fx = fixture().await;
    let secret = "other/rskill-secret";
    let (yaml, _) = manifest_as(&fx, Kind::Vla, secret);
    let carol = fx.hub.carol.clone();
    fx.put(
        &carol,
        secret,
        true,
        &[("rskill.yaml", yaml), ("README.md", card(&["rskill"]))],
    )
    .await;

    for authors in [vec![], vec![ORG.to_string(), "other".to_string()]] {
        let out = fx.search(&SearchQuery { authors, ..q() }).await;
        assert_eq!(ids(&out), fx.all());
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
    }
    // Anonymous too.
    let anon = HubClient::new(fx.env(None, false)).unwrap();
    let out = search::search(&anon, &q()).await.unwrap();
    assert_eq!(ids(&out), fx.all());
    // Its owner does see it: the repo is real and searchable.
    let owner = HubClient::new(fx.env(Some(&carol), false)).unwrap();
    let out = search::search(&owner, &q()).await.unwrap();
    assert!(ids(&out).contains(secret));
}

// ---------------------------------------------------------------------------------------
// Cache reuse and offline
// ---------------------------------------------------------------------------------------

/// Seeds `n` valid skills `fleet/rskill-NNNN` (from the corpus templates) straight into
/// the data directory of a stopped server.
fn seed_fleet(fx: &mut Fx, n: usize) -> BTreeSet<String> {
    let templates: Vec<String> = fx.skills.iter().map(|s| s.text.clone()).collect();
    let mut names = BTreeSet::new();
    fx.hub.while_stopped(|dir| {
        let store = Store::open(
            dir,
            StoreOptions {
                durable: false,
                fail_blob_write_at: None,
                ..StoreOptions::default()
            },
        )
        .unwrap();
        let (catalog, _) = Catalog::open(store).unwrap();
        for i in 0..n {
            let name = format!("fleet/rskill-{i:04}");
            let yaml = renamed(&templates[i % templates.len()], &name);
            let id = rskill_hub::RepoId::parse(&name).unwrap();
            catalog
                .create_repo(RepoKind::Model, &id, false, "seed")
                .unwrap();
            let ops = [
                ("rskill.yaml", yaml.into_bytes()),
                ("README.md", card(&["rskill"])),
            ]
            .into_iter()
            .map(|(p, b)| CommitOp::Put {
                path: p.into(),
                content: Content::Staged(catalog.store().stage_bytes(&b).unwrap()),
            })
            .collect();
            let request = CommitRequest {
                branch: "main".into(),
                parent: None,
                author: "seed".into(),
                summary: "seed".into(),
                description: String::new(),
                ops,
            };
            catalog.apply_commit(RepoKind::Model, &id, request).unwrap();
            names.insert(name);
        }
    });
    fx.url = fx.hub.url();
    fx.client = HubClient::new(fx.env(Some(&fx.publisher), false)).unwrap();
    names
}

#[tokio::test]
async fn warm_search_over_1000_skills_makes_one_request_per_listing_page() {
    let mut fx = fixture().await;
    let fleet = seed_fleet(&mut fx, 1000);
    let hub = fx.hub.handle();
    let total = fleet.len() + fx.skills.len();
    let pages = total.div_ceil(search::PAGE_SIZE) as u64;
    let query = SearchQuery {
        embodiments: vec![EmbodimentTag::FrankaPanda],
        ..q()
    };

    hub.reset_counts();
    let cold = fx.search(&query).await;
    assert_eq!(cold.candidates, total);
    assert_eq!(
        cold.manifests_fetched, total,
        "cold: every manifest downloaded once"
    );
    assert_eq!(hub.route_count(RouteLabel::List), pages);
    assert_eq!(hub.route_count(RouteLabel::Resolve), total as u64);
    // Each org with uncached skills is asked once for its catalog index (neither has one).
    assert_eq!(hub.route_count(RouteLabel::Info), 2);
    assert_eq!(cold.indexes_read, 0);
    assert!(cold.skipped.is_empty());
    let franka = |m: &Manifest| embodiment_hit(m, &[EmbodimentTag::FrankaPanda], false);
    let per_template = fx.expect(franka).len();
    assert!(
        cold.hits.len() > per_template * 40,
        "{} hits",
        cold.hits.len()
    );

    hub.reset_counts();
    let warm = fx.search(&query).await;
    assert_eq!(hub.route_count(RouteLabel::List), pages);
    assert_eq!(hub.route_count(RouteLabel::Resolve), 0);
    assert_eq!(hub.route_count(RouteLabel::Info), 0);
    assert_eq!(hub.request_count(), pages, "nothing but the listing");
    assert_eq!(
        (warm.listing_pages as u64, warm.manifests_fetched),
        (pages, 0)
    );
    assert_eq!(warm.manifests_parsed, 0, "warm: no YAML parsed");
    assert_eq!(ids(&warm), ids(&cold));

    // One repo changes: exactly its manifest is fetched again.
    let changed: RepoId = "fleet/rskill-0007".parse().unwrap();
    let seeder =
        rskill_hub::tokens::create(fx.hub.dir.path(), "seeder", &["fleet".into()], true).unwrap();
    let client = HubClient::new(fx.env(Some(&seeder), false)).unwrap();
    let sha = commit(&client, &changed, &[("NOTES.md", b"changed\n".to_vec())]).await;
    hub.reset_counts();
    let after = fx.search(&query).await;
    assert_eq!(hub.route_count(RouteLabel::List), pages);
    assert_eq!(hub.route_count(RouteLabel::Resolve), 1);
    assert_eq!(hub.route_count(RouteLabel::Info), 0);
    assert_eq!(after.manifests_fetched, 1);
    assert_eq!(after.manifests_parsed, 1);
    assert_eq!(ids(&after), ids(&cold));
    if let Some(h) = after.hits.iter().find(|h| h.repo_id == changed.as_str()) {
        assert_eq!(h.sha, sha);
    }
}

/// Every facet record in the cache.
fn facet_records(cache: &Path) -> Vec<PathBuf> {
    let prefix = format!("facets-v{}-", search_facets::FORMAT_VERSION);
    let mut out = Vec::new();
    for repo in std::fs::read_dir(cache).unwrap() {
        let dir = repo.unwrap().path().join("rskill");
        if let Ok(entries) = std::fs::read_dir(dir) {
            out.extend(entries.map(|e| e.unwrap().path()).filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&prefix)
            }));
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn warm_search_reads_facet_records_not_manifests() {
    let fx = fixture().await;
    let hub = fx.hub.handle();
    let cold = fx.search(&q()).await;
    assert_eq!(cold.manifests_parsed, fx.skills.len());
    let records = facet_records(&fx.cache());
    assert_eq!(records.len(), fx.skills.len(), "one record per skill");

    hub.reset_counts();
    let warm = fx.search(&q()).await;
    assert_eq!(hub.route_count(RouteLabel::Resolve), 0);
    assert_eq!((warm.manifests_fetched, warm.manifests_parsed), (0, 0));
    assert_eq!(ids(&warm), ids(&cold));
    let json = |o: &SearchOutcome| serde_json::to_string(&o.hits).unwrap();
    assert_eq!(
        json(&warm),
        json(&cold),
        "the record prints what the manifest did"
    );

    // What a warm search shows comes from the search index, one file...
    let index = search_index::index_path(fx.client().env());
    let indexed = std::fs::read_to_string(&index).unwrap();
    let marked = indexed.replacen("\"description\":\"", "\"description\":\"INDEXED ", 1);
    assert_ne!(marked, indexed);
    std::fs::write(&index, &marked).unwrap();
    let read = fx.search(&q()).await;
    assert_eq!((read.manifests_fetched, read.manifests_parsed), (0, 0));
    let shown = |o: &SearchOutcome, mark: &str| {
        o.hits
            .iter()
            .filter(|h| h.description.starts_with(mark))
            .count()
    };
    assert_eq!(shown(&read, "INDEXED "), 1);

    // ...which, when lost, is gathered again from the records, not the manifests...
    std::fs::remove_file(&index).unwrap();
    let regathered = fx.search(&q()).await;
    assert_eq!(
        (regathered.manifests_fetched, regathered.manifests_parsed),
        (0, 0)
    );
    assert_eq!(json(&regathered), json(&cold));
    assert!(index.exists());

    // ...and what the records say is what a warm search shows.
    std::fs::remove_file(&index).unwrap();
    let first = &records[0];
    let text = std::fs::read_to_string(first).unwrap();
    let marked = text.replacen("\"description\":\"", "\"description\":\"RECORDED ", 1);
    assert_ne!(marked, text);
    std::fs::write(first, &marked).unwrap();
    let read = fx.search(&q()).await;
    assert_eq!(read.manifests_parsed, 0);
    assert_eq!(
        read.hits
            .iter()
            .filter(|h| h.description.starts_with("RECORDED "))
            .count(),
        1
    );

    // ...and a corrupt record is ignored: that one manifest is parsed again (from the
    // cache, not the Hub) and its record rewritten.
    std::fs::write(first, &text[..text.len() / 2]).unwrap();
    std::fs::remove_file(&index).unwrap();
    hub.reset_counts();
    let rebuilt = fx.search(&q()).await;
    assert_eq!(hub.route_count(RouteLabel::Resolve), 0);
    assert_eq!(
        (rebuilt.manifests_fetched, rebuilt.manifests_parsed),
        (0, 1)
    );
    assert_eq!(json(&rebuilt), json(&cold));
    assert_eq!(std::fs::read_to_string(first).unwrap(), text);

    // Offline, the records serve too.
    let offline = search::search(&fx.offline_client(), &q()).await.unwrap();
    assert_eq!(offline.manifests_parsed, 0);
    assert_eq!(ids(&offline), ids(&cold));
}

/// Every file under `dir` with its inode and modification time.
fn snapshot_files(dir: &Path) -> BTreeSet<(PathBuf, u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                out.insert((p, meta.ino(), meta.modified().unwrap()));
            }
        }
    }
    out
}

#[tokio::test]
async fn warm_search_leaves_the_cache_untouched() {
    let fx = fixture().await;
    let cold = fx.search(&q()).await;
    assert_eq!(cold.manifests_fetched, fx.skills.len());
    let before = snapshot_files(&fx.cache());
    let refs = before
        .iter()
        .filter(|(p, _, _)| p.ends_with("refs/main"))
        .count();
    assert_eq!(
        refs,
        fx.skills.len(),
        "offline search needs refs/main of each repo"
    );
    let warm = fx.search(&q()).await;
    assert_eq!((warm.manifests_fetched, ids(&warm)), (0, ids(&cold)));
    assert_eq!(
        snapshot_files(&fx.cache()),
        before,
        "a warm search rewrites nothing (no file, no fsync per candidate)"
    );
}

#[tokio::test]
async fn offline_searches_the_cache_with_no_http() {
    let fx = fixture().await;
    let hub = fx.hub.handle();

    // Nothing cached yet: an empty, clearly offline answer, and no request.
    let offline = fx.offline_client();
    let empty = search::search(&offline, &q()).await.unwrap();
    assert!(empty.offline);
    assert_eq!((empty.candidates, empty.hits.len()), (0, 0));
    assert_eq!(hub.request_count(), 0);

    let queries = [
        q(),
        SearchQuery {
            embodiments: vec![EmbodimentTag::FrankaPanda],
            ..q()
        },
        SearchQuery {
            kind: Some(Kind::Vla),
            commercial: true,
            ..q()
        },
        SearchQuery {
            text: Some("cube".into()),
            ..q()
        },
        SearchQuery {
            authors: vec![ORG.into()],
            role: Some(Role::S2),
            ..q()
        },
    ];
    let online: Vec<BTreeSet<String>> = {
        let mut v = Vec::new();
        for query in &queries {
            v.push(ids(&fx.search(query).await));
        }
        v
    };
    hub.reset_counts();
    for (query, want) in queries.iter().zip(&online) {
        let out = search::search(&offline, query).await.unwrap();
        assert!(out.offline);
        assert_eq!(out.listing_pages, 0);
        assert_eq!(&ids(&out), want, "offline {query:?}");
    }
    assert_eq!(hub.request_count(), 0, "no HTTP at all offline");
    assert_eq!(online[0], fx.all());

    // Offline with the server gone entirely: still answers.
    let mut fx = fx;
    fx.hub.handle.take().unwrap().shutdown().unwrap();
    let out = search::search(&offline, &q()).await.unwrap();
    assert_eq!(ids(&out), fx.all());
}

// ---------------------------------------------------------------------------------------
// Failures: unreachable, retries, unreadable repos
// ---------------------------------------------------------------------------------------

fn env_for(endpoint: &str, cache: &Path) -> HubEnv {
    HubEnv {
        endpoint: endpoint.into(),
        token: None,
        hf_home: cache.to_path_buf(),
        hub_cache: cache.join("hub"),
        offline: false,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    }
}

/// A port nothing listens on.
fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn unreachable_hub_is_one_error_with_a_hint() {
    let cache = tempfile::tempdir().unwrap();
    let client = HubClient::new(env_for(&dead_endpoint(), cache.path())).unwrap();
    let err = search::search(&client, &q()).await.unwrap_err();
    assert!(matches!(err, HubError::Unreachable { .. }), "{err:?}");
    let hint = err.hint().unwrap();
    assert!(
        hint.contains("HF_ENDPOINT") && hint.contains("HF_HUB_OFFLINE"),
        "{hint}"
    );
}

/// A tiny HTTP/1.1 server: `respond(path, nth call of that path)` returns the status
/// line + headers + body. Every request is logged.
struct FakeHub {
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);

fn fake_hub(respond: impl Fn(&str, usize) -> Reply + Send + 'static) -> FakeHub {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let log2 = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let target = head.split_whitespace().nth(1).unwrap_or("").to_string();
            let path = target.split('?').next().unwrap_or("").to_string();
            let nth = {
                let mut log = log2.lock().unwrap();
                let nth = log.iter().filter(|p| **p == path).count();
                log.push(path.clone());
                nth
            };
            let (status, headers, body) = respond(&path, nth);
            let mut out = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                out.push_str(&format!("{k}: {v}\r\n"));
            }
            out.push_str("\r\n");
            let _ = stream.write_all(out.as_bytes());
            let _ = stream.write_all(&body);
            let _ = stream.flush();
        }
    });
    FakeHub { url, log }
}

impl FakeHub {
    fn calls(&self, path: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|p| *p == path)
            .count()
    }
}

#[tokio::test]
async fn overloaded_answers_are_retried_honouring_retry_after() {
    let skills = corpus();
    let yaml = renamed(&skills[0].text, "acme/rskill-x").into_bytes();
    let sha = "a".repeat(40);
    let listing = serde_json::json!([
        { "id": "acme/rskill-x", "sha": sha, "tags": ["rskill"], "siblings": [{"rfilename": "rskill.yaml"}] },
        { "id": "acme/rskill-gated", "sha": sha, "tags": ["rskill"], "siblings": [{"rfilename": "rskill.yaml"}] },
    ])
    .to_string()
    .into_bytes();
    let x_path = format!("/acme/rskill-x/resolve/{sha}/rskill.yaml");
    let gated_path = format!("/acme/rskill-gated/resolve/{sha}/rskill.yaml");
    let (xp, gp) = (x_path.clone(), gated_path.clone());
    let etag = rskill_hub_protocol::digest::git_blob_sha1(&yaml);
    let fake = fake_hub(move |path, nth| {
        let busy = |code: u16| {
            (
                code,
                vec![("Retry-After", "0".to_string())],
                b"{\"error\":\"busy\"}".to_vec(),
            )
        };
        match path {
            "/api/models" if nth == 0 => busy(503),
            "/api/models" if nth == 1 => busy(429),
            "/api/models" => (
                200,
                vec![("Content-Type", "application/json".into())],
                listing.clone(),
            ),
            p if p == xp && nth == 0 => busy(503),
            p if p == xp => (
                200,
                vec![
                    ("ETag", format!("\"{etag}\"")),
                    ("X-Repo-Commit", "a".repeat(40)),
                ],
                yaml.clone(),
            ),
            p if p == gp => (
                401,
                vec![("X-Error-Code", "RepoNotFound".into())],
                b"{\"error\":\"Repository not found\"}".to_vec(),
            ),
            _ => (404, vec![], Vec::new()),
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let client = HubClient::new(env_for(&fake.url, cache.path())).unwrap();
    let started = Instant::now();
    let out = search::search(&client, &q()).await.unwrap();
    let took = started.elapsed();
    assert_eq!(ids(&out), BTreeSet::from(["acme/rskill-x".to_string()]));
    assert_eq!(
        fake.calls("/api/models"),
        3,
        "two busy answers, then the listing"
    );
    assert_eq!(fake.calls(&x_path), 2);
    assert_eq!(
        skipped(&out),
        BTreeSet::from(["acme/rskill-gated".to_string()])
    );
    assert!(
        out.skipped[0].reason.contains("not readable"),
        "{:?}",
        out.skipped
    );
    // Exponential backoff alone would wait 0.5 s + 1 s + 0.5 s: Retry-After: 0 was honoured.
    assert!(took < Duration::from_millis(1000), "took {took:?}");

    // A Hub that stays overloaded: a clear error once the retries are spent.
    let always = fake_hub(|_, _| (503, vec![("Retry-After", "0".to_string())], Vec::new()));
    let client = HubClient::new(env_for(&always.url, cache.path())).unwrap();
    let err = search::search(&client, &q()).await.unwrap_err();
    assert!(
        matches!(err, HubError::Overloaded { status: 503, .. }),
        "{err:?}"
    );
    assert!(always.calls("/api/models") > 1, "retried");
}

// ---------------------------------------------------------------------------------------
// The CLI
// ---------------------------------------------------------------------------------------

fn rskill(endpoint: &str, home: &Path, token: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rskill"));
    cmd.arg("search")
        .args(args)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home)
        .env("HF_TOKEN_PATH", "/nonexistent")
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("XDG_CACHE_HOME")
        .env("NO_COLOR", "1");
    match token {
        Some(t) => cmd.env("HF_TOKEN", t),
        None => cmd.env_remove("HF_TOKEN"),
    };
    cmd.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn cli_table_json_and_messages() {
    let fx = fixture().await;
    let no_manifest = format!("{ORG}/rskill-no-manifest");
    fx.put(
        &fx.publisher,
        &no_manifest,
        false,
        &[("README.md", card(&["rskill"]))],
    )
    .await;
    let (url, home) = (fx.hub.url(), fx.home.path().to_path_buf());
    let token = Some(fx.publisher.as_str());
    let franka = fx.expect(|m| embodiment_hit(m, &[EmbodimentTag::FrankaPanda], false));

    let out = rskill(&url, &home, token, &["--embodiment", "franka_panda"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    for s in &fx.skills {
        assert_eq!(
            stdout.contains(&s.m.name),
            franka.contains(&s.m.name),
            "{}\n{stdout}",
            s.m.name
        );
    }
    for col in [
        "repo",
        "version",
        "kind",
        "role",
        "license",
        "embodiments",
        "description",
    ] {
        assert!(stdout.contains(col), "column {col}");
    }
    assert!(
        stdout.contains("any*"),
        "agnostic skills are marked:\n{stdout}"
    );
    assert!(
        !stdout.contains("skipped") && !stdout.contains("rskill install"),
        "stdout carries only data"
    );
    assert!(stderr.contains("1 repo(s) skipped"), "{stderr}");
    assert!(stderr.contains("rskill install "), "{stderr}");
    assert!(!stderr.contains(&fx.publisher), "never print the token");
    // -v lists the skipped repos with the reason.
    let out = rskill(&url, &home, token, &["-v", "--kind", "wam"]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{no_manifest}: no rskill.yaml")),
        "{stderr}"
    );

    // --json: exactly the documented fields.
    let out = rskill(
        &url,
        &home,
        token,
        &["--json", "--embodiment", "franka_panda"],
    );
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let arr = v.as_array().unwrap();
    let got: BTreeSet<String> = arr
        .iter()
        .map(|o| o["repo_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, franka);
    let fields: BTreeSet<&str> = [
        "repo_id",
        "sha",
        "name",
        "version",
        "kind",
        "role",
        "license",
        "commercial_use_allowed",
        "embodiment_tags",
        "runtime",
        "description",
        "benchmarks",
        "status",
        "aliases",
        "signed",
    ]
    .into();
    for o in arr {
        let keys: BTreeSet<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, fields);
        let s = fx.skills.iter().find(|s| s.m.name == o["repo_id"]).unwrap();
        assert_eq!(
            o["commercial_use_allowed"],
            s.m.license.commercial_use_allowed()
        );
        assert_eq!(o["license"], s.m.license.as_str());
    }

    // No result: `[]` / an empty table, exit 0.
    let out = rskill(&url, &home, token, &["--json", "zzz-nothing-matches"]);
    assert!(out.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        Value::Array(vec![])
    );
    let out = rskill(&url, &home, token, &["zzz-nothing-matches"]);
    assert!(out.status.success());
    assert!(!text(&out.stdout).contains(ORG));
    assert!(text(&out.stderr).contains("no skill matches"));

    // Offline: the cached manifests, said on stderr.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rskill"));
    let out = cmd
        .args(["search", "--json", "--embodiment", "franka_panda"])
        .env("HF_ENDPOINT", dead_endpoint())
        .env("HF_HOME", &home)
        .env("HF_TOKEN_PATH", "/nonexistent")
        .env("HF_HUB_OFFLINE", "1")
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: BTreeSet<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["repo_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, franka);
    assert!(
        text(&out.stderr).contains("offline"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn by_benchmark_score_filter_sort_column_and_json() {
    let fx = fixture().await;
    let bench = Benchmark::LiberoGoal;
    let score = |m: &Manifest| m.benchmarks.get(bench.as_str()).copied();
    // Every score the corpus reports on this benchmark, and a threshold between them.
    let mut scores: Vec<f64> = fx.skills.iter().filter_map(|s| score(&s.m)).collect();
    scores.sort_by(f64::total_cmp);
    assert!(
        scores.len() >= 2,
        "the corpus reports {bench} for two skills at least"
    );
    let min = scores[scores.len() - 1];

    let out = fx
        .search(&SearchQuery {
            benchmark: Some(bench),
            ..q()
        })
        .await;
    assert_eq!(ids(&out), fx.expect(|m| score(m).is_some()));
    let out = fx
        .search(&SearchQuery {
            benchmark: Some(bench),
            min_score: Some(min),
            ..q()
        })
        .await;
    assert_eq!(ids(&out), fx.expect(|m| score(m).is_some_and(|s| s >= min)));
    assert!(!ids(&out).is_empty());

    // Sorted best first; skills without the benchmark come last, by id.
    let out = fx
        .search(&SearchQuery {
            sort: SortKey::Benchmark(bench),
            ..q()
        })
        .await;
    let got: Vec<Option<f64>> = out
        .hits
        .iter()
        .map(|h| h.benchmarks.get(bench.as_str()).copied())
        .collect();
    let mut want = got.clone();
    want.sort_by(|a, b| match (a, b) {
        (Some(x), Some(y)) => y.total_cmp(x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    assert_eq!(got, want);
    assert_eq!(out.hits.len(), fx.skills.len());

    // The CLI: a score column when a benchmark is named, `benchmarks` in --json.
    let (url, home) = (fx.hub.url(), fx.home.path().to_path_buf());
    let token = Some(fx.publisher.as_str());
    let out = rskill(
        &url,
        &home,
        token,
        &[
            "--benchmark",
            "libero_goal",
            "--sort",
            "benchmark:libero_goal",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains("libero_goal"), "{table}");
    assert!(
        table.contains(&format!("{:.3}", scores[scores.len() - 1])),
        "{table}"
    );
    let out = rskill(
        &url,
        &home,
        token,
        &[
            "--json",
            "--benchmark",
            "libero_goal",
            "--min-score",
            &min.to_string(),
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for hit in v.as_array().unwrap() {
        assert!(
            hit["benchmarks"]["libero_goal"].as_f64().unwrap() >= min,
            "{hit}"
        );
    }
    // --min-score needs --benchmark, and a score in [0, 1]: usage errors.
    for args in [
        &["--min-score", "0.5"][..],
        &["--benchmark", "pusht", "--min-score", "1.5"],
    ] {
        let out = rskill(&url, &home, token, args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = rskill(&url, &home, token, &["--sort", "benchmark:libero_gaol"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("libero_goal"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn the_footer_suggests_a_hit_the_license_guard_would_install() {
    let fx = fixture().await;
    let (url, home) = (fx.hub.url(), fx.home.path().to_path_buf());
    let token = Some(fx.publisher.as_str());
    let commercial = |m: &Manifest| m.license.commercial_use_allowed();
    // All non-commercial: no install line that would be refused.
    let non_commercial = fx
        .skills
        .iter()
        .find(|s| {
            s.m.license.commercial_use() == rskill_manifest::license::CommercialUse::NonCommercial
        })
        .unwrap();
    let posture = non_commercial.m.license.as_str();
    let out = rskill(&url, &home, token, &["--license", posture]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("all non-commercial"), "{stderr}");
    assert!(!stderr.contains("install one with"), "{stderr}");
    // Whatever comes first, the suggestion is the first commercial-use hit.
    let out = rskill(&url, &home, token, &[]);
    let first_ok = fx
        .skills
        .iter()
        .map(|s| &s.m)
        .filter(|m| commercial(m))
        .map(|m| m.name.clone())
        .min()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("install one with: rskill install {first_ok}\n")),
        "{stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // The read end is closed before rskill writes: before the fix, `println!` panicked
    // with a backtrace (exit 101).
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rskill"))
        .args(["search", "--json"])
        .env("HF_HOME", home.path())
        .env("HF_HUB_OFFLINE", "1")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");
}

#[test]
fn cli_rejects_invalid_values_with_the_allowed_list() {
    let home = tempfile::tempdir().unwrap();
    for (flag, value, allowed) in [
        ("--kind", "vlaa", Kind::allowed()),
        ("--embodiment", "franka", EmbodimentTag::allowed()),
        ("--license", "gpl", LicensePosture::allowed()),
    ] {
        let out = rskill(&dead_endpoint(), home.path(), None, &[flag, value]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(value) && stderr.contains(&allowed),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn cli_unreachable_hub_exits_1_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let endpoint = dead_endpoint();
    let out = rskill(
        &endpoint,
        home.path(),
        Some("hf_secret_token_value"),
        &["--kind", "vla"],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains(&endpoint),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint:") && stderr.contains("HF_ENDPOINT"),
        "{stderr}"
    );
    let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(errors, 1, "one error:\n{stderr}");
    assert!(!stderr.contains("hf_secret_token_value"));
    assert!(out.stdout.is_empty());
}

// ---------------------------------------------------------------------------------------
// The catalog index (ORG/rskill-index)
// ---------------------------------------------------------------------------------------

/// A client with the publisher's token and a cache of its own (a cold search).
fn cold_client(fx: &Fx) -> (TempDir, HubClient) {
    let home = tempfile::tempdir().unwrap();
    let client =
        HubClient::new(client_env(&fx.url, Some(&fx.publisher), home.path(), false)).unwrap();
    (home, client)
}

/// What a search answers, whole: the rows as `--json` prints them, the skipped repos
/// with their reasons, the drift and how many were hidden.
fn answer(o: &SearchOutcome) -> Value {
    serde_json::json!({
        "hits": o.hits,
        "skipped": o.skipped,
        "drifted": o.drifted,
        "hidden": o.hidden,
        "candidates": o.candidates,
    })
}

/// The queries compared with and without an index.
fn index_queries() -> Vec<SearchQuery> {
    use rskill::lifecycle::Status;
    vec![
        q(),
        SearchQuery {
            authors: vec![ORG.to_string(), "other".to_string()],
            ..q()
        },
        SearchQuery {
            embodiments: vec![EmbodimentTag::FrankaPanda],
            ..q()
        },
        SearchQuery {
            kind: Some(Kind::Vla),
            ..q()
        },
        SearchQuery {
            status: rskill::lifecycle::resolve::StatusFilter {
                only: Some(vec![
                    Status::Draft,
                    Status::Active,
                    Status::Deprecated,
                    Status::Deleted,
                ]),
                include_deprecated: true,
            },
            ..q()
        },
    ]
}

/// Every query's answer from a cold cache, and the server requests they cost.
async fn cold_answers(fx: &Fx) -> (Vec<Value>, Vec<SearchOutcome>, u64) {
    let mut answers = Vec::new();
    let mut outcomes = Vec::new();
    fx.hub.handle().reset_counts();
    for query in index_queries() {
        let (_home, client) = cold_client(fx);
        let out = search::search(&client, &query).await.unwrap();
        answers.push(answer(&out));
        outcomes.push(out);
    }
    (answers, outcomes, fx.hub.handle().request_count())
}

#[tokio::test]
async fn the_catalog_index_saves_requests_and_never_changes_the_answer() {
    use rskill::catalog_index;
    let fx = fixture().await;
    let index_repo: RepoId = format!("{ORG}/rskill-index").parse().unwrap();
    // A third-party skill, in no index of its own.
    let third = "other/rskill-third-party";
    let (yaml, _) = manifest_as(&fx, Kind::Vla, third);
    fx.put(
        &fx.hub.carol.clone(),
        third,
        false,
        &[("rskill.yaml", yaml), ("README.md", card(&["rskill"]))],
    )
    .await;
    // One skill with a status change, so the index carries a registry file.
    let deprecated: RepoId = fx.skills[1].m.name.parse().unwrap();
    let manage = rskill_hub::tokens::Rights {
        write: true,
        manage: true,
    };
    let ops = rskill_hub::tokens::create_with(fx.hub.dir.path(), "ops", &[ORG.to_string()], manage)
        .unwrap();
    let ops = HubClient::new(fx.env(Some(&ops), false)).unwrap();
    rskill::lifecycle::remote::change_registry(
        &ops,
        &rskill::lifecycle::Seen::default(),
        &deprecated,
        &rskill::lifecycle::Op::Status {
            version: fx.skills[1].m.version.parse().unwrap(),
            to: rskill::lifecycle::Status::Deprecated,
        },
        "recalled",
        None,
    )
    .await
    .unwrap();

    let written = catalog_index::rebuild(&fx.client, ORG, None).await.unwrap();
    assert_eq!(written.entries, fx.skills.len());
    assert!(written.commit.is_some());
    let again = catalog_index::rebuild(&fx.client, ORG, None).await.unwrap();
    assert_eq!(
        again.commit, None,
        "an unchanged index is not committed again"
    );

    // After the index: one skill changes (another kind), one is new.
    let changed = fx.skills[0].m.name.clone();
    let other_kind = if fx.skills[0].m.kind == Kind::Vla {
        Kind::Wam
    } else {
        Kind::Vla
    };
    let (yaml, _) = manifest_as(&fx, other_kind, &changed);
    commit(
        &fx.client,
        &changed.parse().unwrap(),
        &[("rskill.yaml", yaml)],
    )
    .await;
    let new = format!("{ORG}/rskill-new-after-index");
    let (yaml, _) = manifest_as(&fx, Kind::Vla, &new);
    fx.put(
        &fx.publisher,
        &new,
        false,
        &[("rskill.yaml", yaml), ("README.md", card(&["rskill"]))],
    )
    .await;

    let (with_index, outcomes, requests_with) = cold_answers(&fx).await;
    for out in &outcomes {
        assert!(out.notes.is_empty(), "{:?}", out.notes);
    }
    // The unfiltered search used every entry but the changed skill's.
    assert_eq!(outcomes[0].indexes_read, 1);
    assert_eq!(outcomes[0].index_entries_used, fx.skills.len() - 1);
    assert_eq!(
        outcomes[0].manifests_fetched, 3,
        "changed, new, third-party"
    );
    assert!(ids(&outcomes[0]).contains(&new) && ids(&outcomes[0]).contains(third));

    // Hostile indexes: entries for another org's repo and for wrong commits (facets
    // that would change the answer), then a file past the read bound.
    let good = fx
        .client
        .read_file(&index_repo, "main", catalog_index::INDEX_FILE)
        .await
        .unwrap();
    let mut hostile: catalog_index::IndexFile = serde_json::from_slice(&good).unwrap();
    let template = hostile.skills.values().next().unwrap().clone();
    let third_sha = fx
        .client
        .repo_info(&third.parse().unwrap(), None)
        .await
        .unwrap()
        .sha;
    let mut forged = template.clone();
    forged.sha = third_sha;
    forged.facets.name = third.to_string();
    forged.facets.kind = Kind::Detector;
    forged.facets.description = "forged by another org's index".into();
    hostile.skills.insert(third.to_string(), forged);
    for e in hostile
        .skills
        .values_mut()
        .filter(|e| e.facets.name != third)
    {
        e.sha = "0123456789abcdef0123456789abcdef01234567".parse().unwrap();
        e.facets.kind = Kind::Detector;
    }
    // The true index, padded past the bound: only the bound refuses it.
    let mut oversize = good.clone();
    oversize.resize(catalog_index::MAX_INDEX_BYTES as usize + 1, b' ');
    for (what, bytes) in [
        (
            "another org's entries and wrong commits",
            serde_json::to_vec(&hostile).unwrap(),
        ),
        ("a file past the read bound", oversize),
    ] {
        commit(
            &fx.client,
            &index_repo,
            &[(catalog_index::INDEX_FILE, bytes)],
        )
        .await;
        let (answers, outcomes, _) = cold_answers(&fx).await;
        assert_eq!(answers, with_index, "{what}");
        assert_eq!(outcomes[0].index_entries_used, 0, "{what}");
        if what.contains("bound") {
            assert!(
                outcomes[0].notes.iter().any(|n| n.contains("rskill-index")),
                "{what}: {:?}",
                outcomes[0].notes
            );
        }
    }

    // No index at all: today's answer, and it is the same.
    fx.client
        .commit(
            &index_repo,
            Vec::new(),
            vec![catalog_index::INDEX_FILE.to_string()],
            "remove the index",
            None,
        )
        .await
        .unwrap();
    let (without_index, outcomes, requests_without) = cold_answers(&fx).await;
    assert_eq!(outcomes[0].index_entries_used, 0);
    assert_eq!(with_index, without_index);
    assert!(
        requests_with * 2 < requests_without,
        "the index saves requests: {requests_with} against {requests_without}"
    );
}

/// `rskill` (or `rskill-publisher` when `publisher`) run as a machine whose data dir
/// (trust policy) is `machine/data`, in `machine` (no project trust file), with its own
/// `HF_HOME` `home`.
fn run_as(
    publisher: bool,
    endpoint: &str,
    machine: &Path,
    home: &Path,
    args: &[&str],
) -> std::process::Output {
    let bin = if publisher {
        env!("CARGO_BIN_EXE_rskill-publisher")
    } else {
        env!("CARGO_BIN_EXE_rskill")
    };
    std::fs::create_dir_all(machine).unwrap();
    Command::new(bin)
        .args(args)
        .current_dir(machine)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home)
        .env("RSKILL_DATA_DIR", machine.join("data"))
        .env("HF_TOKEN_PATH", "/nonexistent")
        .env_remove("HF_TOKEN")
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("XDG_CACHE_HOME")
        .env_remove("RSKILL_GOVERNANCE_KEY")
        .env_remove("OPENRAL_REQUIRE_SIGNED_SKILLS")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn ok(what: &str, out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// End to end, with the binaries: a machine that trusts a governance key of the org
/// (`rskill trust add ORG --key PUB --role governance`) ignores an index that is
/// unsigned, signed with another key, or changed after it was signed (forged facets
/// that would change the answer): the search reads the manifests, says so on stderr and
/// prints exactly the rows it prints without an index. An index signed with the trusted
/// key is used (no manifest read), and so is the unsigned one by a machine that trusts
/// no key of the org.
#[tokio::test]
async fn a_machine_trusting_the_orgs_governance_key_uses_only_an_index_it_signed() {
    use rskill::catalog_index;
    let fx = fixture().await;
    let url = fx.url.clone();
    let work = tempfile::tempdir().unwrap();
    let publisher = work.path().join("publisher");
    let robot = work.path().join("robot");
    let untrusting = work.path().join("untrusting");
    let key = |name: &str| {
        let (k, p) = (
            work.path().join(format!("{name}.pem")),
            work.path().join(format!("{name}.pub.pem")),
        );
        let args = [
            "keygen",
            "--out",
            k.to_str().unwrap(),
            "--public",
            p.to_str().unwrap(),
        ];
        ok(
            "keygen",
            run_as(true, &url, &publisher, &publisher.join("hf"), &args),
        );
        (k, p)
    };
    let (good, good_pub) = key("governance");
    let (other, _) = key("other");
    ok(
        "trust add",
        run_as(
            false,
            &url,
            &robot,
            &robot.join("hf-trust"),
            &[
                "trust",
                "add",
                ORG,
                "--key",
                good_pub.to_str().unwrap(),
                "--role",
                "governance",
            ],
        ),
    );
    let rebuild = |key: Option<&Path>| {
        let mut args = vec!["index", "rebuild", ORG, "--token", fx.publisher.as_str()];
        if let Some(k) = key {
            args.extend(["--governance-key", k.to_str().unwrap()]);
        }
        ok(
            "index rebuild",
            run_as(true, &url, &publisher, &publisher.join("hf"), &args),
        );
    };
    // A cold search (fresh HF_HOME) as `machine`: its rows, its stderr and the manifest
    // reads (resolves of rskill.yaml are all but the index's two files).
    let runs = std::cell::Cell::new(0);
    let search = |machine: &Path| {
        runs.set(runs.get() + 1);
        let home = machine.join(format!("hf-{}", runs.get()));
        fx.hub.handle().reset_counts();
        let out = ok(
            "search",
            run_as(false, &url, machine, &home, &["search", "--json"]),
        );
        let resolves = fx.hub.handle().route_count(RouteLabel::Resolve);
        (text(&out.stdout), text(&out.stderr), resolves)
    };
    let skills = fx.skills.len() as u64;

    let (without, stderr, resolves) = search(&robot);
    assert!(!stderr.contains("catalog index"), "{stderr}");
    assert!(
        resolves >= skills,
        "no index: every manifest is read ({resolves})"
    );

    let refused = |what: &str, why: &str| {
        let (rows, stderr, resolves) = search(&robot);
        assert_eq!(rows, without, "{what}: the same rows as without an index");
        assert!(
            stderr.contains("warning: catalog index not used: rskill-project/rskill-index")
                && stderr.contains(why)
                && stderr.contains("manifests were read instead"),
            "{what}: {stderr}"
        );
        assert!(
            resolves >= skills,
            "{what}: the manifests are read ({resolves})"
        );
    };

    // Unsigned: refused by the robot, used by a machine that trusts no key of the org.
    rebuild(None);
    refused("unsigned", "rskill-index.sig");
    let (rows, stderr, resolves) = search(&untrusting);
    assert_eq!(rows, without);
    assert!(!stderr.contains("catalog index"), "{stderr}");
    assert!(
        resolves <= 2,
        "the unsigned index serves an untrusting machine ({resolves})"
    );

    // Signed with a key the robot does not trust.
    rebuild(Some(&other));
    refused("signed with another key", "which is not trusted");

    // Signed with the trusted key: used, no manifest read.
    rebuild(Some(&good));
    let (rows, stderr, resolves) = search(&robot);
    assert_eq!(rows, without, "signed with the trusted key");
    assert!(!stderr.contains("catalog index"), "{stderr}");
    assert!(
        resolves <= 2,
        "the signed index is used: index file and signature only ({resolves})"
    );

    // The signed index changed afterwards (forged facets, the signature kept).
    let index_repo: RepoId = format!("{ORG}/rskill-index").parse().unwrap();
    let signed = fx
        .client
        .read_file(&index_repo, "main", catalog_index::INDEX_FILE)
        .await
        .unwrap();
    let mut forged: catalog_index::IndexFile = serde_json::from_slice(&signed).unwrap();
    for e in forged.skills.values_mut() {
        e.facets.kind = Kind::Detector;
        e.facets.description = "forged after signing".into();
    }
    commit(
        &fx.client,
        &index_repo,
        &[(
            catalog_index::INDEX_FILE,
            serde_json::to_vec(&forged).unwrap(),
        )],
    )
    .await;
    refused("changed after signing", "SHA-256");
}
