#!/usr/bin/env bash
# The whole test suite, from a clean clone: formatting, lints, Rust tests, and the
# Python compatibility suite (official huggingface_hub client against rskill-hub).
# Installs what it needs itself (Python packages into .venv-compat, .venv-signing; Garage,
# the S3-compatible store of the object store tests, built once into ~/.cache/rskill).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== ONNX Runtime (onnxruntime wheel into .venv) for the ONNX smoke-load tests"
export ORT_DYLIB_PATH="${ORT_DYLIB_PATH:-$(bash scripts/ensure-onnxruntime.sh)}"

echo "== model-signing (OpenSSF reference, from PyPI, into .venv-signing) for the interop tests"
export RSKILL_MODEL_SIGNING_PYTHON="${RSKILL_MODEL_SIGNING_PYTHON:-$(bash scripts/ensure-signing-venv.sh)}"

echo "== Garage (S3-compatible store, built once per machine from crates.io) for the object store tests"
export RSKILL_GARAGE_BIN="${RSKILL_GARAGE_BIN:-$(bash scripts/ensure-garage.sh)}"

echo "== cargo test"
cargo test --workspace

if [ -x tests/compat/run.sh ]; then
  echo "== huggingface_hub compatibility suite"
  tests/compat/run.sh
fi

if [ -x tests/compat/run-s3.sh ]; then
  echo "== huggingface_hub compatibility suite on the S3 backend (Garage)"
  tests/compat/run-s3.sh
fi
