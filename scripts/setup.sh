#!/usr/bin/env bash
# Set up a virtual environment with launch-compliance and its test tools (Python 3.11; PyPI only).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# durable-rules ships as source only: pip compiles it with gcc and the Python headers.
.venv/bin/python -m pip install --quiet -e ".[test]"
