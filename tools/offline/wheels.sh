#!/usr/bin/env bash
# Download, here, the wheels the runners need beyond what a CUDA PyTorch image already has, for a GPU machine
# that cannot reach PyPI: the core's hash-pinned requirements (tools/ci/requirements-core.txt) and the runner's
# platformdirs and zlib-ng, at the versions of this checkout's .venv when it has them.
#
#   bash tools/offline/wheels.sh [PYTHON_VERSION]      # default 3.12; wheels go to .whl/ (ignored by git)
#
# Then carry .whl/ to that machine with the checkout and run tools/offline/gpu_catalogue.sh there.
set -euo pipefail
cd "$(dirname "$0")/../.."
version="${1:-3.12}"
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64; do
  platforms+=(--platform "$p")
done
rm -rf .whl
mkdir -p .whl
common=(--quiet --no-deps --only-binary=:all: --python-version "$version" --implementation cp "${platforms[@]}" -d .whl)
python3 -m pip download "${common[@]}" --require-hashes -r tools/ci/requirements-core.txt
extras=()
for name in platformdirs zlib-ng; do
  pinned=""
  if [ -x .venv/bin/python ]; then
    pinned=$(.venv/bin/python -m pip freeze 2>/dev/null | grep -i -E "^${name//-/[-_]}==" || true)
  fi
  extras+=("${pinned:-$name}")
done
python3 -m pip download "${common[@]}" "${extras[@]}"
ls -1 .whl
du -sh .whl
