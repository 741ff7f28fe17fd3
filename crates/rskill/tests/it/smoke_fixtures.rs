//! Smoke-load checks against generated fixtures: valid weights pass, and each way a
//! download can be damaged fails with an error that names the file and the problem.
//!
//! The ONNX tests need ONNX Runtime (`scripts/ensure-onnxruntime.sh` installs it and
//! prints the path for `ORT_DYLIB_PATH`). Without it they fail, unless
//! `RSKILL_SKIP_ONNX_TESTS=1` says to skip them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rskill::smoke::{
    self, OnnxDim, RuntimeInfo, RuntimeSource, SmokeError, check_onnx, check_safetensors,
    check_sharded,
};
use rskill_test_support::fixtures::{self, Dtype, OnnxSpec, SHARD_INDEX_FILE};
use sha2::{Digest, Sha256};

fn spec() -> Vec<(&'static str, Dtype, Vec<usize>)> {
    vec![
        ("encoder.weight", Dtype::F32, vec![16, 8]),
        ("encoder.bias", Dtype::F32, vec![16]),
        ("head.weight", Dtype::BF16, vec![4, 16]),
        ("head.bias", Dtype::F16, vec![4]),
        ("step", Dtype::I64, vec![]),
    ]
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A safetensors file with a hand-written header, for damage the serializer would refuse.
fn raw_safetensors(header: &str, data_len: usize) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header.as_bytes());
    out.extend(std::iter::repeat_n(0u8, data_len));
    out
}

fn expect_invalid(bytes: &[u8], wanted: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "model.safetensors", bytes);
    let err = check_safetensors(&path).expect_err("damaged file must fail");
    assert!(matches!(err, SmokeError::Safetensors { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    for w in wanted {
        assert!(msg.contains(w), "expected {w:?} in: {msg}");
    }
    msg
}

#[test]
fn generated_safetensors_pass_with_a_correct_summary() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = fixtures::safetensors_bytes(&spec(), 42);
    let path = write(dir.path(), "model.safetensors", &bytes);
    let s = check_safetensors(&path).unwrap();
    assert_eq!(s.tensor_count, 5);
    assert_eq!(s.total_params, 16 * 8 + 16 + 4 * 16 + 4 + 1);
    assert_eq!(s.file_size, bytes.len() as u64);
    assert_eq!(s.data_size, (16 * 8 + 16) * 4 + 4 * 16 * 2 + 4 * 2 + 8);
    assert_eq!(s.file_size, 8 + s.header_size + s.data_size);
    assert_eq!(s.dtypes.get("F32"), Some(&2));
    assert_eq!(s.dtypes.get("BF16"), Some(&1));
    let head = s.tensors.iter().find(|t| t.name == "head.weight").unwrap();
    assert_eq!(
        (head.dtype.as_str(), head.shape.clone()),
        ("BF16", vec![4, 16])
    );
    assert_eq!(head.bytes, 128);
    let shown = s.to_string();
    assert!(shown.starts_with("5 tensors, 213 params"), "{shown}");
}

#[test]
fn truncated_by_one_byte_fails() {
    let mut bytes = fixtures::safetensors_bytes(&spec(), 1);
    bytes.pop();
    expect_invalid(&bytes, &["extends past the end of the file", "truncated"]);
}

#[test]
fn one_extra_byte_fails() {
    let mut bytes = fixtures::safetensors_bytes(&spec(), 1);
    bytes.push(0);
    expect_invalid(&bytes, &["1 unexplained trailing bytes"]);
}

#[test]
fn flipped_header_length_fails() {
    let good = fixtures::safetensors_bytes(&spec(), 1);
    // A bit flipped high in the length prefix: far beyond the file.
    let mut bytes = good.clone();
    bytes[3] ^= 0x01;
    expect_invalid(&bytes, &["header length prefix says", "only"]);
    // Beyond safetensors' own limit.
    let mut bytes = good.clone();
    bytes[7] ^= 0x80;
    expect_invalid(&bytes, &["above the 100000000-byte limit"]);
    // Off by a little: the header's JSON is cut (past its space padding).
    let mut bytes = good;
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap());
    bytes[..8].copy_from_slice(&(n - 16).to_le_bytes());
    expect_invalid(&bytes, &["JSON"]);
}

#[test]
fn tensor_range_past_eof_fails() {
    let header = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[16],"data_offsets":[8,72]}}"#;
    let msg = expect_invalid(
        &raw_safetensors(header, 40),
        &["tensor `b`", "[8, 72]", "only 40 bytes"],
    );
    assert!(!msg.contains("tensor `a`"), "{msg}");
}

#[test]
fn dtype_shape_and_range_must_agree() {
    let header = r#"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}"#;
    expect_invalid(
        &raw_safetensors(header, 8),
        &[
            "tensor `w`",
            "F32 [2, 2]",
            "does not match its dtype and shape",
        ],
    );
}

#[test]
fn gaps_between_tensors_fail() {
    let header = r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[8,12]}}"#;
    expect_invalid(&raw_safetensors(header, 12), &["tensor `b`", "contiguous"]);
}

#[test]
fn tiny_or_garbage_files_fail() {
    expect_invalid(b"abc", &["3 bytes long"]);
    expect_invalid(&raw_safetensors("not json at all!", 0), &["JSON"]);
}

#[test]
fn missing_file_is_an_io_error() {
    let err = check_safetensors(Path::new("/nonexistent/model.safetensors")).unwrap_err();
    assert!(matches!(err, SmokeError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/model.safetensors"));
}

fn write_sharded(dir: &Path) -> PathBuf {
    for (name, bytes) in fixtures::sharded_safetensors(3, &spec(), 9) {
        write(dir, &name, &bytes);
    }
    dir.join(SHARD_INDEX_FILE)
}

fn edit_index(index: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(index).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(index, serde_json::to_vec(&v).unwrap()).unwrap();
}

fn expect_index_error(dir: &Path, index: &Path, wanted: &str) {
    let err = check_sharded(index, dir).expect_err("inconsistent set must fail");
    let msg = err.to_string();
    assert!(msg.contains(wanted), "expected {wanted:?} in: {msg}");
}

#[test]
fn sharded_set_passes() {
    let dir = tempfile::tempdir().unwrap();
    let index = write_sharded(dir.path());
    let s = check_sharded(&index, dir.path()).unwrap();
    assert_eq!(s.shards.len(), 3);
    assert_eq!(s.tensor_count, 5);
    assert_eq!(s.total_params, 213);
    assert_eq!(s.total_size, Some(s.total_bytes));
    assert_eq!(
        s.shards[0].path.file_name().unwrap(),
        "model-00001-of-00003.safetensors"
    );
    assert!(s.to_string().starts_with("3 shards, 5 tensors"), "{s}");
}

#[test]
fn missing_shard_fails() {
    let dir = tempfile::tempdir().unwrap();
    let index = write_sharded(dir.path());
    std::fs::remove_file(dir.path().join("model-00002-of-00003.safetensors")).unwrap();
    expect_index_error(
        dir.path(),
        &index,
        "\"model-00002-of-00003.safetensors\" is missing",
    );
}

#[test]
fn tensor_in_the_wrong_shard_fails() {
    let dir = tempfile::tempdir().unwrap();
    let index = write_sharded(dir.path());
    // encoder.weight is in shard 1 (round-robin); claim it is in shard 2.
    edit_index(&index, |v| {
        v["weight_map"]["encoder.weight"] = "model-00002-of-00003.safetensors".into();
    });
    expect_index_error(
        dir.path(),
        &index,
        "tensor `encoder.weight` is in shard \"model-00001-of-00003.safetensors\", but the weight_map assigns it to \"model-00002-of-00003.safetensors\"",
    );
}

#[test]
fn tensor_missing_from_the_map_fails() {
    let dir = tempfile::tempdir().unwrap();
    let index = write_sharded(dir.path());
    edit_index(&index, |v| {
        v["weight_map"].as_object_mut().unwrap().remove("step");
    });
    expect_index_error(dir.path(), &index, "which the weight_map does not list");
}

#[test]
fn tensor_the_map_names_but_no_shard_holds_fails() {
    let dir = tempfile::tempdir().unwrap();
    let index = write_sharded(dir.path());
    edit_index(&index, |v| {
        v["weight_map"]["ghost"] = "model-00001-of-00003.safetensors".into();
    });
    expect_index_error(dir.path(), &index, "tensor `ghost` is assigned to shard");
}

#[test]
fn escaping_shard_names_fail() {
    let dir = tempfile::tempdir().unwrap();
    let inner = dir.path().join("repo");
    std::fs::create_dir(&inner).unwrap();
    let index = write_sharded(&inner);
    // The shard really exists one level up, so only the name check can stop it.
    std::fs::copy(
        inner.join("model-00001-of-00003.safetensors"),
        dir.path().join("model-00001-of-00003.safetensors"),
    )
    .unwrap();
    for (name, why) in [
        ("../model-00001-of-00003.safetensors", "climbs out"),
        ("/etc/passwd", "absolute"),
    ] {
        let index_copy = inner.join(format!("index-{}.json", why.replace(' ', "-")));
        std::fs::copy(&index, &index_copy).unwrap();
        edit_index(&index_copy, |v| {
            for t in ["encoder.weight", "head.bias"] {
                v["weight_map"][t] = name.into();
            }
        });
        expect_index_error(&inner, &index_copy, why);
    }
}

#[test]
fn wrong_total_size_fails() {
    let dir = tempfile::tempdir().unwrap();
    let index = write_sharded(dir.path());
    edit_index(&index, |v| {
        let n = v["metadata"]["total_size"].as_u64().unwrap();
        v["metadata"]["total_size"] = (n + 2).into();
    });
    expect_index_error(dir.path(), &index, "`metadata.total_size` is");
}

#[test]
fn damaged_shard_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let index = write_sharded(dir.path());
    let shard = dir.path().join("model-00003-of-00003.safetensors");
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes.pop();
    std::fs::write(&shard, bytes).unwrap();
    let err = check_sharded(&index, dir.path()).unwrap_err();
    assert!(
        matches!(err, SmokeError::Safetensors { ref path, .. } if path == &shard),
        "{err:?}"
    );
}

#[test]
fn large_file_streams_valid_safetensors_and_its_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.safetensors");
    let target = 3 * 1024 * 1024 + 17;
    let sha = fixtures::large_safetensors_file(&path, target).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(sha, hex::encode(Sha256::digest(&bytes)));
    assert!(bytes.len() as u64 <= target && bytes.len() as u64 > target - 16);
    let s = check_safetensors(&path).unwrap();
    assert_eq!(s.tensor_count, 1);
    assert_eq!(s.total_params * 4, s.data_size);
}

// ---------------------------------------------------------------------------------------
// ONNX
// ---------------------------------------------------------------------------------------

/// The runtime, or `None` when missing and `RSKILL_SKIP_ONNX_TESTS=1`; otherwise a
/// missing runtime fails the test, so ONNX coverage cannot vanish silently.
fn runtime(test: &str) -> Option<RuntimeInfo> {
    match smoke::onnx_runtime() {
        Ok(r) => Some(r),
        Err(missing) => {
            if std::env::var("RSKILL_SKIP_ONNX_TESTS").as_deref() == Ok("1") {
                eprintln!("{test}: skipped (RSKILL_SKIP_ONNX_TESTS=1): {missing}");
                None
            } else {
                panic!(
                    "{missing}\nrun scripts/ensure-onnxruntime.sh and export ORT_DYLIB_PATH, \
                     or set RSKILL_SKIP_ONNX_TESTS=1 to skip the ONNX tests"
                );
            }
        }
    }
}

fn dims(v: &[u64]) -> Vec<OnnxDim> {
    v.iter().map(|&d| OnnxDim::Fixed(d)).collect()
}

#[test]
fn generated_onnx_loads_in_onnx_runtime() {
    let Some(rt) = runtime("generated_onnx_loads_in_onnx_runtime") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = OnnxSpec {
        observation_dim: 12,
        action_dim: 7,
        seed: 3,
        ..OnnxSpec::default()
    };
    let path = write(dir.path(), "model.onnx", &fixtures::onnx_model_bytes(&spec));
    let s = check_onnx(&path, &rt, &no_dims()).unwrap();
    assert_eq!(s.inputs.len(), 1);
    assert_eq!(s.outputs.len(), 1);
    assert_eq!(s.inputs[0].name, "observation");
    assert_eq!(s.inputs[0].element_type, "f32");
    assert_eq!(s.inputs[0].shape, dims(&[1, 12]));
    assert_eq!(s.outputs[0].name, "action");
    assert_eq!(s.outputs[0].element_type, "f32");
    assert_eq!(s.outputs[0].shape, dims(&[1, 7]));
    // It ran once on zeros, and the output came out as declared.
    assert_eq!(
        s.run.input_shapes,
        vec![("observation".to_string(), vec![1, 12])]
    );
    assert_eq!(
        s.run.output_shapes,
        vec![("action".to_string(), vec![1, 7])]
    );
    assert!(s.run.latency_ms >= 0.0);
    let text = s.to_string();
    assert!(
        text.starts_with(
            "inputs: observation: f32[1, 12]; outputs: action: f32[1, 7]; one pass on zeros in "
        ),
        "{text}"
    );
    assert!(text.ends_with(" ms, outputs finite"), "{text}");
}

fn no_dims() -> BTreeMap<String, u64> {
    BTreeMap::new()
}

#[test]
fn onnx_that_loads_but_cannot_run_fails_with_the_runtime_message() {
    let Some(rt) = runtime("onnx_that_loads_but_cannot_run_fails_with_the_runtime_message") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // `features` is a named dynamic dimension: set to 1 by default, the MatMul with the
    // 8-row weight fails at run time with ONNX Runtime's shape error.
    let spec = OnnxSpec {
        symbolic_features: true,
        ..OnnxSpec::default()
    };
    let path = write(dir.path(), "model.onnx", &fixtures::onnx_model_bytes(&spec));
    let err = check_onnx(&path, &rt, &no_dims()).unwrap_err();
    assert!(matches!(err, SmokeError::OnnxRun { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("loads but cannot run") && text.contains("model.onnx"),
        "{text}"
    );
    assert!(
        text.to_lowercase().contains("matmul"),
        "the runtime's own message: {text}"
    );
    // The value the manifest gives makes it run.
    let dims: BTreeMap<String, u64> = [("features".to_string(), 8)].into();
    let s = check_onnx(&path, &rt, &dims).unwrap();
    assert_eq!(s.inputs[0].shape[1], OnnxDim::Symbolic("features".into()));
    assert_eq!(s.run.input_shapes[0].1, vec![1, 8]);

    // Runs, but its outputs are not finite.
    let spec = OnnxSpec {
        non_finite_output: true,
        ..OnnxSpec::default()
    };
    let path = write(dir.path(), "inf.onnx", &fixtures::onnx_model_bytes(&spec));
    let err = check_onnx(&path, &rt, &no_dims()).unwrap_err();
    assert!(matches!(err, SmokeError::OnnxRun { .. }), "{err:?}");
    assert!(err.to_string().contains("NaN or infinite"), "{err}");
    // Inputs too large to build are refused before anything is allocated.
    let dims: BTreeMap<String, u64> = [("features".to_string(), 1 << 40)].into();
    let spec = OnnxSpec {
        symbolic_features: true,
        ..OnnxSpec::default()
    };
    let path = write(dir.path(), "big.onnx", &fixtures::onnx_model_bytes(&spec));
    let err = check_onnx(&path, &rt, &dims).unwrap_err();
    assert!(err.to_string().contains("elements"), "{err}");
}

#[test]
fn declared_tensors_are_checked() {
    let extras = serde_json::json!({"smoke": {"tensors": [
        {"name": "policy.weight", "shape": [16, 7], "dtype": "F32"},
        {"name": "policy.bias"}
    ]}});
    let expect = smoke::Expectations::from_policy_extras(Some(&extras)).unwrap();
    let t = |name: &str, dtype: &str, shape: Vec<usize>| smoke::TensorMeta {
        name: name.into(),
        dtype: dtype.into(),
        shape,
        bytes: 0,
    };
    let p = Path::new("model.safetensors");
    let good = [
        t("policy.weight", "F32", vec![16, 7]),
        t("policy.bias", "F32", vec![7]),
    ];
    expect.check_tensors(p, &good).unwrap();
    let wrong = [t("policy.weight", "BF16", vec![16, 8])];
    let err = expect.check_tensors(p, &wrong).unwrap_err().to_string();
    assert!(err.contains("model.safetensors"), "{err}");
    assert!(err.contains("[16, 8]") && err.contains("[16, 7]"), "{err}");
    assert!(
        err.contains("BF16") && err.contains("no tensor `policy.bias`"),
        "{err}"
    );
    // Nothing declared: nothing to check; a malformed declaration names its field.
    smoke::Expectations::from_policy_extras(None)
        .unwrap()
        .check_tensors(p, &wrong)
        .unwrap();
    let bad = serde_json::json!({"smoke": {"tensors": [{"name": "x", "shape": "16x7"}]}});
    let err = smoke::Expectations::from_policy_extras(Some(&bad)).unwrap_err();
    assert!(
        err.starts_with("policy_extras.smoke.tensors[0].shape"),
        "{err}"
    );
}

#[test]
fn onnx_with_external_data_loads_from_its_path() {
    let Some(rt) = runtime("onnx_with_external_data_loads_from_its_path") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let spec = OnnxSpec::default();
    let (model, data) = fixtures::onnx_model_with_external_data(&spec, "model.onnx_data");
    let path = write(dir.path(), "model.onnx", &model);
    write(dir.path(), "model.onnx_data", &data);
    let s = check_onnx(&path, &rt, &no_dims()).unwrap();
    assert_eq!(s.inputs[0].shape, dims(&[1, 8]));
    assert_eq!(s.outputs[0].shape, dims(&[1, 4]));

    // The weights really are outside: without the data file the model does not load.
    std::fs::remove_file(dir.path().join("model.onnx_data")).unwrap();
    let err = check_onnx(&path, &rt, &no_dims()).unwrap_err();
    assert!(matches!(err, SmokeError::Onnx { .. }), "{err:?}");
}

#[test]
fn corrupted_onnx_fails_cleanly() {
    let Some(rt) = runtime("corrupted_onnx_fails_cleanly") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let good = fixtures::onnx_model_bytes(&OnnxSpec::default());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated.onnx", good[..good.len() / 2].to_vec()),
        (
            "garbage.onnx",
            b"this is not a protobuf at all \xff\xfe".to_vec(),
        ),
        ("empty.onnx", Vec::new()),
        ("safetensors.onnx", fixtures::safetensors_bytes(&spec(), 0)),
    ];
    for (name, bytes) in cases {
        let path = write(dir.path(), name, &bytes);
        let err = check_onnx(&path, &rt, &no_dims()).expect_err(name);
        assert!(matches!(err, SmokeError::Onnx { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(name), "{err}");
    }
    // A good model still loads afterwards: the failures left the runtime usable.
    let path = write(dir.path(), "good.onnx", &good);
    check_onnx(&path, &rt, &no_dims()).unwrap();
}

// ---------------------------------------------------------------------------------------
// locating the runtime (in child processes: it reads the environment)
// ---------------------------------------------------------------------------------------

const CHILD_CASE: &str = "RSKILL_TEST_RUNTIME_CASE";

/// Re-runs this test binary's `runtime_discovery_child` with a controlled environment.
fn run_child(case: &str, envs: &[(&str, &str)]) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "smoke_fixtures::runtime_discovery_child",
        "--ignored",
        "--nocapture",
    ])
    .env(CHILD_CASE, case)
    .env_remove("ORT_DYLIB_PATH")
    .env_remove("VIRTUAL_ENV")
    .env_remove("RSKILL_PYTHON")
    .env("LD_LIBRARY_PATH", "")
    .env("DYLD_LIBRARY_PATH", "");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "case {case} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "case {case}: the child ran no test"
    );
}

/// A fake Python whose "onnxruntime package" is `pkg`.
#[cfg(unix)]
fn fake_python(dir: &Path, pkg: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("python");
    std::fs::write(&path, format!("#!/bin/sh\necho '{}'\n", pkg.display())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[cfg(target_os = "linux")]
#[test]
fn runtime_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("site-packages/onnxruntime");
    std::fs::create_dir_all(pkg.join("capi")).unwrap();
    for f in [
        "libonnxruntime.so.1.31.1",
        "libonnxruntime_providers_shared.so",
    ] {
        std::fs::write(pkg.join("capi").join(f), b"").unwrap();
    }
    let python = fake_python(dir.path(), &pkg);
    let python = python.to_str().unwrap();
    run_child("wheel", &[("RSKILL_PYTHON", python)]);

    let old = dir.path().join("old/onnxruntime");
    std::fs::create_dir_all(old.join("capi")).unwrap();
    std::fs::write(old.join("capi/libonnxruntime.so.1.20.0"), b"").unwrap();
    let old_python = fake_python(&dir.path().join("old"), &old);
    run_child(
        "old-wheel",
        &[("RSKILL_PYTHON", old_python.to_str().unwrap())],
    );

    let venv = dir.path().join("venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    fake_python(&venv.join("bin"), &pkg);
    run_child("wheel", &[("VIRTUAL_ENV", venv.to_str().unwrap())]);

    run_child(
        "bad-env",
        &[
            ("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so"),
            ("RSKILL_PYTHON", python),
        ],
    );
    run_child(
        "env",
        &[
            (
                "ORT_DYLIB_PATH",
                pkg.join("capi/libonnxruntime.so.1.31.1").to_str().unwrap(),
            ),
            ("RSKILL_PYTHON", "/nonexistent/python"),
        ],
    );
}

#[test]
#[ignore = "helper: run in a child process by runtime_discovery"]
fn runtime_discovery_child() {
    let case = std::env::var(CHILD_CASE).expect("run by runtime_discovery");
    let found = smoke::onnx_runtime();
    match case.as_str() {
        "wheel" => {
            let rt = found.unwrap();
            assert!(
                matches!(rt.source, RuntimeSource::PythonWheel { .. }),
                "{rt:?}"
            );
            assert!(
                rt.dylib.ends_with("capi/libonnxruntime.so.1.31.1"),
                "{rt:?}"
            );
            assert_eq!(rt.version.as_deref(), Some("1.31.1"));
        }
        "env" => {
            let rt = found.unwrap();
            assert_eq!(rt.source, RuntimeSource::EnvVar);
            // The "library" is an empty file: loading it must be an error, not a panic.
            let dir = tempfile::tempdir().unwrap();
            let model = write(
                dir.path(),
                "model.onnx",
                &fixtures::onnx_model_bytes(&OnnxSpec::default()),
            );
            let err = check_onnx(&model, &rt, &no_dims()).unwrap_err();
            assert!(err.is_runtime_problem(), "{err:?}");
            assert!(
                err.to_string().contains("hint: pip install onnxruntime"),
                "{err}"
            );
        }
        "old-wheel" | "bad-env" => {
            let missing = found.unwrap_err();
            let msg = missing.to_string();
            assert!(
                msg.contains("hint: pip install onnxruntime==1.31.1 and set ORT_DYLIB_PATH="),
                "{msg}"
            );
            let wanted = if case == "bad-env" {
                "ORT_DYLIB_PATH=/nonexistent/libonnxruntime.so: no such file"
            } else {
                "version 1.20.0 is older than 1.31"
            };
            assert!(msg.contains(wanted), "{msg}");
        }
        other => panic!("unknown case {other}"),
    }
}
