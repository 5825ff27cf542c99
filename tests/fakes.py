"""What the API client tests share: an injectable clock and sleep, and a fetched body loaded
as ``govsocial import`` loads it (saved to a file)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from govsocial.sources.clients import Fetched
from govsocial.sources.formats import detect, stager
from govsocial.sources.staging import ImportOptions
from govsocial.store import Warehouse, load_file
from govsocial.store.ingest import ImportSummary


class FakeTime:
    """An injectable clock and sleep: sleeping records the wait and moves the clock on."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def no_sleep(seconds: float) -> None:
    """A sleep for a client that must not wait."""
    raise AssertionError(f"the client waited {seconds} s")


def load_fetched(
    wh: Warehouse, fetched: Fetched, tmp_path: Path, name: str, fmt: str
) -> ImportSummary:
    """``fetched``'s body saved as ``<name>.json`` and imported with ``--format fmt``,
    captured when it was fetched."""
    path = tmp_path / f"{name}.json"
    path.write_bytes(fetched.body)
    return load_file(wh, path, stager(fmt, ImportOptions(captured_at=fetched.fetched_at)))


def load_whole(
    wh: Warehouse, fetched: Fetched, tmp_path: Path, name: str, fmt: str
) -> tuple[int, int, int]:
    """:func:`load_fetched`, which must load every record (none quarantined) of a file
    recognised as ``fmt``: the posts, post readings and follower readings it added."""
    before = _counts(wh)
    summary = load_fetched(wh, fetched, tmp_path, name, fmt)
    assert summary.status == "loaded" and summary.quarantined == {}
    assert detect(tmp_path / f"{name}.json") == fmt
    after = _counts(wh)
    return (after[0] - before[0], after[1] - before[1], after[2] - before[2])


def _counts(wh: Warehouse) -> tuple[int, int, int]:
    found = wh.con.execute(
        "SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM post_metrics), "
        "(SELECT count(*) FROM account_snapshots)"
    ).fetchone()
    assert found is not None
    return found
