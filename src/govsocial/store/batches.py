"""Ingest batches: one row per loaded file (or registry), with its counts and outcome."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from govsocial import __version__
from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class FileIdentity:
    path: Path
    sha256: str
    size: int
    origin: str | None = None  # where the bytes came from when not a user's file: an API page

    @property
    def name(self) -> str:
        """What the batch and the kept file are called: the origin, else the path."""
        return self.origin or str(self.path)


def identify(path: Path) -> FileIdentity:
    """The file's content hash: the same bytes are recognised under any name."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return FileIdentity(path, digest.hexdigest(), path.stat().st_size)


def find_loaded(wh: Warehouse, sha256: str) -> int | None:
    """The batch that already loaded a file with these bytes, if any."""
    row = wh.con.execute(
        "SELECT min(batch_id) FROM ingest_batches WHERE file_sha256 = ? AND status = 'loaded'",
        [sha256],
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def start_batch(
    wh: Warehouse, *, kind: str, source_format: str, file: FileIdentity | None, synthetic: bool
) -> int:
    """Insert a 'loading' batch row (inside the caller's transaction) and return its id."""
    row = wh.con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM ingest_batches").fetchone()
    batch_id = int(row[0]) if row else 1
    wh.con.execute(
        "INSERT INTO ingest_batches (batch_id, kind, source_format, path, file_sha256, file_bytes,"
        " is_synthetic, status, started_at, govsocial_version) VALUES (?,?,?,?,?,?,?,?,?,?)",
        [
            batch_id,
            kind,
            source_format,
            file.name if file else None,
            file.sha256 if file else None,
            file.size if file else None,
            synthetic,
            "loading",
            datetime.now(UTC),
            __version__,
        ],
    )
    return batch_id


def record_failure(
    wh: Warehouse, *, kind: str, source_format: str, file: FileIdentity | None, error: str
) -> None:
    """After a rollback: keep a trace of the failed attempt (nothing of its data was kept)."""
    with wh.transaction():
        batch_id = start_batch(
            wh, kind=kind, source_format=source_format, file=file, synthetic=False
        )
        wh.con.execute(
            "UPDATE ingest_batches SET status = 'failed', error = ?, finished_at = ? "
            "WHERE batch_id = ?",
            [error[:2000], datetime.now(UTC), batch_id],
        )
