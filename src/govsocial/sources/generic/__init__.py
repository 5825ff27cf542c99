"""The documented generic CSV/Parquet format (docs/formats.md): format ``generic``."""

from govsocial.sources.generic.files import FORMAT_NAME, sniff, stage
from govsocial.sources.staging import Format, ImportOptions

FORMAT = Format(
    FORMAT_NAME,
    "govsocial's documented CSV/Parquet format (docs/formats.md)",
    sniff,
    stage,
)

__all__ = ["FORMAT", "ImportOptions", "sniff", "stage"]
