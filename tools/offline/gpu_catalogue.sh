#!/usr/bin/env bash
# The catalogue on an NVIDIA GPU machine that has a CUDA PyTorch but no internet, in one command that fits a short
# loan: the step, infer and peak workloads with PyTorch at TF32 and bf16, each at its default batch, one
# runners/run.py process per run (tools/run_catalogue.py), every fragment validated; then a batch-size sweep of
# each step workload at bf16 (--batch-sweep, bounded by --max-batch 1024, --sweep-resolution 10% and
# --timeout 300 each), and, when
# nvidia-smi lists more than one GPU, each step workload at bf16 on 1 and on N GPUs (--devices 1,N: the scaling
# efficiency). DRY_RUN=1 prints the commands of that plan and runs nothing.
#
#   bash tools/offline/gpu_catalogue.sh OUT_DIR [run_catalogue.py options...]
#
# Wheels in .whl/ (tools/offline/wheels.sh, run where PyPI can be reached) are installed into a scratch folder
# first. The fragments go to OUT_DIR/fragments/ and the whole log to OUT_DIR/catalogue.log; copy the fragments
# into data/fragments/ and run tools/merge.py. Options after OUT_DIR replace the whole plan below, sweeps and
# several GPUs included (for example `--scenario step --precision bf16` for a shorter loan, `--scenario step
# --batch-sweep --max-batch 1024` for sweeps alone, or `--device cpu --smoke` to try this script anywhere).
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
dry=()
[ "${DRY_RUN:-}" = 1 ] && dry=(--dry-run)
# One pass of tools/run_catalogue.py; the script's exit status is the worst of its passes (130 stops at once).
status=0
catalogue_pass() {
  "$python" tools/run_catalogue.py --out "$out/fragments" "$@" ${dry[@]+"${dry[@]}"} 2>&1 | tee -a "$log"
  local rc="${PIPESTATUS[0]}"
  [ "$rc" -eq 130 ] && exit 130
  [ "$rc" -gt "$status" ] && status="$rc"
  return 0
}
if [ "$#" -gt 0 ]; then
  catalogue_pass "$@"
  exit "$status"
fi
catalogue_pass --framework torch --scenario step --scenario infer --scenario peak --precision tf32 --precision bf16 --timeout 120
catalogue_pass --framework torch --scenario step --precision bf16 --batch-sweep --max-batch 1024 --sweep-resolution 10% \
  --timeout 300
gpus=0
command -v nvidia-smi > /dev/null && gpus="$(nvidia-smi -L 2> /dev/null | grep -c '^GPU ')"
if [ "$gpus" -gt 1 ]; then
  catalogue_pass --framework torch --scenario step --precision bf16 --devices "1,$gpus" --timeout 600
fi
exit "$status"
