#!/usr/bin/env bash
# Benchmark of the air-gap export/import (issue #19): a skill and its 1 GiB weights repo
# on a local `rskill-hub`, `rskill export --with-weights` into a bundle, then
# `rskill-hub import` of it into a second data directory.
#   1. build release (binaries + examples/bench_seed.rs);
#   2. start `rskill-hub serve --max-body-mb 2048` on a data dir, create a write token,
#      seed `bench/bench-weights` (a generated safetensors file) and `bench/rskill-bench`;
#   3. `rskill export bench/rskill-bench --with-weights --out bundle.tar` and
#      `rskill-hub import bundle.tar --data airgap/`, each under /usr/bin/time -v (wall time
#      of the whole process, peak RSS), after `sync`.
# Prints the bundle size, throughput (bundle MiB / wall s) and peak RSS of both. Exit 0
# when both ran and the peak RSS of each stays under 128 MiB (memory must not grow with
# the bundle: 20 GiB needs no more than 20 MiB), 1 otherwise.
# Environment: RSKILL_BENCH_SIZE_MIB (default 1024), RSKILL_BENCH_DIR (work dir, default
# /work/tmp-bench-airgap when /work exists, else a temp dir; deleted at the end unless
# RSKILL_BENCH_KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB="${RSKILL_BENCH_SIZE_MIB:-1024}"
say() { printf '== %s\n' "$*" >&2; }

say "building (release)"
cargo build --release --quiet --bins --example bench_seed
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"

if [ -n "${RSKILL_BENCH_DIR:-}" ]; then WORK="$RSKILL_BENCH_DIR"
elif [ -d /work ]; then WORK=/work/tmp-bench-airgap
else WORK="$(mktemp -d -t rskill-bench-airgap.XXXXXX)"; fi
rm -rf "$WORK"; mkdir -p "$WORK"
HUB_PID=""
cleanup() {
  if [ -n "$HUB_PID" ]; then kill "$HUB_PID" 2>/dev/null || true; wait "$HUB_PID" 2>/dev/null || true; fi
  if [ "${RSKILL_BENCH_KEEP:-}" != 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE HF_HOME

say "starting rskill-hub (data in $WORK/hub)"
"$BIN/rskill-hub" serve --data "$WORK/hub" --addr 127.0.0.1:0 --max-body-mb 2048 \
  > "$WORK/hub.out" 2> "$WORK/hub.err" &
HUB_PID=$!
for _ in $(seq 1 200); do
  [ -s "$WORK/hub.out" ] && break
  sleep 0.05
done
URL="$(head -n 1 "$WORK/hub.out" | awk '{print $3}')"
[ -n "$URL" ] || { cat "$WORK/hub.err" >&2; exit 1; }
TOKEN="$("$BIN/rskill-hub" token create --data "$WORK/hub" --user bench --org bench --write)"

say "seeding a ${SIZE_MIB} MiB safetensors weights repo and its skill"
SEEDED="$("$BIN/examples/bench_seed" --endpoint "$URL" --token "$TOKEN" --org bench \
  --size-mib "$SIZE_MIB" --work "$WORK/seed")"
echo "$SEEDED" >&2
SKILL="$(sed -n 's/.*skill=\([^ ]*\).*/\1/p' <<< "$SEEDED")"
rm -rf "$WORK/seed"

wall_seconds() { # GNU time's "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:03.21"
  awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"
}
peak_kib() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

sync
say "rskill export $SKILL --with-weights"
env HF_ENDPOINT="$URL" HF_HOME="$WORK/export-hf" HF_TOKEN="$TOKEN" HF_HUB_DISABLE_PROGRESS_BARS=1 \
  /usr/bin/time -v -o "$WORK/export.time" "$BIN/rskill" export "$SKILL" --with-weights \
  --out "$WORK/bundle.tar" > "$WORK/export.out" 2> "$WORK/export.err" \
  || { cat "$WORK/export.err" >&2; exit 1; }
cat "$WORK/export.out" >&2
kill "$HUB_PID" 2>/dev/null || true; wait "$HUB_PID" 2>/dev/null || true; HUB_PID=""
# The source's blobs are not needed any more: keep the disk use to one bundle + one copy.
rm -rf "$WORK/hub"

sync
say "rskill-hub import bundle.tar --data airgap"
/usr/bin/time -v -o "$WORK/import.time" "$BIN/rskill-hub" import "$WORK/bundle.tar" \
  --data "$WORK/airgap" > "$WORK/import.out" 2> "$WORK/import.err" \
  || { cat "$WORK/import.err" >&2; exit 1; }
cat "$WORK/import.out" >&2

BYTES="$(stat -c %s "$WORK/bundle.tar")"
report() { # label, time file
  local s kib
  s="$(wall_seconds "$2")"; kib="$(peak_kib "$2")"
  awk -v l="$1" -v b="$BYTES" -v s="$s" -v k="$kib" 'BEGIN {
    printf "%-7s %8.1f MiB in %6.2f s = %7.1f MiB/s, peak RSS %6.1f MiB\n",
      l, b / 1048576, s, (b / 1048576) / s, k / 1024 }'
}
echo "bundle: $BYTES bytes"
report export "$WORK/export.time"
report import "$WORK/import.time"
ok=0
for t in export import; do
  kib="$(peak_kib "$WORK/$t.time")"
  if [ "$kib" -gt $((128 * 1024)) ]; then echo "FAIL: $t peak RSS ${kib} KiB > 128 MiB"; ok=1; fi
done
exit "$ok"
