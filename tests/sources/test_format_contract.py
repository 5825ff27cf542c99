"""The contract every import format keeps, checked on a real file of each: nothing lost (every
record read is loaded or quarantined), idempotent, the same when gzip-compressed, the same
from a folder, and a file of another format refused with the right --format named.
A file that is no data of its format is refused saying what it is instead.
(Atomicity per file is tests/store/test_import_atomic.py, over the same files.)"""

from __future__ import annotations

import gzip
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import scalar
from format_files import FILES, RECORD_FORMATS
from govsocial.errors import InputError
from govsocial.sources.formats import FORMATS, detect, stager
from govsocial.sources.staging import ImportOptions
from govsocial.store import Warehouse, load_file
from govsocial.store.importing import import_paths
from govsocial.vocabulary import FORMAT_NAMES

CAPTURED = datetime(2025, 4, 1, 5, 0, tzinfo=UTC)
DATA_TABLES = ("posts", "post_metrics", "accounts", "account_snapshots", "quarantine")


def test_every_format_has_a_contract_file() -> None:
    assert set(FILES) == set(FORMATS)
    assert tuple(FORMATS) == FORMAT_NAMES  # the names the command line lists without importing


def counts(wh: Warehouse) -> dict[str, int]:
    return {t: int(scalar(wh, f"SELECT count(*) FROM {t}")) for t in DATA_TABLES}


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_nothing_is_lost_and_a_second_import_adds_nothing(
    warehouse: Warehouse, tmp_path: Path, fmt: str
) -> None:
    path = FILES[fmt]
    assert detect(path) == fmt
    summary = load_file(warehouse, path, stager(fmt))
    assert summary.status == "loaded" and summary.records_read > 0
    quarantined = sum(summary.quarantined.values())
    assert scalar(warehouse, "SELECT count(*) FROM quarantine") == quarantined
    assert scalar(warehouse, "SELECT count(*) FROM posts") == summary.posts_new > 0
    if fmt in RECORD_FORMATS:  # every good record's payload is kept, one row each
        kept = scalar(warehouse, "SELECT count(*) FROM raw_records")
        assert kept == summary.records_read - quarantined
    before = counts(warehouse)
    again = load_file(warehouse, path, stager(fmt))
    assert again.status == "skipped" and counts(warehouse) == before
    copy = tmp_path / ("copy_" + path.name)  # the same content in other bytes, same time
    copy.write_bytes(path.read_bytes() + (b"\n" if fmt != "crowdtangle" else b""))
    shutil.copystat(path, copy)
    third = load_file(warehouse, copy, stager(fmt))
    assert third.posts_new == 0 and third.snapshots_new == 0
    assert counts(warehouse)["posts"] == before["posts"]


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_a_gzip_file_and_a_folder_load_exactly_what_the_plain_file_loads(
    tmp_path: Path, fmt: str
) -> None:
    path = tmp_path / "plain" / FILES[fmt].name
    path.parent.mkdir()
    shutil.copy2(FILES[fmt], path)
    packed = tmp_path / "packed" / (path.name + ".gz")
    packed.parent.mkdir()
    packed.write_bytes(gzip.compress(path.read_bytes()))
    shutil.copystat(path, packed)  # the same modification time: the same captured_at
    found = []
    for source in (path.parent, packed):
        with Warehouse.open(tmp_path / f"{source.name}.duckdb", create=True) as wh:
            report = import_paths(wh, [source])
            assert report.failures == []
            found.append(counts(wh))
    assert found[0] == found[1] and found[0]["posts"] > 0


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_a_file_of_another_format_is_refused_and_nothing_loads(
    warehouse: Warehouse, fmt: str
) -> None:
    for other, path in FILES.items():
        if other == fmt:
            continue
        with pytest.raises(InputError) as refused:
            load_file(warehouse, path, stager(fmt))
        assert path.name in str(refused.value)
        assert counts(warehouse) == dict.fromkeys(DATA_TABLES, 0)


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_every_post_says_whether_it_replies_to_another_account_when_its_format_can_tell(
    warehouse: Warehouse, fmt: str
) -> None:
    """Every format that can tell says it for every post (docs/formats.md, "Replies"); the
    generic format says it in its optional column, and is NULL (not known) without one."""
    path = FILES[fmt]
    load_file(warehouse, path, stager(fmt))
    unknown = scalar(warehouse, "SELECT count(*) FROM posts WHERE is_reply_to_other IS NULL")
    if fmt == "generic":
        has_column = "is_reply_to_other" in path.read_text(encoding="utf-8").split("\n", 1)[0]
        expected = 0 if has_column else scalar(warehouse, "SELECT count(*) FROM posts")
        assert unknown == expected
    else:
        assert unknown == 0


# Content each JSON format's own reader refuses, and what its message says.
REFUSED = {
    "facebook-graph": [
        (b"", "empty"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"platform,post_id\nfacebook,1\n", "not JSON"),
        (b'{"data": [{"id": "1", "created_at": "2021-01-01"}]}', "no Facebook post"),
    ],
    "instagram-graph": [
        (b"  \n", "empty"),
        (b"\xc3\x28", "not UTF-8"),
        (b'{"data": [{"id": "1"', "the JSON ends early"),
        (b'{"kind": "youtube#videoListResponse", "items": []}', "no Instagram media"),
    ],
    "youtube": [
        (b"", "is empty"),
        (b"\xff\xfe{}", "is not UTF-8"),
        (b"[1, 2]\nnot json", "no YouTube Data API response"),
        (b"\x00\x01 binary", "holds no readable JSON"),
        (b'{"data": [{"id": "1"}]}', "no YouTube Data API response"),
    ],
    "tiktok-research": [
        (b"", "is empty"),
        (b"\xff\xfe{}", "is not UTF-8"),
        (b"[1, 2]\nnot json", "holds no TikTok Research API response"),
        (b'{"data": [{"id": "1"}]}', "holds no TikTok Research API response"),
    ],
}


@pytest.mark.parametrize(
    ("fmt", "content", "message"),
    [(fmt, content, message) for fmt, cases in REFUSED.items() for content, message in cases],
)
def test_content_that_is_no_data_of_the_format_is_refused_saying_why(
    tmp_path: Path, fmt: str, content: bytes, message: str
) -> None:
    """The format's own reader (not the sniffing in front of it) refuses the file."""
    path = tmp_path / "f.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        FORMATS[fmt].stage(path, ImportOptions(captured_at=CAPTURED))
