"""The data contract: what a benchmark run is, how it is written, and whether a file keeps to it.

The lowest layer: it imports only from `dlbench.contract` and the top-level `dlbench` package. Every
other layer (store, analysis, runner, importers, cli) may import it.

- `paths.py`: where the repository's files live (repository root, `schema/`, `data/`);
- `schema.py`: the JSON Schemas in `schema/`, loading them and validating records against them;
- `schema_docs.py`: `schema/README.md`, the field reference generated from the schemas;
- `checks.py`: checks on a run that a JSON Schema cannot express;
- `stats.py`: the order statistics (percentiles, the `iteration_stats` summary) runner and checks share;
- `validate.py`: validating fragments and the merged dataset (every problem in every file);
- `problems.py`: problems found in input files, and how they are reported;
- `fragment.py`: one run as one TOML file named after its content-derived id;
- `tomlio.py`: reading TOML safely, and the TOML/JSON type bridge;
- `atomic.py`: crash-safe file writes;
- `limits.py`: the limits of a contribution (per file, per pull request) and the growth they bound;
- `device_names.py`: canonical accelerator and CPU names;
- `device_catalogue.py`: the device catalogue, the peaks, memory and bandwidth of accelerators with their sources;
- `catalogue_files.py`: the catalogue's three files (`epoch-ai.toml`, `devices.toml`, `device-map.toml`), checked
  and merged;
- `families.py`: workload families (whose protocol a workload id is) and the MLPerf namespace.
"""
