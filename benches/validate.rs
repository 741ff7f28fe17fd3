//! Validation throughput: 10,000 generated manifests through the full pipeline
//! (YAML → schema → typed model → rules) on one core, and the wall time of the whole
//! `rskill validate rskills/` command (the corpus CI check).
//!
//! Run: `cargo bench --bench validate`. Targets: ≥ 20,000 manifests/s; corpus < 50 ms.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

// The same allocator as the `rskill` binary, so the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MANIFESTS: usize = 10_000;
const TARGET_PER_SEC: f64 = 20_000.0;
const TARGET_CORPUS_MS: f64 = 50.0;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = generate(root);
    println!(
        "generated {} manifests from the corpus templates",
        corpus.len()
    );

    // Warm up (schema compilation happens once per process, as in the binary).
    for text in corpus.iter().take(100) {
        let check = rskill::validate::check_text(text);
        assert!(check.is_valid(), "{:?}\n{text}", check.violations);
    }
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let mut valid = 0usize;
        for text in &corpus {
            valid += usize::from(rskill::validate::check_text(text).is_valid());
        }
        let elapsed = start.elapsed();
        assert_eq!(valid, corpus.len(), "every generated manifest is valid");
        best = best.min(elapsed);
    }
    let per_sec = corpus.len() as f64 / best.as_secs_f64();
    println!(
        "validate (one core, best of 3): {:.0} manifests/s ({:.1} µs each)  target ≥ {TARGET_PER_SEC:.0}/s  ratio {:.2}x",
        per_sec,
        best.as_secs_f64() * 1e6 / corpus.len() as f64,
        per_sec / TARGET_PER_SEC
    );

    // Invalid manifests take the slower reporting path (positions): show its cost too.
    let broken: Vec<String> = corpus
        .iter()
        .take(2_000)
        .map(|t| t.replacen("chunk_size:", "chunk_size: 0\nchunk_sizes:", 1))
        .collect();
    let start = Instant::now();
    for text in &broken {
        assert!(!rskill::validate::check_text(text).is_valid());
    }
    let per_sec_invalid = broken.len() as f64 / start.elapsed().as_secs_f64();
    println!("validate invalid manifests (with line:column): {per_sec_invalid:.0} manifests/s");

    corpus_command(root);
}

/// Manifests made from the in-repo corpus templates by varying name and version.
fn generate(root: &Path) -> Vec<String> {
    let mut templates = Vec::new();
    for manifest in rskill::corpus::discover(&root.join("rskills")).expect("corpus") {
        templates.push(std::fs::read_to_string(manifest).expect("read manifest"));
    }
    (0..MANIFESTS)
        .map(|i| {
            let t = &templates[i % templates.len()];
            let mut out = String::with_capacity(t.len() + 64);
            for line in t.lines() {
                if let Some(rest) = line.strip_prefix("name: ") {
                    out.push_str(&format!("name: {rest}-g{i}"));
                } else if line.starts_with("version: ") {
                    out.push_str(&format!("version: {}.{}.{}", i % 7, i % 13, i));
                } else {
                    out.push_str(line);
                }
                out.push('\n');
            }
            out
        })
        .collect()
}

/// Wall time of the whole `rskill validate rskills/` process (startup included).
fn corpus_command(root: &Path) {
    let bin = env!("CARGO_BIN_EXE_rskill");
    let mut times = Vec::new();
    for _ in 0..15 {
        let start = Instant::now();
        let out = Command::new(bin)
            .arg("validate")
            .current_dir(root)
            .output()
            .expect("run rskill");
        times.push(start.elapsed().as_secs_f64() * 1e3);
        assert!(out.status.success(), "corpus validates");
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "`rskill validate` on the corpus (whole command): median {median:.1} ms, min {:.1} ms  target < {TARGET_CORPUS_MS} ms  ratio {:.2}x",
        times[0],
        TARGET_CORPUS_MS / median
    );
}
