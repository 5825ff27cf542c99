"""The documented generic CSV/Parquet format (docs/formats.md): format ``generic``."""

import csv
from pathlib import Path

from govsocial.errors import InputError
from govsocial.sources.generic.files import FORMAT_NAME, read_columns, sniff_kind, stage
from govsocial.sources.staging import Format, ImportOptions


def sniff(path: Path, head: bytes) -> bool:
    """A .csv or .parquet file whose columns are the generic format's (``post_id`` or
    ``followers``)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":  # the header line, from the content (the file may be gzip)
            line = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
            names = next(csv.reader([line.decode("utf-8")]), [])
            return sniff_kind(dict.fromkeys(names, "VARCHAR")) is not None
        if suffix == ".parquet":
            return sniff_kind(read_columns(path)) is not None
    except (InputError, UnicodeDecodeError, csv.Error):
        return False
    return False


FORMAT = Format(
    FORMAT_NAME,
    "govsocial's documented CSV/Parquet format (docs/formats.md)",
    sniff,
    lambda path, options: stage(path),
)

__all__ = ["FORMAT", "ImportOptions", "read_columns", "sniff", "sniff_kind", "stage"]
