"""The store: the dataset on disk, merging fragments into it, and every file generated from it.

Imports the contract (`dlbench.contract`) and the store only: never analysis, the runner, the importers
or the cli.

- `dataset.py`: the canonical files (append-only) and reading runs from them;
- `parts.py`: the canonical files: the routing rule, the size cap, their order, replaced runs;
- `append.py`: appending runs to the canonical files (crash-safe, closing a full part first);
- `merge.py`: folding fragments into the dataset (validate, append, regenerate, remove the fragments);
- `lock.py`: the merge lock;
- `outputs.py`: the registry of generated files (`merge.py --check` compares them with the disk);
- `api.py`: `data/benchmark.json`;
- `shards.py`: the sharded JSON API under `data/api/v1/`;
- `readme_table.py`: the results tables in README.md;
- `metrics.py`: derived metrics and the headline metric a workload is read on by default;
- `corroboration.py`: whether a result is an outlier of its comparison group, and how many independent
  runs agree with it (joined into the API's rows and the results frame);
- `labels.py`: how values, devices and sources are labelled for people (README table and analysis);
- `pr_check.py`: the pull-request check (changed files, new fragments, a dry-run merge);
- `pr_recompute.py`: the fields a measured fragment takes from the repository, recomputed from its commit;
- `synthetic.py`: synthetic valid runs for tests, fixtures and benchmarks.
"""
