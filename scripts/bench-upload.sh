#!/usr/bin/env bash
# Benchmark of a large LFS upload: one file (default 4 GiB) uploaded with
# huggingface_hub's `upload_file` (LFS batch API + streamed PUT) to a release rskill-hub,
# on the local-disk backend and, when RSKILL_GARAGE_BIN is set, on a Garage S3 backend.
# Prints the upload's wall time and throughput and the server's peak RSS (VmHWM from
# /proc/PID/status) right after start and after the upload (target growth < 64 MiB).
#
# Env: BENCH_DIR (default /work/tmp-bench, else a temp dir; the file and the stored copy
# need about 2 x SIZE of disk), BENCH_SIZE_MIB (default 4096), RSKILL_HUB_BIN (default:
# the release build, built here). Everything it creates is deleted at the end.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
size_mib="${BENCH_SIZE_MIB:-4096}"
base="${BENCH_DIR:-/work/tmp-bench}"
mkdir -p "$base"
work="$(mktemp -d "$base/bench-upload.XXXX")"
target="${CARGO_TARGET_DIR:-$root/target}"
if [ -z "${RSKILL_HUB_BIN:-}" ]; then
  cargo build --quiet --release --bin rskill-hub
  RSKILL_HUB_BIN="$target/release/rskill-hub"
fi
venv="$root/.venv-compat"
if ! "$venv/bin/python" -c "import huggingface_hub" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "huggingface_hub==2.4.0" "pytest>=8"
fi
pids=()
store_pid=""
cleanup() {
  # The object store helper stops its Garage node when its stdin closes: close it and
  # wait for that before anything is killed (killing the helper would orphan the node).
  exec 3>&- 2>/dev/null || true
  if [ -n "$store_pid" ]; then wait "$store_pid" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

file="$work/weights.bin"
echo "generating a ${size_mib} MiB file in $work"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$file"

hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

run() { # label, extra serve args…
  local label="$1"; shift
  local data="$work/data-$label"
  local token
  token="$("$RSKILL_HUB_BIN" token create --data "$data" --user alice --org acme --write)"
  "$RSKILL_HUB_BIN" serve --data "$data" --addr 127.0.0.1:0 "$@" > "$work/serve-$label.out" 2> "$work/serve-$label.err" &
  local pid=$!
  pids+=("$pid")
  for _ in $(seq 1 100); do grep -q '^listening on ' "$work/serve-$label.out" 2>/dev/null && break; sleep 0.1; done
  local url
  url="$(sed -n 's/^listening on //p' "$work/serve-$label.out")"
  local before
  before="$(hwm "$pid")"
  HF_HUB_DISABLE_XET=1 HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_DISABLE_TELEMETRY=1 \
  HF_ENDPOINT="$url" BENCH_TOKEN="$token" BENCH_FILE="$file" "$venv/bin/python" - <<'PY'
import hashlib, os, time
from huggingface_hub import HfApi
api = HfApi(endpoint=os.environ["HF_ENDPOINT"], token=os.environ["BENCH_TOKEN"])
api.create_repo("acme/bench-upload")
path = os.environ["BENCH_FILE"]
size = os.path.getsize(path)
t = time.monotonic()
h = hashlib.sha256()
with open(path, "rb") as f:
    while chunk := f.read(8 << 20):
        h.update(chunk)
hashing = time.monotonic() - t
t = time.monotonic()
api.upload_file(path_or_fileobj=path, path_in_repo="weights.bin", repo_id="acme/bench-upload")
took = time.monotonic() - t
info = api.get_paths_info("acme/bench-upload", ["weights.bin"])[0]
assert info.lfs.sha256 == h.hexdigest(), "stored content differs"
print(f"  upload_file: {size / 2**20:.0f} MiB in {took:.1f} s = {size / 2**20 / took:.0f} MiB/s "
      f"(includes the client's own SHA-256 pass; a bare pass takes {hashing:.1f} s)")
PY
  local after
  after="$(hwm "$pid")"
  echo "  server peak RSS (VmHWM): ${before} KiB after start, ${after} KiB after the upload: growth $(( (after - before) / 1024 )) MiB (target < 64 MiB)"
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}

echo "== local disk backend"
run local

if [ -n "${RSKILL_GARAGE_BIN:-}" ]; then
  echo "== S3 backend (Garage)"
  cargo build --quiet -p rskill-test-support --bin rskill-object-store
  mkfifo "$work/store-in"
  TMPDIR="$work" "$target/debug/rskill-object-store" < "$work/store-in" > "$work/store-env" &
  store_pid=$!
  exec 3> "$work/store-in"
  for _ in $(seq 1 300); do grep -q '^ready$' "$work/store-env" 2>/dev/null && break; sleep 0.1; done
  # shellcheck disable=SC1091
  source <(grep '^export ' "$work/store-env")
  run s3 --blobs "s3://${RSKILL_S3_BUCKET}/bench"
else
  echo "== S3 backend: SKIPPED (set RSKILL_GARAGE_BIN)"
fi
