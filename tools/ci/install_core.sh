#!/usr/bin/env bash
# Install what the dlbench core (validate, merge and the CI checks; no torch, no TensorFlow) imports into the
# current Python, from a checkout's lock file tools/ci/requirements-core.txt: exact versions, every file
# checked against its sha256 hash, wheels only (no package's build code runs), no unlisted dependency.
# With --lock site, tools/ci/requirements-site.txt instead: the core, pyarrow, numpy and pandas, for the site build.
# The tools run from the checkout itself (they put it on sys.path); the checkout is not pip-installed.
# Usage: bash tools/ci/install_core.sh [--lock core|site] [CHECKOUT]   (default: core, this script's checkout)
# Environment: PYTHON (default python3).
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
name=core
if [ "${1:-}" = "--lock" ]; then
  case "${2:-}" in
    core | site) name="$2"; shift 2 ;;
    *) echo "usage: bash tools/ci/install_core.sh [--lock core|site] [CHECKOUT]" >&2; exit 2 ;;
  esac
fi
if [ $# -gt 1 ]; then echo "usage: bash tools/ci/install_core.sh [--lock core|site] [CHECKOUT]" >&2; exit 2; fi
checkout="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
lock="$checkout/tools/ci/requirements-$name.txt"
if [ ! -f "$lock" ]; then
  echo "$lock: missing: pass a dlbench checkout that has the lock file" >&2
  exit 2
fi
"${PYTHON:-python3}" -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary :all: \
  --no-deps -r "$lock"
