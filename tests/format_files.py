"""One real file per import format, each staging posts and, where the format carries them,
follower counts: the files every format-wide contract test runs on; and the property every
reader of API responses keeps, whatever a file holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scalar
from govsocial.store import Warehouse
from govsocial.store.ingest import ImportSummary

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATES = Path(__file__).parents[1] / "docs" / "templates"
FILES = {
    "generic": TEMPLATES / "generic_posts.csv",
    "crowdtangle": FIXTURES / "crowdtangle" / "facebook_wib.csv",
    "x-v2": FIXTURES / "x" / "noflat.jsonl",
    "facebook-graph": FIXTURES / "facebook" / "page_with_feed.json",
    "instagram-graph": FIXTURES / "instagram" / "business_discovery.json",
    "youtube": FIXTURES / "youtube" / "videos_info.json",
    "tiktok-research": FIXTURES / "tiktok" / "api_response.json",
}
# Formats that keep every good record's payload in raw_records (tabular files keep their bytes).
RECORD_FORMATS = ("x-v2", "facebook-graph", "instagram-graph", "youtube", "tiktok-research")


def check_any_content_loads_or_is_quarantined(
    folder: Path,
    first: str,
    line: st.SearchStrategy[str],
    load: Callable[[Warehouse, Path], ImportSummary],
) -> None:
    """Property: whatever lines follow ``first`` (one good response) and wherever the file is
    cut, the file never makes the reader raise, and
    :func:`assert_each_record_kept_or_quarantined` holds."""
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:  # one warehouse: fast

        @settings(max_examples=40, deadline=None)
        @given(lines=st.lists(line, max_size=5), cut=st.integers(min_value=0, max_value=400))
        def check(lines: list[str], cut: int) -> None:
            text = "\n".join([first, *lines])
            path = folder / "pages.jsonl"
            path.write_text(text[: len(first) + 1 + cut] if cut < 400 else text, "utf-8")
            summary = load(wh, path)
            if summary.status != "skipped":  # else the same bytes as an earlier example
                assert_each_record_kept_or_quarantined(wh, summary)
                assert summary.records_read >= 1

        check()


def assert_each_record_kept_or_quarantined(wh: Warehouse, summary: ImportSummary) -> None:
    """Every record the import read is kept (``raw_records``) or quarantined, now or by an
    earlier file (a rejected record that arrives again is counted, not kept twice), each
    quarantined one with its detail and payload."""
    batch = f"WHERE batch_id = {summary.batch_id}"
    loaded = scalar(wh, f"SELECT count(*) FROM raw_records {batch}")
    quarantined = scalar(wh, f"SELECT count(*) FROM quarantine {batch}")
    assert quarantined + summary.quarantined_before == summary.quarantined_total
    assert loaded + summary.quarantined_total == summary.records_read
    missing = f"SELECT count(*) FROM quarantine {batch} AND (detail IS NULL OR payload IS NULL)"
    assert scalar(wh, missing) == 0
