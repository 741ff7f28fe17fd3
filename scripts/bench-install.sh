#!/usr/bin/env bash
# Benchmark of `rskill install` (issue #6): a generated 1 GiB safetensors skill from a local
# `rskill-hub`, against `huggingface_hub.snapshot_download` of the same weights repo from the
# same server, in the same run, each into a fresh cache.
#   1. build release (binaries + examples/bench_seed.rs); venv .venv-bench with
#      huggingface_hub and psutil (reused when present);
#   2. start `rskill-hub serve --max-body-mb 2048` on a temp data dir, create a write token;
#   3. bench_seed: generate the safetensors file (fixtures::large_safetensors_file), upload
#      it as `bench/bench-weights`, and a skill `bench/rskill-bench` pointing to it;
#   4. RSKILL_BENCH_RUNS (default 3) alternating runs, each into a fresh cache after `sync`:
#      `rskill install bench/rskill-bench` under /usr/bin/time -v (wall time of the whole
#      process, peak RSS), then snapshot_download (time inside the script only, which
#      favours Python); medians are compared; then a reinstall, which must say 0 B
#      downloaded.
# Prints throughput (MiB/s) of both, the ratio (target >= 2x), rskill's peak RSS (target
# <= 64 MiB), the reinstall's transferred bytes and time (targets 0 B, < 50 ms; median of 5,
# whole process) and, for comparison, a reinstall with --verify (re-hashes the cached
# blobs, as every reinstall did before). Exit 0 when every target is met, 1 otherwise.
# Environment: RSKILL_BENCH_SIZE_MIB (default 1024), RSKILL_BENCH_DIR (keep the work dir),
# RSKILL_BENCH_SIGNED=1 (the skill is signed with a generated key and a weights lock, the
# key is trusted, and every install runs with OPENRAL_REQUIRE_SIGNED_SKILLS=1: the cost of
# verification, compared with a run without it).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB="${RSKILL_BENCH_SIZE_MIB:-1024}"
RUNS="${RSKILL_BENCH_RUNS:-3}"
say() { printf '== %s\n' "$*" >&2; }

say "building (release)"
cargo build --release --quiet --bins --example bench_seed
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"

VENV=".venv-bench"
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import huggingface_hub, psutil' 2>/dev/null; then
  say "pip install huggingface_hub psutil into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check huggingface_hub psutil
fi

WORK="${RSKILL_BENCH_DIR:-$(mktemp -d -t rskill-bench-install.XXXXXX)}"
mkdir -p "$WORK"
HUB_PID=""
cleanup() {
  if [ -n "$HUB_PID" ]; then kill "$HUB_PID" 2>/dev/null || true; wait "$HUB_PID" 2>/dev/null || true; fi
  if [ -z "${RSKILL_BENCH_DIR:-}" ]; then rm -rf "$WORK"; fi
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
SIGN_FLAGS=(); REQUIRE_SIGNED=""
trust_key() { :; }
if [ "${RSKILL_BENCH_SIGNED:-}" = 1 ]; then
  "$BIN/rskill-publisher" keygen --out "$WORK/key.pem" --public "$WORK/key.pub.pem" > /dev/null 2>&1
  SIGN_FLAGS=(--sign-key "$WORK/key.pem"); REQUIRE_SIGNED=1
  trust_key() { RSKILL_DATA_DIR="$WORK/rskill-data" "$BIN/rskill" trust add bench --key "$WORK/key.pub.pem" > /dev/null 2>&1; }
fi
SEEDED="$("$BIN/examples/bench_seed" --endpoint "$URL" --token "$TOKEN" --org bench \
  --size-mib "$SIZE_MIB" --work "$WORK/seed" "${SIGN_FLAGS[@]}")"
echo "$SEEDED" >&2
WEIGHTS="$(sed -n 's/.*weights=\([^ ]*\).*/\1/p' <<< "$SEEDED")"
SKILL="$(sed -n 's/.*skill=\([^ ]*\).*/\1/p' <<< "$SEEDED")"
BYTES="$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<< "$SEEDED")"

rskill_install() { # $1: label, then extra flags
  local label="$1"; shift
  env HF_ENDPOINT="$URL" HF_HOME="$WORK/rskill-hf" RSKILL_DATA_DIR="$WORK/rskill-data" \
    HF_TOKEN_PATH=/nonexistent HF_HUB_DISABLE_PROGRESS_BARS=1 \
    OPENRAL_REQUIRE_SIGNED_SKILLS="$REQUIRE_SIGNED" \
    /usr/bin/time -v -o "$WORK/$label.time" "$BIN/rskill" install "$SKILL" "$@" \
    > "$WORK/$label.out" 2> "$WORK/$label.err" || { cat "$WORK/$label.err" >&2; exit 1; }
}
millis() { # wall time of "$@" in ms (GNU time's 10 ms resolution is too coarse here)
  local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 ))
}
wall_seconds() { # GNU time's "Elapsed (wall clock) time (h:mm:ss or m:ss): 0:03.21"
  awk -F': ' '/Elapsed \(wall clock\)/ {
    n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$1"
}
peak_kib() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }

# Alternating runs, each into a fresh cache after `sync` (so neither pays for the other's
# writeback); the medians are compared.
R_TIMES=(); R_PEAKS=(); PY_RUNS=()
for i in $(seq 1 "$RUNS"); do
  rm -rf "$WORK/rskill-hf" "$WORK/rskill-data" "$WORK/py-cache"; trust_key; sync
  say "run $i/$RUNS: rskill install $SKILL (fresh cache)"
  rskill_install "first-$i"
  grep -E '^(installed|signature verified) ' "$WORK/first-$i.err" >&2 || true
  R_TIMES+=("$(wall_seconds "$WORK/first-$i.time")")
  R_PEAKS+=("$(peak_kib "$WORK/first-$i.time")")
  sync
  say "run $i/$RUNS: huggingface_hub.snapshot_download $WEIGHTS (fresh cache)"
  PY_RUNS+=("$("$VENV/bin/python" scripts/bench_install_hf.py --endpoint "$URL" --repo "$WEIGHTS" \
    --cache "$WORK/py-cache")")
  echo "${PY_RUNS[-1]}" >&2
done

say "rskill install $SKILL again (warm cache), 5 times; then with --verify (re-hashes)"
AGAIN_MS=()
for i in 1 2 3 4 5; do AGAIN_MS+=("$(millis rskill_install again)"); done
AGAIN_LINE="$(grep '^installed ' "$WORK/again.err" || true)"
echo "$AGAIN_LINE" >&2
AGAIN_SECONDS="$(printf '%s\n' "${AGAIN_MS[@]}" | sort -n | sed -n 3p | awk '{print $1 / 1000}')"
AGAIN_BYTES="$(sed -n 's/.*(.*, \(.*\) downloaded,.*/\1/p' <<< "$AGAIN_LINE")"
VERIFY_MS="$(millis rskill_install verify --verify)"
echo "reinstall runs (ms): ${AGAIN_MS[*]}; with --verify: $VERIFY_MS ms" >&2

python3 - "$BYTES" "${R_TIMES[*]}" "${R_PEAKS[*]}" "$(printf '%s\n' "${PY_RUNS[@]}")" \
  "$AGAIN_BYTES" "$AGAIN_SECONDS" "$VERIFY_MS" <<'EOF'
import json, statistics, sys
size, r_times, r_peaks, py_runs, again, again_s, verify_ms = sys.argv[1:]
size = int(size)
r_times = [float(t) for t in r_times.split()]
r_s = statistics.median(r_times)
r_peak = max(int(k) for k in r_peaks.split()) / 1024
runs = [json.loads(line) for line in py_runs.splitlines() if line.strip()]
py = {"seconds": statistics.median(r["seconds"] for r in runs),
      "peak_rss_kib": max(r["peak_rss_kib"] for r in runs), "version": runs[0]["version"]}
mib = size / 2**20
r_tp, p_tp = mib / r_s, mib / py["seconds"]
r_list = ", ".join("%.2f" % t for t in r_times)
p_list = ", ".join("%.2f" % r["seconds"] for r in runs)
print(f"runs: {len(r_times)} each (medians compared): rskill {r_list} s; hf {p_list} s")
ratio = r_tp / p_tp
again_ms = float(again_s) * 1000
ok_ratio, ok_rss = ratio >= 2.0, r_peak <= 64
ok_again = again.strip() == "0 B" and again_ms < 50
print(f"weights: {mib:.0f} MiB safetensors, rskill-hub on 127.0.0.1")
print(f"rskill install          {r_s:7.2f} s  {r_tp:8.1f} MiB/s  peak RSS {r_peak:7.1f} MiB   (whole process)")
print(f"snapshot_download (hf)  {py['seconds']:7.2f} s  {p_tp:8.1f} MiB/s  peak RSS {py['peak_rss_kib']/1024:7.1f} MiB   (in-script; huggingface_hub {py['version']})")
print(f"ratio rskill/hf         {ratio:.2f}x   target >= 2x     {'ok' if ok_ratio else 'MISSED'}")
print(f"rskill peak RSS         {r_peak:.1f} MiB  target <= 64 MiB  {'ok' if ok_rss else 'MISSED'}")
print(f"reinstall (median of 5)  {again}  in {again_ms:.0f} ms   target 0 B, < 50 ms  {'ok' if ok_again else 'MISSED'}")
print(f"reinstall --verify      {int(verify_ms)} ms (re-hashes every cached blob: what every reinstall did before)")
sys.exit(0 if (ok_ratio and ok_rss and ok_again) else 1)
EOF
