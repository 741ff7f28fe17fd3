//! Seeds an `rskill-hub` data directory with N public skills generated from the in-repo
//! corpus, for benchmarks: `cargo run --release --example seed_catalog -- --data DIR
//! --count N [--org ORG] [--corpus rskills]` (the generation is
//! `rskill_test_support::generated_catalog`).
//!
//! Skill i is corpus template `i % templates`, renamed `ORG/rskill-<slug>-<i>`; two out of
//! three (those not embodiment-agnostic) get another robot from a fixed rotation, kept only
//! when the manifest still validates. Each repo holds `rskill.yaml` and a `README.md` whose
//! reserved tags are regenerated from the manifest. Writes go straight to the store (no
//! HTTP, no fsync), so the server must not be running on DIR; start it afterwards.
//!
//! `--change-every K` on a DIR seeded earlier with the same `--count`/`--org` changes
//! one skill in K (those with `i % K == 0`) instead: a new commit on its `main` whose
//! manifest has another patch version (README unchanged), as a publish after the
//! org's catalog index was written would. What a search finds is unchanged.

use std::path::PathBuf;
use std::process::ExitCode;

use rskill_test_support::generated_catalog;

fn usage() -> ExitCode {
    eprintln!(
        "usage: seed_catalog --data DIR --count N [--org ORG] [--corpus DIR] [--change-every K]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut data: Option<PathBuf> = None;
    let mut count: Option<usize> = None;
    let mut org = "bench".to_string();
    let mut corpus = rskill_test_support::paths::corpus_dir();
    let mut change_every: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        match (a.as_str(), value) {
            ("--data", Some(v)) => data = Some(v.into()),
            ("--count", Some(v)) => count = v.parse().ok(),
            ("--org", Some(v)) => org = v,
            ("--corpus", Some(v)) => corpus = v.into(),
            ("--change-every", Some(v)) => match v.parse() {
                Ok(k) if k > 0 => change_every = Some(k),
                _ => return usage(),
            },
            _ => return usage(),
        }
    }
    let (Some(data), Some(count)) = (data, count) else {
        return usage();
    };
    let done = match change_every {
        None => generated_catalog::seed(&data, count, &org, &corpus),
        Some(k) => generated_catalog::change(&data, count, &org, &corpus, k),
    };
    match done {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
