#!/usr/bin/env bash
# Fleet-scale benchmark of rskill-hub's two blob backends (issue #18):
#   A. one 1 GiB skill install (`rskill install`, fresh cache each run) through the Hub node
#      (local-disk blobs: the node streams every byte) against through the redirect
#      (`--blobs s3://…` on Garage: the node answers 302 to a presigned URL and the object
#      store streams); RSKILL_BENCH_RUNS alternating runs, medians compared, plus the CPU
#      seconds the Hub node spent per install;
#   B. RSKILL_FLEET_CLIENTS (default 50) concurrent installs of a 256 MiB skill, each into its
#      own cache: total throughput (bytes delivered / wall time of the whole wave) and the CPU
#      seconds of the Hub node (and of Garage) during the wave, for both backends.
# Both backends run from the same release binary, on the same machine, over loopback; the
# clients are the same `rskill` binary with the same (default) settings. Caches go under
# RSKILL_BENCH_DIR (default a temp dir on disk; B writes clients x 256 MiB there).
# Environment: RSKILL_BENCH_RUNS (3), RSKILL_FLEET_CLIENTS (50), RSKILL_FLEET_SIZE_MIB (256),
# RSKILL_BENCH_SIZE_MIB (1024), RSKILL_GARAGE_BIN (else scripts/ensure-garage.sh builds it).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RSKILL_BENCH_RUNS:-3}"
CLIENTS="${RSKILL_FLEET_CLIENTS:-50}"
FLEET_MIB="${RSKILL_FLEET_SIZE_MIB:-256}"
BIG_MIB="${RSKILL_BENCH_SIZE_MIB:-1024}"
say() { printf '== %s\n' "$*" >&2; }

say "building (release)"
cargo build --release --quiet --bins --example bench_seed
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"
export RSKILL_GARAGE_BIN="${RSKILL_GARAGE_BIN:-$(bash scripts/ensure-garage.sh)}"

WORK="${RSKILL_BENCH_DIR:-$(mktemp -d -t rskill-bench-fleet.XXXXXX)}"
mkdir -p "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -z "${RSKILL_BENCH_DIR:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE HF_HOME
# The clients run with rskill's defaults (a big file starts as one request and is split
# over 8 connections only if its first piece is slow); set RSKILL_DOWNLOAD_* to compare.

TICKS="$(getconf CLK_TCK)"
cpu_seconds() { # user+system CPU seconds a process has used so far
  awk -v t="$TICKS" '{print ($14 + $15) / t}' "/proc/$1/stat"
}

say "starting Garage (S3-compatible store) on 127.0.0.1"
eval "$(bash scripts/start-garage.sh "$WORK/garage")"
PIDS+=("$GARAGE_PID")

start_hub() { # $1: name, then extra serve flags; sets HUB_URL_<name>, HUB_PID_<name>, TOKEN_<name>
  local name="$1"; shift
  "$BIN/rskill-hub" serve --data "$WORK/hub-$name" --addr 127.0.0.1:0 --max-body-mb 2048 "$@" \
    > "$WORK/hub-$name.out" 2> "$WORK/hub-$name.err" &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 200); do [ -s "$WORK/hub-$name.out" ] && break; sleep 0.05; done
  local url; url="$(head -n 1 "$WORK/hub-$name.out" | awk '{print $3}')"
  [ -n "$url" ] || { cat "$WORK/hub-$name.err" >&2; exit 1; }
  printf -v "HUB_URL_$name" '%s' "$url"
  printf -v "HUB_PID_$name" '%s' "$pid"
  printf -v "TOKEN_$name" '%s' \
    "$("$BIN/rskill-hub" token create --data "$WORK/hub-$name" --user bench --org bench --org fleet --write)"
}
start_hub local
start_hub s3 --blobs "$RSKILL_BLOBS_URL"

seed() { # $1 backend, $2 org, $3 MiB → prints the skill id
  local url="HUB_URL_$1" token="TOKEN_$1"
  local out
  out="$("$BIN/examples/bench_seed" --endpoint "${!url}" --token "${!token}" --org "$2" \
    --size-mib "$3" --work "$WORK/seed-$1-$2")"
  sed -n 's/.*skill=\([^ ]*\).*/\1/p' <<< "$out"
}
say "seeding a ${BIG_MIB} MiB and a ${FLEET_MIB} MiB skill on both Hubs"
for b in local s3; do
  printf -v "BIG_$b" '%s' "$(seed "$b" bench "$BIG_MIB")"
  printf -v "FLEET_$b" '%s' "$(seed "$b" fleet "$FLEET_MIB")"
done
rm -rf "$WORK"/seed-*

install_one() { # $1 backend, $2 skill, $3 cache dir, $4 log prefix
  local url="HUB_URL_$1"
  env HF_ENDPOINT="${!url}" HF_HOME="$3/hf" RSKILL_DATA_DIR="$3/data" HF_TOKEN_PATH=/nonexistent \
    HF_HUB_DISABLE_PROGRESS_BARS=1 "$BIN/rskill" install "$2" > "$4.out" 2> "$4.err" \
    || { echo "install failed ($1):" >&2; cat "$4.err" >&2; return 1; }
}
now() { date +%s.%N; }

say "A. ${BIG_MIB} MiB install, $RUNS alternating runs per backend"
A_local=(); A_s3=(); CPU_local=(); CPU_s3=()
for i in $(seq 1 "$RUNS"); do
  for b in local s3; do
    rm -rf "$WORK/a-cache"; sync
    skill="BIG_$b"; pid="HUB_PID_$b"
    c0="$(cpu_seconds "${!pid}")"; t0="$(now)"
    install_one "$b" "${!skill}" "$WORK/a-cache" "$WORK/a-$b-$i"
    t1="$(now)"; c1="$(cpu_seconds "${!pid}")"
    secs="$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')"
    cpu="$(awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}')"
    if [ "$b" = local ]; then A_local+=("$secs"); CPU_local+=("$cpu"); else A_s3+=("$secs"); CPU_s3+=("$cpu"); fi
    echo "run $i $b: ${secs} s, Hub node CPU ${cpu} s" >&2
  done
done
rm -rf "$WORK/a-cache"

wave() { # $1 backend → "seconds hub_cpu garage_cpu"
  local b="$1" skill="FLEET_$1" pid="HUB_PID_$1"
  rm -rf "$WORK/wave"; mkdir -p "$WORK/wave"; sync
  local c0 g0 t0 t1 c1 g1 pids=() fail=0
  c0="$(cpu_seconds "${!pid}")"; g0="$(cpu_seconds "$GARAGE_PID")"; t0="$(now)"
  for n in $(seq 1 "$CLIENTS"); do
    install_one "$b" "${!skill}" "$WORK/wave/$n" "$WORK/wave/$n" & pids+=("$!")
  done
  for p in "${pids[@]}"; do wait "$p" || fail=1; done
  t1="$(now)"; c1="$(cpu_seconds "${!pid}")"; g1="$(cpu_seconds "$GARAGE_PID")"
  [ "$fail" = 0 ] || { echo "a wave install failed" >&2; exit 1; }
  rm -rf "$WORK/wave"
  awk -v a="$t0" -v b="$t1" -v c="$c0" -v d="$c1" -v e="$g0" -v f="$g1" \
    'BEGIN {print b - a, d - c, f - e}'
}
say "B. $CLIENTS concurrent installs of the ${FLEET_MIB} MiB skill, local backend"
WAVE_local="$(wave local)"; echo "local: $WAVE_local" >&2
say "B. $CLIENTS concurrent installs of the ${FLEET_MIB} MiB skill, S3 backend (redirects)"
WAVE_s3="$(wave s3)"; echo "s3: $WAVE_s3" >&2

python3 - "$BIG_MIB" "${A_local[*]}" "${A_s3[*]}" "${CPU_local[*]}" "${CPU_s3[*]}" \
  "$CLIENTS" "$FLEET_MIB" "$WAVE_local" "$WAVE_s3" <<'EOF'
import statistics as st, sys
big, al, as3, cl, cs3, clients, fleet, wl, ws3 = sys.argv[1:]
big, clients, fleet = int(big), int(clients), int(fleet)
f = lambda s: [float(x) for x in s.split()]
al, as3, cl, cs3 = f(al), f(as3), f(cl), f(cs3)
ml, ms3 = st.median(al), st.median(as3)
print(f"A. {big} MiB install, {len(al)} runs each (medians), fresh cache, loopback")
print(f"   through the Hub node (local blobs)  {ml:6.2f} s  {big/ml:7.1f} MiB/s  Hub node CPU {st.median(cl):5.2f} s   runs {', '.join('%.2f' % x for x in al)}")
print(f"   through the redirect (S3, Garage)  {ms3:6.2f} s  {big/ms3:7.1f} MiB/s  Hub node CPU {st.median(cs3):5.2f} s   runs {', '.join('%.2f' % x for x in as3)}")
print(f"   ratio redirect/node time  {ms3/ml:.2f}")
print(f"B. {clients} concurrent installs of a {fleet} MiB skill (each its own cache)")
total = clients * fleet
for name, w in (("local blobs", wl), ("S3 + redirect", ws3)):
    secs, hub_cpu, garage_cpu = (float(x) for x in w.split())
    print(f"   {name:14s} wave {secs:6.2f} s  total {total/secs:7.1f} MiB/s  Hub node CPU {hub_cpu:6.2f} s  Garage CPU {garage_cpu:6.2f} s")
EOF
