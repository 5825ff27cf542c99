"""Keywords and trends from the term counts `text update` keeps equal those from tokenising the
texts again; the counts stay right as posts change, batches fail or stems come from the
warehouse; a scope with posts not yet read is refused (the commands read them first)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import post_row, run_cli, scalar, write_csv
from govsocial.errors import StoreError
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file
from govsocial.store.compute import settle
from govsocial.store.text import Scope
from govsocial.text import tokens as token_module
from govsocial.text import update as update_module
from govsocial.text.keywords import keywords
from govsocial.text.tokens import tokenise
from govsocial.text.trends import trends
from govsocial.text.update import GROUPS, scope_keywords, scope_trends, update

WORDS = [
    "kebijakan",
    "kebijakannya",
    "bijak",
    "pemerintah",
    "perintah",
    "banjir",
    "banjirnya",
    "sungai",
    "mangrove",
    "pohon",
    "tanam",
    "menanam",
    "penanaman",
    "warga",
    "desa",
    "kota",
    "puskesmas",
    "imunisasi",
    "vaksin",
    "vaksinasi",
    "posyandu",
    "balita",
    "stunting",
    "gizi",
    "pangan",
    "petani",
    "panen",
    "irigasi",
    "sampah",
    "plastik",
    "daur",
    "ulang",
    "energi",
    "surya",
]
SLANG = ("yg", "dgn", "pemprov", "dinkes", "utk", "&")
STOPWORDS = ("dan", "di", "yang", "untuk", "the", "of", "ini")
HASHTAGS = ("#PerubahanIklim", "#perubahaniklim", "#JabarJuara", "#jabarjuara", "#SDGs2030")
OTHERS = ("@HumasJabar", "https://jabarprov.go.id/berita", "🙏🏽", "🌱", "2025", "Rp10.000", "—")
ACCOUNTS = (  # (platform, account_platform_id, account_handle): two institutions, one unassigned
    ("instagram", "1001", ""),
    ("x", "", "JabarProvGov"),
    ("youtube", "UC123", ""),
    ("x", "", "lain"),
)
START = datetime(2025, 1, 6, 9, tzinfo=UTC)  # a Monday


def varied_text(rng: random.Random, week: int) -> str:
    """A post of words (some capitalised or with punctuation), slang, stopwords, hashtags,
    mentions, URLs, emoji and numbers; in weeks 8 and 9 #BanjirBandung and "tanggul" burst."""
    n = rng.randint(0, 14)
    pool = [*WORDS, *WORDS, *SLANG, *STOPWORDS, *HASHTAGS, *OTHERS]
    pieces = [rng.choice(pool) for _ in range(n)]
    pieces = [p.capitalize() if rng.random() < 0.2 else p for p in pieces]
    pieces = [p + rng.choice([",", ".", "!"]) if rng.random() < 0.1 else p for p in pieces]
    if week in (8, 9):
        pieces += ["#BanjirBandung", "tanggul", "jebol"] * rng.randint(1, 3)
    text = " ".join(pieces)
    if rng.random() < 0.03:
        text = text.encode("utf-8").decode("latin-1")  # mojibake, repaired
    return text


def varied_rows(count: int, seed: int, prefix: str = "p") -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        platform, platform_id, handle = ACCOUNTS[i % len(ACCOUNTS)]
        week = rng.randint(0, 11)
        posted = START + timedelta(days=7 * week + rng.randint(0, 6), hours=rng.randint(0, 20))
        rows.append(
            post_row(
                post_id=f"{prefix}{i}",
                platform=platform,
                account_platform_id=platform_id,
                account_handle=handle,
                posted_at=posted.isoformat(),
                captured_at=(posted + timedelta(days=1)).isoformat(),
                text=varied_text(rng, week),
                is_repost="true" if rng.random() < 0.05 else "false",
            )
        )
    return rows


def load(wh: Warehouse, tmp_path: Path, rows: list[dict[str, str]], name: str) -> None:
    load_file(wh, write_csv(tmp_path / name, rows), stage)


def tokenised(wh: Warehouse, scope: Scope) -> tuple[pa.Table, pa.Table]:
    """The reference: the texts of the scope read again, as the keywords used to be found."""
    where, params = scope.where()
    settle(wh)
    posts = wh.con.sql(
        f"""SELECT p.post_id, coalesce(p.text, '') AS text, p.posted_at, p.platform, a.handle,
                   a.institution_id, i.cluster_id
            FROM posts p JOIN accounts a USING (account_id)
            LEFT JOIN institutions i ON i.institution_id = a.institution_id
            LEFT JOIN clusters c ON c.cluster_id = i.cluster_id
            WHERE {where} ORDER BY p.post_id""",
        params=params,
    ).to_arrow_table()
    return tokenise(posts["post_id"], posts["text"]), posts


def labels(posts: pa.Table, by: str) -> pa.Array:
    if by == "account":
        return pc.binary_join_element_wise(
            posts["platform"], pc.fill_null(posts["handle"], "?"), " @"
        )
    if by == "month":
        return pc.strftime(posts["posted_at"], format="%Y-%m")
    column = {"institution": "institution_id", "cluster": "cluster_id"}.get(by, by)
    return pc.fill_null(posts[column].cast(pa.string()), "-")


def assert_same_as_tokenising(wh: Warehouse, scope: Scope, min_count: int = 2) -> None:
    tokens, posts = tokenised(wh, scope)
    for by in GROUPS:
        groups = pa.table({"post_id": posts["post_id"], "group": labels(posts, by)})
        expected = keywords(tokens, groups, top=None, min_count=min_count)
        found = scope_keywords(wh, scope, by, top=1000, min_count=min_count)
        assert found.equals(expected), by
    monday = pc.floor_temporal(posts["posted_at"], unit="week", week_starts_monday=True)
    weeks = pa.table({"post_id": posts["post_id"], "week": pc.cast(monday, pa.date32())})
    assert scope_trends(wh, scope, min_count=min_count).equals(
        trends(tokens, weeks, min_count=min_count)
    )


def test_kept_counts_give_the_keywords_and_trends_of_the_texts(
    registered: Warehouse, tmp_path: Path
) -> None:
    wh = registered
    load(wh, tmp_path, varied_rows(600, seed=1), "posts.csv")
    assert update(wh, batch=128).read == 600
    everything = Scope()
    assert len(scope_trends(wh, everything, min_count=2)) > 0  # the burst is found
    assert len(scope_keywords(wh, everything, "account", min_count=2)) > 20
    for scope in (
        everything,
        Scope(platforms=("x",)),
        Scope(clusters=("pemda",), since=START + timedelta(weeks=3)),
        Scope(institutions=("kemenkes", "jabarprov"), until=START + timedelta(weeks=9)),
    ):
        assert_same_as_tokenising(wh, scope)
    assert_same_as_tokenising(wh, everything, min_count=5)

    # Texts change, posts arrive: only they are read again, and the counts follow.
    changed = varied_rows(40, seed=2)
    for row in changed:
        row["captured_at"] = "2025-06-01T08:00:00+07:00"
    load(wh, tmp_path, changed, "changed.csv")
    load(wh, tmp_path, varied_rows(50, seed=3, prefix="n"), "new.csv")
    assert update(wh, batch=32).read == 90
    assert_same_as_tokenising(wh, everything)
    assert scalar(wh, "SELECT count(*) FROM post_text_state WHERE tokens IS NULL") == 0


def test_a_scope_with_posts_not_yet_read_is_refused_and_the_commands_read_them_first(
    registered: Warehouse, tmp_path: Path
) -> None:
    load(registered, tmp_path, varied_rows(60, seed=4), "posts.csv")
    update(registered)
    load(registered, tmp_path, varied_rows(5, seed=5, prefix="n"), "new.csv")
    for ask in (
        lambda: scope_keywords(registered, Scope(), "cluster"),
        lambda: scope_trends(registered, Scope()),
    ):
        with pytest.raises(StoreError, match=r"5 posts in scope are not yet read.*text update"):
            ask()
    db = registered.path
    registered.close()
    found = run_cli("text", "keywords", "--db", str(db), "--min-count", "2", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert "5 posts in scope are not read yet: reading them first" in found.stderr
    again = run_cli("text", "trends", "--db", str(db), cwd=tmp_path)
    assert again.returncode == 0 and "not read yet" not in again.stderr


def test_an_interrupted_update_keeps_the_batches_it_finished(
    registered: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = registered
    load(wh, tmp_path, varied_rows(100, seed=6), "posts.csv")
    real = update_module.post_forms
    calls = 0

    def failing(tokens: token_module.Tokens) -> object:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("killed")
        return real(tokens)

    monkeypatch.setattr(update_module, "post_forms", failing)
    with pytest.raises(RuntimeError, match="killed"):
        update(wh, batch=30)
    assert scalar(wh, "SELECT count(*) FROM post_text_state") == 60  # two batches of 30
    assert scalar(wh, "SELECT count(DISTINCT post_id) FROM post_terms") <= 60
    unread = "SELECT post_id FROM posts ANTI JOIN post_text_state USING (post_id)"
    assert scalar(wh, f"SELECT count(*) FROM post_terms WHERE post_id IN ({unread})") == 0
    monkeypatch.setattr(update_module, "post_forms", real)
    assert update(wh, batch=30).read == 40
    assert_same_as_tokenising(wh, Scope())


def test_a_write_that_fails_in_the_writer_thread_stops_the_update_and_keeps_the_rest(
    registered: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches are kept by a writer thread on its own connection while the next is read: a
    failure there is raised by update(), the batches before it stay, nothing of it is kept."""
    wh = registered
    load(wh, tmp_path, varied_rows(100, seed=8), "posts.csv")
    real = update_module.store.keep_text
    calls = 0

    def failing(*args: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk full")
        real(*args)

    monkeypatch.setattr(update_module.store, "keep_text", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        update(wh, batch=30)
    assert scalar(wh, "SELECT count(*) FROM post_text_state") == 30
    monkeypatch.setattr(update_module.store, "keep_text", real)
    assert update(wh, batch=30).read == 70
    assert_same_as_tokenising(wh, Scope())


def test_a_later_update_takes_known_stems_from_the_warehouse(
    registered: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(registered, tmp_path, varied_rows(80, seed=7), "posts.csv")
    update(registered)
    stemmed: list[str] = []
    real = token_module._stem_with

    def counted(stemmer: object, word: str) -> str:
        stemmed.append(word)
        return real(stemmer, word)  # type: ignore[arg-type]

    monkeypatch.setattr(token_module, "_stem_with", counted)
    load(registered, tmp_path, varied_rows(20, seed=8, prefix="n"), "new.csv")
    assert update(registered).read == 20
    kept = {r[0] for r in registered.con.execute("SELECT form FROM text_forms").fetchall()}
    assert stemmed and not kept & set(stemmed) - set(STOPWORDS)  # stopwords are not kept
    assert_same_as_tokenising(registered, Scope())


def test_stems_from_stemming_processes_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_module, "_PARALLEL_STEMS", 10)
    rng = random.Random(9)
    texts = [varied_text(rng, rng.randint(0, 11)) for _ in range(300)]
    ids = pa.array(range(300), pa.int64())
    alone = tokenise(ids, pa.array(texts), lexicon=token_module.Lexicon())
    shared = token_module.Lexicon(workers=2)
    try:
        half = pa.array(texts[:150] + [""] * 150)
        first = token_module.read_texts(ids, half, lexicon=shared)
        second = token_module.read_texts(ids, pa.array(texts), lexicon=shared)
        assert first.tokens().table().num_rows < alone.num_rows
        assert second.tokens().table().equals(alone)
        assert shared._pool is not None  # the processes did stem
    finally:
        shared.close()
