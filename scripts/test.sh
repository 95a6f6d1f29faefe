#!/usr/bin/env bash
# Run the whole test suite (sets up .venv first if needed). Used by CI (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/lint-imports
.venv/bin/compliance rules test
.venv/bin/python -m pytest -q -n 2 "$@"
