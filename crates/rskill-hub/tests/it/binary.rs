//! The `rskill-hub` binary: the URL on the first line of stdout, graceful stop on
//! SIGTERM, `token create`, exit codes, and crash safety: after `kill -9` in the middle
//! of a stream of commits, a restarted server serves the last committed state intact.

use std::io::BufReader;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rskill_test_support::test_hub::{ndjson, noise};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_rskill-hub");

/// Starts `rskill-hub serve` on `dir`; its first line is the URL it bound.
fn serve(dir: &Path) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let (child, url, out) = rskill_test_support::test_hub::serve_binary(dir);
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{url}"
    );
    (child, url, out)
}

fn token(dir: &Path, user: &str, orgs: &[&str], write: bool) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["token", "create", "--data"])
        .arg(dir)
        .args(["--user", user]);
    for o in orgs {
        cmd.args(["--org", o]);
    }
    if write {
        cmd.arg("--write");
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "only the token is printed: {stdout:?}");
    assert!(lines[0].starts_with("hf_"));
    lines[0].to_owned()
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(start.elapsed() < within, "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn serve_prints_its_url_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url, _out) = serve(dir.path());
    let r = reqwest::get(format!("{url}/api/models")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "[]");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "graceful exit with 0, got {status:?}");
    // The data directory is free again.
    let (mut again, _, _out) = serve(dir.path());
    again.kill().unwrap();
    again.wait().unwrap();
}

#[test]
fn token_create_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(dir.path(), "alice", &["acme", "lab"], true);
    assert_eq!(t.len(), 37);
    let bad = Command::new(BIN)
        .args(["token", "create", "--data"])
        .arg(dir.path())
        .args(["--user", "not a name"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("error:") && err.contains("hint:"), "{err}");
    assert!(bad.stdout.is_empty());
    let usage = Command::new(BIN)
        .args(["token", "create"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));
    let usage = Command::new(BIN)
        .args(["serve", "--data", "x", "--addr", "nowhere"])
        .output()
        .unwrap();
    assert_eq!(usage.status.code(), Some(2));

    // A second server on the same directory fails with a hint.
    let (mut first, _, _out) = serve(dir.path());
    let second = Command::new(BIN)
        .args(["serve", "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&second.stderr).contains("hint:"));
    first.kill().unwrap();
    first.wait().unwrap();
}

async fn json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let r = http.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

fn content(n: usize) -> Vec<u8> {
    noise(200_000 + n * 1000, n as u64 + 11)
}

#[tokio::test]
async fn kill_dash_nine_leaves_the_last_committed_state_readable() {
    let dir = tempfile::tempdir().unwrap();
    let alice = token(dir.path(), "alice", &["acme"], true);
    let http = reqwest::Client::new();
    let mut committed = 0usize;
    for round in 0..6 {
        let (mut child, url, _out) = serve(dir.path());
        if round == 0 {
            let r = http
                .post(format!("{url}/api/repos/create"))
                .bearer_auth(&alice)
                .json(&serde_json::json!({ "name": "crash", "organization": "acme" }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        } else {
            // Everything acknowledged before the kill is there, whole; nothing else is.
            let info = json(&http, &format!("{url}/api/models/acme/crash"), &alice).await;
            let files: Vec<String> = info["siblings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["rfilename"].as_str().unwrap().to_owned())
                .collect();
            assert!(
                files.len() == committed || files.len() == committed + 1,
                "{} files, {committed} acknowledged",
                files.len()
            );
            committed = files.len();
            for n in 0..committed {
                let name = format!("f{n:03}.bin");
                assert!(files.contains(&name), "{name} in {files:?}");
                let body = http
                    .get(format!("{url}/acme/crash/resolve/main/{name}"))
                    .bearer_auth(&alice)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(body.status(), 200);
                assert!(
                    body.bytes().await.unwrap()[..] == content(n)[..],
                    "{name} is intact"
                );
            }
            let history = json(
                &http,
                &format!("{url}/api/models/acme/crash/commits/main"),
                &alice,
            )
            .await;
            assert_eq!(history.as_array().unwrap().len(), committed + 1);
            assert_eq!(
                std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
                0,
                "staging cleared at startup"
            );
        }
        // Commit one file after another, and kill -9 somewhere in the middle.
        let acked = Arc::new(AtomicUsize::new(0));
        let writer = {
            let (http, url, alice, acked) =
                (http.clone(), url.clone(), alice.clone(), acked.clone());
            tokio::spawn(async move {
                for n in committed.. {
                    let name = format!("f{n:03}.bin");
                    let body = ndjson(&name, None, &[(&name, &content(n))], &[]);
                    let sent = http
                        .post(format!("{url}/api/models/acme/crash/commit/main"))
                        .bearer_auth(&alice)
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 200 => {
                            acked.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => break,
                    }
                }
            })
        };
        let start = Instant::now();
        while acked.load(Ordering::SeqCst) < 3 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "commits are too slow"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(3 + 11 * round)).await;
        child.kill().unwrap();
        child.wait().unwrap();
        writer.await.unwrap();
        committed += acked.load(Ordering::SeqCst);
    }
}
