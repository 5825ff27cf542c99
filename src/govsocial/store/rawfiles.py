"""Imported files kept byte for byte in ``raw_files``, compressed with zstd.

Every imported file is kept once (by SHA-256), so any row can be traced back to the bytes it
came from. The bytes are kept as a standard zstd stream (``compression = 'zstd'``): exports
and API dumps are text and shrink five to eight times, and a warehouse holding a half-gigabyte
blob as it is spends seconds writing it twice (log, then checkpoint). A file whose first block
does not compress (Parquet, which is compressed already) is kept as it is (``'none'``), as are
files kept before schema version 4. Packing runs in a thread while the file is parsed, so on
two cores it adds almost no time; it hashes what it reads, and the bytes are kept only if they
are the bytes the import identified.

``govsocial raw list|get`` lists kept files and writes one back out, byte for byte; any zstd
tool reads ``content`` too (``zstd -d``).
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from govsocial.errors import InputError, NotFoundError, StoreError
from govsocial.store.batches import FileIdentity
from govsocial.store.warehouse import Warehouse

CODEC = "zstd"
_BLOCK = 1 << 23
# Kept as they are when the first block shrinks less than this (Parquet is compressed already).
_WORTH_IT = 0.8


@dataclass(frozen=True)
class Packed:
    """A file's bytes as they will be kept, and what was read to make them."""

    compression: str  # "zstd" or "none"
    content: bytes
    sha256: str  # of the bytes read (to check against the file's identity)
    size: int


def pack(path: Path, stop: threading.Event | None = None) -> Packed:
    """The file's bytes as a zstd stream (one frame per block, which any zstd reader reads as
    one stream, and faster than a streaming compressor here), or as they are if its first
    block does not compress. Raises CancelledError if ``stop`` is set before the end."""
    codec = pa.Codec(CODEC)
    digest = hashlib.sha256()
    parts: list[bytes] = []
    compression, size = CODEC, 0
    with path.open("rb") as source:
        while block := source.read(_BLOCK):
            if stop is not None and stop.is_set():
                raise CancelledError(f"{path}: compression stopped")
            digest.update(block)
            size += len(block)
            if compression == CODEC:
                frame = codec.compress(block, asbytes=True)
                if len(parts) == 0 and len(frame) > _WORTH_IT * len(block):
                    compression = "none"
                else:
                    block = frame
            parts.append(block)
    if not parts:
        parts = [codec.compress(b"", asbytes=True)]  # an empty file: still a valid zstd stream
    return Packed(compression, b"".join(parts), digest.hexdigest(), size)


def decompress(content: bytes, compression: str) -> bytes:
    if compression == "none":
        return content
    with pa.CompressedInputStream(pa.BufferReader(content), compression) as stream:
        original: bytes = stream.read()
    return original


class Packing:
    """Pack a file in a background thread (pyarrow's codec and hashlib release the GIL, so it
    runs beside the parsing): ``with Packing(path) as p: … p.result()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack")
        self._future: Future[Packed] = self._pool.submit(pack, path, self._stop)

    def __enter__(self) -> Packing:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # done, or the file failed to load: the result is not needed any more
        self._pool.shutdown(wait=True)

    def result(self) -> Packed:
        try:
            return self._future.result()
        except OSError as exc:
            raise InputError(f"cannot be read ({exc}). Check the path.", path=self.path) from exc


def keep(wh: Warehouse, file: FileIdentity, packed: Packed, batch: int) -> None:
    """Insert the file's packed bytes unless a file with the same bytes is kept already.

    The bytes packed must be the bytes identified: a file still being written (a twarc2
    stream, a download) is refused rather than kept under another file's hash.
    """
    if (packed.sha256, packed.size) != (file.sha256, file.size):
        raise InputError(
            "changed while it was being imported (its bytes are not those it had when the import "
            "started). Import it again once it is complete; nothing of it was kept.",
            path=file.path,
        )
    # Through Arrow: a large BLOB goes in several times faster than as a query parameter.
    content = packed.content
    blob = pa.table(
        {"content": pa.array([content], pa.binary() if len(content) < 2**31 else pa.large_binary())}
    )
    wh.con.register("_blob", blob)
    try:
        wh.con.execute(
            "INSERT INTO raw_files (file_sha256, file_name, file_bytes, content, first_batch_id,"
            " compression) SELECT ?, ?, ?, content, ?, ? FROM _blob "
            "WHERE NOT EXISTS (SELECT 1 FROM raw_files WHERE file_sha256 = ?)",
            [
                file.sha256,
                file.origin or file.path.name,
                file.size,
                batch,
                packed.compression,
                file.sha256,
            ],
        )
    finally:
        wh.con.unregister("_blob")


def _kept_files_hint(wh: Warehouse) -> str:
    rows = wh.con.execute(
        "SELECT file_name, file_sha256, count(*) OVER () FROM raw_files"
        " ORDER BY first_batch_id DESC LIMIT 5"
    ).fetchall()
    if not rows:
        return "No file has been imported into it yet (`govsocial import FILE`)."
    total = int(rows[0][2])
    shown = ", ".join(f"{name} ({sha[:12]})" for name, sha, _ in rows)
    if total > len(rows):
        which = f"The latest {len(rows)} of its {total:,} kept files"
    else:
        which = "Its kept file" if total == 1 else "Its kept files"
    return (
        f"{which}: {shown}. Give a file name or the first characters (at least 6) of its "
        "SHA-256, as `govsocial raw list` shows them."
    )


@dataclass(frozen=True)
class KeptFile:
    sha256: str
    name: str
    size: int
    stored: int  # bytes in the warehouse (compressed)
    first_batch_id: int
    imported_at: datetime | None


def list_files(wh: Warehouse) -> list[KeptFile]:
    rows = wh.con.execute(
        "SELECT r.file_sha256, r.file_name, r.file_bytes, octet_length(r.content),"
        " r.first_batch_id, b.started_at FROM raw_files r"
        " LEFT JOIN ingest_batches b ON b.batch_id = r.first_batch_id ORDER BY r.first_batch_id"
    ).fetchall()
    return [KeptFile(*row) for row in rows]


def file_bytes(wh: Warehouse, key: str) -> tuple[str, bytes]:
    """(name, bytes) of the kept file whose SHA-256 starts with ``key`` or whose name is
    ``key``; a NotFoundError says what matched (or which files are kept) when that is not
    exactly one file. The bytes are checked against the file's SHA-256 (a StoreError if they
    do not match)."""
    rows = wh.con.execute(
        "SELECT file_sha256, file_name FROM raw_files"
        " WHERE file_name = ? OR (length(?) >= 6 AND starts_with(file_sha256, lower(?)))"
        " ORDER BY first_batch_id",
        [key, key, key],
    ).fetchall()
    if len(rows) > 1:
        found = ", ".join(f"{name} ({sha[:12]})" for sha, name in rows)
        raise NotFoundError(
            f"'{key}' names several kept files in {wh.path}: {found}. Give the first "
            "characters (at least 6) of the SHA-256 of the one you want."
        )
    if not rows:
        raise NotFoundError(f"'{key}' names no kept file in {wh.path}. {_kept_files_hint(wh)}")
    sha, name = rows[0]
    content, compression = wh.con.execute(
        "SELECT content, compression FROM raw_files WHERE file_sha256 = ?", [sha]
    ).fetchone() or (b"", "none")
    try:
        original = decompress(content, compression)
    except (OSError, pa.ArrowException) as exc:
        original, problem = b"", f"cannot be decompressed ({exc})"
    else:
        problem = "" if hashlib.sha256(original).hexdigest() == sha else "does not match its hash"
    if problem:
        raise StoreError(
            f"the kept copy of {name} ({sha[:12]}) {problem}: the warehouse is damaged. "
            "Restore it from a backup, or import the original file into a new warehouse."
        )
    return name, original
