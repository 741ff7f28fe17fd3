#!/usr/bin/env bash
# The huggingface_hub compatibility suite: builds rskill-hub (and rskill, for the
# air-gap export/import test), makes .venv-compat in the
# repo root if missing (huggingface_hub and pytest from PyPI), and runs the pytest suite
# against the real binary. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

venv="$root/.venv-compat"
if ! "$venv/bin/python" -c "import huggingface_hub, pytest" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "huggingface_hub==2.4.0" "pytest>=8"
fi

cargo build --quiet --bin rskill-hub --bin rskill
target="${CARGO_TARGET_DIR:-$root/target}"
export RSKILL_HUB_BIN="${RSKILL_HUB_BIN:-$target/debug/rskill-hub}"
export RSKILL_BIN="${RSKILL_BIN:-$target/debug/rskill}"

"$venv/bin/python" -c "import huggingface_hub; print('huggingface_hub', huggingface_hub.__version__)"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/compat
