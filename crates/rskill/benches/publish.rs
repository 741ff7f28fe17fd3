//! Publishing the whole corpus (21 skills) to an in-process `rskill-hub`: the wall time
//! of a first publish (plan + private repo + one commit + read-back verification + the
//! `v<version>` tag, per skill; median of 3 fresh servers), then a republish of the
//! unchanged corpus, which must make zero commits and upload zero bytes (checked on the
//! outcomes and on the server's route counters).
//!
//! Run: `cargo bench --bench publish`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rskill::publish::{self, Outcome, Plan, PublishOptions, PublishStatus};
use rskill_hub::{Config, RouteLabel};
use rskill_hub_client::{HubClient, HubEnv, Token, TokenSource};

// The same allocator as the binaries, so the figures are theirs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUNDS: usize = 3;
const ORG: &str = "rskill-project";

struct Round {
    plan: Duration,
    publish: Duration,
    republish: Duration,
    republish_requests: u64,
    skills: usize,
    files: usize,
    bytes: u64,
}

fn main() {
    let corpus = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../rskills"));
    let manifests = rskill_manifest::corpus::discover(corpus).expect("corpus");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let opts = PublishOptions::default();
    let mut rounds: Vec<Round> = (0..ROUNDS)
        .map(|_| round(&runtime, &manifests, &opts))
        .collect();

    let r = &rounds[0];
    println!(
        "corpus: {} skills, {} files, {} bytes; concurrency {}; durable server writes",
        r.skills, r.files, r.bytes, opts.concurrency
    );
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "round {}: plan {:>7.1} ms  publish {:>7.1} ms  republish {:>6.1} ms ({} requests, 0 commits, 0 bytes)",
            i + 1,
            ms(r.plan),
            ms(r.publish),
            ms(r.republish),
            r.republish_requests
        );
    }
    let median = |f: fn(&Round) -> Duration, rounds: &mut Vec<Round>| {
        rounds.sort_by_key(f);
        f(&rounds[rounds.len() / 2])
    };
    let plan = median(|r| r.plan, &mut rounds);
    let first = median(|r| r.publish, &mut rounds);
    let again = median(|r| r.republish, &mut rounds);
    println!(
        "median of {ROUNDS} fresh servers: first publish {:.1} ms (+ plan {:.1} ms) = {:.1} ms/skill; \
         unchanged republish {:.1} ms, 0 commits, 0 bytes uploaded",
        ms(first),
        ms(plan),
        ms(first) / rounds[0].skills as f64,
        ms(again)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One fresh server: publish everything, then republish unchanged.
fn round(runtime: &tokio::runtime::Runtime, manifests: &[PathBuf], opts: &PublishOptions) -> Round {
    let data = tempfile::tempdir().expect("temp dir");
    let home = tempfile::tempdir().expect("temp dir");
    let token =
        rskill_hub::tokens::create(data.path(), "publisher", &[ORG.into()], true).expect("token");
    let server = rskill_hub::spawn(Config::new(data.path())).expect("server starts");
    let client = HubClient::new(HubEnv {
        endpoint: server.url(),
        token: Some((Token::new(token).expect("token"), TokenSource::EnvVar)),
        hf_home: home.path().to_path_buf(),
        hub_cache: home.path().join("hub"),
        offline: false,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .expect("client");

    let start = Instant::now();
    let plans: Vec<Plan> = manifests.iter().map(|m| publish::plan(m, opts)).collect();
    let plan = start.elapsed();
    assert!(
        plans.iter().all(Plan::can_publish),
        "the corpus is publishable"
    );
    let files = plans.iter().map(|p| p.selection.files.len()).sum();
    let bytes = plans
        .iter()
        .flat_map(|p| &p.selection.files)
        .map(|f| f.size)
        .sum();

    let start = Instant::now();
    let outcomes = runtime.block_on(publish::publish_all(&client, plans.clone(), opts));
    let publish = start.elapsed();
    check(&outcomes, PublishStatus::Published);
    assert_eq!(
        outcomes.iter().map(|o| o.uploaded_bytes).sum::<u64>(),
        bytes
    );
    assert_eq!(server.route_count(RouteLabel::Commit), plans.len() as u64);

    server.reset_counts();
    let start = Instant::now();
    let outcomes = runtime.block_on(publish::publish_all(&client, plans.clone(), opts));
    let republish = start.elapsed();
    check(&outcomes, PublishStatus::Unchanged);
    assert_eq!(outcomes.iter().map(|o| o.commits).sum::<u32>(), 0);
    assert_eq!(outcomes.iter().map(|o| o.uploaded_bytes).sum::<u64>(), 0);
    assert_eq!(server.route_count(RouteLabel::Commit), 0, "no commit");
    assert_eq!(server.route_count(RouteLabel::Preupload), 0, "no upload");
    assert_eq!(server.route_count(RouteLabel::Tag), 0, "no new tag");
    let republish_requests = server.request_count();
    server.shutdown().expect("clean shutdown");
    Round {
        plan,
        publish,
        republish,
        republish_requests,
        skills: plans.len(),
        files,
        bytes,
    }
}

fn check(outcomes: &[Outcome], want: PublishStatus) {
    for o in outcomes {
        assert_eq!(o.result, want, "{}: {}", o.skill, o.message);
    }
}
