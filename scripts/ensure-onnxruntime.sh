#!/usr/bin/env bash
# Makes sure an ONNX Runtime shared library is available for the ONNX smoke-load tests,
# and prints its path on stdout (nothing else goes to stdout), so a caller can do:
#   export ORT_DYLIB_PATH="$(scripts/ensure-onnxruntime.sh)"
#
# The library comes from the `onnxruntime` wheel on PyPI, installed into `.venv` at the
# repository root. The version matches the API level of the `ort` crate in Cargo.toml:
# ort 2.0.0-rc.15 with feature `api-31` targets ONNX Runtime 1.31 (see ort-sys'
# `ORT_API_VERSION`; an older runtime is refused when loaded, a newer one only warns).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION="${RSKILL_ONNXRUNTIME_VERSION:-1.31.1}"
VENV=".venv"

if [ ! -x "$VENV/bin/python" ]; then
  echo "ensure-onnxruntime: creating $VENV" >&2
  python3 -m venv "$VENV" >&2
fi

have="$("$VENV/bin/python" -c 'import onnxruntime; print(onnxruntime.__version__)' 2>/dev/null || true)"
if [ "$have" != "$ORT_VERSION" ]; then
  echo "ensure-onnxruntime: pip install onnxruntime==$ORT_VERSION into $VENV" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "onnxruntime==$ORT_VERSION" >&2
fi

capi="$("$VENV/bin/python" -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))')"
lib="$(ls "$capi"/libonnxruntime.so* 2>/dev/null | sort | head -n 1 || true)"
if [ -z "$lib" ]; then
  echo "ensure-onnxruntime: no libonnxruntime.so* under $capi" >&2
  exit 1
fi
realpath "$lib"
