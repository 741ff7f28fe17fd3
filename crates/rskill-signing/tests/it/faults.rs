//! Each way a signed folder can be altered is refused, naming what changed.

use rskill_signing::{PrivateKey, SigningError, verify_folder};

use super::{sign, skill_folder};

fn signed() -> (tempfile::TempDir, PrivateKey) {
    let dir = tempfile::tempdir().unwrap();
    skill_folder(dir.path());
    let key = PrivateKey::generate();
    sign(dir.path(), &key);
    (dir, key)
}

#[test]
fn an_untouched_folder_verifies_and_names_its_key() {
    let (dir, key) = signed();
    let m = verify_folder(dir.path(), &[key.public()]).unwrap();
    assert_eq!(m.key_id, key.public().id());
    assert_eq!(m.resources.len(), 3, "{:?}", m.resources);
}

#[test]
fn a_flipped_byte_in_a_file_names_the_file() {
    let (dir, key) = signed();
    let p = dir.path().join("rskill.yaml");
    let mut b = std::fs::read(&p).unwrap();
    b[0] ^= 1;
    std::fs::write(&p, b).unwrap();
    let err = verify_folder(dir.path(), &[key.public()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rskill.yaml: content changed after signing"),
        "{err}"
    );
}

#[test]
fn added_and_removed_files_are_named() {
    let (dir, key) = signed();
    std::fs::write(dir.path().join("extra.py"), "x").unwrap();
    std::fs::remove_file(dir.path().join("README.md")).unwrap();
    let err = verify_folder(dir.path(), &[key.public()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("extra.py: present but not signed"), "{err}");
    assert!(err.contains("README.md: signed but missing"), "{err}");
}

#[test]
fn a_flipped_byte_in_the_signature_is_refused() {
    let (dir, key) = signed();
    let p = dir.path().join("model.sig");
    let text = String::from_utf8(std::fs::read(&p).unwrap()).unwrap();
    // Flip one bit of the DER signature (inside its base64), keeping valid base64.
    let at = text.find("\"sig\":\"").unwrap() + 20;
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&p, bytes).unwrap();
    let err = verify_folder(dir.path(), &[key.public()]).unwrap_err();
    assert!(matches!(err, SigningError::BadSignature { .. }), "{err}");
}

#[test]
fn a_changed_payload_is_refused() {
    let (dir, key) = signed();
    let p = dir.path().join("model.sig");
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace("rskill-x", "rskill-y");
    bundle["dsseEnvelope"]["payload"] = b64.encode(forged).into();
    std::fs::write(&p, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let err = verify_folder(dir.path(), &[key.public()]).unwrap_err();
    assert!(matches!(err, SigningError::BadSignature { .. }), "{err}");
}

#[test]
fn a_signature_by_an_untrusted_key_is_refused_with_its_id() {
    let (dir, key) = signed();
    let other = PrivateKey::generate();
    let err = verify_folder(dir.path(), &[other.public()]).unwrap_err();
    let SigningError::UntrustedKey { key_id, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(key_id, key.public().id());
}
