"""The contract for readers that parse records themselves: an Arrow table → the loader."""

import json
from pathlib import Path

import pyarrow as pa

from conftest import scalar
from govsocial.sources.staging import staged_from_arrow
from govsocial.store import Warehouse, load_file


def test_arrow_records_load_and_bad_ones_are_quarantined(
    registered: Warehouse, tmp_path: Path
) -> None:
    good = {"id": "t1", "public_metrics": {"like_count": 5}}
    table = pa.table(
        {
            "_row": pa.array([1, 2, 3], pa.int64()),
            "_reason": pa.array([None, "bad_json", None], pa.string()),
            "_detail": pa.array([None, "line 2 is not JSON (truncated?)", None], pa.string()),
            "_payload": [
                json.dumps(good),
                json.dumps('{"id": "t2", "tex'),
                json.dumps({"id": "t3"}),
            ],
            "platform": ["x", None, "x"],
            "account_handle": ["JabarProvGov", None, "JabarProvGov"],
            "post_id": ["t1", None, "t3"],
            "posted_at": pa.array(
                [1_740_000_000_000_000, None, 1_740_000_000_000_000], pa.timestamp("us", tz="UTC")
            ),
            "captured_at": pa.array(
                [1_740_100_000_000_000, None, 1_730_000_000_000_000], pa.timestamp("us", tz="UTC")
            ),
            "media_type": ["text", None, "text"],
            "likes": pa.array([5, None, 1], pa.int64()),
        }
    )
    path = tmp_path / "tweets.jsonl"
    path.write_text("(the reader already parsed it)\n")
    staged = staged_from_arrow(
        table, kind="posts", source_format="x-v2", origin_label=f"{path.name}, line "
    )
    summary = load_file(registered, path, lambda _: staged)
    assert (summary.posts_new, summary.quarantined) == (
        1,
        {"bad_json": 1, "captured_before_posted": 1},
    )
    assert scalar(registered, "SELECT payload->>'$.id' FROM raw_records") == "t1"
    assert scalar(registered, "SELECT origin FROM quarantine WHERE reason = 'bad_json'") == (
        "tweets.jsonl, line 2"
    )
