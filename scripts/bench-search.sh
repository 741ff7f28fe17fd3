#!/usr/bin/env bash
# Benchmark: `rskill search --embodiment franka_panda` (cold and warm cache) against the
# conventional approach (scripts/bench_search_conventional.py: huggingface_hub
# `list_models`, then per repo `hf_hub_download("rskill.yaml")` + `yaml.safe_load` +
# JSON Schema validation, sequentially), on catalogs of 40, 200 and 1,000 skills served
# by a release `rskill-hub` on 127.0.0.1.
#
# Usage: scripts/bench-search.sh [N ...]          (default: 40 200 1000)
#   WARM_RUNS=5 COLD_RUNS=3 CONV_RUNS=3 override the repetitions (medians are reported).
#
# Choices:
# - Every figure is the wall-clock time of the whole process, as a user waits for it
#   (rskill: one binary; conventional: python start-up + imports + the work). The
#   conventional script's own "in-script" time (after imports) is shown too, and the
#   conservative ratio against it.
# - The conventional approach runs with a fresh cache each time: it keeps no index of
#   what it validated, so even with a warm huggingface_hub cache it still lists, asks
#   the Hub about every file (HEAD per repo) and re-parses and re-validates every
#   manifest; a fresh cache is what a one-off script or a CI job sees.
# - rskill cold = fresh HF_HUB_CACHE; warm = the same cache again, unchanged catalog.
# - Both must find the same number of skills, or the run fails.
# Generated data (hub data dirs, caches) lives in a temp dir removed at exit; the Python
# venv is .venv-bench in the repo root (git-ignored by its own .gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(40 200 1000)
WARM_RUNS=${WARM_RUNS:-5}
COLD_RUNS=${COLD_RUNS:-3}
CONV_RUNS=${CONV_RUNS:-3}
ORG=bench-fleet
EMBODIMENT=franka_panda

echo "== building release binaries" >&2
cargo build --release --quiet --bin rskill --bin rskill-hub --example seed_catalog
BIN=$ROOT/target/release

VENV=$ROOT/.venv-bench
if ! "$VENV/bin/python" -c 'import huggingface_hub, yaml, jsonschema' 2>/dev/null; then
  echo "== creating $VENV" >&2
  python3 -m venv "$VENV"
  printf '*\n' >"$VENV/.gitignore"
  "$VENV/bin/pip" install -q huggingface_hub pyyaml jsonschema
fi
PY=$VENV/bin/python

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rskill-bench.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Anonymous, online, no colour, no progress bars, nothing from the caller's Hub config.
unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE XDG_CACHE_HOME
export HF_TOKEN_PATH=/nonexistent HF_HUB_DISABLE_PROGRESS_BARS=1 HF_HUB_DISABLE_TELEMETRY=1
export HF_HUB_DISABLE_IMPLICIT_TOKEN=1 NO_COLOR=1

now() { date +%s.%N; }
# median of the numbers given
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# runs "$@" with stdout to $OUT_FILE, prints the seconds it took
timed() { local t0 t1; t0=$(now); "$@" >"$OUT_FILE" 2>>"$WORK/stderr.log"; t1=$(now); echo "$t1 - $t0" | bc -l; }

rskill_count() { "$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1"; }

ROWS=()
for N in "${SIZES[@]}"; do
  data=$WORK/hub-$N
  "$BIN/examples/seed_catalog" --data "$data" --count "$N" --org "$ORG"
  "$BIN/rskill-hub" serve --data "$data" --addr 127.0.0.1:0 >"$WORK/serve-$N.out" 2>"$WORK/serve-$N.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q '^listening on ' "$WORK/serve-$N.out" 2>/dev/null && break; sleep 0.05; done
  URL=$(sed -n 's/^listening on //p' "$WORK/serve-$N.out")
  [ -n "$URL" ] || { echo "rskill-hub did not start" >&2; cat "$WORK/serve-$N.err" >&2; exit 1; }
  export HF_ENDPOINT=$URL HF_HOME=$WORK/home-$N
  OUT_FILE=$WORK/out.json

  # rskill cold: a fresh cache each run.
  cold=()
  for r in $(seq "$COLD_RUNS"); do
    export HF_HUB_CACHE=$WORK/cache-$N-cold-$r
    cold+=("$(timed "$BIN/rskill" search --json --embodiment "$EMBODIMENT")")
  done
  found=$(rskill_count "$OUT_FILE")
  # rskill warm: the last cold run's cache, catalog unchanged.
  warm=()
  for _ in $(seq "$WARM_RUNS"); do
    warm+=("$(timed "$BIN/rskill" search --json --embodiment "$EMBODIMENT")")
  done
  [ "$(rskill_count "$OUT_FILE")" = "$found" ] || { echo "warm found a different count" >&2; exit 1; }

  # Conventional: fresh huggingface_hub cache each run.
  conv=()
  inscript=()
  for r in $(seq "$CONV_RUNS"); do
    : >"$WORK/stderr.log"
    conv+=("$(timed "$PY" scripts/bench_search_conventional.py --author "$ORG" --embodiment "$EMBODIMENT" \
      --schema schemas/rskill.schema.json --cache "$WORK/cache-$N-conv-$r")")
    inscript+=("$(sed -n 's/^in-script \([0-9.]*\).*/\1/p' "$WORK/stderr.log")")
    conv_found=$(cat "$OUT_FILE")
    [ "$conv_found" = "$found" ] || {
      echo "N=$N: conventional found $conv_found skills, rskill $found" >&2; exit 1; }
  done
  rm -rf "$WORK"/cache-$N-*

  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
  c=$(median "${cold[@]}"); w=$(median "${warm[@]}"); v=$(median "${conv[@]}"); s=$(median "${inscript[@]}")
  ROWS+=("$N $found $c $w $v $s")
done

echo
echo "rskill search --embodiment $EMBODIMENT vs huggingface_hub list_models + hf_hub_download + validation (sequential)"
echo "medians: rskill cold of $COLD_RUNS, warm of $WARM_RUNS, conventional of $CONV_RUNS; seconds, wall clock per process"
printf '%6s %6s %9s %9s %9s %10s %8s %8s %12s\n' skills found cold warm conv conv-work "warm×" "cold×" "warm×/cold× (vs work)"
for row in "${ROWS[@]}"; do
  read -r N found c w v s <<<"$row"
  awk -v n="$N" -v f="$found" -v c="$c" -v w="$w" -v v="$v" -v s="$s" 'BEGIN {
    printf "%6d %6d %9.3f %9.3f %9.3f %10.3f %7.1fx %7.1fx %6.1fx/%.1fx\n", n, f, c, w, v, s, v/w, v/c, s/w, s/c }'
done
echo "targets at 200 skills: warm >= 50x, cold >= 8x faster than the conventional approach"
