"""dlbench: the deep-learning hardware benchmark dataset, its runners and its tools.

The package is layered along the data flow; a lower layer never imports a higher one
(contract <- store <- analysis; the runner and the importers use only the contract; cli may use all):

- `contract/`: the data contract (schemas, validation, fragments, TOML, canonical device names);
- `store/`: the dataset on disk, merging, and the files generated from it;
- `analysis/`: the results frame and comparisons;
- `runner/`: the benchmark runner (with `system/` and `data/`);
- `importers/`: importers of already-published results;
- `cli/`: the command-line entry points behind `tools/` and `runners/`.

`tests/test_layering.py` enforces the rule. This module holds only the version, and every layer may import it.
"""

__version__ = "0.1.0"
