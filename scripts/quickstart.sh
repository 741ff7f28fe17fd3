#!/usr/bin/env bash
# The offline quickstart, end to end on this machine only (127.0.0.1):
#   1. build the binaries and fetch ONNX Runtime (the `onnxruntime` wheel, into .venv);
#   2. start a private Hub (`rskill-hub serve`) on a free port with a fresh data dir;
#   3. seed it with the upstream weight repos the corpus points to (generated weights);
#   4. generate a signing key (`rskill-publisher keygen`) and publish the in-repo corpus
#      signed with it, each release also in the skill's signed governance state
#      (`rskill-publisher --publish --public --sign-key K --governance-key K`, a token with
#      the manage right);
#   5. trust the key for the corpus org's skills and governance (`rskill trust add …
#      --role skills,governance`) and check a published skill's signature (`rskill verify`);
#   6. `rskill search --embodiment franka_panda`;
#   7. promote one version (`rskill-publisher alias set … production --governance-key K`,
#      with a token that has the manage right);
#   8. with OPENRAL_REQUIRE_SIGNED_SKILLS=1, install one safetensors skill through that
#      alias and one ONNX skill, each verified against its signature and signed weights
#      lock, then smoke-loaded;
#   9. `rskill scan` one skill and its pinned weights (the built-in security scanners),
#      record the result for that version's commit on the Hub (`rskill-publisher scan
#      … --record`, manage right) and show it with `rskill info`;
#  10. publish the corpus's groups, sign their governance (`rskill-publisher governance
#      refresh`), and install one with `--harness claude-code`, showing the
#      `.claude/skills/` folder it wrote;
#  11. `rskill audit` (the fleet health check), then stop the Hub. Everything it wrote
#      lives in a temp dir ($RSKILL_QUICKSTART_DIR to keep it).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

say "building (release)"
cargo build --release --quiet --bins
BIN="$PWD/target/release"
ORT_DYLIB_PATH="$(bash scripts/ensure-onnxruntime.sh)"
export ORT_DYLIB_PATH

WORK="${RSKILL_QUICKSTART_DIR:-$(mktemp -d -t rskill-quickstart.XXXXXX)}"
mkdir -p "$WORK"
# Keep this machine's own Hub login and cache out of the demo.
export HF_HOME="$WORK/hf-home" RSKILL_DATA_DIR="$WORK/rskill-data" HF_TOKEN_PATH="$WORK/no-token"
unset HF_TOKEN HF_HUB_OFFLINE HF_HUB_CACHE

say "starting rskill-hub"
"$BIN/rskill-hub" serve --data "$WORK/hub" --addr 127.0.0.1:0 > "$WORK/hub.out" 2> "$WORK/hub.err" &
HUB_PID=$!
trap 'kill "$HUB_PID" 2>/dev/null || true; wait "$HUB_PID" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  [ -s "$WORK/hub.out" ] && break
  sleep 0.1
done
HF_ENDPOINT="$(head -n 1 "$WORK/hub.out" | awk '{print $3}')"
export HF_ENDPOINT
echo "Hub at $HF_ENDPOINT (data in $WORK/hub)" >&2

# A write token for the corpus org and every upstream org it points to.
ORG_FLAGS=()
while read -r org; do ORG_FLAGS+=(--org "$org"); done < <("$BIN/rskill-seed" --print-orgs rskills)
# Publishing signs each release into the skill's governance state, which needs the
# manage right on rskill-hub.
HF_TOKEN="$("$BIN/rskill-hub" token create --data "$WORK/hub" --user quickstart "${ORG_FLAGS[@]}" --manage)"
export HF_TOKEN

say "seeding upstream weight repos"
"$BIN/rskill-seed" rskills

say "generating a signing key"
"$BIN/rskill-publisher" keygen --out "$WORK/signing-key.pem" --public "$WORK/signing-key.pub.pem"

# The same key signs the skills and their governance (an org may use two keys).
export RSKILL_GOVERNANCE_KEY="$WORK/signing-key.pem"

say "publishing the corpus, signed, each release in its signed governance state"
"$BIN/rskill-publisher" rskills --publish --public --sign-key "$WORK/signing-key.pem"

say "trusting the key for rskill-project's skills and governance"
"$BIN/rskill" trust add rskill-project --key "$WORK/signing-key.pub.pem" --name quickstart --role skills,governance
"$BIN/rskill" verify rskill-project/rskill-smolvla-franka-pick-cube
# Every install below must be signed by a trusted key (as fleets set it).
export OPENRAL_REQUIRE_SIGNED_SKILLS=1

say "rskill search --embodiment franka_panda"
"$BIN/rskill" search --embodiment franka_panda

say "promoting a version: rskill-publisher alias set … production"
SKILL=rskill-project/rskill-smolvla-franka-pick-cube
VERSION="$(awk '/^version:/ {print $2; exit}' rskills/smolvla-franka-pick-cube/rskill.yaml)"
# Status and alias changes need the manage right on rskill-hub.
MANAGE_TOKEN="$("$BIN/rskill-hub" token create --data "$WORK/hub" --user release-manager --org rskill-project --manage)"
HF_TOKEN="$MANAGE_TOKEN" "$BIN/rskill-publisher" alias set "$SKILL" production "$VERSION" --reason "quickstart promotion"
"$BIN/rskill" history "$SKILL"

say "installing a safetensors skill through its production alias"
"$BIN/rskill" install "$SKILL@production"

say "installing an ONNX skill"
"$BIN/rskill" install rskill-project/rskill-rtdetr-coco-detector

say "rskill scan rskill-project/rskill-smolvla-franka-pick-cube (security scanners)"
"$BIN/rskill" scan rskill-project/rskill-smolvla-franka-pick-cube

say "recording the scan on the Hub: rskill-publisher scan $SKILL@$VERSION --record"
# A governed change like status and alias changes: the manage right again.
HF_TOKEN="$MANAGE_TOKEN" "$BIN/rskill-publisher" scan "$SKILL@$VERSION" --record --reason "quickstart scan"
"$BIN/rskill" info "$SKILL"

say "publishing the groups (every member checked on the Hub first), and signing their governance"
"$BIN/rskill-publisher" group groups --publish --public
for g in groups/*/rskill-group.yaml; do
  "$BIN/rskill-publisher" governance refresh "$(awk '/^name:/ {print $2; exit}' "$g")" --reason "quickstart release"
done
"$BIN/rskill" search --groups

say "installing a group into Claude Code: rskill install … --harness claude-code"
PROJECT="$WORK/project"
mkdir -p "$PROJECT"
(cd "$PROJECT" && "$BIN/rskill" install rskill-project/rskill-group-perception-stack --harness claude-code)
find "$PROJECT/.claude" -type f | sort
head -n 20 "$PROJECT/.claude/skills/rskill-rtdetr-coco-detector/SKILL.md"
(cd "$PROJECT" && "$BIN/rskill" harness list)

say "installed"
"$BIN/rskill" list
"$BIN/rskill" info rskill-project/rskill-rtdetr-coco-detector

say "rskill audit (exit 1 if anything installed was deleted)"
"$BIN/rskill" audit

say "air gap: rskill export $SKILL --with-weights, rskill-hub import into a second data directory"
"$BIN/rskill" export "$SKILL" --with-weights --out "$WORK/airgap.tar"
"$BIN/rskill-hub" import "$WORK/airgap.tar" --data "$WORK/airgap-hub" --governance-key "$WORK/signing-key.pub.pem"
echo "quickstart done; its files are in $WORK" >&2
