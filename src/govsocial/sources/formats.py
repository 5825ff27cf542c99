"""The import formats govsocial reads, and sniffing a file's format from its content."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from govsocial.errors import ConfigError, InputError
from govsocial.sources import generic
from govsocial.sources.staging import Staged

StageFn = Callable[[Path], Staged]

# format name -> (what it is, how to stage a file of it)
FORMATS: dict[str, tuple[str, StageFn]] = {
    "generic": ("govsocial's documented CSV/Parquet format (docs/formats.md)", generic.stage),
}


def detect(path: Path) -> str:
    """The format of ``path``, judged from its content (not only its name)."""
    if not path.is_file():
        raise InputError("no such file. Check the path.", path=path)
    if path.suffix.lower() in {".parquet", ".csv"}:
        try:
            columns = generic.read_columns(path)
        except InputError:
            columns = {}
        if generic.sniff_kind(columns) is not None:
            return "generic"
    listing = "; ".join(f"{name}: {about}" for name, (about, _) in FORMATS.items())
    raise InputError(
        f"the format could not be recognised. Known formats: {listing}. If the file is one of "
        "them, force it with --format NAME.",
        path=path,
    )


def stager(format_name: str) -> StageFn:
    if format_name not in FORMATS:
        raise ConfigError(
            f"--format: unknown format '{format_name}'. Choose one of: auto, {', '.join(FORMATS)}."
        )
    return FORMATS[format_name][1]
