#!/usr/bin/env bash
# Benchmark: `rskill search --embodiment franka_panda` (cold and warm cache) against the
# conventional approach (scripts/bench_search_conventional.py: huggingface_hub
# `list_models`, then per repo `hf_hub_download("rskill.yaml")` + `yaml.safe_load` +
# JSON Schema validation, sequentially), on catalogs of 40, 200 and 1,000 skills served
# by a release `rskill-hub` on 127.0.0.1.
#
# Usage: scripts/bench-search.sh [--latency MS] [--before] [N ...]   (default N: 40 200 1000)
#   --latency MS  puts examples/delay_proxy.rs between the clients and rskill-hub: MS ms
#                 added to every request and to every new connection (a Hub tens of ms
#                 away), for rskill and the conventional search alike. The proxy also
#                 logs every request it forwards, so the rows report requests per run.
#   --before      serves with the hidden `--no-nodelay` switch: the server as it was
#                 before kept-alive responses stopped stalling on Nagle plus delayed ACK.
#   WARM_RUNS=5 COLD_RUNS=3 CONV_RUNS=3 override the repetitions (medians are reported);
#   CONV_RUNS=0 leaves the conventional search out (at 10,000 skills behind 50 ms it takes
#   about half an hour a run): `CONV_RUNS=0 scripts/bench-search.sh --latency 50 10000`.
#
# After those rows, each catalog is measured with its org's catalog index
# (`rskill-publisher index rebuild ORG`, run straight against rskill-hub, not timed):
# rskill cold and warm with the index current, then cold again after one skill in ten got
# a new commit (`seed_catalog --change-every 10`, a new patch version) that the index does
# not describe. Cold with the index must print exactly the rows cold without it printed.
#
# Choices:
# - Every figure is the wall-clock time of the whole process, as a user waits for it
#   (rskill: one binary; conventional: python start-up + imports + the work). The
#   conventional script's own "in-script" time (after imports) is shown too.
# - Like is compared with like: cold = a fresh cache (rskill: HF_HUB_CACHE; conventional:
#   the huggingface_hub cache), warm = the same cache again over the unchanged catalog.
#   Warm, huggingface_hub still lists and asks the Hub about every file (a HEAD per repo)
#   and re-parses and re-validates every manifest; rskill lists (one page of 1,000) and
#   reads its search index (one file).
# - Both must find the same number of skills, or the run fails.
# - Cold runs create ~10 files and folders per skill (the Hub cache layout, both sides).
#   On an ext4 without a journal (this project's machines), creating an inode skips the
#   inodes freed in the last minutes one by one, so a cold run right after large
#   deletions (a `cargo build` cleaning up, an earlier run's caches) can take 2-3x
#   longer: `perf` then shows the time in the kernel's recently_deleted/find_inode_bit.
#   `TMPDIR=/dev/shm scripts/bench-search.sh` puts every cache (both sides) on tmpfs,
#   which measures the rest without that effect.
# Generated data (hub data dirs, caches) lives in a temp dir removed at exit; the Python
# venv is .venv-bench in the repo root (git-ignored by its own .gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LATENCY_MS=
HUB_FLAGS=()
SIZES=()
while [ $# -gt 0 ]; do
  case $1 in
    --latency) LATENCY_MS=${2:?--latency needs milliseconds}; shift 2 ;;
    --before) HUB_FLAGS=(--no-nodelay); shift ;;
    -*) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    *) SIZES+=("$1"); shift ;;
  esac
done
[ ${#SIZES[@]} -gt 0 ] || SIZES=(40 200 1000)
WARM_RUNS=${WARM_RUNS:-5}
COLD_RUNS=${COLD_RUNS:-3}
CONV_RUNS=${CONV_RUNS:-3}
ORG=bench-fleet
EMBODIMENT=franka_panda

echo "== building release binaries" >&2
cargo build --release --quiet --bin rskill --bin rskill-hub --bin rskill-publisher \
  --example seed_catalog --example delay_proxy
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release

VENV=$ROOT/.venv-bench
if [ "$CONV_RUNS" -gt 0 ] && ! "$VENV/bin/python" -c 'import huggingface_hub, yaml, jsonschema' 2>/dev/null; then
  echo "== creating $VENV" >&2
  python3 -m venv "$VENV"
  printf '*\n' >"$VENV/.gitignore"
  "$VENV/bin/pip" install -q huggingface_hub pyyaml jsonschema
fi
PY=$VENV/bin/python
[ -x "$PY" ] || PY=python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/rskill-bench.XXXXXX")
SERVER_PID=
PROXY_PID=
stop() { if [ -n "$1" ]; then kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi; }
cleanup() {
  stop "$PROXY_PID"
  stop "$SERVER_PID"
  rm -rf "$WORK"
}
# waits for "listening on URL" in file $1, prints the URL
listening() {
  for _ in $(seq 200); do grep -q '^listening on ' "$1" 2>/dev/null && break; sleep 0.05; done
  sed -n 's/^listening on //p' "$1"
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
# requests the proxy forwarded so far (0 without a proxy)
REQ_LOG=
logged() { if [ -n "$REQ_LOG" ]; then wc -l <"$REQ_LOG"; else echo 0; fi; }
# like `timed`, and appends the run's request count to $REQ_FILE; the run's requests are
# kept in $WORK/last-requests.log
timed_counted() {
  local before secs
  before=$(logged)
  secs=$(timed "$@")
  if [ -n "$REQ_LOG" ]; then
    tail -n +"$((before + 1))" "$REQ_LOG" >"$WORK/last-requests.log"
    wc -l <"$WORK/last-requests.log" >>"$REQ_FILE"
  fi
  echo "$secs"
}
# requests of $WORK/last-requests.log by route: "list=10 info=1 resolve=1"
by_route() {
  [ -n "$REQ_LOG" ] || { echo -; return; }
  awk '{ t = $2; r = "other"
         if (t ~ /^\/api\/models(\?|$)/) r = "list"
         else if (t ~ /^\/api\/models\//) r = "info"
         else if (t ~ /\/resolve\//) r = "resolve"
         n[r]++ }
       END { s = ""; for (k in n) s = s (s == "" ? "" : ",") k "=" n[k]; print (s == "" ? "none" : s) }' \
    "$WORK/last-requests.log"
}
# median of the counts in $1 (- without a proxy)
req_median() { if [ -n "$REQ_LOG" ] && [ -s "$1" ]; then median $(cat "$1"); else echo -; fi; }

rskill_count() { "$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$1"; }

ROWS=()
IROWS=()
IROUTES=()
# starts rskill-hub on $data (and the proxy when asked); sets SERVER_PID, PROXY_PID,
# DIRECT (the hub's URL), URL (what clients use) and REQ_LOG
serve() {
  "$BIN/rskill-hub" serve --data "$data" --addr 127.0.0.1:0 "${HUB_FLAGS[@]}" >"$WORK/serve-$N.out" 2>"$WORK/serve-$N.err" &
  SERVER_PID=$!
  DIRECT=$(listening "$WORK/serve-$N.out")
  [ -n "$DIRECT" ] || { echo "rskill-hub did not start" >&2; cat "$WORK/serve-$N.err" >&2; exit 1; }
  URL=$DIRECT
  if [ -n "$LATENCY_MS" ]; then
    REQ_LOG=$WORK/requests-$N.log
    : >"$REQ_LOG"
    "$BIN/examples/delay_proxy" --upstream "${DIRECT#http://}" --delay-ms "$LATENCY_MS" --max-seconds 3600 \
      --log "$REQ_LOG" >"$WORK/proxy-$N.out" 2>"$WORK/proxy-$N.err" &
    PROXY_PID=$!
    URL=$(listening "$WORK/proxy-$N.out")
    [ -n "$URL" ] || { echo "delay_proxy did not start" >&2; cat "$WORK/proxy-$N.err" >&2; exit 1; }
  fi
  export HF_ENDPOINT=$URL
}
unserve() {
  stop "$PROXY_PID"; PROXY_PID=
  stop "$SERVER_PID"; SERVER_PID=
}
# $1 cold runs of rskill search into fresh caches named $2-<run>; times in COLD, requests
# in $REQ_FILE; the last run's cache stays in HF_HUB_CACHE/HF_HOME
cold_runs() {
  COLD=()
  : >"$REQ_FILE"
  for r in $(seq "$1"); do
    export HF_HUB_CACHE=$WORK/cache-$N-$2-$r HF_HOME=$WORK/home-$N-$2-$r
    COLD+=("$(timed_counted "$BIN/rskill" search --json --embodiment "$EMBODIMENT")")
  done
}
warm_runs() {
  WARM=()
  : >"$REQ_FILE"
  for _ in $(seq "$1"); do
    WARM+=("$(timed_counted "$BIN/rskill" search --json --embodiment "$EMBODIMENT")")
  done
}
for N in "${SIZES[@]}"; do
  data=$WORK/hub-$N
  "$BIN/examples/seed_catalog" --data "$data" --count "$N" --org "$ORG"
  TOKEN=$("$BIN/rskill-hub" token create --data "$data" --user bench --org "$ORG" --write)
  serve
  OUT_FILE=$WORK/out.json
  REQ_FILE=$WORK/req.txt

  # rskill cold: a fresh cache each run (and a fresh HF_HOME: the search index lives
  # under $HF_HOME/assets).
  cold_runs "$COLD_RUNS" plain
  cold=("${COLD[@]}"); cold_req=$(req_median "$REQ_FILE"); cold_routes=$(by_route)
  found=$(rskill_count "$OUT_FILE")
  cp "$OUT_FILE" "$WORK/answer-$N.json"
  # rskill warm: the last cold run's cache, catalog unchanged.
  warm_runs "$WARM_RUNS"
  warm=("${WARM[@]}"); warm_req=$(req_median "$REQ_FILE")
  [ "$(rskill_count "$OUT_FILE")" = "$found" ] || { echo "warm found a different count" >&2; exit 1; }
  # rskill warm, filtered and sorted by a benchmark score (facets only, as above).
  warmb=()
  for _ in $(seq "$WARM_RUNS"); do
    warmb+=("$(timed "$BIN/rskill" search --json --embodiment "$EMBODIMENT" \
      --benchmark libero_10 --min-score 0.5 --sort benchmark:libero_10)")
  done

  # Conventional cold: a fresh huggingface_hub cache each run; warm: the last one again.
  conv=()
  inscript=()
  conv_run() {
    : >"$WORK/stderr.log"
    timed "$PY" scripts/bench_search_conventional.py --author "$ORG" --embodiment "$EMBODIMENT" \
      --schema schemas/rskill.schema.json --cache "$1"
  }
  conv_check() {
    [ "$(cat "$OUT_FILE")" = "$found" ] || {
      echo "N=$N: conventional found $(cat "$OUT_FILE") skills, rskill $found" >&2; exit 1; }
  }
  for r in $(seq "$CONV_RUNS"); do
    conv+=("$(conv_run "$WORK/cache-$N-conv-$r")")
    inscript+=("$(sed -n 's/^in-script \([0-9.]*\).*/\1/p' "$WORK/stderr.log")")
    conv_check
  done
  convw=()
  for _ in $(seq "$CONV_RUNS"); do
    convw+=("$(conv_run "$WORK/cache-$N-conv-$CONV_RUNS")")
    conv_check
  done
  rm -rf "$WORK"/cache-$N-* "$WORK"/home-$N-*

  # The org's catalog index, written straight against the hub (not through the proxy).
  HF_ENDPOINT=$DIRECT HF_HUB_CACHE=$WORK/cache-$N-publisher HF_HOME=$WORK/home-$N-publisher \
    "$BIN/rskill-publisher" index rebuild "$ORG" --token "$TOKEN" 2>>"$WORK/stderr.log"
  cold_runs "$COLD_RUNS" index
  icold=("${COLD[@]}"); icold_req=$(req_median "$REQ_FILE"); icold_routes=$(by_route)
  cmp -s "$OUT_FILE" "$WORK/answer-$N.json" || {
    echo "N=$N: cold with the catalog index printed other rows than without it" >&2
    diff "$WORK/answer-$N.json" "$OUT_FILE" | head >&2; exit 1; }
  grep -q 'catalog index not used' "$WORK/stderr.log" && {
    echo "N=$N: the catalog index was refused:" >&2; grep 'catalog index' "$WORK/stderr.log" >&2; exit 1; }
  warm_runs "$WARM_RUNS"
  iwarm=("${WARM[@]}"); iwarm_req=$(req_median "$REQ_FILE"); iwarm_routes=$(by_route)
  cmp -s "$OUT_FILE" "$WORK/answer-$N.json" || { echo "N=$N: warm with the index differs" >&2; exit 1; }
  rm -rf "$WORK"/cache-$N-* "$WORK"/home-$N-*

  # One skill in ten changed since the index was written (the store is written directly,
  # so the hub is stopped meanwhile).
  unserve
  "$BIN/examples/seed_catalog" --data "$data" --count "$N" --org "$ORG" --change-every 10
  serve
  cold_runs "$COLD_RUNS" changed
  ccold=("${COLD[@]}"); ccold_req=$(req_median "$REQ_FILE"); ccold_routes=$(by_route)
  [ "$(rskill_count "$OUT_FILE")" = "$found" ] || { echo "N=$N: after the changes, another count" >&2; exit 1; }
  rm -rf "$WORK"/cache-$N-* "$WORK"/home-$N-*
  unserve

  c=$(median "${cold[@]}"); w=$(median "${warm[@]}")
  v=-; vw=-; s=-
  if [ "$CONV_RUNS" -gt 0 ]; then v=$(median "${conv[@]}"); vw=$(median "${convw[@]}"); s=$(median "${inscript[@]}"); fi
  wb=$(median "${warmb[@]}")
  ROWS+=("$N $found $c $w $v $vw $s $wb")
  IROWS+=("$N $c $cold_req $(median "${icold[@]}") $icold_req $(median "${iwarm[@]}") $iwarm_req $(median "${ccold[@]}") $ccold_req")
  IROUTES+=("N=$N requests by route (last run): no index cold: $cold_routes; index cold: $icold_routes; index warm: $iwarm_routes; 10% changed cold: $ccold_routes")
done

server="rskill-hub on 127.0.0.1"
[ ${#HUB_FLAGS[@]} -eq 0 ] || server="$server, BEFORE the fix (${HUB_FLAGS[*]}: kept-alive responses stall)"
[ -z "$LATENCY_MS" ] || server="$server, through delay_proxy (+$LATENCY_MS ms per request and per connection)"
echo
echo "rskill search --embodiment $EMBODIMENT vs huggingface_hub list_models + hf_hub_download + validation (sequential)"
echo "$server"
echo "medians: rskill cold of $COLD_RUNS, warm of $WARM_RUNS; conventional cold and warm of $CONV_RUNS each; seconds, wall clock per process"
printf '%6s %6s %9s %9s %9s %9s %10s %8s %8s %11s\n' skills found cold warm conv-cold conv-warm conv-work "cold×" "warm×" "warm-bench"
for row in "${ROWS[@]}"; do
  read -r N found c w v vw s wb <<<"$row"
  if [ "$v" = - ]; then
    awk -v n="$N" -v f="$found" -v c="$c" -v w="$w" -v wb="$wb" 'BEGIN {
      printf "%6d %6d %9.3f %9.3f %9s %9s %10s %8s %8s %11.3f\n", n, f, c, w, "-", "-", "-", "-", "-", wb }'
  else
    awk -v n="$N" -v f="$found" -v c="$c" -v w="$w" -v v="$v" -v vw="$vw" -v s="$s" -v wb="$wb" 'BEGIN {
      printf "%6d %6d %9.3f %9.3f %9.3f %9.3f %10.3f %7.1fx %7.1fx %11.3f\n", n, f, c, w, v, vw, s, v/c, vw/w, wb }'
  fi
done
echo "cold× = conventional cold / rskill cold; warm× = conventional warm / rskill warm"
echo "warm-bench = rskill warm with --benchmark libero_10 --min-score 0.5 --sort benchmark:libero_10 added"
if [ -n "$LATENCY_MS" ]; then
  echo "targets at 1,000 skills: rskill cold < 2.5 s, warm < 0.1 s"
else
  echo "targets at 1,000 skills: rskill cold < 0.5 s, warm < 0.045 s"
fi
echo
echo "rskill search --embodiment $EMBODIMENT with the org's catalog index ($ORG/rskill-index); same server$([ -z "$LATENCY_MS" ] || echo " and proxy"), cold = fresh caches"
echo "seconds (medians as above) and requests per run (median; - without --latency, where no proxy counts them)"
printf '%6s %9s %6s %10s %6s %10s %6s %12s %6s\n' skills "no-index" req "idx-cold" req "idx-warm" req "10%chg-cold" req
for row in "${IROWS[@]}"; do
  read -r N c cr ic icr iw iwr cc ccr <<<"$row"
  awk -v n="$N" -v c="$c" -v cr="$cr" -v ic="$ic" -v icr="$icr" -v iw="$iw" -v iwr="$iwr" -v cc="$cc" -v ccr="$ccr" 'BEGIN {
    printf "%6d %9.3f %6s %10.3f %6s %10.3f %6s %12.3f %6s\n", n, c, cr, ic, icr, iw, iwr, cc, ccr }'
done
printf '%s\n' "${IROUTES[@]}"
echo "no-index = rskill cold above (every manifest fetched); idx-cold/idx-warm = the index current;"
echo "10%chg-cold = one skill in ten given a new commit after the index was written"
[ -z "$LATENCY_MS" ] || echo "targets at 10,000 skills behind 50 ms: idx-cold < 2 s and <= 30 requests, idx-warm < 0.3 s, 10%chg <= 1,100 requests"
