//! Interoperability with `model_signing` (the OMS reference implementation, from
//! PyPI), both ways, with a P-256 key. The interpreter of a venv holding it is named
//! by `RSKILL_MODEL_SIGNING_PYTHON` (`scripts/ensure-signing-venv.sh` makes it; the
//! test script sets it). Without it these tests are skipped, except under `CI=true`,
//! where a missing interpreter fails them.

use std::path::{Path, PathBuf};
use std::process::Command;

use rskill_signing::{PrivateKey, verify_folder};

use super::{sign, skill_folder};

fn python() -> Option<PathBuf> {
    match std::env::var_os("RSKILL_MODEL_SIGNING_PYTHON") {
        Some(p) => Some(PathBuf::from(p)),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but RSKILL_MODEL_SIGNING_PYTHON is not set: run scripts/test.sh")
        }
        None => {
            eprintln!(
                "skipped: RSKILL_MODEL_SIGNING_PYTHON is not set (scripts/ensure-signing-venv.sh)"
            );
            None
        }
    }
}

fn model_signing(py: &Path, args: &[&str]) -> std::process::Output {
    Command::new(py)
        .args(["-m", "model_signing"])
        .args(args)
        .output()
        .expect("the model_signing interpreter runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn a_folder_signed_by_rskill_verifies_with_model_signing() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("skill");
    skill_folder(&model);
    let key = PrivateKey::generate();
    sign(&model, &key);
    let pub_pem = dir.path().join("pub.pem");
    std::fs::write(&pub_pem, key.public().pem()).unwrap();
    let sig = model.join("model.sig");
    let verify = |args: &[&str]| model_signing(&py, args);
    let out = verify(&[
        "verify",
        "key",
        "--public_key",
        s(&pub_pem),
        "--signature",
        s(&sig),
        s(&model),
    ]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // And it is really checking: a changed file fails there too.
    std::fs::write(model.join("README.md"), "# changed\n").unwrap();
    let out = verify(&[
        "verify",
        "key",
        "--public_key",
        s(&pub_pem),
        "--signature",
        s(&sig),
        s(&model),
    ]);
    assert!(
        !out.status.success(),
        "model_signing accepted a changed file"
    );
}

#[test]
fn a_folder_signed_by_model_signing_verifies_with_rskill() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("skill");
    skill_folder(&model);
    std::fs::create_dir_all(model.join("a")).unwrap();
    std::fs::write(model.join("a/b"), "1").unwrap();
    std::fs::write(model.join("a-c"), "2").unwrap();
    let key = PrivateKey::generate();
    let key_pem = dir.path().join("key.pem");
    std::fs::write(&key_pem, key.to_pem()).unwrap();
    let sig = model.join("model.sig");
    let out = model_signing(
        &py,
        &[
            "sign",
            "key",
            "--private_key",
            s(&key_pem),
            "--signature",
            s(&sig),
            s(&model),
        ],
    );
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let signed = verify_folder(&model, &[key.public()]).unwrap();
    assert_eq!(signed.key_id, key.public().id());
    let names: Vec<&str> = signed.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        names,
        ["README.md", "a/b", "a-c", "eval/bench.json", "rskill.yaml"]
    );

    std::fs::write(model.join("a/b"), "changed").unwrap();
    let err = verify_folder(&model, &[key.public()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("a/b: content changed"), "{err}");
}
