"""Evidence flags: implausible counts are flagged severe (never nominated unseen), counts near
2^63 never overflow on either engine, and flags carry a severity."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import post_row, write_csv
from govsocial.awards.engine import run_awards
from govsocial.awards.methodology import load_methodology
from govsocial.compute.backend import ENGINES, open_backend
from govsocial.demo import load_world
from govsocial.metrics.cube import compute_cube
from govsocial.metrics.evidence import AccountFlag, account_flags
from govsocial.metrics.facts import (
    INTERACTIONS_PER_FOLLOWER,
    MAX_INTERACTIONS,
    MAX_VIEWS,
    VIEWS_PER_FOLLOWER,
    implausible,
)
from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, apply_registry, load_file
from govsocial.synth import generate

BIG = 2**63 - 1  # the largest BIGINT a file can give
FIRST = datetime(2025, 1, 2, 10, tzinfo=UTC)


# -- the per-post rule, property-based ----------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(sorted(INTERACTIONS_PER_FOLLOWER)),
            st.none() | st.floats(0, 4 * float(BIG)),
            st.none() | st.floats(0, float(BIG)),
            st.none() | st.integers(1, 10**10),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_a_post_is_implausible_exactly_when_its_counts_exceed_the_bounds(
    rows: list[tuple[str, float | None, float | None, int | None]],
) -> None:
    con = ibis.duckdb.connect()
    names = ("platform", "interactions", "views", "audience")
    types = (pa.string(), pa.float64(), pa.float64(), pa.int64())
    t = ibis.memtable(
        pa.table(
            {
                n: pa.array([r[i] for r in rows], ty)
                for i, (n, ty) in enumerate(zip(names, types, strict=True))
            }
        )
    )
    got = con.to_pyarrow(
        t.select(flag=implausible(t.platform, t.interactions, t.views, t.audience))
    )
    for (platform, inter, seen, audience), flag in zip(
        rows, got.column("flag").to_pylist(), strict=True
    ):
        expected = bool(
            (inter is not None and inter > MAX_INTERACTIONS)
            or (seen is not None and seen > MAX_VIEWS)
            or (
                audience is not None
                and (
                    (inter is not None and inter > INTERACTIONS_PER_FOLLOWER[platform] * audience)
                    or (seen is not None and seen > VIEWS_PER_FOLLOWER * audience)
                )
            )
        )
        assert flag is expected


# -- the attack of rule 4: 10^12 likes on a 10,000-follower account ---------------------------
@pytest.fixture(scope="module")
def forged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The synthetic world (viral posts up to 200× the usual, bought likes up to 20×), and one
    Instagram account of about 10,000 followers with one post of 10^12 likes."""
    folder = tmp_path_factory.mktemp("forged")
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        load_world(wh, generate(folder / "files", seed=5, posts=15_000))
        account = wh.con.execute("""
            SELECT s.account_id FROM account_snapshots_latest s
            JOIN accounts a USING (account_id) JOIN posts p USING (account_id)
            WHERE a.platform = 'instagram' AND NOT p.is_repost
              AND p.posted_at >= TIMESTAMPTZ '2024-09-01 00:00:00+00'
            GROUP BY s.account_id, s.followers HAVING count(*) >= 10
            ORDER BY abs(s.followers - 10000), s.account_id LIMIT 1""").fetchone()
        assert account is not None
        wh.con.execute(
            """UPDATE post_metrics SET likes = 1000000000000 WHERE post_id = (
                   SELECT min(post_id) FROM posts WHERE account_id = ? AND NOT is_repost
                   AND posted_at >= TIMESTAMPTZ '2024-09-01 00:00:00+00')""",
            [account[0]],
        )
    return folder / "w.duckdb", int(account[0])


def severe(flags: dict[int, list[AccountFlag]]) -> dict[int, list[AccountFlag]]:
    found = {a: [f for f in fs if f["severity"] == "severe"] for a, fs in flags.items()}
    return {a: fs for a, fs in found.items() if fs}


def test_a_forged_count_is_a_severe_flag_and_real_virality_is_not(
    forged: tuple[Path, int],
) -> None:
    path, account = forged
    with Warehouse.open(path, read_only=True) as wh, open_backend(wh) as backend:
        flags = account_flags(compute_cube(backend, load_methodology("gsm2025")))
    assert list(severe(flags)) == [account]  # no other account of the world: no false alarm
    [flag] = severe(flags)[account]
    assert flag["flag"] == "implausible_counts"
    assert flag["detail"].startswith("1 of its ")
    assert " posts has counts no audience of its size explains" in flag["detail"]
    assert "followers at posting (held for review above 100× on instagram)" in flag["detail"]
    assert all(set(f) == {"flag", "severity", "detail"} for fs in flags.values() for f in fs)
    assert {f["severity"] for fs in flags.values() for f in fs} == {"severe", "info"}


# -- counts near 2^63 on both engines ---------------------------------------------------------
REGISTRY = """\
institutions:
  - {id: a, name: Kota A, cluster: pemda, sub_cluster: kota,
     accounts: [{platform: instagram, handle: kota_a, platform_id: "1"},
                {platform: x, handle: kota_a_x, platform_id: "2"}]}
  - {id: b, name: Kota B, cluster: pemda, sub_cluster: kota,
     accounts: [{platform: instagram, handle: kota_b, platform_id: "3"},
                {platform: x, handle: kota_b_x, platform_id: "4"}]}
  - {id: c, name: Kota C, cluster: pemda, sub_cluster: kota,
     accounts: [{platform: instagram, handle: kota_c, platform_id: "5"}]}
"""

METHODOLOGY = """\
id = "huge"
edition = "Huge counts"
version = "1"
title = { id = "Uji", en = "Test" }
period = { start = 2025-01-01, end = 2025-04-01 }
platforms = ["instagram", "x"]
clusters = ["pemda"]

[[categories]]
id = "engaging"
title = { id = "Engaging", en = "Engaging" }
description = { id = "-", en = "-" }
unit = "account"
nominees = 3
components = [{ metric = "engagement_rate", weight = 1.0 }]

[[categories]]
id = "loud"
title = { id = "Ramai", en = "Loud" }
description = { id = "-", en = "-" }
unit = "institution"
nominees = 3
components = [{ metric = "interactions_per_post", weight = 1.0 }]
"""


ACCOUNTS = ((1, "instagram"), (2, "x"), (3, "instagram"), (4, "x"), (5, "instagram"))


@pytest.fixture
def huge(tmp_path: Path) -> Path:
    """Five accounts, twelve weekly posts each; account 1's every count is 2^63 - 1 (a sum of
    two of them overflowed BIGINT), account 3's likes 9 × 10^18 on every post (their sum over
    the posts overflowed)."""
    with Warehouse.open(tmp_path / "huge.duckdb", create=True) as wh:
        (tmp_path / "r.yaml").write_text(REGISTRY, encoding="utf-8")
        apply_registry(wh, read_registry(tmp_path / "r.yaml"), tmp_path / "r.yaml")
        snaps = [
            {"platform": p, "account_platform_id": str(n), "captured_at": "2025-02-01T00:00:00Z",
             "followers": str(1000 * n)}
            for n, p in ACCOUNTS
        ]  # fmt: skip
        header = ["platform", "account_platform_id", "captured_at", "followers"]
        load_file(wh, write_csv(tmp_path / "s.csv", snaps, header), stage)
        posts = []
        for n, platform in ACCOUNTS:
            for week in range(12):
                counts: dict[str, Any] = {"likes": 50 + n, "comments": 5, "shares": 1, "quotes": 0}
                if n == 1:
                    counts = {k: BIG for k in counts} | {"saves": BIG, "views": BIG}
                if n == 3:
                    counts["likes"] = 9 * 10**18
                posts.append(
                    post_row(
                        platform=platform,
                        account_platform_id=str(n),
                        post_id=f"p{n}-{week}",
                        posted_at=(FIRST + timedelta(weeks=week)).isoformat(),
                        captured_at="2025-04-05T00:00:00Z",
                        media_type="video",
                        **counts,
                    )
                )
        summary = load_file(wh, write_csv(tmp_path / "p.csv", posts), stage)
        assert summary.quarantined_total == 0
    (tmp_path / "huge.toml").write_text(METHODOLOGY, encoding="utf-8")
    return tmp_path


def test_counts_near_2_63_never_overflow_on_duckdb_or_spark(huge: Path) -> None:
    m = load_methodology(huge / "huge.toml")
    cubes: dict[str, pa.Table] = {}
    documents: dict[str, str] = {}
    with Warehouse.open(huge / "huge.duckdb", read_only=True) as wh:
        for engine in ENGINES:
            with open_backend(wh, engine) as backend:
                cubes[engine] = compute_cube(backend, m)
            documents[engine] = run_awards(wh, m, engine).text
    duck, spark = (cubes[e].to_pylist() for e in ENGINES)
    assert len(duck) == len(spark) > 0
    for a, b in zip(duck, spark, strict=True):
        for name, value in a.items():
            other = b[name]
            if isinstance(value, float) and not (math.isnan(value) and math.isnan(other)):
                assert value == pytest.approx(other, rel=1e-12), name
            elif not isinstance(value, float):
                assert value == other, name
    total = {r["account_id"]: 0.0 for r in duck}
    for r in duck:
        total[r["account_id"]] += r["interactions"]
    with Warehouse.open(huge / "huge.duckdb", read_only=True) as wh:
        ids = dict(
            wh.con.execute("SELECT platform_account_id, account_id FROM accounts").fetchall()
        )
    assert total[ids["1"]] == 12 * 3 * float(BIG)  # likes + comments + saves, all 2^63 - 1
    assert total[ids["3"]] == 12 * (9e18 + 5)
    assert set(severe(account_flags(cubes["duckdb"]))) == {ids["1"], ids["3"]}
    assert documents["duckdb"] == documents["spark"]  # the run completes, byte for byte alike
