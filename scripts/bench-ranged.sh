#!/usr/bin/env bash
# Benchmark of parallel ranged downloads (issue #18, point 5): one generated 1 GiB
# safetensors file on a release `rskill-hub`, fetched through `rskill-throttle-proxy`, which
# caps each connection (default 50 MiB/s: what one stream gets from a shaped link or a CDN
# edge), by
#   - `rskill install` (default: a big file starts as one request; its first piece is slow
#     behind the cap, so the rest is split over 8 ranged connections),
#   - `rskill install --connections 1` (one stream),
#   - `huggingface_hub.snapshot_download` of the weights repo (from .venv-bench),
#   - `hf_transfer.download` of the file's resolve URL (max_files=8, 10 MiB chunks;
#     huggingface_hub 2.x dropped HF_HUB_ENABLE_HF_TRANSFER, so it is called directly).
# Then the same without the proxy (loopback at full speed).
#   1. build release (rskill, rskill-hub, rskill-throttle-proxy, examples/bench_seed); venv
#      .venv-bench with huggingface_hub, psutil and hf_transfer (reused when present);
#   2. start rskill-hub on a data dir under RSKILL_BENCH_DIR (default /work/tmp-bench-ranged,
#      deleted at the end unless RSKILL_BENCH_KEEP=1), seed the file and a skill using it;
#   3. for each mode (RSKILL_BENCH_MODES, default "proxy direct"), RSKILL_BENCH_RUNS
#      (default 3) rounds; in each round every tool runs once, in turn, into an empty cache
#      after `sync` (client side cold for all); the server's blob stays in the page cache
#      for all (it was just written, and each run reads it again): warm vs warm on the
#      server, cold vs cold on the client. Medians are compared.
# rskill's time is the whole process (`rskill install --no-smoke`: repo info, manifest,
# download, hash check, registry); the Python tools' is in-script (start-up and imports
# excluded, which favours them). Every result's size (and hf_transfer's digest)
# is checked.
# Environment: RSKILL_BENCH_SIZE_MIB (1024), RSKILL_BENCH_RATE_MIB (50, per connection),
# RSKILL_BENCH_LATENCY_MS (0, added per request by the proxy), RSKILL_BENCH_RUNS (3),
# RSKILL_BENCH_MODES ("proxy direct"), RSKILL_BENCH_DIR, RSKILL_BENCH_KEEP.
# Exit 0 when, behind the proxy, rskill's parallel install is at least 2x its one-stream
# install and not slower than 0.8x hf_transfer; 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB="${RSKILL_BENCH_SIZE_MIB:-1024}"
RATE_MIB="${RSKILL_BENCH_RATE_MIB:-50}"
LATENCY_MS="${RSKILL_BENCH_LATENCY_MS:-0}"
RUNS="${RSKILL_BENCH_RUNS:-3}"
MODES="${RSKILL_BENCH_MODES:-proxy direct}"
WORK="${RSKILL_BENCH_DIR:-/work/tmp-bench-ranged}"
say() { printf '== %s\n' "$*" >&2; }

say "building (release)"
cargo build --release --quiet -p rskill --bin rskill -p rskill-hub --bin rskill-hub \
  -p rskill-test-support --bin rskill-throttle-proxy --example bench_seed
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"

VENV=".venv-bench"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import huggingface_hub, psutil, hf_transfer' 2>/dev/null; then
  say "pip install huggingface_hub psutil hf_transfer into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check huggingface_hub psutil hf_transfer
fi

rm -rf "$WORK"
mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ "${RSKILL_BENCH_KEEP:-}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE HF_HOME RSKILL_DOWNLOAD_CONNECTIONS \
  RSKILL_DOWNLOAD_SPLIT_MIB RSKILL_DOWNLOAD_PIECE_MIB

first_line() { # waits for the first line of $1 and prints its last word
  for _ in $(seq 1 200); do [ -s "$1" ] && break; sleep 0.05; done
  head -n 1 "$1" | awk '{print $NF}'
}

say "starting rskill-hub (data in $WORK/hub)"
"$BIN/rskill-hub" serve --data "$WORK/hub" --addr 127.0.0.1:0 --max-body-mb 2048 \
  > "$WORK/hub.out" 2> "$WORK/hub.err" &
PIDS+=($!)
HUB="$(first_line "$WORK/hub.out")"
[ -n "$HUB" ] || { cat "$WORK/hub.err" >&2; exit 1; }
TOKEN="$("$BIN/rskill-hub" token create --data "$WORK/hub" --user bench --org bench --write)"

say "starting rskill-throttle-proxy (${RATE_MIB} MiB/s per connection, +${LATENCY_MS} ms)"
"$BIN/rskill-throttle-proxy" --target "${HUB#http://}" --rate-mib "$RATE_MIB" \
  --latency-ms "$LATENCY_MS" > "$WORK/proxy.out" 2> "$WORK/proxy.err" &
PIDS+=($!)
PROXY="$(first_line "$WORK/proxy.out")"
[ -n "$PROXY" ] || { cat "$WORK/proxy.err" >&2; exit 1; }

say "seeding a ${SIZE_MIB} MiB safetensors weights repo and its skill"
SEEDED="$("$BIN/examples/bench_seed" --endpoint "$HUB" --token "$TOKEN" --org bench \
  --size-mib "$SIZE_MIB" --work "$WORK/seed")"
rm -rf "$WORK/seed"
echo "$SEEDED" >&2
WEIGHTS="$(sed -n 's/.*weights=\([^ ]*\).*/\1/p' <<< "$SEEDED")"
SKILL="$(sed -n 's/.*skill=\([^ ]*\).*/\1/p' <<< "$SEEDED")"
SHA="$(sed -n 's/.*sha256=\([0-9a-f]*\).*/\1/p' <<< "$SEEDED")"
BYTES="$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<< "$SEEDED")"

seconds_of() { # runs "$@", prints its wall time in seconds
  local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N)
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}
rskill_install() { # $1: endpoint, then extra flags
  local endpoint="$1"; shift
  env HF_ENDPOINT="$endpoint" HF_HOME="$WORK/client/hf" RSKILL_DATA_DIR="$WORK/client/data" \
    HF_TOKEN_PATH=/nonexistent HF_HUB_DISABLE_PROGRESS_BARS=1 \
    "$BIN/rskill" install "$SKILL" --no-smoke "$@" > "$WORK/rskill.out" 2> "$WORK/rskill.err" \
    || { cat "$WORK/rskill.err" >&2; exit 1; }
  grep -q "^installed " "$WORK/rskill.err" || { cat "$WORK/rskill.err" >&2; exit 1; }
}
fresh() { rm -rf "$WORK/client"; mkdir -p "$WORK/client"; sync; }

RESULTS="$WORK/results.jsonl"
: > "$RESULTS"
record() { # mode tool seconds
  printf '{"mode": "%s", "tool": "%s", "seconds": %s}\n' "$1" "$2" "$3" >> "$RESULTS"
}
for mode in $MODES; do
  case "$mode" in
    proxy) EP="$PROXY" ;;
    direct) EP="$HUB" ;;
    *) echo "unknown mode $mode (proxy, direct)" >&2; exit 2 ;;
  esac
  for i in $(seq 1 "$RUNS"); do
    fresh; say "$mode $i/$RUNS: rskill install (parallel ranges)"
    s="$(seconds_of rskill_install "$EP")"; record "$mode" rskill "$s"; echo "   $s s" >&2
    fresh; say "$mode $i/$RUNS: rskill install --connections 1"
    s="$(seconds_of rskill_install "$EP" --connections 1)"; record "$mode" rskill-1 "$s"
    echo "   $s s" >&2
    fresh; say "$mode $i/$RUNS: huggingface_hub.snapshot_download"
    out="$("$VENV/bin/python" scripts/bench_install_hf.py --endpoint "$EP" --repo "$WEIGHTS" \
      --cache "$WORK/client/py")"
    got="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["bytes"])' "$out")"
    [ "$got" -ge "$BYTES" ] || { echo "snapshot_download got $got bytes, < $BYTES" >&2; exit 1; }
    s="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$out")"
    record "$mode" snapshot_download "$s"; echo "   $s s" >&2
    fresh; say "$mode $i/$RUNS: hf_transfer.download (max_files=8)"
    out="$("$VENV/bin/python" scripts/bench_ranged_hft.py \
      --url "$EP/$WEIGHTS/resolve/main/model.safetensors" --out "$WORK/client/hft.bin")"
    got="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["sha256"])' "$out")"
    [ "$got" = "$SHA" ] || { echo "hf_transfer's file has sha256 $got, not $SHA" >&2; exit 1; }
    s="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$out")"
    record "$mode" hf_transfer "$s"; echo "   $s s" >&2
  done
done
rm -rf "$WORK/client"

HF_VERSION="$("$VENV/bin/python" -c 'import huggingface_hub; print(huggingface_hub.__version__)')"
HFT_VERSION="$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("hf_transfer"))')"
python3 - "$RESULTS" "$BYTES" "$RATE_MIB" "$LATENCY_MS" "$HF_VERSION" "$HFT_VERSION" <<'EOF'
import json, statistics, sys
path, size, rate, latency, hf_v, hft_v = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
mib = int(size) / 2**20
print(f"file: {mib:.0f} MiB, release rskill-hub on 127.0.0.1; huggingface_hub {hf_v}, hf_transfer {hft_v}")
ok = True
for mode in dict.fromkeys(r["mode"] for r in rows):
    label = f"behind the proxy ({rate} MiB/s per connection, +{latency} ms)" if mode == "proxy" else "direct (no proxy)"
    print(f"{label}: median of {sum(1 for r in rows if r['mode'] == mode and r['tool'] == 'rskill')} runs")
    med = {}
    for tool in ["rskill", "rskill-1", "snapshot_download", "hf_transfer"]:
        times = [r["seconds"] for r in rows if r["mode"] == mode and r["tool"] == tool]
        med[tool] = statistics.median(times)
        name = {"rskill": "rskill install (8 conns)", "rskill-1": "rskill --connections 1"}.get(tool, tool)
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"  {name:26} {med[tool]:7.2f} s  {mib / med[tool]:8.1f} MiB/s   ({runs})")
    r = med["rskill"]
    print(f"  ratio rskill / one stream        {med['rskill-1'] / r:.2f}x faster")
    print(f"  ratio rskill / snapshot_download {med['snapshot_download'] / r:.2f}x faster")
    print(f"  ratio rskill / hf_transfer       {med['hf_transfer'] / r:.2f}x faster")
    if mode == "proxy":
        ok = ok and med["rskill-1"] / r >= 2.0 and med["hf_transfer"] / r >= 0.8
print("targets (behind the proxy: >= 2x one stream, >= 0.8x hf_transfer):", "ok" if ok else "MISSED")
sys.exit(0 if ok else 1)
EOF
