//! `rskill-hub` driven by the official Rust client, `hf-hub`: create repos, upload small
//! and multi-MB files, list with filters (following `Link` pages), download into the
//! standard cache layout, tags and branches, private visibility and token rights.

use futures_util::StreamExt;
use hf_hub::repository::{AddSource, RepoTreeEntry};
use hf_hub::{HFClient, HFError, RepoTypeDataset, RepoTypeModel};
use rskill_hub::catalog::{Catalog, CommitOp, CommitRequest, Content};
use rskill_hub::{RepoId, RepoKind, Store, StoreOptions};
use rskill_test_support::test_hub::{TestHub, card, noise, sha256_hex};

fn client(hub: &TestHub, token: &str, cache: &std::path::Path) -> HFClient {
    HFClient::builder()
        .endpoint(hub.url())
        .token(token)
        .cache_dir(cache)
        .retry_max_attempts(0)
        .build()
        .unwrap()
}

async fn list(
    client: &HFClient,
    author: Option<&str>,
    filter: Option<&str>,
    search: Option<&str>,
) -> Vec<String> {
    let stream = client
        .list_models()
        .maybe_author(author)
        .maybe_filter(filter)
        .maybe_search(search)
        .send()
        .unwrap();
    futures_util::pin_mut!(stream);
    let mut ids = Vec::new();
    while let Some(m) = stream.next().await {
        ids.push(m.unwrap().id);
    }
    ids
}

fn write(dir: &std::path::Path, rel: &str, bytes: &[u8]) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

#[tokio::test]
async fn upload_list_and_download_into_the_standard_cache() {
    let hub = TestHub::start();
    let cache = tempfile::tempdir().unwrap();
    let alice = client(&hub, &hub.alice, cache.path());
    let url = alice
        .create_repository()
        .repo_id("acme/skill-a")
        .repo_type(RepoTypeModel)
        .send()
        .await
        .unwrap();
    assert_eq!(url.url, format!("{}/acme/skill-a", hub.url()));

    let folder = tempfile::tempdir().unwrap();
    let readme = card(&["rskill", "kind:vla", "embodiment:franka_panda"]);
    let weights = noise(3 * 1024 * 1024, 1);
    let big = noise(12 * 1024 * 1024, 2);
    write(folder.path(), "README.md", &readme);
    write(folder.path(), "rskill.yaml", b"name: acme/skill-a\n");
    write(folder.path(), "eval/libero.json", b"{\"success\": 0.9}\n");
    write(folder.path(), "model.safetensors", &weights);
    write(folder.path(), "big.dat", &big);
    let repo = alice.model("acme", "skill-a");
    let commit = repo
        .upload_folder()
        .folder_path(folder.path())
        .commit_message("Upload skill")
        .send()
        .await
        .unwrap();
    let sha = commit.commit_oid.unwrap();
    assert_eq!(sha.len(), 40);
    // hf-hub 1.0 asks the LFS batch API (preupload said `lfs` for the two LFS files),
    // uploads LFS files only by Xet, which this server does not offer (`transfer` is
    // `basic`), and so falls back to inline lines: one batch call, no PUT.
    let counts = hub.handle().requests();
    assert_eq!(
        (counts.get("preupload"), counts.get("lfs")),
        (1, 1),
        "{counts:?}"
    );

    // Repo info: sha, tags from the card, siblings with sizes and LFS data.
    let info = repo.info().send().await.unwrap();
    assert_eq!(info.sha.as_deref(), Some(sha.as_str()));
    assert_eq!(
        info.tags.unwrap(),
        vec!["rskill", "kind:vla", "embodiment:franka_panda"]
    );
    assert_eq!(info.card_data.unwrap()["license"], "mit");
    let siblings = info.siblings.unwrap();
    let names: Vec<&str> = siblings.iter().map(|s| s.rfilename.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "README.md",
            "big.dat",
            "eval/libero.json",
            "model.safetensors",
            "rskill.yaml"
        ]
    );
    for s in &siblings {
        match s.rfilename.as_str() {
            "model.safetensors" => {
                assert_eq!(s.size, Some(weights.len() as u64));
                assert_eq!(
                    s.lfs.as_ref().unwrap().sha256.as_deref(),
                    Some(sha256_hex(&weights).as_str())
                );
            }
            "big.dat" => assert_eq!(
                s.lfs.as_ref().unwrap().size,
                Some(big.len() as u64),
                "LFS by size"
            ),
            _ => assert!(s.lfs.is_none(), "{} is a regular file", s.rfilename),
        }
    }

    // Listing with a filter, an author and a search.
    assert_eq!(
        list(&alice, Some("acme"), Some("kind:vla"), Some("SKILL")).await,
        vec!["acme/skill-a"]
    );
    assert!(list(&alice, None, Some("kind:wam"), None).await.is_empty());
    assert!(list(&alice, Some("other"), None, None).await.is_empty());

    // Downloads land in the standard cache layout; LFS blobs are named by SHA-256.
    let path = repo
        .download_file()
        .filename("model.safetensors")
        .send()
        .await
        .unwrap();
    let folder_name = cache.path().join("models--acme--skill-a");
    assert_eq!(
        path,
        folder_name
            .join("snapshots")
            .join(&sha)
            .join("model.safetensors")
    );
    assert_eq!(std::fs::read(&path).unwrap(), weights);
    let target = std::fs::read_link(&path).unwrap();
    assert_eq!(
        target.file_name().unwrap().to_str().unwrap(),
        sha256_hex(&weights)
    );
    assert_eq!(
        std::fs::read_to_string(folder_name.join("refs/main"))
            .unwrap()
            .trim(),
        sha
    );
    let readme_path = repo
        .download_file()
        .filename("README.md")
        .send()
        .await
        .unwrap();
    let readme_blob = std::fs::read_link(&readme_path).unwrap();
    assert_eq!(
        readme_blob.file_name().unwrap().to_str().unwrap(),
        rskill_hub::objects::git_blob_id(&readme)
    );

    // A warm download is one conditional HEAD, and no body.
    let before = hub.handle().requests();
    repo.download_file()
        .filename("model.safetensors")
        .send()
        .await
        .unwrap();
    let delta = hub.handle().requests().since(&before);
    assert_eq!((delta.total, delta.get("resolve")), (1, 1));

    // Ranges and snapshots.
    let bytes = repo
        .download_file_to_bytes()
        .filename("big.dat")
        .range(1_000_000..1_000_100)
        .send()
        .await
        .unwrap();
    assert_eq!(&bytes[..], &big[1_000_000..1_000_100]);
    let snapshot = repo.snapshot_download().send().await.unwrap();
    assert_eq!(
        std::fs::read(snapshot.join("eval/libero.json")).unwrap(),
        b"{\"success\": 0.9}\n"
    );
    assert_eq!(std::fs::read(snapshot.join("big.dat")).unwrap(), big);

    // Small uploads on a parent commit, tree and paths-info.
    repo.upload_file()
        .source(AddSource::bytes(b"{\"extra\": true}".to_vec()))
        .path_in_repo("eval/extra.json")
        .parent_commit(sha.clone())
        .send()
        .await
        .unwrap();
    let stale = repo
        .upload_file()
        .source(AddSource::bytes(b"x".to_vec()))
        .path_in_repo("x.txt")
        .parent_commit(sha.clone())
        .send()
        .await;
    assert!(stale.is_err(), "a stale parent commit is refused");
    let stream = repo.list_tree().recursive(true).send().unwrap();
    futures_util::pin_mut!(stream);
    let mut paths = Vec::new();
    while let Some(e) = stream.next().await {
        match e.unwrap() {
            RepoTreeEntry::File { path, .. } => paths.push(path),
            RepoTreeEntry::Directory { path, .. } => paths.push(format!("{path}/")),
        }
    }
    assert_eq!(
        paths,
        vec![
            "README.md",
            "big.dat",
            "eval/",
            "eval/extra.json",
            "eval/libero.json",
            "model.safetensors",
            "rskill.yaml"
        ]
    );
    let infos = repo
        .get_paths_info()
        .paths(vec!["README.md".into(), "eval".into(), "nope".into()])
        .send()
        .await
        .unwrap();
    assert_eq!(infos.len(), 2);

    // Datasets work the same way.
    alice
        .create_repository()
        .repo_id("acme/demos")
        .repo_type(RepoTypeDataset)
        .send()
        .await
        .unwrap();
    let ds = alice.dataset("acme", "demos");
    ds.upload_file()
        .source(AddSource::bytes(b"a,b\n".to_vec()))
        .path_in_repo("train.csv")
        .send()
        .await
        .unwrap();
    let p = ds
        .download_file()
        .filename("train.csv")
        .send()
        .await
        .unwrap();
    assert!(p.starts_with(cache.path().join("datasets--acme--demos")));
    assert_eq!(std::fs::read(p).unwrap(), b"a,b\n");
}

#[tokio::test]
async fn tags_branches_and_revisions() {
    let hub = TestHub::start();
    let cache = tempfile::tempdir().unwrap();
    let alice = client(&hub, &hub.alice, cache.path());
    alice
        .create_repository()
        .repo_id("acme/versions")
        .repo_type(RepoTypeModel)
        .send()
        .await
        .unwrap();
    let repo = alice.model("acme", "versions");
    let up = |text: &'static str, revision: Option<&'static str>| {
        let repo = repo.clone();
        async move {
            repo.upload_file()
                .source(AddSource::bytes(text.as_bytes().to_vec()))
                .path_in_repo("notes.txt")
                .maybe_revision(revision)
                .send()
                .await
                .unwrap()
                .commit_oid
                .unwrap()
        }
    };
    let v1 = up("one", None).await;
    repo.create_tag()
        .tag("first")
        .message("first")
        .send()
        .await
        .unwrap();
    let refs = repo.list_refs().send().await.unwrap();
    assert_eq!(refs.tags[0].name, "first");
    assert_eq!(refs.tags[0].target_commit, v1);
    assert_eq!(refs.branches[0].git_ref, "refs/heads/main");
    let dup = repo.create_tag().tag("first").send().await;
    assert!(matches!(dup, Err(HFError::Conflict { .. })));

    let v2 = up("two", None).await;
    let read = |rev: &'static str| {
        let repo = repo.clone();
        async move {
            let p = repo
                .download_file()
                .filename("notes.txt")
                .revision(rev)
                .send()
                .await
                .unwrap();
            std::fs::read_to_string(p).unwrap()
        }
    };
    assert_eq!(read("first").await, "one");
    assert_eq!(read("main").await, "two");
    assert_eq!(
        repo.info()
            .revision("first")
            .send()
            .await
            .unwrap()
            .sha
            .unwrap(),
        v1
    );

    repo.create_branch()
        .branch("dev")
        .revision("first")
        .send()
        .await
        .unwrap();
    let dev = up("three", Some("dev")).await;
    assert_eq!(read("dev").await, "three");
    assert_eq!(read("main").await, "two");
    let history = repo.list_commits().revision("dev").send().unwrap();
    futures_util::pin_mut!(history);
    let mut ids = Vec::new();
    while let Some(c) = history.next().await {
        ids.push(c.unwrap().id);
    }
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[..2], [dev.clone(), v1.clone()]);
    assert!(!ids.contains(&v2));

    repo.delete_tag().tag("first").send().await.unwrap();
    repo.delete_branch().branch("dev").send().await.unwrap();
    assert!(matches!(
        repo.info().revision("first").send().await,
        Err(HFError::RevisionNotFound { .. })
    ));
    assert!(!repo.revision_exists().revision("dev").send().await.unwrap());
    assert!(repo.delete_branch().branch("main").send().await.is_err());
}

#[tokio::test]
async fn private_visibility_and_token_rights() {
    let hub = TestHub::start();
    let cache = tempfile::tempdir().unwrap();
    let alice = client(&hub, &hub.alice, cache.path());
    let bob = client(&hub, &hub.bob, cache.path());
    let carol = client(&hub, &hub.carol, cache.path());
    alice
        .create_repository()
        .repo_id("acme/secret")
        .repo_type(RepoTypeModel)
        .private(true)
        .send()
        .await
        .unwrap();
    let secret = alice.model("acme", "secret");
    secret
        .upload_file()
        .source(AddSource::bytes(card(&["rskill"])))
        .path_in_repo("README.md")
        .send()
        .await
        .unwrap();

    // A non-member cannot see it: not by info, listing, existence or download.
    let theirs = carol.model("acme", "secret");
    assert!(matches!(
        theirs.info().send().await,
        Err(HFError::RepoNotFound { .. })
    ));
    assert!(!theirs.exists().send().await.unwrap());
    assert!(
        theirs
            .download_file()
            .filename("README.md")
            .send()
            .await
            .is_err()
    );
    assert!(list(&carol, Some("acme"), None, None).await.is_empty());
    assert!(matches!(
        carol
            .create_repository()
            .repo_id("acme/intruder")
            .repo_type(RepoTypeModel)
            .send()
            .await,
        Err(HFError::Forbidden { .. })
    ));

    // A read-only member sees it but cannot write.
    let member = bob.model("acme", "secret");
    assert!(member.info().send().await.unwrap().private.unwrap());
    assert_eq!(
        list(&bob, Some("acme"), Some("rskill"), None).await,
        vec!["acme/secret"]
    );
    let p = member
        .download_file()
        .filename("README.md")
        .send()
        .await
        .unwrap();
    assert_eq!(std::fs::read(p).unwrap(), card(&["rskill"]));
    let refused = member
        .upload_file()
        .source(AddSource::bytes(b"x".to_vec()))
        .path_in_repo("x")
        .send()
        .await;
    assert!(
        matches!(refused, Err(HFError::Forbidden { .. })),
        "{refused:?}"
    );
    assert_eq!(bob.whoami().send().await.unwrap().username, "bob");

    // Once public, everyone sees it.
    secret
        .update_settings()
        .private(false)
        .send()
        .await
        .unwrap();
    assert!(!theirs.info().send().await.unwrap().private.unwrap());
    assert_eq!(
        list(&carol, Some("acme"), None, None).await,
        vec!["acme/secret"]
    );
}

#[tokio::test]
async fn listings_follow_link_pages() {
    let mut hub = TestHub::start();
    hub.while_stopped(|dir| {
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
        for i in 0..1001 {
            let id = RepoId::parse(&format!("fleet/skill-{i:04}")).unwrap();
            catalog
                .create_repo(RepoKind::Model, &id, false, "seed")
                .unwrap();
            let readme = catalog
                .store()
                .stage_bytes(&card(&["rskill", if i % 2 == 0 { "even" } else { "odd" }]))
                .unwrap();
            let request = CommitRequest {
                branch: "main".into(),
                parent: None,
                author: "seed".into(),
                summary: "seed".into(),
                description: String::new(),
                ops: vec![CommitOp::Put {
                    path: "README.md".into(),
                    content: Content::Staged(readme),
                }],
            };
            catalog.apply_commit(RepoKind::Model, &id, request).unwrap();
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let bob = client(&hub, &hub.bob, cache.path());
    hub.handle().reset_counts();
    let all = list(&bob, None, Some("rskill"), None).await;
    assert_eq!(all.len(), 1001);
    assert_eq!(all.first().map(String::as_str), Some("fleet/skill-0000"));
    assert_eq!(all.last().map(String::as_str), Some("fleet/skill-1000"));
    let counts = hub.handle().requests();
    assert_eq!(
        (counts.total, counts.get("list")),
        (2, 2),
        "1000 per page, one request per page"
    );
    assert_eq!(
        list(&bob, None, Some("even"), Some("skill-09")).await.len(),
        50
    );
}
