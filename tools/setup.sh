#!/usr/bin/env bash
# One set-up command (README): system packages, a virtual environment in .venv with the PyTorch and TensorFlow
# builds for this machine's accelerator (CUDA, ROCm, Apple's Metal, or CPU), the project and its extras, and
# the npm tools the tests use. Safe to run again; it only adds what is missing.
#
#   bash tools/setup.sh [--accelerator auto|cpu|cuda|rocm|mps] [--dry-run] [--venv DIR]   (--help: every option)
#
# The plan (what it found, what it chose, the exact commands) comes from dlbench/cli/setup_plan.py, run with the
# system python3 and the standard library only, since .venv does not exist yet; this script runs its commands.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v python3 >/dev/null 2>&1 || { echo "setup.sh: python3 (3.10 or later) is needed: install it first" >&2; exit 1; }

# --dry-run and --help: the planner prints its report (and the commands) on stdout, and nothing is run.
for arg in "$@"; do
  case "$arg" in
    --dry-run|-h|--help) exec python3 -m dlbench.cli.setup_plan "$@" ;;
  esac
done

# The report goes to stderr as the plan is made; the commands, one shell-quoted line each, come on stdout.
# They are read on fd 3 so that a command reading stdin cannot swallow the ones after it (bash 3.2 has no mapfile).
plan=$(python3 -m dlbench.cli.setup_plan --emit-shell "$@")
while IFS= read -r cmd <&3; do
  [ -n "$cmd" ] || continue
  eval "$cmd"
done 3<<< "$plan"
echo "setup: done. Run the tests with: .venv/bin/python -m pytest -q"
