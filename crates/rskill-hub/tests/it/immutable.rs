//! Releases and governance history against a token that may only write: moving or
//! deleting a `v…` tag, deleting a repo that holds `rskill.registry.json` or releases, and
//! rewriting `main` through every route that could. For each: the write token is refused
//! (403 `ManageRightRequired` naming what and how to get the right) and nothing changed;
//! the manage token may (where anyone may). Skill repos and group repos alike.

use reqwest::{Method, StatusCode};
use rskill_hub::tokens::{Rights, create_with};
use rskill_test_support::test_hub::{TestHub, ndjson};
use serde_json::{Value, json};

/// A skill repo and a group repo (`ORG/rskill-group-NAME`, published the same way).
const REPOS: [&str; 2] = ["acme/rskill-arm", "acme/rskill-group-kitchen"];

struct Api {
    url: String,
    http: reqwest::Client,
}

/// Status, `X-Error-Code`, and the `error` message (or the whole body when it has none).
type Answer = (StatusCode, String, String);

impl Api {
    fn new(hub: &TestHub) -> Self {
        Api {
            url: hub.url(),
            http: reqwest::Client::new(),
        }
    }

    async fn send(&self, method: Method, token: &str, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let code = r
            .headers()
            .get("x-error-code")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = r.text().await.unwrap();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_owned))
            .unwrap_or(text);
        (status, code, message)
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.unwrap()
    }

    async fn commit(&self, token: &str, repo: &str, body: String) -> Answer {
        let r = self
            .http
            .post(format!("{}/api/models/{repo}/commit/main", self.url))
            .bearer_auth(token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let code = r
            .headers()
            .get("x-error-code")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body: Value = r.json().await.unwrap();
        let id = body["commitOid"].as_str().unwrap_or_default().to_owned();
        let message = body["error"].as_str().map_or(id, str::to_owned);
        (status, code, message)
    }

    /// `{tag name: commit}` and `{branch name: commit}`.
    async fn refs(&self, repo: &str) -> (Value, Value) {
        let refs = self.get(&format!("/api/models/{repo}/refs")).await;
        let map = |k: &str| {
            Value::Object(
                refs[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| {
                        (
                            r["name"].as_str().unwrap().to_owned(),
                            r["targetCommit"].clone(),
                        )
                    })
                    .collect(),
            )
        };
        (map("tags"), map("branches"))
    }

    /// The commit ids of `main`'s history, newest first.
    async fn history(&self, repo: &str) -> Vec<String> {
        let list = self.get(&format!("/api/models/{repo}/commits/main")).await;
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn manager(hub: &TestHub) -> String {
    let rights = Rights {
        write: true,
        manage: true,
    };
    create_with(hub.dir.path(), "maria", &["acme".into()], rights).unwrap()
}

/// Checks a refusal for want of the manage right, naming `what`.
#[track_caller]
fn needs_manage((status, code, message): &Answer, what: &str) {
    assert_eq!(
        (*status, code.as_str()),
        (StatusCode::FORBIDDEN, "ManageRightRequired"),
        "{message}"
    );
    for part in [
        what,
        "manage right",
        "alice",
        "rskill-hub token create",
        "--manage",
    ] {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
}

/// Creates `repo` with two commits on `main` by `token`; returns them, oldest first.
async fn two_commits(api: &Api, token: &str, repo: &str) -> (String, String) {
    let (org, name) = repo.split_once('/').unwrap();
    let r = api
        .send(
            Method::POST,
            token,
            "/api/repos/create",
            Some(json!({ "name": name, "organization": org })),
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{r:?}");
    let one = api
        .commit(token, repo, ndjson("one", None, &[("a.txt", b"1")], &[]))
        .await;
    let two = api
        .commit(token, repo, ndjson("two", None, &[("a.txt", b"2")], &[]))
        .await;
    assert_eq!((one.0, two.0), (StatusCode::OK, StatusCode::OK));
    (one.2, two.2)
}

#[tokio::test]
async fn release_tags_are_moved_or_deleted_only_with_the_manage_right() {
    let hub = TestHub::start();
    let maria = manager(&hub);
    let alice = hub.alice.clone();
    let api = Api::new(&hub);
    for repo in REPOS {
        let (c1, c2) = two_commits(&api, &alice, repo).await;
        let tag_at = |commit: &str, tag: &str| {
            (
                format!("/api/models/{repo}/tag/{commit}"),
                json!({ "tag": tag }),
            )
        };
        // A new release tag is a plain write (the publisher tags v<version> so).
        let (path, body) = tag_at(&c1, "v1.0.0");
        let r = api.send(Method::POST, &alice, &path, Some(body)).await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");
        let before = api.refs(repo).await;
        assert_eq!(before.0["v1.0.0"], c1.as_str());

        // Deleting it, or creating it over another commit, is refused to a write token.
        let delete = format!("/api/models/{repo}/tag/v1.0.0");
        needs_manage(
            &api.send(Method::DELETE, &alice, &delete, None).await,
            "deleting release tag `v1.0.0`",
        );
        let (path, body) = tag_at(&c2, "v1.0.0");
        needs_manage(
            &api.send(Method::POST, &alice, &path, Some(body.clone()))
                .await,
            "moving release tag `v1.0.0`",
        );
        assert_eq!(api.refs(repo).await, before, "{repo}: nothing moved");
        // Re-creating it where it is moves nothing: the usual conflict (`exist_ok`).
        let (same, same_body) = tag_at(&c1, "v1.0.0");
        let r = api.send(Method::POST, &alice, &same, Some(same_body)).await;
        assert_eq!((r.0, r.1.as_str()), (StatusCode::CONFLICT, "RefExists"));

        // Other tags stay plain writes.
        let (path, b) = tag_at(&c1, "candidate");
        assert_eq!(
            api.send(Method::POST, &alice, &path, Some(b)).await.0,
            StatusCode::OK
        );
        let r = api
            .send(
                Method::DELETE,
                &alice,
                &format!("/api/models/{repo}/tag/candidate"),
                None,
            )
            .await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");

        // The manage token moves it: never by overwriting, by delete and create.
        let r = api
            .send(
                Method::POST,
                &maria,
                &path_of(&c2, repo),
                Some(body.clone()),
            )
            .await;
        assert_eq!((r.0, r.1.as_str()), (StatusCode::CONFLICT, "RefExists"));
        let r = api.send(Method::DELETE, &maria, &delete, None).await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");
        let r = api
            .send(Method::POST, &maria, &path_of(&c2, repo), Some(body))
            .await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");
        assert_eq!(api.refs(repo).await.0["v1.0.0"], c2.as_str());
    }
}

fn path_of(commit: &str, repo: &str) -> String {
    format!("/api/models/{repo}/tag/{commit}")
}

#[tokio::test]
async fn repos_with_governance_or_releases_are_deleted_only_with_the_manage_right() {
    let hub = TestHub::start();
    let maria = manager(&hub);
    let alice = hub.alice.clone();
    let api = Api::new(&hub);
    let registry = rskill_hub_protocol::REGISTRY_FILE;
    let delete = |repo: &str| {
        let (org, name) = repo.split_once('/').unwrap();
        json!({ "name": name, "organization": org, "type": "model" })
    };
    for repo in REPOS {
        // Governed: main holds the registry (committed by the manager).
        two_commits(&api, &alice, repo).await;
        let r = api
            .commit(&maria, repo, ndjson("gov", None, &[(registry, b"{}")], &[]))
            .await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");
        let refs = api.refs(repo).await;
        let history = api.history(repo).await;
        let r = api
            .send(
                Method::DELETE,
                &alice,
                "/api/repos/delete",
                Some(delete(repo)),
            )
            .await;
        needs_manage(&r, &format!("deleting {repo}, which holds {registry}"));
        assert_eq!(api.refs(repo).await, refs, "{repo} still there");
        assert_eq!(api.history(repo).await, history, "{repo} keeps its history");
        // And so it cannot be re-created from the signed files.
        let (org, name) = repo.split_once('/').unwrap();
        let r = api
            .send(
                Method::POST,
                &alice,
                "/api/repos/create",
                Some(json!({ "name": name, "organization": org })),
            )
            .await;
        assert_eq!((r.0, r.1.as_str()), (StatusCode::CONFLICT, "RepoExists"));
        let r = api
            .send(
                Method::DELETE,
                &maria,
                "/api/repos/delete",
                Some(delete(repo)),
            )
            .await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");

        // Released but not (yet) governed: its tags would go with it.
        let (c1, _) = two_commits(&api, &alice, repo).await;
        let r = api
            .send(
                Method::POST,
                &alice,
                &path_of(&c1, repo),
                Some(json!({ "tag": "v0.1.0" })),
            )
            .await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");
        let refs = api.refs(repo).await;
        let r = api
            .send(
                Method::DELETE,
                &alice,
                "/api/repos/delete",
                Some(delete(repo)),
            )
            .await;
        needs_manage(&r, "release tags v0.1.0");
        assert_eq!(api.refs(repo).await, refs);
        let r = api
            .send(
                Method::DELETE,
                &maria,
                "/api/repos/delete",
                Some(delete(repo)),
            )
            .await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");
    }
    // A repo with neither (a scratch repo, a non-release tag) stays a plain write.
    let (c1, _) = two_commits(&api, &alice, "acme/scratch").await;
    let r = api
        .send(
            Method::POST,
            &alice,
            &path_of(&c1, "acme/scratch"),
            Some(json!({ "tag": "candidate" })),
        )
        .await;
    assert_eq!(r.0, StatusCode::OK);
    let r = api
        .send(
            Method::DELETE,
            &alice,
            "/api/repos/delete",
            Some(delete("acme/scratch")),
        )
        .await;
    assert_eq!(r.0, StatusCode::OK, "{r:?}");
}

#[tokio::test]
async fn main_is_rewritten_through_no_route() {
    let hub = TestHub::start();
    let maria = manager(&hub);
    let alice = hub.alice.clone();
    let api = Api::new(&hub);
    for repo in REPOS {
        let (c1, c2) = two_commits(&api, &alice, repo).await;
        let history = api.history(repo).await;
        assert_eq!(history[..2], [c2.clone(), c1.clone()]);
        let branch = format!("/api/models/{repo}/branch/main");
        for token in [&alice, &maria] {
            // Delete main, or create it again over its head, at an older commit.
            let r = api.send(Method::DELETE, token, &branch, None).await;
            assert!(r.0.is_client_error(), "{r:?}");
            let r = api
                .send(
                    Method::POST,
                    token,
                    &branch,
                    Some(json!({ "startingPoint": c1 })),
                )
                .await;
            assert_eq!((r.0, r.1.as_str()), (StatusCode::CONFLICT, "RefExists"));
            // A commit whose parent is not the head.
            let r = api
                .commit(
                    token,
                    repo,
                    ndjson("back", Some(&c1), &[("a.txt", b"1")], &[]),
                )
                .await;
            assert_eq!(
                (r.0, r.1.as_str()),
                (StatusCode::PRECONDITION_FAILED, "ParentCommitMismatch"),
                "{r:?}"
            );
            // Squash, reset and move have no route here.
            for (method, path, body) in [
                (
                    Method::POST,
                    format!("/api/models/{repo}/super-squash/main"),
                    json!({"message": "squash"}),
                ),
                (
                    Method::POST,
                    format!("/api/models/{repo}/reset/main"),
                    json!({"sha": c1}),
                ),
                (
                    Method::POST,
                    "/api/repos/move".to_owned(),
                    json!({"fromRepo": repo, "toRepo": "acme/elsewhere", "type": "model"}),
                ),
            ] {
                let r = api.send(method, token, &path, Some(body)).await;
                assert_eq!(
                    (r.0, r.1.as_str()),
                    (StatusCode::NOT_FOUND, "NotFound"),
                    "{path}"
                );
            }
            assert_eq!(api.history(repo).await, history, "{repo}: main as it was");
        }
        // An ordinary commit on top of main stays a plain write.
        let r = api
            .commit(
                &alice,
                repo,
                ndjson("three", Some(&c2), &[("a.txt", b"3")], &[]),
            )
            .await;
        assert_eq!(r.0, StatusCode::OK, "{r:?}");
        assert_eq!(api.history(repo).await[1..], history[..]);
    }
}
