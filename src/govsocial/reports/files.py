"""Output files written atomically: under a temporary name in their folder, renamed into place.

A failure (a full disk, Ctrl-C, a query error mid-way) never leaves a half-written file, and an
older file of that name stays as it was. The target is checked before anything is written (a
folder given as the file, a folder that does not exist), and an ``OSError`` while writing
becomes an :class:`OutputError` that names the file, what happened, the fix and what was kept.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from govsocial.errors import ConfigError, OutputError


def atomic_write(path: Path | str, content: bytes) -> None:
    """Write ``content`` to the file ``path`` the same careful way: under a temporary name,
    renamed into place at the end; the same errors (a folder, a missing folder, a full disk)."""
    with replacing(Path(path), "file.bin") as partial, synced(partial) as handle:
        handle.write(content)


@contextlib.contextmanager
def replacing(path: Path, example: str) -> Iterator[Path]:
    """A new name beside ``path`` to write to; renamed to ``path`` if the block succeeds,
    removed if it fails (a half-written file never takes the place of ``path``).

    ``path`` is checked first (``example``, a file name, is suggested if it is a folder).
    """
    _check_target(path, example)
    path = Path(os.path.realpath(path))  # a symbolic link: replace the file it points to
    if path.exists() and not path.is_file():  # a device or a pipe (/dev/null, a FIFO)
        yield path  # written to as it is: renaming over it would replace the device node
        return
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        if isinstance(exc, OSError):
            raise _output_failure(path, exc) from exc
        raise


@contextlib.contextmanager
def synced(path: Path) -> Iterator[BinaryIO]:
    """A new file to write to, flushed to the disk when the block ends (or a device or pipe,
    written as it is)."""
    special = path.exists() and not path.is_file()
    with path.open("wb" if special else "xb") as handle:
        yield handle
        handle.flush()
        if not special:
            os.fsync(handle.fileno())  # a full disk shows here, before the rename


def refuse_folder(path: Path | str, example: str) -> None:
    """Refuse a folder given where a file belongs, suggesting the file ``example`` in it."""
    if Path(path).is_dir():
        raise ConfigError(f"{path} is a folder. Give a file name, e.g. {Path(path) / example}.")


def _check_target(path: Path, example: str) -> None:
    """Refuse a folder given as the file, and a file in a folder that does not exist."""
    refuse_folder(path, example)
    folder = path.parent
    if not folder.exists():
        raise ConfigError(
            f"Cannot write {path}: the folder {folder} does not exist. Create it first "
            f"(mkdir -p {folder}) or choose another path."
        )
    if not folder.is_dir():
        raise ConfigError(f"Cannot write {path}: {folder} is a file, not a folder.")


def _output_failure(path: Path, exc: OSError) -> OutputError:
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        fix = "Free space on that disk, or write the file to another disk"
    elif code == errno.EFBIG:
        fix = "The file system or a file-size limit (`ulimit -f`) refused a larger file"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = "Choose a folder you can write to"
    else:
        fix = "Check the folder and the disk, then try again"
    kept = "the file that was there is as it was" if path.exists() else "no file was left"
    return OutputError(f"Could not write {path}: {exc.strerror or exc}. {fix}; {kept}.")


def file_stem(name: str) -> str:
    """``name`` (an institution id, say) as a file name that is safe everywhere: anything but
    letters, digits, '.', '_' and '-' becomes '_', and it never starts with '.'. The one rule
    for the report's per-institution files and the links to them."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "_"
