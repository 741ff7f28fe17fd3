#!/usr/bin/env bash
# Only the object store tests (also part of scripts/test.sh): rskill-hub with
# `--blobs s3://…` on a real Garage node started on 127.0.0.1 (the `s3` module of the
# rskill-hub tests), `rskill install` through the store's presigned redirect, and the
# huggingface_hub compatibility suite on that backend. Garage is built once per machine
# from crates.io by scripts/ensure-garage.sh (about 14 minutes on 2 cores, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export RSKILL_GARAGE_BIN="${RSKILL_GARAGE_BIN:-$(bash scripts/ensure-garage.sh)}"
cargo test -p rskill-hub --test it s3::
cargo test -p rskill --test it install::install_through_the_object_store
bash tests/compat/run-s3.sh
