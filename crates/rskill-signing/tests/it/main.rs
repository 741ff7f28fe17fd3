//! Integration tests of rskill-signing: faults a verifier must catch, and
//! interoperability with the `model_signing` reference implementation.

mod faults;
mod interop;

use std::path::Path;

use rskill_signing::PrivateKey;

/// A small skill-like folder.
pub fn skill_folder(dir: &Path) {
    std::fs::create_dir_all(dir.join("eval")).unwrap();
    std::fs::write(
        dir.join("rskill.yaml"),
        "name: acme/rskill-x\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("README.md"), "# x\n").unwrap();
    std::fs::write(dir.join("eval/bench.json"), "{\"score\": 1}\n").unwrap();
    std::fs::write(dir.join(".gitattributes"), "*.bin filter=lfs\n").unwrap();
}

pub fn sign(dir: &Path, key: &PrivateKey) {
    let sig = rskill_signing::sign_folder(dir, "rskill-x", key).unwrap();
    std::fs::write(dir.join(rskill_signing::SIGNATURE_FILE), sig).unwrap();
}
