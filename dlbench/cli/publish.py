"""`python tools/publish.py SITE_DATA_DIR`: the files the site build derives from the API (never committed)."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from ..store.dataset import DatasetError
from ..store.shards import INDEX_NAME, ShardError
from .common import guarded

EXPORTS = "exports"
SITE_API = Path("api") / "v1"

DESCRIPTION = """Write what the published site derives from the dataset's JSON API, after
tools/ci/build_site.sh has copied data/ into it:

  SITE_DATA_DIR/exports/results.csv       every result of the API as one tidy row (CSV)
  SITE_DATA_DIR/exports/results.parquet   the same table as Parquet
  SITE_DATA_DIR/exports/datapackage.json  a Frictionless Data Package describing both (Table Schema: each
                                          column's type and meaning, each metric's unit and direction)
  SITE_DATA_DIR/api/v1/by-device.json and by-device/   the API's rows regrouped by device (for the page's
                                          comparison of two devices; see dlbench/store/by_device.py), with
                                          each device's predictions for what it did not measure (predicted.json)

The same API always gives byte-identical files. Everything is built before anything is written: on an
error nothing is written. Needs pyarrow, and numpy and pandas for the predictions
(tools/ci/requirements-site.txt, or the `analysis` extra).
Example:
  bash tools/ci/build_site.sh _site          (calls this step itself)
  python tools/publish.py _site/data
Exit status: 0 written; 1 the API is missing or cannot be read, or pyarrow is missing; 2 a usage error."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="publish.py", description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("site_data", type=Path, metavar="SITE_DATA_DIR",
                   help="the site's data folder (e.g. _site/data), holding the copied API under api/v1")
    p.add_argument("--api", type=Path, default=None, metavar="DIR",
                   help="read the API rows from this folder (an API folder or a repository root) instead of "
                        "SITE_DATA_DIR/api/v1; the per-device files still go to SITE_DATA_DIR/api/v1")
    p.add_argument("--no-predictions", action="store_true",
                   help="leave out the per-device prediction files (by-device/<device>/predicted.json: what the "
                        "comparison page shows, labelled apart, for what a device did not measure; about 40 s on "
                        "the whole dataset)")
    return p


def _api_dir(where: Path) -> Path | None:
    """The API folder at `where` (an API folder, or a repository root holding data/api/v1), or None."""
    for candidate in (where, where / "data" / SITE_API):
        if (candidate / INDEX_NAME).is_file():
            return candidate
    return None


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    site_api = args.site_data / SITE_API
    source = args.api if args.api is not None else site_api
    api_dir = _api_dir(source)
    if api_dir is None:
        hint = ("pass an API folder or a repository root holding data/api/v1" if args.api is not None else
                "copy data/ into the site first (bash tools/ci/build_site.sh OUTDIR does), or pass --api DIR")
        print(f"{source}: no JSON API here ({INDEX_NAME} missing): {hint}", file=sys.stderr)
        return 1
    if not site_api.is_dir():
        print(f"{site_api}: missing: SITE_DATA_DIR must hold the site's copy of the API (api/v1)", file=sys.stderr)
        return 1
    needed = ("pyarrow",) + (() if args.no_predictions else ("numpy", "pandas"))
    missing = [m for m in needed if importlib.util.find_spec(m) is None]   # checked here, to say what to install
    if missing:
        print(f"{', '.join(missing)} missing: install the site build's pinned requirements "
              "(tools/ci/requirements-site.txt) or the analysis extra (pip install -e '.[analysis]')", file=sys.stderr)
        return 1
    from ..analysis import exports, site_predictions
    from ..store import by_device
    from ..store.api_rows import Api, load_catalogue, load_index, workload_rows

    try:
        files = exports.build(api_dir)
        predicted = None
        if not args.no_predictions:
            api = Api.at(api_dir)
            index = load_index(api)
            predicted = site_predictions.predictions(workload_rows(api, index), load_catalogue(api, index))
        device_files = by_device.write(api_dir, site_api, predicted)
        written = exports.write_files(files, args.site_data / EXPORTS)
    except (DatasetError, ShardError) as exc:
        print(f"{exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"{getattr(exc, 'filename', None) or args.site_data}: cannot write: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"{exports.result_count(files):,} results exported:")
    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    print(f"wrote {len(device_files)} per-device files under {site_api}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded(lambda: run(argv))


if __name__ == "__main__":
    sys.exit(main())
