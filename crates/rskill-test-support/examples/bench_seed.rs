//! Seeds a running `rskill-hub` for `scripts/bench-install.sh`: a weights repo
//! `ORG/bench-weights` holding one generated safetensors file of about `--size-mib` MiB
//! (`fixtures::large_safetensors_file`) and a `config.json`, and a skill
//! `ORG/rskill-bench` whose `weights_uri` points to it. Both public. With
//! `--sign-key KEY.pem` the skill is signed as the publisher signs it (a weights lock
//! from the Hub's listing, and `model.sig` over every skill file).
//!
//! `cargo run --release --example bench_seed -- --endpoint URL --token TOKEN --org ORG
//! --size-mib N --work DIR`
//!
//! The weights are uploaded the way the Hub clients commit small files (an NDJSON commit
//! with the content inline as base64), streamed from disk so memory stays flat; start
//! the server with a body limit above 4/3 of the file size (`--max-body-mb`). Prints
//! `weights=<repo> skill=<repo> sha256=<hex> bytes=<n>` on stdout.

use std::path::PathBuf;
use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use rskill_hub_client::write::UploadFile;
use rskill_hub_client::{HubClient, HubEnv, RepoId, Token, TokenSource};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Bytes read and encoded per step: a multiple of 3, so base64 needs no padding mid-way.
const STEP: usize = 3 << 20;

struct Args {
    endpoint: String,
    token: String,
    org: String,
    size_mib: u64,
    work: PathBuf,
    /// Sign the skill (model.sig and weights.lock.json, as the publisher does).
    sign_key: Option<PathBuf>,
}

fn parse_args() -> Option<Args> {
    let mut endpoint = None;
    let mut token = None;
    let mut org = "bench".to_string();
    let mut size_mib = 1024;
    let mut work = None;
    let mut sign_key = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next()?;
        match a.as_str() {
            "--endpoint" => endpoint = Some(value.trim_end_matches('/').to_string()),
            "--token" => token = Some(value),
            "--org" => org = value,
            "--size-mib" => size_mib = value.parse().ok()?,
            "--work" => work = Some(PathBuf::from(value)),
            "--sign-key" => sign_key = Some(PathBuf::from(value)),
            _ => return None,
        }
    }
    Some(Args {
        endpoint: endpoint?,
        token: token?,
        org,
        size_mib,
        work: work?,
        sign_key,
    })
}

/// A valid manifest for `repo` with `weights_uri`, derived from a corpus skill.
fn manifest(repo: &str, weights_uri: &str) -> Result<String, String> {
    let out = rskill_test_support::paths::manifest_from_corpus(
        "rtdetr-coco-detector",
        &[
            ("name: ", repo),
            ("runtime: ", "pytorch"),
            ("weights_uri: ", weights_uri),
        ],
    );
    rskill_manifest::validate::parse_valid(&out).map_err(|v| format!("invalid manifest: {v:?}"))?;
    Ok(out)
}

fn ndjson_line(value: serde_json::Value) -> Bytes {
    let mut s = value.to_string();
    s.push('\n');
    Bytes::from(s)
}

/// Commits `file` as `path_in_repo` (plus `config.json`) to `repo`, streaming the body.
async fn stream_commit(
    args: &Args,
    repo: &RepoId,
    file: PathBuf,
    path_in_repo: &str,
) -> Result<(), String> {
    let head = ndjson_line(serde_json::json!({
        "key": "header",
        "value": {"summary": "Benchmark weights", "description": ""}
    }));
    let open = Bytes::from(format!(
        "{{\"key\":\"file\",\"value\":{{\"path\":\"{path_in_repo}\",\"encoding\":\"base64\",\"content\":\""
    ));
    let close = Bytes::from_static(b"\"}}\n");
    let config = ndjson_line(serde_json::json!({
        "key": "file",
        "value": {
            "path": "config.json",
            "encoding": "base64",
            "content": STANDARD.encode(b"{\"generated_by\": \"bench_seed\"}\n"),
        }
    }));
    let f = tokio::fs::File::open(&file)
        .await
        .map_err(|e| format!("{}: {e}", file.display()))?;
    let content = futures::stream::unfold(Some(f), |state| async move {
        let mut f = state?;
        let mut buf = vec![0u8; STEP];
        let mut filled = 0;
        while filled < STEP {
            match f.read(&mut buf[filled..]).await {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Some((Err(e), None)),
            }
        }
        if filled == 0 {
            return None;
        }
        let encoded = Bytes::from(STANDARD.encode(&buf[..filled]));
        Some((Ok(encoded), Some(f)))
    });
    use futures::StreamExt;
    let body = futures::stream::iter([Ok::<Bytes, std::io::Error>(head), Ok(open)])
        .chain(content)
        .chain(futures::stream::iter([Ok(close), Ok(config)]));
    let url = format!(
        "{}/api/models/{}/{}/commit/main",
        args.endpoint,
        repo.org(),
        repo.name()
    );
    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(&args.token)
        .header("content-type", "application/x-ndjson")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        return Err(format!("POST {url}: {status}: {text}"));
    }
    Ok(())
}

async fn run(args: Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.work).map_err(|e| format!("{}: {e}", args.work.display()))?;
    let file = args.work.join("model.safetensors");
    let sha256 = {
        let path = file.clone();
        let bytes = args.size_mib * 1024 * 1024;
        tokio::task::spawn_blocking(move || {
            rskill_test_support::fixtures::large_safetensors_file(&path, bytes)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("generating {}: {e}", file.display()))?
    };
    let size = std::fs::metadata(&file).map_err(|e| e.to_string())?.len();

    let hf_home = args.work.join("seed-hf");
    let client = HubClient::new(HubEnv {
        endpoint: args.endpoint.clone(),
        token: Token::new(args.token.clone()).map(|t| (t, TokenSource::Flag)),
        hub_cache: hf_home.join("hub"),
        hf_home,
        offline: false,
        disable_progress_bars: true,
        download_timeout: rskill_hub_client::env::DEFAULT_DOWNLOAD_TIMEOUT,
    })
    .map_err(|e| e.to_string())?;
    let weights: RepoId = format!("{}/bench-weights", args.org).parse()?;
    let skill: RepoId = format!("{}/rskill-bench", args.org).parse()?;

    client
        .create_repo(&weights, false)
        .await
        .map_err(|e| e.to_string())?;
    stream_commit(&args, &weights, file.clone(), "model.safetensors").await?;
    std::fs::remove_file(&file).map_err(|e| e.to_string())?;

    client
        .create_repo(&skill, false)
        .await
        .map_err(|e| e.to_string())?;
    let mut files = vec![
        UploadFile {
            path_in_repo: "rskill.yaml".into(),
            content: Bytes::from(manifest(skill.as_str(), &format!("hf://{weights}"))?),
        },
        UploadFile {
            path_in_repo: "README.md".into(),
            content: Bytes::from(format!(
                "# {skill}\n\nBenchmark skill (generated weights).\n"
            )),
        },
    ];
    if let Some(key) = &args.sign_key {
        sign(&client, &weights, &skill, key, &mut files).await?;
    }
    client
        .commit(&skill, files, Vec::new(), "Benchmark skill", None)
        .await
        .map_err(|e| e.to_string())?;
    let info = client
        .repo_info(&weights, None)
        .await
        .map_err(|e| e.to_string())?;
    let stored = info
        .file("model.safetensors")
        .and_then(|s| s.lfs.as_ref())
        .map(|l| l.sha256.to_string());
    if stored.as_deref() != Some(sha256.as_str()) {
        return Err(format!(
            "the Hub stores sha256 {stored:?}, the generator made {sha256}"
        ));
    }
    println!("weights={weights} skill={skill} sha256={sha256} bytes={size}");
    Ok(())
}

/// Adds the weights lock (from the Hub's listing of `weights`) and the signature over
/// every skill file to `files`.
async fn sign(
    client: &HubClient,
    weights: &RepoId,
    skill: &RepoId,
    key: &std::path::Path,
    files: &mut Vec<UploadFile>,
) -> Result<(), String> {
    use rskill_signing::folder::{Resource, sort_canonical};
    use rskill_signing::weights_lock::{LockedFile, WeightsLock};
    let key = rskill_signing::PrivateKey::read(key).map_err(|e| e.to_string())?;
    let info = client
        .repo_info(weights, None)
        .await
        .map_err(|e| e.to_string())?;
    let mut locked = Vec::new();
    for s in info
        .siblings
        .iter()
        .filter(|s| s.rfilename != ".gitattributes")
    {
        let (size, sha256) = match &s.lfs {
            Some(l) => (l.size, l.sha256.to_string()),
            None => {
                let bytes = client
                    .read_file(weights, info.sha.as_str(), s.rfilename.as_str())
                    .await
                    .map_err(|e| e.to_string())?;
                (bytes.len() as u64, hex::encode(Sha256::digest(&bytes)))
            }
        };
        locked.push(LockedFile {
            path: s.rfilename.to_string(),
            size,
            sha256,
        });
    }
    let lock = WeightsLock {
        version: 1,
        repo: weights.to_string(),
        commit: info.sha.to_string(),
        files: locked,
        processors: Vec::new(),
    };
    files.push(UploadFile {
        path_in_repo: rskill_signing::WEIGHTS_LOCK_FILE.into(),
        content: Bytes::from(lock.to_json()),
    });
    let mut resources: Vec<Resource> = files
        .iter()
        .map(|f| Resource {
            name: f.path_in_repo.clone(),
            sha256: hex::encode(Sha256::digest(&f.content)),
        })
        .collect();
    sort_canonical(&mut resources);
    let statement = rskill_signing::statement::build(skill.as_str(), &resources);
    let bundle = rskill_signing::bundle::sign(&statement, &key).map_err(|e| e.to_string())?;
    files.push(UploadFile {
        path_in_repo: rskill_signing::SIGNATURE_FILE.into(),
        content: Bytes::from(bundle.to_json()),
    });
    Ok(())
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        eprintln!(
            "usage: bench_seed --endpoint URL --token TOKEN --work DIR [--org ORG] [--size-mib N] [--sign-key KEY.pem]"
        );
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
