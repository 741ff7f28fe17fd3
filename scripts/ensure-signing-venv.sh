#!/usr/bin/env bash
# Makes sure `.venv-signing` at the repository root holds the OpenSSF model-signing
# reference implementation (`model-signing` from PyPI, plus `pyopenssl`, which it
# imports without declaring), and prints the venv's python on stdout (nothing else goes
# to stdout), so a caller can do:
#   export RSKILL_MODEL_SIGNING_PYTHON="$(scripts/ensure-signing-venv.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."

MS_VERSION="${RSKILL_MODEL_SIGNING_VERSION:-1.1.1}"
VENV=".venv-signing"

have="$("$VENV/bin/python" -c 'import importlib.metadata as m, OpenSSL; print(m.version("model-signing"))' 2>/dev/null || true)"
if [ "$have" != "$MS_VERSION" ]; then
  echo "ensure-signing-venv: installing model-signing==$MS_VERSION and pyopenssl into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "model-signing==$MS_VERSION" pyopenssl >&2
fi
echo "$(pwd)/$VENV/bin/python"
