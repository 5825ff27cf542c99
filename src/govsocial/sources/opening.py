"""Finding and opening the files to import: folders, gzip, and what a file's first bytes are.

- :func:`expand` turns the paths a user typed into the files to import: a folder stands for
  every file under it (recursively, hidden files and folders left out, in a stable order);
  a path that does not exist or cannot be listed is reported for that path alone.
- :func:`plain_file` gives a gzip-compressed file (``posts.jsonl.gz``, as twarc and many
  collectors write) as its plain content, in a temporary file named without ``.gz`` and with
  the original's modification time, for every format alike; the warehouse keeps the original
  (compressed) bytes in ``raw_files``.
- :func:`head` reads a file's first bytes (decompressed), for recognising its format.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from govsocial.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class Found:
    """A path the user gave, resolved: a file to import, or why it cannot be."""

    path: Path
    problem: str | None = None


def expand(paths: list[Path]) -> list[Found]:
    """The files to import for ``paths``: files as given, folders by their files, sorted."""
    found: list[Found] = []
    for path in paths:
        try:
            if path.is_dir():
                files = [Found(p) for p in _walk(path)]
                if not files:
                    found.append(Found(path, "the folder holds no files to import"))
                found += files
            elif path.is_file():
                found.append(Found(path))
            elif path.exists():
                found.append(Found(path, "not a regular file (a device, pipe or socket)"))
            elif path.is_symlink():
                found.append(Found(path, "a symbolic link to nothing (or a loop). Fix the link"))
            else:
                found.append(Found(path, "no such file or folder. Check the path"))
        except OSError as exc:  # a symlink loop, a folder without read permission, …
            found.append(Found(path, f"cannot be read ({exc.strerror or exc}). Check the path"))
    return found


def _walk(folder: Path) -> Iterator[Path]:
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        stat = os.stat(root)
        if (stat.st_dev, stat.st_ino) in seen:  # a link back up the tree: walked already
            dirs.clear()
            continue
        seen.add((stat.st_dev, stat.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def is_gzip(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(2) == GZIP_MAGIC
    except OSError:
        return False


def plain_name(path: Path) -> str:
    """The name of the content: ``data.jsonl.gz`` → ``data.jsonl``."""
    name = path.name
    for suffix in (".gz", ".gzip"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of the file's content (decompressed if it is gzip)."""
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as handle:
                return handle.read(size)
        with path.open("rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(_gzip_problem(exc), path=path) from exc


def _gzip_problem(exc: BaseException) -> str:
    if isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error):
        return (
            f"is gzip-compressed but cannot be decompressed ({exc or 'it ends early'}): the file "
            "is damaged or was cut short. Download or copy it again."
        )
    strerror = getattr(exc, "strerror", None)
    return f"cannot be read ({strerror or exc}). Check the path and its permissions."


@contextmanager
def plain_file(path: Path) -> Iterator[Path]:
    """``path`` itself, or for a gzip file its decompressed content in a temporary file that
    lives as long as the ``with`` block (the loader reads some formats lazily)."""
    if not is_gzip(path):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="govsocial-gz-") as folder:
        target = Path(folder) / plain_name(path)
        try:
            with gzip.open(path, "rb") as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(_gzip_problem(exc), path=path) from exc
        stat = path.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the export's time
        yield target
