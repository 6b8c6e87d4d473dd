#!/usr/bin/env bash
# What a bare Debian 12 container (the CI test job) needs before `bash tools/setup.sh` can run: Python
# with venv, Node.js with npm. setup.sh itself then adds the dataset and Chromium packages.
# Usage (as root): bash tools/ci/bootstrap_debian.sh
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap_debian.sh: run as root on Debian (the CI container); elsewhere install python3-venv, nodejs and npm yourself" >&2
  exit 2
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  ca-certificates git python3 python3-venv python3-pip nodejs npm >/dev/null
echo "bootstrap: $(python3 --version), node $(node --version), npm $(npm --version)"
