"""The documented generic CSV/Parquet format (docs/formats.md)."""

from govsocial.sources.generic.files import FORMAT, read_columns, sniff_kind, stage

__all__ = ["FORMAT", "read_columns", "sniff_kind", "stage"]
