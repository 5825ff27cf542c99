"""Warehouse faults in words: one mapping from DuckDB's and the OS's errors to a StoreError.

A full disk, a folder that cannot be written, a truncated or bit-rotted warehouse file and a
file another process holds all surface as DuckDB exceptions (or an OSError) somewhere: at
open, during a query or at COMMIT. :func:`warehouse_failure` recognises them and says which
warehouse, what happened, whether the data committed before is intact, and the fix; it
returns ``None`` for anything else (a value the warehouse refused is the input's fault, and
its caller says so). :class:`~govsocial.store.warehouse.Warehouse` uses it at open, in
migrations and transactions, and when an error leaves a ``with Warehouse.open(...)`` block,
so no caller has to remember it; ``store/ingest.py`` uses it before blaming an input file.

:func:`refuse_foreign_file` is the check made before DuckDB opens anything: ``duckdb.connect``
opens a CSV, Parquet or JSON file as an in-memory view (an import into it "succeeds" and keeps
nothing) and tries to download the sqlite extension for a SQLite file.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import duckdb

from govsocial.config import SETTINGS
from govsocial.errors import StoreError, WarehouseLockedError

_DB_WAYS = SETTINGS["db"].ways_to_set()
_MEMORY_WAYS = SETTINGS["memory_limit"].ways_to_set()

# Every DuckDB database file starts with an 8-byte checksum, then this magic (storage format).
DUCKDB_MAGIC = b"DUCK"
DUCKDB_MAGIC_OFFSET = 8

_INTACT = "Data committed before is intact; what was being written was rolled back."
_REBUILD = (
    "Restore it from a backup, or move it away and rebuild it (`govsocial demo` for the "
    "synthetic world; `govsocial registry load` and `govsocial import` of the original files "
    "for real data)."
)


# -- files that are not a DuckDB warehouse ---------------------------------------------------
def looks_like(head: bytes) -> tuple[str, bool]:
    """What the first bytes of a file look like, in words, and whether `govsocial import`
    might read it (a data file rather than another database)."""
    magics = [
        (b"PAR1", "a Parquet file", True),
        (b"SQLite format 3\x00", "a SQLite database", False),
        (b"\x1f\x8b", "a gzip-compressed file", True),
        (b"\x28\xb5\x2f\xfd", "a zstd-compressed file", False),
        (b"PK\x03\x04", "a ZIP archive (or an XLSX workbook)", False),
    ]
    for magic, kind, importable in magics:
        if head.startswith(magic):
            return kind, importable
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:  # maybe only a character cut at the end of the head
        decoded = text[: exc.start].decode("utf-8") if exc.start > len(text) - 4 else ""
        if not decoded:
            return "a file of another kind (not text, and not a DuckDB file)", False
    if decoded.startswith(("{", "[")):
        return "a JSON file", True
    if decoded and all(c.isprintable() or c in "\t\r\n" for c in decoded):
        first = decoded.split("\n", 1)[0]
        if any(sep in first for sep in (",", "\t", ";")):
            return "a CSV file", True
        return "a text file", False
    return "a file of another kind (not a DuckDB file)", False


def refuse_foreign_file(path: Path) -> None:
    """Raise a StoreError unless the existing file at ``path`` starts like a DuckDB file.

    Only the first bytes are read; the file is left as it is.
    """
    if not path.is_file():  # a device or a pipe: reading it could block or consume it
        raise StoreError(
            f"{path} is not a regular file, so it cannot be a warehouse. Point {_DB_WAYS} to "
            f"a warehouse file (….duckdb) or to a new path to create one."
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        failure = warehouse_failure(path, exc, "opening it")
        raise failure or StoreError(f"Cannot read the warehouse {path}: {exc}.") from exc
    if head[DUCKDB_MAGIC_OFFSET : DUCKDB_MAGIC_OFFSET + len(DUCKDB_MAGIC)] == DUCKDB_MAGIC:
        return
    if not head:
        raise StoreError(
            f"{path} is an empty file (0 bytes), not a warehouse. If it was a warehouse, its "
            f"contents were lost (an interrupted copy, or a full disk): restore it from a "
            f"backup. To create a new warehouse there, delete the empty file first; or point "
            f"{_DB_WAYS} to a warehouse file (….duckdb) or to a new path to create one."
        )
    kind, importable = looks_like(head)
    if importable:
        fix = f"To import it, run `govsocial import {path}`; to use a warehouse, point"
    else:
        fix = "If it was your warehouse, it is damaged: restore it from a backup. Otherwise point"
    raise StoreError(
        f"{path} is not a DuckDB warehouse: it looks like {kind}. {fix} {_DB_WAYS} to a "
        f"warehouse file (….duckdb) or to a new path to create one. {path} was left as it is."
    )


# -- faults while opening, reading or writing ------------------------------------------------
def warehouse_failure(path: Path, exc: BaseException, doing: str) -> StoreError | None:
    """The StoreError that explains ``exc``, raised while ``doing`` (e.g. "importing
    posts.csv") with the warehouse at ``path``; ``None`` if ``exc`` is not a fault of the
    warehouse (its file, its folder, its disk, its lock), such as a value it refused.

    Raise the result ``from exc``.
    """
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError):
        return _os_failure(path, exc, doing)
    if not isinstance(exc, duckdb.Error):
        return None
    if not (type(exc) is duckdb.Error or isinstance(exc, _STORAGE_ERRORS)):
        return None  # a value, a constraint, a query: not the warehouse's fault
    text = str(exc)
    first = text.strip().split("\n", 1)[0][:300]
    lower = text.lower()
    if "could not set lock on file" in lower:
        return _locked(path, text)
    if isinstance(exc, duckdb.OutOfMemoryException) or "out of memory" in lower:
        return StoreError(
            f"DuckDB ran out of memory while {doing} with the warehouse {path} ({first}). "
            f"{_INTACT} Raise the memory limit ({_MEMORY_WAYS}; see `govsocial settings`), or "
            f"free disk space beside the warehouse for DuckDB to spill to, and run it again."
        )
    if "invalidated" in lower and "fatal" in lower:
        return StoreError(
            f"DuckDB stopped using the warehouse {path} for the rest of this command after an "
            f"earlier error ({first}); this was found while {doing}. {_INTACT} Run the command "
            f"again; if the same happens, the message before this one says why."
        )
    names_it = _names_warehouse(path, text)
    if "corrupt database" in lower or ("checksum" in lower and names_it):
        return StoreError(
            f"The warehouse {path} is damaged: part of it no longer reads back as it was "
            f"written (a block fails its checksum: bytes changed on the disk, or a bad copy). "
            f"This was found while {doing}. {_REBUILD}"
        )
    if ("could not read enough bytes" in lower or "file too small" in lower) and names_it:
        return StoreError(
            f"The warehouse {path} is damaged: it is shorter than DuckDB's own record of it "
            f"says (truncated: an interrupted copy or download, or a disk that filled up while "
            f"it was copied). This was found while {doing}. {_REBUILD}"
        )
    if "not a valid duckdb database file" in lower:
        return StoreError(
            f"{path} is not a readable DuckDB warehouse (the file is damaged or is another "
            f"kind of file). Point {_DB_WAYS} to the right file, or to a new path to create "
            f"a warehouse. If this was your warehouse: {_REBUILD}"
        )
    os_error = _os_error_in(text)
    if os_error is not None and names_it:
        return _os_failure(path, os_error, doing)
    if isinstance(exc, duckdb.IOException) and names_it:
        return StoreError(
            f"Cannot read or write the warehouse {path} while {doing}: {first}. {_INTACT} "
            f"Check the file and its folder (space, permissions), then run it again."
        )
    return None


# The classes DuckDB raises for storage faults (a failed checksum is a plain duckdb.Error).
_STORAGE_ERRORS = (
    duckdb.IOException,
    duckdb.TransactionException,
    duckdb.FatalException,
    duckdb.OutOfMemoryException,
    duckdb.SerializationException,
    duckdb.InternalException,
)

# DuckDB quotes the OS's words (strerror) at the end of its I/O messages.
_OS_WORDS = {
    "no space left on device": errno.ENOSPC,
    "file too large": errno.EFBIG,
    "disk quota exceeded": errno.EDQUOT,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
    "operation not permitted": errno.EPERM,
    "not a directory": errno.ENOTDIR,
    "input/output error": errno.EIO,
}


def _os_error_in(text: str) -> OSError | None:
    lower = text.lower()
    for words, code in _OS_WORDS.items():
        if words in lower:
            return OSError(code, os.strerror(code))
    return None


def _names_warehouse(path: Path, text: str) -> bool:
    """Whether DuckDB's message is about the warehouse (its file, .wal or spill folder),
    not about another file a query read or wrote."""
    quoted = re.findall(r'"([^"]+)"', text)
    if not quoted:
        return True  # DuckDB names no file: it speaks of its own database
    names = (str(path), str(path.absolute()), str(path.resolve()))
    # A relative name (DuckDB's own "w.duckdb.wal") is the warehouse's when it starts so.
    return any(
        q.startswith(names) or (not q.startswith("/") and Path(q).name.startswith(path.name))
        for q in quoted
    )


def _os_failure(path: Path, exc: OSError, doing: str) -> StoreError | None:
    if exc.filename is not None and not _names_warehouse(path, f'"{exc.filename}"'):
        return None  # another file: its own caller explains it
    code = exc.errno
    reason = exc.strerror or str(exc)
    folder = path.parent if str(path.parent) else Path(".")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(
            f"The warehouse {path} could not be written while {doing}: no space left on the "
            f"disk that holds it ({reason}). {_INTACT} Free space in {folder} (DuckDB also "
            f"needs room there to spill large work), or move the warehouse to a disk with "
            f"room and point {_DB_WAYS} to it; then run the command again."
        )
    if code == errno.EFBIG:
        return StoreError(
            f"The warehouse {path} could not grow while {doing}: the file system or a "
            f"file-size limit (`ulimit -f`) refused ({reason}). {_INTACT} Lift the limit or "
            f"move the warehouse to a file system that allows larger files (point {_DB_WAYS} "
            f"to it), then run the command again."
        )
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        where = "read-only file system" if code == errno.EROFS else "place this user cannot write"
        if not path.exists():
            return StoreError(
                f"Cannot create the warehouse {path}: {folder} is a {where} ({reason}). "
                f"Choose a writable folder with {_DB_WAYS}."
            )
        return StoreError(
            f"The warehouse {path} cannot be written ({where}: {reason}); this was found "
            f"while {doing}. Nothing was changed. Copy it to a writable folder and point "
            f"{_DB_WAYS} to the copy, or make the file writable."
        )
    if code == errno.ENOTDIR:
        return StoreError(
            f"Cannot use the warehouse path {path}: a part of it that should be a folder is "
            f"a file ({reason}). Choose another path with {_DB_WAYS}."
        )
    if code == errno.EIO:
        return StoreError(
            f"The disk holding the warehouse {path} reported an input/output error while "
            f"{doing} ({reason}): the disk or the network share may be failing. {_INTACT} "
            f"Copy the warehouse to a healthy disk (or restore a backup) and try again there."
        )
    return None


# -- another process holds the file ----------------------------------------------------------
def _locked(path: Path, text: str) -> WarehouseLockedError:
    pid_match = re.search(r"PID (\d+)", text)
    exe_match = re.search(r"lock is held in (.+?) \(PID", text)
    pid = int(pid_match.group(1)) if pid_match else None
    holder = describe_process(pid, exe_match.group(1) if exe_match else None)
    if "read-only mode" in text:
        # DuckDB says so when the holder only reads (a shared lock): readers may share.
        return WarehouseLockedError(
            f"The warehouse {path} is open for reading in {holder}, and this command writes "
            f"to it: DuckDB lets a process write only while no other has the file open. It "
            f"will be free when that command finishes: wait for it (or stop it), then run this "
            f"again. Commands that only read (`govsocial info`, `govsocial sql`) work "
            f"meanwhile."
        )
    return WarehouseLockedError(
        f"The warehouse {path} is in use by {holder}, which has it open for writing; "
        f"meanwhile DuckDB lets no other process open the file, not even to read. It will be "
        f"free when that command finishes: wait for it (or stop it), then run this again. To "
        f"read meanwhile, query a copy: `cp {path} copy.duckdb`, then `--db copy.duckdb`."
    )


def describe_process(pid: int | None, executable: str | None = None) -> str:
    """``process 1234 (`govsocial import posts/`), running for 3 min`` as far as /proc
    tells (another container's process shows as its number only)."""
    if pid is None:
        return "another process"
    command = _command_line(pid)
    if command is None and executable:
        command = Path(executable).name
    described = f"process {pid}" + (f" (`{command}`)" if command else "")
    running = _running_for(pid)
    return described + (f", running for {running}" if running else "")


def _command_line(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    argv = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    if not argv:
        return None
    # `govsocial ...` however it was started: the entry point, `python -m govsocial`, or
    # python running the entry-point script.
    for i, arg in enumerate(argv):
        if Path(arg).name == "govsocial":
            argv = ["govsocial", *argv[i + 1 :]]
            break
    else:
        argv[0] = Path(argv[0]).name
    command = " ".join(" ".join(arg.split()) for arg in argv)  # shown, not to be run
    return command if len(command) <= 100 else command[:99] + "…"


def _running_for(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        # Fields after the command name (which may hold spaces and parentheses); the 22nd
        # field of the line, starttime, is the 20th after it, in clock ticks since boot.
        started = int(stat.rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return _duration(max(0.0, uptime - started))


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
