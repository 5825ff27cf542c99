"""Imported files kept byte for byte in ``raw_files``, compressed with zstd.

Every imported file is kept once (by SHA-256), so any row can be traced back to the bytes it
came from. The bytes are kept as a standard zstd stream (``compression = 'zstd'``; files kept
by warehouses before schema version 4 say ``'none'``): exports and API dumps are text and
shrink five to eight times, and a warehouse holding a half-gigabyte blob as it is spends
seconds writing it twice (log, then checkpoint). Compression runs in a thread while the file
is parsed (pyarrow's codec releases the GIL), so on two cores it adds almost no time.

``govsocial raw list|get`` lists kept files and writes one back out, byte for byte; any zstd
tool reads ``content`` too (``zstd -d``).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from govsocial.errors import ConfigError, InputError
from govsocial.store.warehouse import Warehouse

CODEC = "zstd"
_BLOCK = 1 << 23


def compress(path: Path, stop: threading.Event | None = None) -> bytes:
    """The file's bytes as a zstd stream: one frame per block, which any zstd reader reads as
    one stream (faster than a streaming compressor here). Stops early if ``stop`` is set: the
    result is then incomplete and must not be kept."""
    codec = pa.Codec(CODEC)
    frames = []
    with path.open("rb") as source:
        while (block := source.read(_BLOCK)) and not (stop and stop.is_set()):
            frames.append(codec.compress(block, asbytes=True))
    return b"".join(frames)


def decompress(content: bytes, compression: str) -> bytes:
    if compression == "none":
        return content
    with pa.CompressedInputStream(pa.BufferReader(content), compression) as stream:
        original: bytes = stream.read()
    return original


class Compressing:
    """Compress a file in a background thread: ``with Compressing(path) as c: … c.result()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="compress")
        self._future: Future[bytes] = self._pool.submit(compress, path, self._stop)

    def __enter__(self) -> Compressing:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # the file failed to load: stop soon, the result is not needed
        self._pool.shutdown(wait=True)

    def result(self) -> bytes:
        try:
            return self._future.result()
        except OSError as exc:
            raise InputError(f"cannot be read ({exc}). Check the path.", path=self.path) from exc


def keep(wh: Warehouse, sha256: str, name: str, size: int, content: bytes, batch: int) -> None:
    """Insert the file's compressed bytes unless a file with the same bytes is kept already."""
    # Through Arrow: a large BLOB goes in several times faster than as a query parameter.
    blob = pa.table(
        {"content": pa.array([content], pa.binary() if len(content) < 2**31 else pa.large_binary())}
    )
    wh.con.register("_blob", blob)
    try:
        wh.con.execute(
            "INSERT INTO raw_files (file_sha256, file_name, file_bytes, content, first_batch_id,"
            " compression) SELECT ?, ?, ?, content, ?, ? FROM _blob "
            "WHERE NOT EXISTS (SELECT 1 FROM raw_files WHERE file_sha256 = ?)",
            [sha256, name, size, batch, CODEC, sha256],
        )
    finally:
        wh.con.unregister("_blob")


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
    ``key``; a ConfigError lists what matched when that is not exactly one file."""
    rows = wh.con.execute(
        "SELECT file_sha256, file_name FROM raw_files"
        " WHERE file_name = ? OR (length(?) >= 6 AND starts_with(file_sha256, lower(?)))"
        " ORDER BY first_batch_id",
        [key, key, key],
    ).fetchall()
    if len(rows) != 1:
        found = ", ".join(f"{name} ({sha[:12]})" for sha, name in rows)
        raise ConfigError(
            f"'{key}' names {'no kept file' if not rows else 'several kept files: ' + found}. "
            "Give a file name or the first characters (at least 6) of its SHA-256, as "
            "`govsocial raw list` shows them."
        )
    sha, name = rows[0]
    content, compression = wh.con.execute(
        "SELECT content, compression FROM raw_files WHERE file_sha256 = ?", [sha]
    ).fetchone() or (b"", "none")
    return name, decompress(content, compression)
