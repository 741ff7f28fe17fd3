//! rskill against the Hub as it behaves under load (issue 25): `rskill-hub` behind the
//! `hf_proxy` of test-support, which counts fixed-window quotas per bucket, answers 429
//! with `RateLimit` headers and no `Retry-After`, draws 503s, pages listings by cursor
//! and redirects LFS resolves to a store that refuses `Authorization`. The proxy itself
//! is checked first; then the client's waiting, the cold search's exact answer, and the
//! rule that a missing manifest fails a search instead of shortening it.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rskill::search::{self, SearchQuery};
use rskill_hub_client::ratelimit::{Pacer, Wait, WaitReporter};
use rskill_hub_client::{HubClient, HubEnv};
use rskill_manifest::manifest::EmbodimentTag;
use rskill_test_support::hf_proxy::{Behaviour, HfProxy, Quotas};
use rskill_test_support::test_hub::TestHub;

const ORG: &str = "load";

fn env(endpoint: &str, home: &Path) -> HubEnv {
    HubEnv {
        endpoint: endpoint.to_string(),
        token: None,
        hf_home: home.to_path_buf(),
        hub_cache: home.join("hub"),
        offline: false,
        disable_progress_bars: true,
        download_timeout: Duration::from_secs(10),
    }
}

/// Records every wait the client reports.
#[derive(Default)]
struct Waits(Mutex<Vec<Wait>>);

impl WaitReporter for Waits {
    fn waiting(&self, wait: &Wait) {
        self.0.lock().unwrap().push(wait.clone());
    }
}

/// A hub holding `count` generated public skills under `load/`; how many match
/// `--embodiment franka_panda`.
fn hub_with_catalog(count: usize) -> (TestHub, usize) {
    let mut hub = TestHub::start();
    let mut franka = 0;
    hub.while_stopped(|dir| {
        franka = rskill_test_support::generated_catalog::seed(
            dir,
            count,
            ORG,
            &rskill_test_support::paths::corpus_dir(),
        )
        .unwrap();
    });
    (hub, franka)
}

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_counts_quotas_pages_by_cursor_and_redirects_to_a_store() {
    let (hub, _) = hub_with_catalog(12);
    let proxy = HfProxy::start(
        &hub.url(),
        Behaviour {
            quotas: Quotas {
                api: 2,
                ..Quotas::unlimited()
            },
            page_size: 5,
            ..Behaviour::default()
        },
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let info = format!("{}/api/models/{ORG}/rskill-x", proxy.url());
    let first = http.get(&info).send().await.unwrap();
    let rl = header(&first, "ratelimit").unwrap();
    assert!(rl.starts_with("\"api\";r=1;t="), "{rl}");
    assert_eq!(
        header(&first, "ratelimit-policy").unwrap(),
        "\"fixed window\";\"api\";q=2;w=300"
    );
    http.get(&info).send().await.unwrap();
    let over = http.get(&info).send().await.unwrap();
    assert_eq!(over.status(), 429);
    assert!(
        header(&over, "ratelimit")
            .unwrap()
            .starts_with("\"api\";r=0;t=")
    );
    assert_eq!(header(&over, "retry-after"), None, "the Hub sends none");
    assert_eq!(proxy.counters.too_many.load(Ordering::SeqCst), 1);

    // Listings: 12 repos in pages of 5 behind opaque cursors.
    let mut next = Some(format!("{}/api/models?author={ORG}", proxy.url()));
    let mut seen = Vec::new();
    while let Some(url) = next.take() {
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        next = header(&r, "link").and_then(|l| rskill_hub_client::listing::next_link(&l));
        if let Some(n) = &next {
            assert!(n.starts_with(&proxy.url()) && n.contains("cursor="), "{n}");
        }
        let page: Vec<serde_json::Value> = r.json().await.unwrap();
        assert!(page.len() <= 5);
        seen.extend(page);
    }
    assert_eq!(seen.len(), 12);
    assert_eq!(proxy.counters.pages.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_without_retry_after_is_waited_out_for_t_plus_one_seconds() {
    let (hub, _) = hub_with_catalog(3);
    let window = Duration::from_secs(3);
    let proxy = HfProxy::start(
        &hub.url(),
        Behaviour {
            quotas: Quotas {
                api: 2,
                window,
                ..Quotas::unlimited()
            },
            ..Behaviour::default()
        },
    );
    let home = tempfile::tempdir().unwrap();
    let waits = Arc::new(Waits::default());
    let client = HubClient::new(env(&proxy.url(), home.path()))
        .unwrap()
        .with_pacer(Pacer::new(Duration::from_secs(60), Some(waits.clone())));
    // Another caller behind the same address spends the window's quota.
    let http = reqwest::Client::new();
    for _ in 0..2 {
        http.get(format!("{}/api/models/{ORG}/none", proxy.url()))
            .send()
            .await
            .unwrap();
    }
    let repo = format!("{ORG}/rskill-{}-00000", first_slug())
        .parse()
        .unwrap();
    let started = Instant::now();
    let info = client.repo_info(&repo, None).await.unwrap();
    let took = started.elapsed();
    assert_eq!(info.id, repo.to_string());
    assert_eq!(
        proxy.counters.too_many.load(Ordering::SeqCst),
        1,
        "one 429, then a wait for the window instead of hammering it"
    );
    let seen = waits.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(
        seen[0]
            .to_string()
            .starts_with("rate limited by the Hub, waiting "),
        "{}",
        seen[0]
    );
    assert!(
        seen[0].to_string().ends_with("(api quota, 2 per 3 s)"),
        "{}",
        seen[0]
    );
    // The wait is t+1 s, t being what was left of the 3 s window: at least 1 s.
    assert!(took >= Duration::from_secs(1), "{took:?}");
    assert!(took < window + Duration::from_secs(3), "{took:?}");
}

/// The first corpus template's slug (what generated skill 0 is named after).
fn first_slug() -> String {
    let mut dirs: Vec<_> = std::fs::read_dir(rskill_test_support::paths::corpus_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("rskill.yaml").is_file())
        .collect();
    dirs.sort();
    dirs[0].file_name().unwrap().to_string_lossy().into_owned()
}

fn franka() -> SearchQuery {
    SearchQuery {
        embodiments: vec![EmbodimentTag::FrankaPanda],
        ..SearchQuery::default()
    }
}

fn hit_ids(o: &search::SearchOutcome) -> Vec<String> {
    o.hits.iter().map(|h| h.repo_id.clone()).collect()
}

/// A cold search of 240 skills through 60 resolvers per 3 s, 3% 503s and pages of 25.
fn loaded(hub: &TestHub) -> HfProxy {
    HfProxy::start(
        &hub.url(),
        Behaviour {
            quotas: Quotas {
                api: 60,
                resolvers: 60,
                pages: 4,
                window: Duration::from_secs(3),
            },
            unavailable_share: 0.03,
            seed: 25,
            page_size: 25,
            ..Behaviour::default()
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_search_under_quota_and_503s_returns_exactly_the_direct_answer() {
    let (hub, franka_count) = hub_with_catalog(240);
    let direct_home = tempfile::tempdir().unwrap();
    let direct = search::search(
        &HubClient::new(env(&hub.url(), direct_home.path())).unwrap(),
        &franka(),
    )
    .await
    .unwrap();
    assert_eq!(direct.hits.len(), franka_count);
    assert!(direct.missing.is_empty());

    let proxy = loaded(&hub);
    let home = tempfile::tempdir().unwrap();
    let waits = Arc::new(Waits::default());
    let client = HubClient::new(env(&proxy.url(), home.path()))
        .unwrap()
        .with_pacer(Pacer::new(Duration::from_secs(120), Some(waits.clone())));
    let through = search::search(&client, &franka()).await.unwrap();
    assert!(through.missing.is_empty(), "{:?}", through.missing);
    assert_eq!(hit_ids(&through), hit_ids(&direct));
    assert_eq!(through.skipped.len(), direct.skipped.len());
    let c = &proxy.counters;
    eprintln!(
        "429s {}, 503s {}, pages {}, requests {}",
        c.too_many.load(Ordering::SeqCst),
        c.unavailable.load(Ordering::SeqCst),
        c.pages.load(Ordering::SeqCst),
        c.requests.load(Ordering::SeqCst)
    );
    assert!(c.unavailable.load(Ordering::SeqCst) > 0, "503s were drawn");
    assert!(c.pages.load(Ordering::SeqCst) >= 10, "paged by cursor");
    assert!(
        !waits.0.lock().unwrap().is_empty(),
        "the windows were waited for"
    );
}
