"""`govsocial text update|themes|keywords|trends|evaluate` on real warehouses."""

from __future__ import annotations

from pathlib import Path

from conftest import post_row, run_cli, scalar, write_csv
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file
from govsocial.text.themes import load_theme, load_themes
from govsocial.text.update import evaluate, update

CLIMATE = "Aksi nyata pemprov hadapi #PerubahanIklim: tanam 1.000 mangrove di pesisir 🌱"
INVESTMENT = "Iklim investasi di Jawa Barat makin kondusif, perizinan makin cepat"
STUNTING = "Ayo cegah stunting! Posyandu buka tiap Selasa utk balita yg perlu ditimbang"


def posts(wh: Warehouse, tmp_path: Path, texts: dict[str, str], name: str) -> None:
    rows = [post_row(post_id=pid, text=text) for pid, text in texts.items()]
    load_file(wh, write_csv(tmp_path / name, rows), stage)


def tags(wh: Warehouse) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for pid, theme in wh.con.execute(
        "SELECT p.platform_post_id, t.theme FROM post_themes t JOIN posts p USING (post_id)"
    ).fetchall():
        found.setdefault(pid, set()).add(theme)
    return found


def test_update_reads_only_new_or_changed_posts_and_all_when_themes_change(
    registered: Warehouse, tmp_path: Path
) -> None:
    wh = registered
    posts(wh, tmp_path, {"a": CLIMATE, "b": INVESTMENT, "c": STUNTING, "d": ""}, "1.csv")
    first = update(wh)
    assert first.read == 4 and first.stats.empty == 1
    found = tags(wh)
    assert "climate" in found["a"] and "b" not in found and "sdg2" in found["c"]
    evidence = scalar(
        wh,
        "SELECT evidence FROM post_themes t JOIN posts p USING (post_id) "
        "WHERE p.platform_post_id = 'a' AND theme = 'climate'",
    )
    assert "#perubahaniklim" in evidence
    assert update(wh).read == 0  # nothing new
    # A later observation changes one post's text: only it is read again.
    changed = post_row(post_id="b", text=CLIMATE, captured_at="2025-03-09T08:00:00+07:00")
    load_file(wh, write_csv(tmp_path / "2.csv", [changed]), stage)
    again = update(wh)
    assert again.read == 1 and "climate" in tags(wh)["b"]
    # Other theme files: every post is read again with them.
    only = tmp_path / "only.yaml"
    only.write_text("id: only\nversion: 1\ntitle: {id: Hanya, en: Only}\nphrases: [posyandu]\n")
    assert update(wh, [load_theme(only)]).read == 4
    assert tags(wh) == {"c": {"only"}}


def test_the_commands_answer_on_a_warehouse(tmp_path: Path, registered: Warehouse) -> None:
    posts(registered, tmp_path, {"a": CLIMATE, "b": INVESTMENT, "c": STUNTING}, "1.csv")
    db = registered.path
    registered.close()
    updated = run_cli("text", "update", "--db", str(db), cwd=tmp_path)
    assert updated.returncode == 0 and "Read 3 new or changed posts" in updated.stdout
    themes = run_cli("text", "themes", "--db", str(db), "--format", "csv", cwd=tmp_path)
    assert themes.returncode == 0
    rows = {line.split(",")[0]: line for line in themes.stdout.splitlines()[1:]}
    assert set(rows) == {t.id for t in load_themes()} and rows["climate"].split(",")[2] == "1"
    words = run_cli("text", "keywords", "--db", str(db), "--by", "platform", "--min-count", "1",
                    cwd=tmp_path)  # fmt: skip
    assert words.returncode == 0 and "No keywords" in words.stderr  # one platform: no rest
    grouped = run_cli("text", "keywords", "--db", str(db), "--by", "platform", "--min-count", "1",
                      "--platform", "instagram", "--format", "csv", cwd=tmp_path)  # fmt: skip
    assert grouped.returncode == 0 and grouped.stdout.startswith("group,rank,term")
    bad = run_cli("text", "keywords", "--db", str(db), "--by", "colour", cwd=tmp_path)
    assert bad.returncode == 2 and "--by" in bad.stderr
    trends = run_cli("text", "trends", "--db", str(db), cwd=tmp_path)
    assert trends.returncode == 0


def test_evaluate_reports_precision_and_recall_per_theme() -> None:
    fixtures = Path(__file__).parents[1] / "fixtures" / "text"
    scores = {s.theme: s for s in evaluate(fixtures / "eval_tune.jsonl")}
    assert set(scores) == {t.id for t in load_themes()}
    climate = scores["climate"]
    assert climate.positives == climate.true_positives + climate.false_negatives > 0
    assert climate.precision is not None and climate.recall is not None


THEMED = """\
id = "themed"
edition = "Themed test"
version = "1"
title = { id = "Uji", en = "Test" }
period = { start = 2025-01-01, end = 2025-06-01 }
platforms = ["instagram", "x", "youtube"]
clusters = ["pemda", "kementerian"]
champion_rule = "most_trophies"

[[categories]]
id = "climate"
title = { id = "Iklim", en = "Climate" }
description = { id = "-", en = "-" }
unit = "account"
nominees = 3
eligibility = { min_posts = 1 }
THEME
components = [{ metric = "theme_share", weight = 1.0 }]
"""


def test_a_category_names_theme_files_and_the_run_tags_posts_first(
    registered: Warehouse, tmp_path: Path
) -> None:
    import pytest

    from govsocial.awards.methodology import load_methodology
    from govsocial.awards.runs import compute_run, run_and_keep
    from govsocial.errors import MethodologyError

    texts = {"a1": CLIMATE, "a2": CLIMATE.replace("1.000", "2.000"), "a3": INVESTMENT}
    rows = [post_row(post_id=pid, text=text) for pid, text in texts.items()]
    rows += [
        post_row(platform="youtube", account_platform_id="UC123", post_id=f"y{i}", text=INVESTMENT)
        for i in range(3)
    ]
    load_file(registered, write_csv(tmp_path / "p.csv", rows), stage)
    db = registered.path
    registered.close()
    path = tmp_path / "themed.toml"
    path.write_text(THEMED.replace("THEME", 'theme = ["climate"]'), encoding="utf-8")
    assert load_methodology(path).categories[0].theme.names == ("climate",)  # type: ignore[union-attr]
    with (
        Warehouse.open(db, read_only=True) as wh,
        pytest.raises(MethodologyError, match="text update"),
    ):
        compute_run(wh, str(path), "duckdb", replicates=0)  # untagged posts: refused, not guessed
    computed = run_and_keep(db, str(path), "duckdb", replicates=0)
    ranked = computed.document["categories"][0]["clusters"]
    best = {c["cluster_id"]: c["nominees"][0] for c in ranked if c["nominees"]}
    assert best["pemda"]["handle"] == "jabarprovgov"
    assert best["pemda"]["components"][0]["metric"] == "theme_share"
    # An unknown theme file is named with the ones that exist.
    path.write_text(THEMED.replace("THEME", 'theme = ["climat"]'), encoding="utf-8")
    with pytest.raises(MethodologyError, match="climate"):
        load_methodology(path)
