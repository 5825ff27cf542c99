"""The import formats govsocial reads, and recognising a file's format from its content.

Each format is a :class:`Format`: a name, a one-line description, ``sniff(path, head)`` (does
this file look like mine? ``head`` is the first 64 KiB of the file's content, decompressed if
the file is gzip) and ``stage(path, options)`` (turn the file into one or more
:class:`~govsocial.sources.staging.Staged` relations). A file that no format recognises is
refused with what it *is* (empty, not UTF-8, ``;``-separated, a spreadsheet workbook, JSON of
another shape) and the fix; a file forced with ``--format`` that another format recognises
and the chosen one does not is refused too, naming the right format.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from govsocial.errors import InputError, UsageError
from govsocial.sources import crowdtangle, facebook, generic, instagram, tiktok, x, youtube
from govsocial.sources.documents import BOM, loads
from govsocial.sources.opening import head, is_gzip, plain_name
from govsocial.sources.staging import (
    ACCOUNT_SNAPSHOT_COLUMNS,
    POST_COLUMNS,
    Format,
    ImportOptions,
    Staged,
)

_FACEBOOK_POST = re.compile(rb'"created_time"\s*:')
_INSTAGRAM_MEDIA = re.compile(rb'"media_type"\s*:\s*"(?:IMAGE|VIDEO|CAROUSEL_ALBUM)"')
# Sniffed in this order: the most specific formats first.
FORMATS: dict[str, Format] = {
    f.name: f
    for f in [
        generic.FORMAT,
        crowdtangle.FORMAT,
        x.FORMAT,
        facebook.FORMAT,
        instagram.FORMAT,
        youtube.FORMAT,
        tiktok.FORMAT,
    ]
}


def _claimed_by(path: Path, first: bytes) -> str | None:
    """The first format whose sniff claims the content (``path`` named as its content)."""
    for name, fmt in FORMATS.items():
        if fmt.sniff(path, first):
            return name
    return None


def detect(path: Path) -> str:
    """The format of ``path``, judged from its content (not only its name)."""
    if not path.is_file():
        what = "not a regular file (a device, pipe or socket)" if path.exists() else "no such file"
        raise InputError(f"{what}. Check the path.", path=path)
    first = head(path)
    if is_gzip(path):  # sniffed by the content's name: data.csv.gz is a .csv
        named = _claimed_by(path.with_name(plain_name(path)), first) if first else None
        if named is not None:
            return named
    else:
        found = _claimed_by(path, first)
        if found is not None:
            return found
    raise InputError(_unrecognised(path, first), path=path)


def _unrecognised(path: Path, first: bytes) -> str:
    """Why no format claims a file, and what to do about it."""
    listing = "; ".join(f"{name}: {fmt.about}" for name, fmt in FORMATS.items())
    tail = f"Known formats: {listing}. If the file is one of them, force it with --format NAME."
    packed = " (after decompressing it: it is gzip)" if is_gzip(path) else ""
    text = first.removeprefix(BOM)
    if not text.strip():
        return f"the file is empty{packed}: there is nothing to import. Export it again."
    if text.startswith(b"PK\x03\x04"):
        return (
            f"is a ZIP archive or a spreadsheet workbook (.xlsx){packed}, not a CSV or JSON "
            "file. Unzip it, or save the sheet as 'CSV UTF-8 (comma delimited)'."
        )
    if text.startswith(b"PAR1"):
        return f"is a Parquet file without the generic format's columns{packed}. {tail}"
    suffix = Path(plain_name(path)).suffix or ".txt"
    if text.startswith((b"\xff\xfe", b"\xfe\xff")) or text[:200].count(b"\x00") > 20:
        return (
            f"is UTF-16 text{packed} (as Windows PowerShell's '>' and some exports write it), "
            f"not UTF-8. Convert it: iconv -f utf-16 -t utf-8 FILE > FILE.utf8{suffix}, then "
            "import the converted file."
        )
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # not just a character cut by the 64 KiB
            spreadsheet = " (in a spreadsheet: 'CSV UTF-8')" if suffix == ".csv" else ""
            return (
                f"is not UTF-8 text{packed} (byte {exc.start} is 0x{text[exc.start]:02x}: "
                f"latin-1 or a Windows code page?). Save it again as UTF-8{spreadsheet}, or "
                f"convert it: iconv -f latin1 -t utf-8 FILE > FILE.utf8{suffix}."
            )
        decoded = text[: exc.start].decode("utf-8")
    if "\r" in decoded and "\n" not in decoded:
        return (
            f"ends its lines with a carriage return alone{packed} (as old Mac spreadsheets save "
            "CSV), so no reader can find its rows. Save it again as 'CSV UTF-8', or convert "
            "the line endings (e.g. tr '\\r' '\\n' < FILE > FILE.fixed.csv), then import it."
        )
    line = decoded.lstrip().split("\n", 1)[0]
    if line.count(";") > line.count(",") and line.count(";") >= 2:
        header = next(csv.reader([line], delimiter=";"), [])
        return (
            f"is a CSV separated by ';' (its header: {', '.join(header[:5])}, …){packed}, as "
            "spreadsheets in Indonesian or European settings save it. Save it again with "
            "commas ('CSV UTF-8 (comma delimited)'), or convert the separators, then import it."
        )
    near = _generic_names(line)
    if near:
        renames = ", ".join(f"'{a}' → '{b}'" for a, b in near[:8])
        return (
            f"looks like the generic format{packed}, but its column names are not written as "
            f"the format writes them (lower case, no spaces): rename {renames} in the header "
            "line (docs/formats.md lists the columns), then import it."
        )
    if line.startswith(("{", "[")):
        if _FACEBOOK_POST.search(text) and _INSTAGRAM_MEDIA.search(text):
            return (
                f"mixes Facebook posts (created_time) and Instagram media (media_type){packed}: "
                "each file must hold one platform's responses. Split it into a Facebook file "
                "and an Instagram file and import both."
            )
        return f"is JSON{packed} of a shape no format knows ({_keys(decoded)}). {tail}"
    return f"the format could not be recognised{packed}. {tail}"


def _generic_names(line: str) -> list[tuple[str, str]]:
    """The header's names that are generic columns but for case, spaces or a BOM:
    (as written, as the format writes it); empty unless ``post_id`` or ``followers`` is one."""
    try:
        names = next(csv.reader([line]), [])
    except csv.Error:
        return []
    known = set(POST_COLUMNS) | set(ACCOUNT_SNAPSHOT_COLUMNS)
    fixed = [(n, n.strip().lower().replace(" ", "_")) for n in names]
    near = [(n, f) for n, f in fixed if f in known and n != f]
    return near if {"post_id", "followers"} & {f for _, f in near} else []


def _keys(text: str) -> str:
    try:
        value = loads(text.split("\n", 1)[0])
    except ValueError as exc:  # RecursionError too: loads says "nested too deeply"
        return f"its first record is longer than 64 KiB or not JSON by itself: {exc}"
    while isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        return "its first object has: " + ", ".join(list(value)[:8])
    return f"it starts with a {type(value).__name__}"


def stager(
    format_name: str, options: ImportOptions | None = None
) -> Callable[[Path], Staged | Sequence[Staged]]:
    """The staging function for ``format_name``, with the user's options bound.

    A file that this format does not recognise but another does is refused (a Facebook page
    file forced as Instagram would load a wrong account and lose its posts).
    """
    if format_name not in FORMATS:
        raise UsageError(
            f"--format: unknown format '{format_name}'. Choose one of: auto, {', '.join(FORMATS)}."
        )
    fmt = FORMATS[format_name]
    chosen = options or ImportOptions()

    def stage(path: Path) -> Staged | Sequence[Staged]:
        first = head(path)
        if not fmt.sniff(path, first):
            other = _claimed_by(path, first)
            if other is not None:
                raise InputError(
                    f"is {other} data ({FORMATS[other].about}), not {format_name}. Import it "
                    f"with --format {other}, or let govsocial recognise it (--format auto).",
                    path=path,
                )
        return fmt.stage(path, chosen)

    return stage
