"""The import formats govsocial reads, and recognising a file's format from its content.

Each format is a :class:`Format`: a name, a one-line description, ``sniff(path, head)`` (does
this file look like mine? ``head`` is the file's first 64 KiB) and ``stage(path, options)``
(turn the file into one or more :class:`~govsocial.sources.staging.Staged` relations).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from govsocial.errors import ConfigError, InputError
from govsocial.sources import crowdtangle, facebook, generic, instagram, x, youtube
from govsocial.sources.staging import Format, ImportOptions, Staged

HEAD_BYTES = 64 * 1024


def _generic_sniff(path: Path, head: bytes) -> bool:
    if path.suffix.lower() not in {".parquet", ".csv"}:
        return False
    try:
        return generic.sniff_kind(generic.read_columns(path)) is not None
    except InputError:
        return False


# Sniffed in this order: the most specific formats first.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        Format(
            "generic",
            "govsocial's documented CSV/Parquet format (docs/formats.md)",
            _generic_sniff,
            lambda path, options: generic.stage(path),
        ),
        crowdtangle.FORMAT,
        x.FORMAT,
        facebook.FORMAT,
        instagram.FORMAT,
        youtube.FORMAT,
    ]
}


def detect(path: Path) -> str:
    """The format of ``path``, judged from its content (not only its name)."""
    if not path.is_file():
        raise InputError("no such file. Check the path.", path=path)
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    for name, fmt in FORMATS.items():
        if fmt.sniff(path, head):
            return name
    listing = "; ".join(f"{name}: {fmt.about}" for name, fmt in FORMATS.items())
    raise InputError(
        f"the format could not be recognised. Known formats: {listing}. If the file is one of "
        "them, force it with --format NAME.",
        path=path,
    )


def stager(
    format_name: str, options: ImportOptions | None = None
) -> Callable[[Path], Staged | Sequence[Staged]]:
    """The staging function for ``format_name``, with the user's options bound."""
    if format_name not in FORMATS:
        raise ConfigError(
            f"--format: unknown format '{format_name}'. Choose one of: auto, {', '.join(FORMATS)}."
        )
    fmt = FORMATS[format_name]
    chosen = options or ImportOptions()
    return lambda path: fmt.stage(path, chosen)
