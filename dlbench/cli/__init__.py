"""The commands: the code behind `tools/*.py`, `runners/run.py` and the `dlbench-*` entry points.

The top layer: it may import every other layer (contract, store, analysis, runner, importers); no
other layer imports it. This `__init__` imports nothing, so each command loads only its own modules.

- `validate.py`: `tools/validate.py`, `dlbench-validate`;
- `merge.py`: `tools/merge.py`, `dlbench-merge`;
- `run.py`: `runners/run.py`, `dlbench-run`;
- `compare.py`: `tools/compare.py`, `dlbench-compare`;
- `check_pr.py`: `tools/ci/check_pr.py`;
- `import_seeds.py`, `import_legacy.py`: `tools/import_seeds.py`, `tools/import_legacy.py`;
- `setup_plan.py`: the plan `tools/setup.sh` runs (standard library only: it runs before `.venv/` exists);
- `common.py`: what the commands share (`--root`, `--github`, the no-traceback guard).
"""
