#!/usr/bin/env bash
# Install the dlbench core (validate, merge and the CI checks; no torch, no TensorFlow) from a checkout
# into the current Python: what the CI jobs that do not run the test suite need.
# Usage: bash tools/ci/install_core.sh [CHECKOUT]   (default: this script's checkout)
# Environment: PYTHON (default python3).
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
if [ $# -gt 1 ]; then echo "usage: bash tools/ci/install_core.sh [CHECKOUT]" >&2; exit 2; fi
checkout="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
if [ ! -f "$checkout/pyproject.toml" ]; then
  echo "$checkout: no pyproject.toml here: pass the checkout to install" >&2
  exit 2
fi
"${PYTHON:-python3}" -m pip install --quiet --disable-pip-version-check "$checkout"
