"""The synthetic world: shape, schema and the statistical properties later stages rely on."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from govsocial.synth import SynthResult, generate
from govsocial.vocabulary import COUNT_COLUMNS

POSTS = 40_000
TS = pa.timestamp("us", tz="UTC")
POST_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("account_platform_id", pa.string()),
        ("account_handle", pa.string()),
        ("post_id", pa.string()),
        ("posted_at", TS),
        ("captured_at", TS),
        ("media_type", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("is_repost", pa.bool_()),
        ("video_duration_s", pa.float64()),
    ]
    + [(c, pa.int64()) for c in COUNT_COLUMNS]
)
SNAPSHOT_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("account_platform_id", pa.string()),
        ("account_handle", pa.string()),
        ("captured_at", TS),
        ("followers", pa.int64()),
        ("following", pa.int64()),
        ("posts_count", pa.int64()),
    ]
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthResult, list[int]]:
    progress: list[int] = []
    result = generate(tmp_path_factory.mktemp("synth"), posts=POSTS, on_progress=progress.append)
    return result, progress


@pytest.fixture(scope="module")
def db(world: tuple[SynthResult, list[int]]) -> duckdb.DuckDBPyConnection:
    result = world[0]
    con = duckdb.connect()
    files = ", ".join(f"'{p}'" for p in result.post_files)
    con.execute(f"CREATE VIEW obs AS SELECT * FROM read_parquet([{files}])")
    con.execute(f"CREATE VIEW snaps AS SELECT * FROM '{result.account_snapshot_files[0]}'")
    # the latest observation of each post, with followers at the end of the period
    con.execute("""CREATE TABLE posts AS SELECT * FROM obs QUALIFY row_number() OVER
                   (PARTITION BY platform, post_id ORDER BY captured_at DESC) = 1""")
    con.execute("""CREATE TABLE eng AS SELECT p.*, f.followers,
                   coalesce(likes, 0) + coalesce(comments, 0) + coalesce(shares, 0) AS inter
                   FROM posts p JOIN (SELECT account_platform_id, max(followers) AS followers
                   FROM snaps GROUP BY 1) f USING (account_platform_id) WHERE NOT is_repost""")
    return con


@pytest.fixture(scope="module")
def registry(world: tuple[SynthResult, list[int]]) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(world[0].registry_path.read_text("utf-8"))
    return doc


@pytest.fixture(scope="module")
def truth(world: tuple[SynthResult, list[int]]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(world[0].truth_path.read_text("utf-8"))
    return doc


def one(db: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = db.execute(sql).fetchone()
    assert row is not None
    return row[0] if len(row) == 1 else row


def test_result_describes_the_files(world: tuple[SynthResult, list[int]]) -> None:
    result, progress = world
    assert result.institutions == 211
    assert 950 <= result.accounts <= 1100
    assert abs(result.posts - POSTS) <= POSTS // 100
    assert sum(progress) == result.posts and all(n > 0 for n in progress)
    assert result.period_start == datetime(2024, 7, 31, 17, tzinfo=UTC)
    assert result.period_end - result.period_start == timedelta(days=365)
    assert result.period_end.utcoffset() == timedelta(0)
    assert [p.name for p in result.post_files] == ["posts-0000.parquet"]
    for path in (result.registry_path, result.truth_path, *result.account_snapshot_files):
        assert path.is_file()


def test_registry_institutions_and_clusters(registry: dict[str, Any]) -> None:
    assert registry["synthetic"] is True
    assert [c["id"] for c in registry["clusters"]] == [
        "kementerian",
        "lembaga",
        "pemda",
        "perguruan_tinggi",
    ]
    insts = registry["institutions"]
    assert len(insts) == 211
    clusters = Counter(i["cluster"] for i in insts)
    assert set(clusters) == {"kementerian", "lembaga", "pemda", "perguruan_tinggi"}
    assert 25 <= clusters["kementerian"] <= 40 and 20 <= clusters["perguruan_tinggi"] <= 35
    subs = Counter(i["sub_cluster"] for i in insts if i["cluster"] == "pemda")
    assert subs["provinsi"] == 38 and subs["kota"] > 20 and subs["kabupaten"] > 20
    assert all(i["sub_cluster"] is None for i in insts if i["cluster"] != "pemda")
    assert all(re.fullmatch(r"syn-[a-z0-9-]+", i["id"]) for i in insts)
    assert len({i["id"] for i in insts}) == 211
    assert not any("sintetis" in i["name"].lower() for i in insts)


def test_registry_accounts(registry: dict[str, Any]) -> None:
    insts = registry["institutions"]
    sizes = sorted(len(i["accounts"]) for i in insts)
    assert sizes[0] >= 1 and 950 <= sum(sizes) <= 1100
    assert 90 <= sizes[-1] <= 110  # the big province with its dinas and badan
    assert sizes[len(sizes) // 2] <= 5  # heavy tail: most institutions run a few accounts
    accounts = [a for i in insts for a in i["accounts"]]
    for key in ("handle", "platform_id"):
        pairs = [(a["platform"], a[key].lower()) for a in accounts]
        assert len(set(pairs)) == len(pairs), f"duplicate {key}"
    assert all(
        a["handle"].startswith("syn_") and a["platform_id"].startswith("syn-") for a in accounts
    )
    platforms = Counter(a["platform"] for a in accounts)
    assert [p for p, _ in platforms.most_common()] == [
        "instagram",
        "facebook",
        "x",
        "youtube",
        "tiktok",
    ]


def test_registry_loads_with_the_project_loader(world: tuple[SynthResult, list[int]]) -> None:
    load = pytest.importorskip("govsocial.registry.load")
    loaded = load.read_registry(world[0].registry_path)
    assert loaded.synthetic and len(loaded.institutions) == 211
    assert loaded.accounts_count == world[0].accounts


def test_files_follow_the_schema(world: tuple[SynthResult, list[int]]) -> None:
    result = world[0]
    for path in result.post_files:
        assert pq.read_schema(path).remove_metadata() == POST_SCHEMA
    snapshots = pq.read_table(result.account_snapshot_files[0])
    assert snapshots.schema.remove_metadata() == SNAPSHOT_SCHEMA


def test_posts_are_unique_and_complete(
    db: duckdb.DuckDBPyConnection, world: tuple[SynthResult, list[int]]
) -> None:
    posts, distinct = one(db, "SELECT count(*), count(DISTINCT (platform, post_id)) FROM posts")
    assert posts == distinct == world[0].posts
    assert one(db, "SELECT count(*) FROM posts WHERE NOT starts_with(post_id, 'syn')") == 0
    assert one(db, "SELECT count(DISTINCT account_platform_id) FROM posts") < world[0].accounts


def test_observations_are_consistent(
    db: duckdb.DuckDBPyConnection, world: tuple[SynthResult, list[int]]
) -> None:
    end = world[0].period_end
    assert one(db, "SELECT count(*) FROM obs WHERE captured_at < posted_at") == 0
    assert (
        one(
            db,
            f"SELECT count(*) FROM obs WHERE captured_at > "
            f"TIMESTAMPTZ '{end.isoformat()}' + INTERVAL 30 DAY",
        )
        == 0
    )
    assert (
        one(
            db,
            f"SELECT count(*) FROM obs WHERE posted_at < "
            f"TIMESTAMPTZ '{world[0].period_start.isoformat()}' "
            f"OR posted_at >= TIMESTAMPTZ '{end.isoformat()}'",
        )
        == 0
    )
    per_post = dict(
        db.execute(
            "SELECT n, count(*) FROM (SELECT count(*) n FROM obs "
            "GROUP BY platform, post_id) GROUP BY n"
        ).fetchall()
    )
    assert set(per_post) == {1, 2, 3}
    counts = COUNT_COLUMNS
    assert one(db, "SELECT count(*) FROM obs WHERE " + " OR ".join(f"{c} < 0" for c in counts)) == 0
    drops = " OR ".join(f"{c} < lag({c}) OVER w" for c in counts)
    assert (
        one(
            db,
            f"""SELECT count(*) FROM (SELECT {drops} AS dropped FROM obs WINDOW w AS
                       (PARTITION BY platform, post_id ORDER BY captured_at)) WHERE dropped""",
        )
        == 0
    )
    grew = one(
        db,
        """SELECT avg((likes > first_likes)::INT) FROM (SELECT likes, first(likes)
                      OVER (PARTITION BY platform, post_id ORDER BY captured_at) AS first_likes,
                      count(*) OVER (PARTITION BY platform, post_id) AS n FROM obs) WHERE n > 1
                      AND likes >= 20""",
    )
    assert grew > 0.5  # counts accrue after the first reading


def test_null_counts_per_platform(db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("""SELECT platform, count(reactions), count(quotes), count(saves),
                         count(shares), count(views) FILTER (media_type IN ('image', 'text')),
                         count(video_duration_s) FILTER (media_type NOT IN ('video', 'reel')),
                         count(*) FROM obs GROUP BY 1""").fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert got["facebook"][0] == got["facebook"][-1] and got["facebook"][1:3] == (0, 0)
    assert got["facebook"][4] == 0 and got["instagram"][4] == 0
    assert got["instagram"][:4] == (0, 0, 0, 0)
    assert got["x"][1] == got["x"][-1] and got["x"][0] == 0
    assert got["tiktok"][2] == got["tiktok"][-1] and got["youtube"][2] == 0
    assert all(g[5] == 0 for g in got.values())
    fb_likes = "SELECT count(*) FROM obs WHERE platform = 'facebook' AND likes > reactions"
    assert one(db, fb_likes) == 0


def test_engagement_rate_falls_as_audiences_grow(db: duckdb.DuckDBPyConnection) -> None:
    for where in ("TRUE", "platform = 'instagram'"):
        low, high = db.execute(f"""SELECT median(rate) FILTER (d = 1), median(rate) FILTER (d = 10)
            FROM (SELECT inter / followers AS rate, ntile(10) OVER (ORDER BY followers) AS d
            FROM eng WHERE {where})""").fetchone() or (0, 0)
        assert high < 0.6 * low, where


def test_media_type_drives_engagement(db: duckdb.DuckDBPyConnection) -> None:
    means = dict(db.execute("SELECT media_type, avg(inter) FROM eng GROUP BY 1").fetchall())
    assert min(means["video"], means["reel"], means["image"]) > 1.5 * means["text"]
    on_x = dict(
        db.execute(
            "SELECT media_type, median(inter / followers) FROM eng WHERE platform = 'x' GROUP BY 1"
        ).fetchall()
    )
    assert on_x["video"] > on_x["image"] > on_x["text"]


def test_media_mix_per_platform(db: duckdb.DuckDBPyConnection) -> None:
    mix: dict[str, set[str]] = {}
    for platform, media in db.execute("SELECT DISTINCT platform, media_type FROM posts").fetchall():
        mix.setdefault(platform, set()).add(media)
    assert mix["youtube"] == {"video", "reel"}
    assert mix["tiktok"] == {"reel", "carousel"}
    assert {"text", "link"} <= mix["x"] and "reel" not in mix["x"]
    assert "text" not in mix["instagram"] and "reel" in mix["instagram"]
    share = one(db, "SELECT avg(is_repost::INT) FROM posts WHERE platform = 'x'")
    assert 0.12 <= share <= 0.28
    assert one(db, "SELECT count(*) FROM posts WHERE is_repost AND platform <> 'x'") == 0
    assert one(db, "SELECT bool_and(starts_with(text, 'RT @syn_')) FROM posts WHERE is_repost")


def test_inflated_accounts_have_bought_likes(
    db: duckdb.DuckDBPyConnection, truth: dict[str, Any], world: tuple[SynthResult, list[int]]
) -> None:
    inflated = truth["inflated_account_platform_ids"]
    assert 0.01 <= len(inflated) / world[0].accounts <= 0.02
    db.execute(
        "CREATE OR REPLACE TEMP TABLE inflated AS SELECT unnest(?::VARCHAR[]) AS id", [inflated]
    )
    ratio = dict(
        db.execute("""SELECT account_platform_id IN (SELECT id FROM inflated),
        median(likes / (comments + 1)) FROM eng GROUP BY 1""").fetchall()
    )
    assert ratio[True] > 3 * ratio[False]


def test_viral_posts(
    db: duckdb.DuckDBPyConnection, truth: dict[str, Any], world: tuple[SynthResult, list[int]]
) -> None:
    viral = truth["viral_post_ids"]
    assert truth["viral_post_count"] == len(viral)
    assert 0.0003 <= len(viral) / world[0].posts <= 0.003
    db.execute("CREATE OR REPLACE TEMP TABLE viral AS SELECT unnest(?::VARCHAR[]) AS id", [viral])
    lift = one(
        db,
        """SELECT median(e.inter / a.typical) FROM eng e JOIN (SELECT
        account_platform_id, median(inter) + 1 AS typical FROM eng GROUP BY 1) a
        USING (account_platform_id) WHERE post_id IN (SELECT id FROM viral)""",
    )
    assert lift > 10


def test_follower_snapshots(
    db: duckdb.DuckDBPyConnection, world: tuple[SynthResult, list[int]]
) -> None:
    per_account = one(
        db,
        "SELECT count(DISTINCT account_platform_id), min(n), max(n) FROM "
        "(SELECT account_platform_id, count(*) n FROM snaps GROUP BY 1)",
    )
    assert per_account == (world[0].accounts, 13, 13)
    lo, hi = one(db, "SELECT min(followers), max(followers) FROM snaps")
    assert 500 <= lo < 2_000 and hi > 2_000_000
    grow, shrink, steady_posts = one(
        db,
        """SELECT avg((f1 > f0)::INT), avg((f1 < f0)::INT),
        bool_and(p1 >= p0) FROM (SELECT arg_min(followers, captured_at) f0,
        arg_max(followers, captured_at) f1, arg_min(posts_count, captured_at) p0,
        arg_max(posts_count, captured_at) p1 FROM snaps GROUP BY account_platform_id)""",
    )
    assert grow > 0.75 and 0.01 < shrink < 0.2 and steady_posts


def test_dormant_and_rhythm(
    db: duckdb.DuckDBPyConnection, world: tuple[SynthResult, list[int]]
) -> None:
    posting = one(db, "SELECT count(DISTINCT account_platform_id) FROM posts")
    silent = 1 - posting / world[0].accounts
    assert 0.02 <= silent <= 0.12
    local = "posted_at AT TIME ZONE 'Asia/Jakarta'"
    weekend, weekday = one(
        db,
        f"""SELECT count(*) FILTER (isodow({local}) >= 6) / 2,
        count(*) FILTER (isodow({local}) < 6) / 5 FROM posts""",
    )
    assert weekend < 0.75 * weekday
    hours = dict(db.execute(f"SELECT hour({local}), count(*) FROM posts GROUP BY 1").fetchall())
    night = sum(hours.get(h, 0) for h in range(6)) / sum(hours.values())
    assert night < 0.05 and max(hours, key=lambda h: hours[h]) in (8, 9, 10, 12, 19, 20)


def test_captions(db: duckdb.DuckDBPyConnection) -> None:
    tagged, mention, link = one(
        db,
        r"""SELECT avg(regexp_matches(text, '#\w+')::INT),
        avg(regexp_matches(text, '@syn_\w+')::INT), avg(regexp_matches(text, 'https://')::INT)
        FROM posts""",
    )
    assert tagged > 0.8 and 0.05 < mention < 0.4 and 0.03 < link < 0.4
    theme = "'#(PerubahanIklim|SDGs|TPB2030|EnergiBersih)'"
    share = one(db, f"SELECT avg(regexp_matches(text, {theme})::INT) FROM posts")
    assert 0.01 < share < 0.25  # a minority of posts
    spread = one(
        db,
        f"""SELECT quantile_cont(s, 0.95) / (median(s) + 1e-9) FROM (SELECT
        avg(regexp_matches(text, {theme})::INT) s FROM posts GROUP BY account_platform_id
        HAVING count(*) >= 30)""",
    )
    assert spread > 4  # some institutions are far more climate/SDG-minded than others
    assert (
        one(
            db,
            "SELECT avg(regexp_matches(text, 'Perubahan iklim|perubahan iklim|SDGs')"
            "::INT) FROM posts",
        )
        > 0.01
    )


def test_post_urls(db: duckdb.DuckDBPyConnection) -> None:
    patterns = {
        "facebook": r"^https://www\.facebook\.com/syn_\w+/(posts|videos|reel)/syn\d{19}$",
        "instagram": r"^https://www\.instagram\.com/(p|reel)/syn[0-9A-Za-z]{8}/$",
        "x": r"^https://x\.com/syn_\w+/status/syn\d{19}$",
        "youtube": r"^https://www\.youtube\.com/(watch\?v=|shorts/)syn[0-9A-Za-z]{8}$",
        "tiktok": r"^https://www\.tiktok\.com/@syn_\w+/(video|photo)/syn\d{19}$",
    }
    for platform, pattern in patterns.items():
        bad = one(
            db,
            f"SELECT count(*) FROM posts WHERE platform = '{platform}' AND NOT "
            f"regexp_matches(url, '{pattern}')",
        )
        assert bad == 0, platform
    assert one(db, "SELECT count(*) FROM posts WHERE NOT contains(url, post_id)") == 0


def test_same_seed_same_world_other_seed_other_world(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", seed=11, posts=3_000)
    again = generate(tmp_path / "b", seed=11, posts=3_000)
    other = generate(tmp_path / "c", seed=12, posts=3_000)
    for x, y in (
        (first.post_files[0], again.post_files[0]),
        (first.account_snapshot_files[0], again.account_snapshot_files[0]),
    ):
        assert pq.read_table(x).equals(pq.read_table(y))
        assert x.read_bytes() == y.read_bytes()
    assert first.registry_path.read_bytes() == again.registry_path.read_bytes()
    assert not pq.read_table(first.post_files[0]).equals(pq.read_table(other.post_files[0]))
    # a smaller request into the same folder leaves no stale post files behind
    fewer = generate(tmp_path / "a", seed=11, posts=100)
    assert sorted(p.name for p in (tmp_path / "a").glob("posts-*")) == ["posts-0000.parquet"]
    assert fewer.posts == 100


def test_file_split_keeps_posts_whole_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from govsocial.synth import posts as posts_module

    whole = generate(tmp_path / "whole", seed=5, posts=6_000)
    monkeypatch.setattr(posts_module, "POSTS_PER_FILE", 1_000)
    monkeypatch.setattr(posts_module, "_BATCH", 300)
    split = generate(tmp_path / "split", seed=5, posts=6_000)
    assert len(whole.post_files) == 1 and len(split.post_files) >= 4
    tables = [pq.read_table(p) for p in split.post_files]
    owners = [set(t.column("account_platform_id").to_pylist()) for t in tables]
    assert sum(len(o) for o in owners) == len(set().union(*owners))  # accounts never straddle
    assert pa.concat_tables(tables).equals(pq.read_table(whole.post_files[0]))
