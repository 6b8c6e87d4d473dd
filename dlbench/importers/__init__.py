"""Importers of already-published results: the seed documents' Markdown tables and the legacy TOML layout.

Each importer turns what a source published into schema-valid runs with `provenance.kind = "imported"`,
the source named in `provenance.source`, the raw published values kept in `provenance.original`, and
every field the source did not publish left absent (no timestamps, seed or memory figures are invented).

Imports the contract (`dlbench.contract`: device names, fragments, validation) and the importers only.

- `seeds.py`: the seed documents' published result tables;
- `legacy.py`: the legacy `benchmark.toml` layout;
- `markdown.py`: just enough Markdown for the seed documents;
- `units.py`: unit strings ("8GB", "3.6GHz") as numbers;
- `common.py`: what the importers share (names, the imported run's skeleton, checking and writing).
"""
