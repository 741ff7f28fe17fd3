//! Credentials in URLs never reach the screen: every binary (`rskill`,
//! `rskill-publisher`, `rskill-seed`, `rskill-hub`) is run with a Hub endpoint (or a blob
//! store URL) carrying `user:secret@`, against a closed port and against a live
//! `rskill-hub` answering errors, and `secret` must appear nowhere in stdout or stderr
//! (errors, hints, `--json`).

use std::path::Path;
use std::process::Command;

use rskill_test_support::paths::{corpus_dir, skill_copy};
use rskill_test_support::test_hub::{TestHub, hub_binary, seed_binary};

const RSKILL: &str = env!("CARGO_BIN_EXE_rskill");
const PUBLISHER: &str = env!("CARGO_BIN_EXE_rskill-publisher");
const SECRET: &str = "s3cr3t-pw";

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Runs `bin args` with `HF_ENDPOINT=endpoint`; returns (exit code, stdout + stderr).
fn run(
    bin: &Path,
    args: &[&str],
    endpoint: &str,
    token: Option<&str>,
    home: &Path,
) -> (i32, String) {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(home)
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", home.join("hf"))
        .env("RSKILL_DATA_DIR", home.join("data"))
        .env("HF_TOKEN_PATH", "/nonexistent")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HUB_OFFLINE")
        .stdin(std::process::Stdio::null());
    match token {
        Some(t) => cmd.env("HF_TOKEN", t),
        None => cmd.env_remove("HF_TOKEN"),
    };
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn assert_no_secret(what: &str, code: i32, out: &str) {
    assert_ne!(code, 0, "{what} was expected to fail:\n{out}");
    assert!(!out.contains(SECRET), "{what} shows the password:\n{out}");
    assert!(!out.contains("user:"), "{what} shows the user:\n{out}");
}

/// The commands run against each endpoint: (binary, args, token).
fn commands(skill_dir: &str) -> Vec<(std::path::PathBuf, Vec<String>, Option<&'static str>)> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        (RSKILL.into(), s(&["search", "--json"]), None),
        (RSKILL.into(), s(&["search"]), None),
        (
            RSKILL.into(),
            s(&["install", "acme/rskill-none", "--json"]),
            None,
        ),
        (RSKILL.into(), s(&["install", "acme/rskill-none"]), None),
        (
            RSKILL.into(),
            s(&["verify", "acme/rskill-none", "--json"]),
            None,
        ),
        (RSKILL.into(), s(&["info", "acme/rskill-none"]), None),
        (
            RSKILL.into(),
            s(&["scan", "acme/rskill-none", "--json"]),
            None,
        ),
        (
            RSKILL.into(),
            s(&["history", "acme/rskill-none", "--json"]),
            None,
        ),
        (
            RSKILL.into(),
            s(&["export", "acme/rskill-none", "--out", "b.tar", "--json"]),
            None,
        ),
        (
            PUBLISHER.into(),
            s(&[
                "alias",
                "set",
                "acme/rskill-none",
                "production",
                "1.0.0",
                "--json",
            ]),
            Some("hf_not_a_real_token_0000000000"),
        ),
        (
            PUBLISHER.into(),
            s(&[skill_dir, "--publish", "--json"]),
            Some("hf_not_a_real_token_0000000000"),
        ),
        (
            seed_binary(),
            vec![
                corpus_dir().to_string_lossy().into_owned(),
                "--token".into(),
                "hf_not_a_real_token_0000000000".into(),
            ],
            None,
        ),
    ]
}

#[test]
fn no_binary_shows_the_password_of_its_endpoint() {
    let work = tempfile::tempdir().unwrap();
    let (_keep, skill) = skill_copy("rtdetr-coco-detector");
    let skill = skill.to_str().unwrap().to_string();
    let hub = TestHub::start();
    let live = hub
        .url()
        .replacen("http://", &format!("http://user:{SECRET}@"), 1);
    let closed = format!("http://user:{SECRET}@127.0.0.1:{}", closed_port());
    // All at once: against the closed port each one spends its retries.
    std::thread::scope(|scope| {
        for (e, endpoint) in [&closed, &live].into_iter().enumerate() {
            for (i, (bin, args, token)) in commands(&skill).into_iter().enumerate() {
                let home = work.path().join(format!("{e}-{i}"));
                std::fs::create_dir_all(&home).unwrap();
                scope.spawn(move || {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let (code, out) = run(&bin, &args, endpoint, token, &home);
                    let what = format!("{} {} against {endpoint}", bin.display(), args.join(" "));
                    assert_no_secret(&what, code, &out);
                });
            }
        }
    });
    // The closed port is reported as such, with the endpoint named (redacted).
    let (_, out) = run(RSKILL.as_ref(), &["search"], &closed, None, work.path());
    assert!(
        out.contains("cannot reach the Hub at http://***@127.0.0.1:"),
        "{out}"
    );

    // rskill-hub: a blob store URL with credentials in it, refused.
    let blobs = format!("s3://user:{SECRET}@bucket/p");
    let out = Command::new(hub_binary())
        .args(["serve", "--data"])
        .arg(work.path().join("hubdata"))
        .args(["--addr", "127.0.0.1:0", "--blobs", &blobs])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_secret(
        "rskill-hub serve --blobs",
        out.status.code().unwrap_or(-1),
        &text,
    );
    assert!(text.contains("is not a blob store"), "{text}");
}
