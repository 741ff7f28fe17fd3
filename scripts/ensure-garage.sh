#!/usr/bin/env bash
# Makes sure a Garage binary (the self-hosted, S3-compatible object store, built from its
# crates.io release) is available for the object-store tests, and prints its path on stdout
# (nothing else goes to stdout), so a caller can do:
#   export RSKILL_GARAGE_BIN="$(bash scripts/ensure-garage.sh)"
#
# Why Garage: the issue asked for Garage or RustFS built from crates.io. RustFS 1.0.1 needs
# rustc 1.98.1, newer than this machine's toolchain (1.95); Garage 2.5.0 builds with it.
#
# The binary is cached in $RSKILL_GARAGE_CACHE (default ~/.cache/rskill/garage-<version>),
# so only the first run on a machine pays the build.
#   --if-cached   print the cached binary's path and exit 0, or exit 1 without building.
#
# Build cost, measured 2026-12-01 on this 2-core machine with a debug build of the workspace
# running beside it: 14 min 17 s wall, 15 min 26 s user CPU (`time cargo install garage
# --version 2.5.0 --locked`); 822 MB of build directory (removed afterwards); a 56 MB binary.
set -euo pipefail

GARAGE_VERSION="${RSKILL_GARAGE_VERSION:-2.5.0}"
CACHE="${RSKILL_GARAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rskill/garage-$GARAGE_VERSION}"
BIN="$CACHE/bin/garage"

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi
if [ "${1:-}" = "--if-cached" ]; then
  exit 1
fi

build="$(mktemp -d "${TMPDIR:-/tmp}/garage-build.XXXXXX")"
trap 'rm -rf "$build"' EXIT
echo "ensure-garage: building garage $GARAGE_VERSION from crates.io into $CACHE (once per machine; about 14 minutes on 2 cores)" >&2
start=$(date +%s)
cargo install garage --version "$GARAGE_VERSION" --locked --quiet \
  --root "$CACHE" --target-dir "$build/target" >&2
echo "ensure-garage: built in $(( $(date +%s) - start )) s" >&2
"$BIN" --version >&2
echo "$BIN"
