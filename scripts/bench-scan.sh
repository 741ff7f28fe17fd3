#!/usr/bin/env bash
# Benchmark of `rskill scan` against picklescan (issue #17, point 5), on the same files:
#   1. build release (the rskill binary and examples/scan_corpus.rs); a venv .venv-scan
#      with picklescan from PyPI (reused when present);
#   2. scan_corpus writes the generated corpus (hostile and benign pickles, zip and legacy
#      checkpoints, corrupt safetensors, escaping ONNX) and two large files of
#      RSKILL_BENCH_SCAN_MIB (default 1024) MiB: a zip PyTorch checkpoint and a single
#      pickle stream whose payload the walker must read through;
#   3. prints the detection table, file by file: expected verdict, picklescan's
#      (flagged = exit 1, error = exit 2, "-" = not a file it scans) and rskill's
#      (flagged = exit 1); checks that rskill flags everything picklescan flags and
#      every hostile file, and passes every benign one;
#   4. throughput: median of RSKILL_BENCH_RUNS (default 3) whole-process runs of each
#      scanner on each large file (wall clock, MiB/s, peak RSS from /usr/bin/time).
# Exit 0 when the detection checks hold, 1 otherwise. RSKILL_BENCH_DIR keeps the work dir.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MIB="${RSKILL_BENCH_SCAN_MIB:-1024}"
RUNS="${RSKILL_BENCH_RUNS:-3}"
say() { printf '== %s\n' "$*" >&2; }

say "building (release)"
cargo build --release --quiet --bin rskill -p rskill
cargo build --release --quiet -p rskill-test-support --example scan_corpus
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release"

VENV=".venv-scan"
if ! "$VENV/bin/picklescan" --help >/dev/null 2>&1; then
  say "pip install picklescan into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "picklescan==1.0.5"
fi
PICKLESCAN_VERSION="$("$VENV/bin/pip" show picklescan 2>/dev/null | awk '/^Version/ {print $2}')"

WORK="${RSKILL_BENCH_DIR:-$(mktemp -d -t rskill-bench-scan.XXXXXX)}"
mkdir -p "$WORK"
[ -n "${RSKILL_BENCH_DIR:-}" ] || trap 'rm -rf "$WORK"' EXIT
say "generating the corpus and ${SIZE_MIB} MiB files in $WORK"
"$BIN/examples/scan_corpus" "$WORK" --large $((SIZE_MIB * 1024 * 1024))

picklescan_verdict() {
  local out code
  set +e
  out="$("$VENV/bin/picklescan" -p "$1" 2>&1)"
  code=$?
  set -e
  if echo "$out" | grep -q '^Scanned files: 0'; then echo "-"; return; fi
  case $code in 0) echo clean ;; 1) echo flagged ;; *) echo error ;; esac
}

rskill_verdict() {
  local code
  set +e
  "$BIN/rskill" scan "$1" >/dev/null 2>&1
  code=$?
  set -e
  case $code in 0) echo clean ;; 1) echo flagged ;; *) echo "usage($code)" ;; esac
}

say "detection: picklescan $PICKLESCAN_VERSION vs rskill scan"
failures=0
ps_flagged=0
rs_flagged=0
hostile=0
printf '| file | family | expected | picklescan %s | rskill |\n|---|---|---|---|---|\n' "$PICKLESCAN_VERSION"
while IFS=$'\t' read -r name is_hostile family; do
  f="$WORK/files/$name"
  ps="$(picklescan_verdict "$f")"
  rs="$(rskill_verdict "$f")"
  expected=clean
  if [ "$is_hostile" = true ]; then expected=flagged; hostile=$((hostile + 1)); fi
  [ "$ps" = flagged ] && ps_flagged=$((ps_flagged + 1))
  [ "$rs" = flagged ] && rs_flagged=$((rs_flagged + 1))
  mark=""
  if [ "$rs" != "$expected" ]; then mark=" **WRONG**"; failures=$((failures + 1)); fi
  if [ "$ps" = flagged ] && [ "$rs" != flagged ]; then mark="$mark **picklescan flags it, rskill does not**"; failures=$((failures + 1)); fi
  printf '| %s | %s | %s | %s | %s%s |\n' "$name" "$family" "$expected" "$ps" "$rs" "$mark"
done < "$WORK/corpus.tsv"
echo
echo "hostile files: $hostile; flagged by picklescan: $ps_flagged; flagged by rskill: $rs_flagged"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

say "throughput on ${SIZE_MIB} MiB files (median of $RUNS whole-process runs)"
printf '\n| file | scanner | verdict | wall s | MiB/s (file size / wall) | peak RSS MiB |\n|---|---|---|---|---|---|\n'
for f in "$WORK"/large/*; do
  size_mib=$(( $(stat -c %s "$f") / 1024 / 1024 ))
  cat "$f" > /dev/null # same page cache for both
  for scanner in rskill picklescan; do
    walls=()
    rss=0
    for _ in $(seq 1 "$RUNS"); do
      if [ "$scanner" = rskill ]; then
        cmd=("$BIN/rskill" scan "$f")
      else
        cmd=("$VENV/bin/picklescan" -p "$f")
      fi
      set +e
      start=$(date +%s%N)
      /usr/bin/time -f '%M' -o "$WORK/time.out" "${cmd[@]}" >/dev/null 2>&1
      code=$?
      end=$(date +%s%N)
      set -e
      kb="$(tail -n 1 "$WORK/time.out")"
      walls+=($(( (end - start) / 1000 )))
      [ "$kb" -gt "$rss" ] && rss=$kb
    done
    us="$(printf '%s\n' "${walls[@]}" | median)"
    case $code in 0) verdict=clean ;; 1) verdict=flagged ;; *) verdict="exit $code" ;; esac
    wall="$(awk -v u="$us" 'BEGIN { printf "%.3f", u / 1e6 }')"
    mibs="$(awk -v s="$size_mib" -v u="$us" 'BEGIN { printf "%.0f", s / (u / 1e6) }')"
    printf '| %s (%s MiB) | %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$size_mib" "$scanner" "$verdict" "$wall" "$mibs" $((rss / 1024))
  done
done

if [ "$failures" -ne 0 ]; then
  say "$failures detection check(s) failed"
  exit 1
fi
say "rskill flags every hostile file and everything picklescan flags, and passes every benign file"
