"""Collaboration facts and metrics (metrics/facts.py ``collaboration``): @mentions of another
registered institution's accounts and hashtags shared with another registered institution,
on a warehouse built for them; the unit metrics; the cube cache when a later week makes an
earlier tag shared; DuckDB and Spark alike."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from conftest import post_row, write_csv
from govsocial.awards.methodology import Methodology, load_methodology
from govsocial.awards.units import build_units, cube_columns, follower_bounds
from govsocial.compute.backend import open_backend
from govsocial.metrics.catalogue import METRICS
from govsocial.metrics.cube import (
    COLLABORATION_SUMS,
    cached_cube,
    compute_cube,
    follower_snapshots,
)
from govsocial.metrics.facts import collaboration, post_facts
from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, apply_registry, known_clusters, load_file
from govsocial.store.cubecache import CubeCache, save_cube_cache

REGISTRY = """\
institutions:
  - id: jabarprov
    name: Pemerintah Provinsi Jawa Barat
    cluster: pemda
    sub_cluster: provinsi
    accounts:
      - {platform: instagram, handle: "@JabarProvGov", platform_id: "1001"}
      - {platform: instagram, handle: jabarsaberhoaks, platform_id: "1002"}
  - id: kemenkes
    name: Kementerian Kesehatan
    cluster: kementerian
    accounts:
      - {platform: instagram, handle: Kemenkes_RI, platform_id: "2001"}
      - {platform: youtube, handle: kemenkesri, platform_id: "UC123"}
  - id: jatimprov
    name: Pemerintah Provinsi Jawa Timur
    cluster: pemda
    sub_cluster: provinsi
    accounts:
      - {platform: instagram, handle: jatimpemprov, platform_id: "3001"}
"""

METHODOLOGY = """\
id = "collab"
edition = "Collaboration test"
version = "1"
title = { id = "Uji", en = "Test" }
period = { start = 2025-01-01, end = 2025-06-01 }
platforms = ["instagram", "youtube"]
clusters = ["pemda", "kementerian"]
accounts = "pooled"

[[categories]]
id = "accounts"
title = { id = "Akun", en = "Accounts" }
description = { id = "-", en = "-" }
unit = "account"
eligibility = { min_posts = 1 }
components = [
  { metric = "collaboration_mention_share", weight = 1.0 },
  { metric = "shared_hashtag_share", weight = 1.0 },
]

[[categories]]
id = "institutions"
title = { id = "Institusi", en = "Institutions" }
description = { id = "-", en = "-" }
unit = "institution"
eligibility = { min_posts = 1 }
components = [{ metric = "collaboration_mention_share", weight = 1.0 }]
"""

# post id: (account's platform id, week of the period, text, repost, reply to another account)
POSTS: dict[str, tuple[str, int, str, bool, bool]] = {
    # Jabar and Kemenkes mention each other, with a campaign tag both use.
    "j1": ("1001", 0, "Bersama @Kemenkes_RI cegah stunting #CegahStunting", False, False),
    "k1": ("2001", 1, "Terima kasih @jabarprovgov #CegahStunting", False, False),
    # Jabar mentions its own second account, with a tag only Jabar's accounts use.
    "j2": ("1001", 0, "Cek fakta bersama @jabarsaberhoaks #JabarJuara", False, False),
    "j3": ("1002", 1, "Lawan hoaks #JabarJuara", False, False),
    # Kemenkes mentions itself; a tag only Kemenkes uses (a repost by Jatim does not count).
    "k2": ("2001", 2, "Info dari @kemenkes_ri #SehatIndonesia", False, False),
    "t1": ("3001", 3, "RT #SehatIndonesia", True, False),
    # Kemenkes's YouTube handle mentioned on Instagram, and an unregistered account.
    "t2": ("3001", 3, "Ayo cek @kemenkesri dan @warga123 #JatimBangkit", False, False),
    # Jatim takes up the campaign later in the period.
    "t3": ("3001", 10, "#CegahStunting di Jawa Timur", False, False),
    # A reply: no post fact, and no use of #JabarJuara by Jatim.
    "t4": ("3001", 4, "@jabarprovgov setuju #JabarJuara", False, True),
}

# post id: (mentions_other, shared_hashtag)
EXPECTED = {
    "j1": (True, True),
    "k1": (True, True),
    "j2": (False, False),
    "j3": (False, False),
    "k2": (False, False),
    "t1": (False, True),  # a repost's own flag: Kemenkes's tag (reposts count in no category)
    "t2": (False, False),
    "t3": (False, True),
}


def rows(posts: dict[str, tuple[str, int, str, bool, bool]]) -> list[dict[str, Any]]:
    """The posts as generic rows: each on the Thursday of its week of the period."""
    thursday = datetime(2025, 1, 2, 9, tzinfo=timezone(timedelta(hours=7)))
    return [
        post_row(
            platform="youtube" if account.startswith("UC") else "instagram",
            account_platform_id=account,
            post_id=post_id,
            posted_at=(thursday + timedelta(weeks=week)).isoformat(),
            captured_at="2025-06-02T09:00:00+07:00",
            text=text,
            is_repost=str(repost).lower(),
            is_reply_to_other=str(reply).lower(),
        )
        for post_id, (account, week, text, repost, reply) in posts.items()
    ]


def load(wh: Warehouse, folder: Path, name: str, posts: dict[str, Any]) -> None:
    load_file(wh, write_csv(folder / f"{name}.csv", rows(posts)), lambda p: stage(p))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Warehouse, Methodology]]:
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY, encoding="utf-8")
    (tmp_path / "collab.toml").write_text(METHODOLOGY, encoding="utf-8")
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        apply_registry(wh, read_registry(registry, known_clusters(wh)), registry)
        load(wh, tmp_path, "posts", POSTS)
        yield wh, load_methodology(tmp_path / "collab.toml")


def flags(wh: Warehouse, m: Methodology, engine: str = "duckdb") -> dict[str, tuple[bool, bool]]:
    with open_backend(wh, engine) as backend:
        facts = collaboration(backend, m, post_facts(backend, m))
        table = backend.to_arrow(
            facts.select("platform_post_id", "mentions_other", "shared_hashtag")
        )
    return {
        r["platform_post_id"]: (r["mentions_other"], r["shared_hashtag"]) for r in table.to_pylist()
    }


def test_the_warehouse_holds_what_the_facts_read(world: tuple[Warehouse, Methodology]) -> None:
    wh, _ = world
    sql = "SELECT platform_account_id, handle_key FROM accounts"
    handles = dict(wh.con.execute(sql).fetchall())
    assert handles["1001"] == "jabarprovgov" and handles["2001"] == "kemenkes_ri"
    j1 = wh.con.execute("SELECT mentions, hashtags FROM posts WHERE platform_post_id = 'j1'")
    assert j1.fetchone() == (["kemenkes_ri"], ["cegahstunting"])


def test_mentions_and_shared_hashtags_count_other_institutions_only(
    world: tuple[Warehouse, Methodology],
) -> None:
    wh, m = world
    assert flags(wh, m) == EXPECTED  # t4, a reply, is no post fact at all


def test_unit_metrics_are_shares_of_the_units_original_posts(
    world: tuple[Warehouse, Methodology],
) -> None:
    wh, m = world
    assert {"collaboration_mention_share", "shared_hashtag_share"} <= set(METRICS)
    assert all(METRICS[n].unit == "both" for n in METRICS if "shar" in n and "theme" not in n)
    with open_backend(wh) as backend:
        columns = cube_columns(compute_cube(backend, m))
        followers = follower_bounds(follower_snapshots(backend, m), m)
    accounts, institutions = m.categories
    units = build_units(columns, followers, m, accounts, None)
    handle = dict(wh.con.execute("SELECT account_id, platform_account_id FROM accounts").fetchall())
    values = {
        handle[int(u)]: (mention, shared)
        for u, mention, shared in zip(
            units.unit,
            units.columns["collaboration_mention_share"],
            units.columns["shared_hashtag_share"],
            strict=True,
        )
    }
    # 1001: j1 of j1, j2; 1002: none of j3; 2001: k1 of k1, k2; 3001: t3 of t2, t3 (t1 is a
    # repost, t4 a reply: neither counts).
    assert values == {
        "1001": (0.5, 0.5),
        "1002": (0.0, 0.0),
        "2001": (0.5, 0.5),
        "3001": (0.0, 0.5),
    }
    pooled = build_units(columns, followers, m, institutions, None)
    shares = dict(zip(pooled.unit, pooled.columns["collaboration_mention_share"], strict=True))
    assert shares["jabarprov"] == pytest.approx(1 / 3)  # j1 of j1, j2, j3
    assert shares == {"jabarprov": shares["jabarprov"], "kemenkes": 0.5, "jatimprov": 0.0}


def test_a_tag_taken_up_later_makes_earlier_weeks_shared_in_the_cached_cube(
    world: tuple[Warehouse, Methodology], tmp_path: Path
) -> None:
    """A post's shared_hashtag reads the whole period: when Kemenkes takes up #JabarJuara in
    week 12, Jabar's posts of weeks 0 and 1 become shared, and the cube cache recomputes
    those weeks (and the new post's) even though none of their own posts changed."""
    wh, m = world
    with open_backend(wh) as backend:
        first = cached_cube(backend, m, (), CubeCache(wh))
    assert first.update is not None
    save_cube_cache(wh, first.update)
    load(wh, tmp_path, "later", {"k9": ("2001", 12, "Dukung #JabarJuara", False, False)})
    with open_backend(wh) as backend:
        full = compute_cube(backend, m)
        again = cached_cube(backend, m, (), CubeCache(wh))
    assert again.computed == (0, 1, 12)
    assert again.table.equals(full)
    assert flags(wh, m)["j2"] == (False, True) and flags(wh, m)["j3"] == (False, True)
    assert sum(full.column("n_shared_hashtag").to_pylist()) == 7  # j1 k1 j2 j3 t3 k9, t1


def test_duckdb_and_spark_give_the_same_facts_and_cube(
    world: tuple[Warehouse, Methodology],
) -> None:
    wh, m = world
    cubes: dict[str, pa.Table] = {}
    for engine in ("duckdb", "spark"):
        with open_backend(wh, engine) as backend:
            cubes[engine] = compute_cube(backend, m)
    assert cubes["duckdb"].num_rows == cubes["spark"].num_rows > 0
    for a, b in zip(cubes["duckdb"].to_pylist(), cubes["spark"].to_pylist(), strict=True):
        for name, value in a.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(b[name]), name
            else:
                assert value == b[name], name
    assert sum(cubes["spark"].column("n_mentions_other").to_pylist()) == 2
    assert flags(wh, m, "spark") == EXPECTED
    assert sum(cubes["spark"].column("n_shared_hashtag").to_pylist()) == 4  # j1 k1 t3, t1


def test_a_cube_without_collaborations_has_null_sums_and_a_cache_scope_of_its_own(
    world: tuple[Warehouse, Methodology],
) -> None:
    """A methodology with no collaboration metric skips their work: the sums are NULL (not
    0, which would be a measured "no collaboration"), everything else is the same cube, and
    its cached weeks are never given to a pass that counts them."""
    wh, m = world
    with open_backend(wh) as backend:
        full = compute_cube(backend, m)
        bare = compute_cube(backend, m, collaborations=False)
        first = cached_cube(backend, m, (), CubeCache(wh), collaborations=False)
    assert bare.schema == full.schema
    for name in full.column_names:
        if name in COLLABORATION_SUMS:
            assert bare.column(name).null_count == bare.num_rows, name
        else:
            assert bare.column(name).equals(full.column(name)), name
    assert first.update is not None and first.table.equals(bare)
    save_cube_cache(wh, first.update)
    with open_backend(wh) as backend:
        counted = cached_cube(backend, m, (), CubeCache(wh))
        again = cached_cube(backend, m, (), CubeCache(wh), collaborations=False)
    assert counted.computed == first.computed  # every week: nothing of the other scope reused
    assert counted.table.equals(full)
    assert again.computed == ()  # its own scope is still kept
