#!/usr/bin/env bash
# Benchmark: what verifying a signed governance state costs an install and a warm search.
#
# One release `rskill-hub` on 127.0.0.1 holds two twins of one skill
# (rtdetr-coco-detector of the corpus, the second renamed `…-twin`), each published
# signed at two versions with `production` on the newer one; the first one's governance
# is signed (`--governance-key`), the twin's is not. Robots, each with its own HF_HOME
# and data dir, all trusting the key:
#   signed     this build, the key trusted for skills and governance, installing the
#              skill with signed governance (signature, releases, expiry and memory
#              checked on every read);
#   unsigned   this build, the key trusted for skills, installing the twin (no
#              governance signature: the same work as before, plus the memory checks);
#   before     the build given with --before DIR (a revision before signed governance),
#              installing the twin. Such a build cannot install the signed-governance
#              skill at all: it takes rskill.registry.sig for a file added after signing
#              and refuses the skill (upgrade robots before an org signs governance);
#              nor one whose weights lock pins processors (hence this skill, which has
#              none).
# For each: `rskill install SKILL@production --no-smoke --yes` cold (fresh HF_HOME and
# data dir every run) and warm (the same skill already installed: governance read, plan
# checked, nothing downloaded), and `rskill search --author ORG` warm.
# Whole-process wall time, median of RUNS (default 7) after one warm-up, in ms.
#
# Requests: `cargo test -p rskill --test it rollback::verifying_signed_governance` asserts
# them with the server's counters (resolving @production: refs + repo info + the registry
# file and its signature = 4 cold, 2 warm; before: 3 cold, 2 warm).
#
# Usage: scripts/bench-governance.sh [--before DIR]
#   DIR: a folder with the `rskill` binary of an earlier revision, e.g.
#     git worktree add /tmp/before 4ac58aa && (cd /tmp/before && cargo build --release --bin rskill)
#     scripts/bench-governance.sh --before /tmp/before/target/release
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BEFORE=
while [ $# -gt 0 ]; do
  case $1 in
    --before) BEFORE=${2:?--before needs a folder}; shift 2 ;;
    *) echo "unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
RUNS=${RUNS:-7}
SLUG=rtdetr-coco-detector

echo "== building release binaries" >&2
cargo build --release --quiet --bin rskill --bin rskill-hub --bin rskill-publisher --bin rskill-seed
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release

WORK=$(mktemp -d -t rskill-bench-governance.XXXXXX)
HUB_PID=
cleanup() {
  [ -n "$HUB_PID" ] && kill "$HUB_PID" 2>/dev/null && wait "$HUB_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export HF_TOKEN_PATH="$WORK/no-token"
unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE RSKILL_GOVERNANCE_KEY RSKILL_SIGN_KEY OPENRAL_REQUIRE_SIGNED_SKILLS

"$BIN/rskill-hub" serve --data "$WORK/hub" --addr 127.0.0.1:0 > "$WORK/hub.out" 2> "$WORK/hub.err" &
HUB_PID=$!
for _ in $(seq 1 100); do [ -s "$WORK/hub.out" ] && break; sleep 0.1; done
export HF_ENDPOINT
HF_ENDPOINT="$(head -n 1 "$WORK/hub.out" | awk '{print $3}')"

# The publisher: the skill and its twin, two signed versions each; the skill's
# governance signed, the twin's not.
mkdir -p "$WORK/signed" "$WORK/unsigned"
cp -r "rskills/$SLUG" "$WORK/signed/"
cp -r "rskills/$SLUG" "$WORK/unsigned/$SLUG-twin"
SKILL="$(awk '/^name:/ {print $2; exit}' "$WORK/signed/$SLUG/rskill.yaml")"
TWIN="$SKILL-twin"
ORG=${SKILL%%/*}
sed -i "s|^name: .*|name: $TWIN|" "$WORK/unsigned/$SLUG-twin/rskill.yaml"
sed -i "s|^name: $SLUG\$|name: $SLUG-twin|" "$WORK/unsigned/$SLUG-twin/SKILL.md"
ORG_FLAGS=()
while read -r org; do ORG_FLAGS+=(--org "$org"); done < <("$BIN/rskill-seed" --print-orgs "$WORK/signed")
TOKEN="$("$BIN/rskill-hub" token create --data "$WORK/hub" --user bench "${ORG_FLAGS[@]}" --manage)"
pub() { HF_HOME="$WORK/publisher" RSKILL_DATA_DIR="$WORK/publisher-data" HF_TOKEN="$TOKEN" "$@"; }
pub "$BIN/rskill-seed" "$WORK/signed" > /dev/null
pub "$BIN/rskill-publisher" keygen --out "$WORK/key.pem" > /dev/null
for v in 1.0.0 1.1.0; do
  sed -i "s/^version: .*/version: $v/" "$WORK/signed/$SLUG/rskill.yaml" "$WORK/unsigned/$SLUG-twin/rskill.yaml"
  pub "$BIN/rskill-publisher" "$WORK/signed" --publish --public --sign-key "$WORK/key.pem" \
    --governance-key "$WORK/key.pem" > /dev/null
  pub "$BIN/rskill-publisher" "$WORK/unsigned" --publish --public --sign-key "$WORK/key.pem" > /dev/null
done
pub "$BIN/rskill-publisher" alias set "$SKILL" production 1.1.0 --reason bench \
  --governance-key "$WORK/key.pem" > /dev/null 2>&1
pub "$BIN/rskill-publisher" alias set "$TWIN" production 1.1.0 --reason bench > /dev/null 2>&1

# ms of one whole-process run of "$@".
ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" > /dev/null 2>&1 || { echo "failed: $*" >&2; "$@" >&2 || true; exit 1; }
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000 ))
}
median() { python3 -c 'import statistics,sys; v=[int(x)/1000 for x in sys.argv[1:]]; print(f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})")' "$@"; }

# robot NAME BIN ROLES: a machine's environment, trusting the key with ROLES.
robot_env() { echo "HF_HOME=$WORK/$1/hf RSKILL_DATA_DIR=$WORK/$1/data"; }
trust() {
  local name=$1 bin=$2 roles=$3
  local args=(trust add "$ORG" --key "$WORK/key.pub.pem")
  [ -n "$roles" ] && args+=(--role "$roles")
  env $(robot_env "$name") "$bin/rskill" "${args[@]}" > /dev/null 2>&1
}
run_robot() {
  local name=$1 bin=$2
  shift 2
  env $(robot_env "$name") OPENRAL_REQUIRE_SIGNED_SKILLS=1 "$bin/rskill" "$@"
}

ROBOTS=("signed:$BIN:skills,governance:$SKILL" "unsigned:$BIN:skills:$TWIN")
[ -n "$BEFORE" ] && ROBOTS+=("before:$BEFORE::$TWIN")

# Runs interleave the robots (one run of each in turn), so a noisy machine slows them
# alike; run 0 of each is a warm-up, not counted.
declare -A COLD WARM SEARCH
for i in $(seq 0 "$RUNS"); do
  for entry in "${ROBOTS[@]}"; do
    IFS=: read -r name bin roles id <<< "$entry"
    rm -rf "$WORK/$name"
    trust "$name" "$bin" "$roles"
    t=$(ms run_robot "$name" "$bin" install "$id@production" --no-smoke --yes)
    [ "$i" -gt 0 ] && COLD[$name]+=" $t"
  done
done
for i in $(seq 0 "$RUNS"); do
  for entry in "${ROBOTS[@]}"; do
    IFS=: read -r name bin roles id <<< "$entry"
    t=$(ms run_robot "$name" "$bin" install "$id@production" --no-smoke --yes)
    [ "$i" -gt 0 ] && WARM[$name]+=" $t"
    t=$(ms run_robot "$name" "$bin" search --author "$ORG")
    [ "$i" -gt 0 ] && SEARCH[$name]+=" $t"
  done
done
printf '%-9s %-24s %-24s %-24s\n' robot "install cold, ms" "install warm, ms" "search warm, ms"
for entry in "${ROBOTS[@]}"; do
  IFS=: read -r name _ <<< "$entry"
  # shellcheck disable=SC2086
  printf '%-9s %-24s %-24s %-24s\n' "$name" "$(median ${COLD[$name]})" "$(median ${WARM[$name]})" "$(median ${SEARCH[$name]})"
done
echo "(median (min-max) of $RUNS runs each, whole process, release build)"
