#!/usr/bin/env bash
# Assemble the folder GitHub Pages publishes, from an allow-list: the files of site/ at its root, and under
# data/ the merged dataset with its JSON API (data/benchmark.json, data/benchmark.toml, data/api/) and nothing
# else of data/, so the page fetches data/api/v1/index.json relatively; then `tools/publish.py` derives from that
# copy of the API the exports (data/exports/: results.csv, results.parquet, datapackage.json) and the per-device
# files (data/api/v1/by-device*), which are published, never committed. Deterministic; regular files only.
# Usage: bash tools/ci/build_site.sh OUTDIR    (OUTDIR must be new or empty)
# Environment: PYTHON, the Python with pyarrow to run tools/publish.py (default: the checkout's .venv/bin/python
# when there is one, else python3; CI installs tools/ci/requirements-site.txt into it).
# Exit status: 0 built, 1 the dataset is missing or holds a link, or the Python lacks pyarrow, 2 a usage error.
set -euo pipefail

usage() {
  echo "usage: bash tools/ci/build_site.sh OUTDIR" >&2
  echo "  OUTDIR  a new or empty folder to fill with site/ (at its root) and data/ (under data/), with the" >&2
  echo "          exports (data/exports/) and per-device files (data/api/v1/by-device*) tools/publish.py derives" >&2
}
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then usage 2>&1; exit 0; fi
if [ $# -ne 1 ] || [ -z "$1" ]; then usage; exit 2; fi

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$1"
if [ -e "$out" ] && { [ ! -d "$out" ] || [ -n "$(ls -A "$out")" ]; }; then
  echo "$out: exists and is not an empty folder: pass a new or empty OUTDIR" >&2
  exit 2
fi
# What is published from data/: exactly these (a file, or a folder), nothing else.
published_data=(benchmark.json benchmark.toml api)
for name in "${published_data[@]}"; do
  if [ ! -e "$root/data/$name" ]; then
    echo "data/$name: missing: run \`python tools/merge.py\` to generate it" >&2
    exit 1
  fi
done
sources=("$root/data/${published_data[0]}" "$root/data/${published_data[1]}" "$root/data/${published_data[2]}")
[ -d "$root/site" ] && sources+=("$root/site")
links=$(find "${sources[@]}" ! -type f ! -type d -print)
if [ -n "$links" ]; then
  while IFS= read -r link; do
    echo "${link#"$root"/}: not a regular file (a link?): the site publishes regular files only; remove it" >&2
  done <<< "$links"
  exit 1
fi
if [ -n "${PYTHON:-}" ]; then
  python="$PYTHON"
elif [ -x "$root/.venv/bin/python" ]; then
  python="$root/.venv/bin/python"
else
  python=python3
fi
if ! "$python" -c 'import pyarrow, numpy, pandas' >/dev/null 2>&1; then
  echo "$python: cannot import pyarrow, which tools/publish.py needs to write the exports: install" \
    "tools/ci/requirements-site.txt into it (pip install --require-hashes -r tools/ci/requirements-site.txt)," \
    "or set PYTHON to a Python that has pyarrow (e.g. the checkout's .venv/bin/python after \`bash tools/setup.sh\`)" >&2
  exit 1
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
case "$out/" in
  "$root/site/"* | "$root/data/"*)
    echo "$1: inside site/ or data/: pass an OUTDIR outside them (e.g. _site)" >&2
    exit 2 ;;
esac

if [ -d "$root/site" ]; then
  cp -R "$root/site/." "$out/"
else
  echo "site/: missing: publishing a plain index of the data instead" >&2
  cat > "$out/index.html" <<'HTML'
<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>dlbench data</title>
<h1>dlbench: deep-learning hardware benchmark results</h1>
<ul>
  <li><a href="data/benchmark.json">data/benchmark.json</a> (every contributed run; the imported record is in the repository's data/imported/ and, result by result, in the API)</li>
  <li><a href="data/benchmark.toml">data/benchmark.toml</a> (the canonical dataset)</li>
  <li><a href="data/api/v1/index.json">data/api/v1/index.json</a> (the sharded API)</li>
  <li><a href="data/exports/results.parquet">data/exports/results.parquet</a>, <a href="data/exports/results.csv">data/exports/results.csv</a> (every result as one row), described by <a href="data/exports/datapackage.json">data/exports/datapackage.json</a></li>
</ul>
</html>
HTML
fi

mkdir -p "$out/data"
for name in "${published_data[@]}"; do   # not data/fragments/, nor anything else a pull request put in data/
  cp -R "$root/data/$name" "$out/data/"
done
# Derived from the copied API, into the site only: the exports and the per-device files.
if ! "$python" "$root/tools/publish.py" "$out/data"; then
  echo "tools/publish.py $out/data: failed (above): the site in $out is incomplete; do not publish it" >&2
  exit 1
fi
files=$(find "$out" -type f | wc -l)
echo "built $out: $files files (site/ at the root; data/benchmark.json, data/benchmark.toml, data/api/ and data/exports/ under data/)"
