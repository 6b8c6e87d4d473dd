"""Importers of already-published results: the seed documents' Markdown tables and the legacy TOML layout.

Each importer turns what a source published into schema-valid runs with `provenance.kind = "imported"`,
the source named in `provenance.source`, the raw published values kept in `provenance.original`, and
every field the source did not publish left absent (no timestamps, seed or memory figures are invented).
"""
