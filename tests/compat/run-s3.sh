#!/usr/bin/env bash
# The huggingface_hub compatibility suite on the object store backend: starts a Garage
# node (RSKILL_GARAGE_BIN; scripts/ensure-garage.sh builds one) through
# `rskill-object-store`, then runs tests/compat/run.sh with the server on
# `--blobs s3://…`. Skips (exit 0, with a notice) when RSKILL_GARAGE_BIN is not set.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if [ -z "${RSKILL_GARAGE_BIN:-}" ]; then
  echo "SKIPPED the S3 compatibility suite: set RSKILL_GARAGE_BIN (scripts/ensure-garage.sh builds garage)"
  exit 0
fi
cargo build --quiet -p rskill-test-support --bin rskill-object-store
target="${CARGO_TARGET_DIR:-$root/target}"
work="$(mktemp -d)"
trap 'exec 3>&-; wait || true; rm -rf "$work"' EXIT
mkfifo "$work/in"
"$target/debug/rskill-object-store" < "$work/in" > "$work/env" &
exec 3> "$work/in"
for _ in $(seq 1 300); do
  grep -q '^ready$' "$work/env" 2>/dev/null && break
  sleep 0.1
done
grep -q '^ready$' "$work/env" || { echo "the object store did not start" >&2; exit 1; }
# shellcheck disable=SC1091
source <(grep '^export ' "$work/env")
export RSKILL_COMPAT_SERVE_ARGS="--blobs s3://${RSKILL_S3_BUCKET}/compat"
bash tests/compat/run.sh
