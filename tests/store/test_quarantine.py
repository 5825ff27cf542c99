"""Listing and showing quarantined records: unknown batches, reasons and records are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import post_row, write_csv
from govsocial.errors import NotFoundError
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file
from govsocial.store.quarantine import (
    count_quarantine,
    get_quarantined,
    known_reasons,
    list_quarantine,
    require_institution,
)


@pytest.fixture
def quarantined(registered: Warehouse, tmp_path: Path) -> Warehouse:
    """Batch 2 (after the registry's batch 1) quarantines three records of two reasons."""
    rows = [
        post_row(post_id="p1"),
        post_row(post_id="p2", likes="-1"),
        post_row(post_id="p3", likes="-2"),
        post_row(post_id="p4", platform="myspace"),
    ]
    load_file(registered, write_csv(tmp_path / "posts.csv", rows), lambda p: stage(p))
    return registered


def test_filters_and_counts_say_how_many_there_are_in_all(quarantined: Warehouse) -> None:
    assert known_reasons(quarantined) == [("negative_count", 2), ("unknown_platform", 1)]
    assert count_quarantine(quarantined) == 3
    assert count_quarantine(quarantined, reason="negative_count") == 2
    batch = list_quarantine(quarantined)[0].batch_id
    shown = list_quarantine(quarantined, batch=batch, reason="negative_count", limit=1)
    assert [(r.reason, r.record_index) for r in shown] == [("negative_count", 2)]
    assert count_quarantine(quarantined, batch=batch, reason="negative_count") == 2  # "1 of 2"


def test_an_unknown_reason_is_named_with_the_reasons_there_are(quarantined: Warehouse) -> None:
    with pytest.raises(
        NotFoundError,
        match=r"for the reason 'nosuch'\. The reasons in it: negative_count \(2\), "
        r"unknown_platform \(1\)\.",
    ):
        list_quarantine(quarantined, reason="nosuch")
    with pytest.raises(NotFoundError, match="reason 'nosuch'"):
        count_quarantine(quarantined, reason="nosuch")


def test_an_unknown_reason_in_a_warehouse_without_quarantine(warehouse: Warehouse) -> None:
    with pytest.raises(NotFoundError, match="No record has been quarantined in it"):
        list_quarantine(warehouse, reason="bad_value")
    assert list_quarantine(warehouse) == []


def test_an_unknown_batch_or_record_is_not_found(quarantined: Warehouse) -> None:
    batch = list_quarantine(quarantined)[0].batch_id
    with pytest.raises(NotFoundError, match=rf"No import batch 99 in .* numbered 1 to {batch}"):
        list_quarantine(quarantined, batch=99)
    with pytest.raises(NotFoundError, match="No import batch 99"):
        get_quarantined(quarantined, 99, 1)
    with pytest.raises(
        NotFoundError,
        match=rf"No quarantined record {batch}:1 in .*batch {batch} quarantined 3 records, not "
        rf"record 1.*--batch {batch}",
    ):
        get_quarantined(quarantined, batch, 1)  # record 1 (p1) was loaded
    [shown] = get_quarantined(quarantined, batch, 4)
    assert shown.reason == "unknown_platform"


def test_an_unknown_institution_for_assign_to_is_not_found(registered: Warehouse) -> None:
    with pytest.raises(NotFoundError, match="--assign-to: no institution 'jabarprv'.*jabarprov"):
        require_institution(registered, "jabarprv")
