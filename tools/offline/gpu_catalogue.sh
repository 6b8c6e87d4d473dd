#!/usr/bin/env bash
# The catalogue on an NVIDIA GPU machine that has a CUDA PyTorch but no internet, in one command that fits a short
# loan: the step, infer and peak workloads with PyTorch at TF32 and bf16, each at its default batch, one
# runners/run.py process per run (tools/run_catalogue.py), every fragment validated.
#
#   bash tools/offline/gpu_catalogue.sh OUT_DIR [run_catalogue.py options...]
#
# Wheels in .whl/ (tools/offline/wheels.sh, run where PyPI can be reached) are installed into a scratch folder
# first. The fragments go to OUT_DIR/fragments/ and the whole log to OUT_DIR/catalogue.log; copy the fragments
# into data/fragments/ and run tools/merge.py. Options after OUT_DIR replace the defaults below (for example
# `--scenario step --precision bf16` for a shorter loan, or `--device cpu --smoke` to try this script anywhere).
# The train workloads are left out by default: their datasets are not on such a machine and their epochs take
# longer than a loan.
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ "$#" -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: gpu_catalogue.sh OUT_DIR [run_catalogue.py options...] (see the top of $0)" >&2
  exit 2
fi
out="$1"
shift
python="${PYTHON:-python3}"
mkdir -p "$out/fragments"
log="$out/catalogue.log"
if compgen -G ".whl/*.whl" > /dev/null; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/dlbench-site \
    .whl/*.whl || { echo "gpu_catalogue.sh: installing .whl/ failed" >&2; exit 1; }
  export PYTHONPATH="/tmp/dlbench-site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
{
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  "$python" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())"
} 2>&1 | tee "$log"
if [ "$#" -eq 0 ]; then
  set -- --framework torch --scenario step --scenario infer --scenario peak --precision tf32 --precision bf16 \
    --timeout 120
fi
"$python" tools/run_catalogue.py --out "$out/fragments" "$@" 2>&1 | tee -a "$log"
exit "${PIPESTATUS[0]}"
