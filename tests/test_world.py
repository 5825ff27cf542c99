"""The synthetic world, generated and loaded through the import path into a real warehouse."""

import re
from pathlib import Path

import pytest

from conftest import run_cli, scalar
from govsocial.demo import load_world
from govsocial.jury.store import StateStore
from govsocial.jury.users import verify_login
from govsocial.store import Warehouse
from govsocial.synth import generate

POSTS = 40_000


@pytest.fixture(scope="module")
def world_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("world")
    world = generate(folder / "files", seed=7, posts=POSTS)
    db = folder / "w.duckdb"
    with Warehouse.open(db, create=True) as wh:
        summaries = load_world(wh, world)
    assert all(s.status == "loaded" and s.quarantined_total == 0 for s in summaries)
    return db


@pytest.fixture
def wh(world_db: Path) -> Warehouse:
    return Warehouse.open(world_db, read_only=True)


def test_registry_shape(wh: Warehouse) -> None:
    assert scalar(wh, "SELECT count(*) FROM institutions") == 211
    clusters = dict(
        wh.con.execute("SELECT cluster_id, count(*) FROM institutions GROUP BY 1").fetchall()
    )
    assert set(clusters) == {"kementerian", "lembaga", "pemda", "perguruan_tinggi"}
    assert set(
        r[0]
        for r in wh.con.execute(
            "SELECT DISTINCT sub_cluster FROM institutions WHERE cluster_id = 'pemda'"
        ).fetchall()
    ) == {"provinsi", "kota", "kabupaten"}
    assert 950 <= scalar(wh, "SELECT count(*) FROM accounts") <= 1100
    largest = scalar(
        wh, "SELECT max(n) FROM (SELECT count(*) AS n FROM accounts GROUP BY institution_id)"
    )
    assert 90 <= largest <= 110
    assert scalar(wh, "SELECT count(*) FROM accounts WHERE institution_id IS NULL") == 0
    assert scalar(wh, "SELECT count(DISTINCT platform) FROM accounts") == 5


def test_everything_is_labelled_synthetic(wh: Warehouse) -> None:
    assert scalar(wh, "SELECT bool_and(is_synthetic) FROM institutions")
    assert scalar(wh, "SELECT bool_and(is_synthetic) FROM accounts")
    assert scalar(wh, "SELECT bool_and(is_synthetic) FROM ingest_batches")
    assert scalar(wh, "SELECT bool_and(institution_id LIKE 'syn-%') FROM institutions")


def test_posts_and_snapshots_are_consistent(wh: Warehouse) -> None:
    posts = scalar(wh, "SELECT count(*) FROM posts")
    assert abs(posts - POSTS) <= POSTS // 100
    assert scalar(wh, "SELECT count(DISTINCT post_id) FROM post_metrics") == posts
    # counts never decrease from one snapshot of a post to the next
    assert (
        scalar(
            wh,
            """
        SELECT count(*) FROM (
            SELECT likes - lag(likes) OVER (PARTITION BY post_id ORDER BY captured_at) AS d
            FROM post_metrics) WHERE d < 0""",
        )
        == 0
    )
    assert (
        scalar(
            wh,
            "SELECT count(*) FROM posts p JOIN post_metrics m USING (post_id) "
            "WHERE m.captured_at < p.posted_at",
        )
        == 0
    )
    # followers grow over the period for most accounts
    growing = scalar(
        wh,
        """
        SELECT avg((last > first)::INT) FROM (
            SELECT arg_min(followers, captured_at) AS first, arg_max(followers, captured_at) AS last
            FROM account_snapshots GROUP BY account_id)""",
    )
    assert growing > 0.7


INTERACTIONS = (
    "(coalesce(m.reactions, m.likes, 0) + coalesce(m.comments, 0) + coalesce(m.shares, 0))"
)


def test_engagement_rate_falls_as_audiences_grow(wh: Warehouse) -> None:
    # Within each platform, log(median rate per account) against log(followers): a flat rate
    # would give a slope near 0; the world is built with interactions ~ followers^0.7.
    slopes = dict(
        wh.con.execute(f"""
        WITH per_account AS (
            SELECT p.platform, p.account_id, median({INTERACTIONS} / f.followers) AS rate,
                   any_value(f.followers) AS followers
            FROM posts p JOIN post_metrics_latest m USING (post_id)
                 JOIN account_snapshots_latest f USING (account_id)
            WHERE NOT p.is_repost GROUP BY 1, 2)
        SELECT platform, regr_slope(ln(rate), ln(followers)) FROM per_account
        WHERE rate > 0 GROUP BY 1""").fetchall()
    )
    assert len(slopes) == 5
    assert all(slope < -0.1 for slope in slopes.values()), slopes


def test_video_and_images_engage_more_than_text(wh: Warehouse) -> None:
    means = dict(
        wh.con.execute(f"""
        SELECT p.media_type, avg({INTERACTIONS} / f.followers)
        FROM posts p JOIN post_metrics_latest m USING (post_id)
             JOIN account_snapshots_latest f USING (account_id)
        WHERE NOT p.is_repost AND p.platform IN ('facebook', 'x') GROUP BY 1""").fetchall()
    )
    assert means["video"] > means["text"]
    assert means["image"] > means["text"]


def test_captions_carry_hashtags_mentions_and_themes(wh: Warehouse) -> None:
    share_with_hashtags = scalar(wh, "SELECT avg((len(hashtags) > 0)::INT) FROM posts")
    assert share_with_hashtags > 0.5
    assert (
        scalar(wh, "SELECT count(*) FROM posts WHERE list_contains(hashtags, 'perubahaniklim')") > 0
    )
    assert scalar(wh, "SELECT count(*) FROM posts WHERE len(mentions) > 0") > 0
    assert scalar(wh, "SELECT count(*) FROM posts WHERE text LIKE '%https://%'") > 0


def test_the_same_seed_builds_the_same_warehouse(tmp_path: Path, world_db: Path) -> None:
    world = generate(tmp_path / "files", seed=7, posts=POSTS)
    fingerprint = """SELECT md5(string_agg(concat_ws('|', p.platform, p.platform_post_id,
                         a.handle, p.posted_at, p.text, m.captured_at, m.likes, m.views), ','
                         ORDER BY p.platform, p.platform_post_id, m.captured_at))
                     FROM posts p JOIN accounts a USING (account_id)
                          JOIN post_metrics m USING (post_id)"""
    with Warehouse.open(tmp_path / "again.duckdb", create=True) as again:
        load_world(again, world)
        second = scalar(again, fingerprint)
    with Warehouse.open(world_db, read_only=True) as first:
        assert scalar(first, fingerprint) == second


def test_demo_command_prints_the_summary(tmp_path: Path) -> None:
    done = run_cli("demo", "--dir", "d", "--posts", "20000", "--no-pdf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "SYNTHETIC DATA" in done.stdout
    total = next(line for line in done.stdout.splitlines() if line.startswith("total "))
    assert total.split()[-1] == "211"
    # ... and it ran the 2025 methodology: 5 tables of nominees and a run id
    assert "Most Engaging / Paling Engaging" in done.stdout
    assert "Best Use of Videos" in done.stdout
    assert re.search(r"govsocial awards show [0-9a-f]{16}", done.stdout)
    assert "export GOVSOCIAL_DB=d/govsocial.duckdb" in done.stdout
    assert (tmp_path / "d" / "govsocial.duckdb").exists()
    assert not (tmp_path / "d" / "govsocial.duckdb.building").exists()
    info = run_cli("--db", "d/govsocial.duckdb", "info", cwd=tmp_path)
    assert "Posts: 20,0" in info.stdout or "Posts: 19," in info.stdout
    # Every post's text was read: themes, keywords and trends answer at once.
    with Warehouse.open(tmp_path / "d" / "govsocial.duckdb", read_only=True) as wh:
        unread = "SELECT count(*) FROM posts LEFT JOIN post_text_state s USING (post_id) "
        assert scalar(wh, unread + "WHERE s.post_id IS NULL") == 0
        assert scalar(wh, "SELECT count(*) FROM post_themes") > 0
    assert "govsocial text keywords --by cluster" in done.stdout
    # ... published its run and wrote the report, in Indonesian, and says where to open it.
    report = tmp_path / "d" / "report"
    assert f"open {Path('d') / 'report' / 'index.html'}" in done.stdout
    assert 'lang="id"' in (report / "index.html").read_text("utf-8")
    assert len(list((report / "scorecards").glob("*.html"))) == 211
    assert not list((report / "scorecards").glob("*.pdf"))  # --no-pdf
    assert list((report / "exports").glob("*.xlsx"))
    assert list((tmp_path / "d" / "published").glob("*/manifest.json"))
    # ... and says how to start the web app and sign in: its users' passwords work
    assert "govsocial serve --db d/govsocial.duckdb" in done.stdout
    logins = (tmp_path / "d" / "demo-logins.txt").read_text("utf-8").splitlines()[1:]
    assert [line.split()[0] for line in logins] == ["organiser", *["juror"] * 3, "operator"]
    assert (tmp_path / "d" / "demo-logins.txt").stat().st_mode & 0o077 == 0
    _, login, password, *_ = logins[0].split()
    assert f"{login:<8} {password}" in done.stdout
    with StateStore.open(tmp_path / "d" / "govsocial-web.sqlite3") as store:
        assert verify_login(store, login, password).role == "organiser"


def test_bought_likes_accounts_are_flagged(world_db: Path) -> None:
    import json as _json

    from govsocial.awards.methodology import load_methodology
    from govsocial.compute.backend import open_backend
    from govsocial.metrics.cube import compute_cube
    from govsocial.metrics.evidence import account_flags

    truth = _json.loads((world_db.parent / "files" / "synth_truth.json").read_text())
    with Warehouse.open(world_db, read_only=True) as wh, open_backend(wh) as backend:
        flags = account_flags(compute_cube(backend, load_methodology("gsm2025")))
        ids = dict(
            wh.con.execute("SELECT account_id, platform_account_id FROM accounts").fetchall()
        )
        posts = dict(
            wh.con.execute(
                "SELECT account_id, count(*) FROM posts WHERE NOT is_repost GROUP BY 1"
            ).fetchall()
        )
    inflated = {a for a, pid in ids.items() if pid in set(truth["inflated_account_platform_ids"])}
    judged = {a for a in inflated if posts.get(a, 0) >= 10}  # accounts with too few posts aren't
    ratio_flagged = {
        a for a, fl in flags.items() if any(f["flag"] == "like_comment_ratio" for f in fl)
    }
    assert len(judged) >= 5
    assert len(ratio_flagged & judged) >= 0.8 * len(judged)
    assert len(ratio_flagged - inflated) <= 0.03 * len(ids)  # few honest accounts flagged
