"""Shape of the hand-labelled theme evaluation set (tests/fixtures/text/, issue 12).

The set is data written by hand; these tests keep it usable: every line a well-formed post,
ids unique across the three files (tune, holdout, blind), no post in two of them, themes valid,
the minimum sizes and positives per theme met, and the files and counts tables in the README
equal to the files.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from govsocial.vocabulary import PLATFORMS

FIXTURES = Path(__file__).parent.parent / "fixtures" / "text"
FILES = {
    "tune": FIXTURES / "eval_tune.jsonl",
    "holdout": FIXTURES / "eval_holdout.jsonl",
    "blind": FIXTURES / "eval_blind.jsonl",
}
HELD_OUT = ("holdout", "blind")  # scored only, never tuned on
THEMES = ("climate", *(f"sdg{n}" for n in range(1, 18)))
MIN_POSTS = {"tune": 180, "holdout": 120, "blind": 150}
MIN_POSITIVES = {theme: 8 for theme in THEMES} | {"climate": 30}  # over all files
MIN_HOLDOUT_POSITIVES = 4  # every theme can be scored on each set of posts nobody tuned on
NO_THEME_SHARE = (0.25, 0.45)  # "about a third" of the posts have no theme


def read(name: str) -> list[dict[str, Any]]:
    lines = FILES[name].read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def posts() -> dict[str, list[dict[str, Any]]]:
    return {name: read(name) for name in FILES}


def no_theme(rows: list[dict[str, Any]]) -> int:
    return sum(not row["themes"] for row in rows)


def theme_counts(rows: list[dict[str, Any]]) -> Counter[str]:
    return Counter(theme for row in rows for theme in row["themes"])


@pytest.mark.parametrize("name", list(FILES))
def test_every_line_is_a_well_formed_post(name: str) -> None:
    prefix = name[0]
    for row in read(name):
        assert set(row) == {"id", "platform", "text", "themes"}, row
        assert re.fullmatch(rf"{prefix}\d{{3}}", row["id"]), row["id"]
        assert row["platform"] in PLATFORMS, row
        assert isinstance(row["text"], str) and row["text"].strip(), row["id"]
        themes = row["themes"]
        assert isinstance(themes, list), row["id"]
        assert set(themes) <= set(THEMES), (row["id"], themes)
        # canonical order, no repeats: a diff of a label change stays one token
        assert themes == sorted(set(themes), key=THEMES.index), (row["id"], themes)


def test_ids_unique_and_files_disjoint(posts: dict[str, list[dict[str, Any]]]) -> None:
    assert set(posts) == {"tune", "holdout", "blind"}
    ids = Counter(row["id"] for rows in posts.values() for row in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    # the held-out files are never tuned on: no post may appear twice, in one file or across
    # the three (compared case- and whitespace-folded)
    folded = (" ".join(row["text"].lower().split()) for rows in posts.values() for row in rows)
    texts = Counter(folded)
    assert [t for t, n in texts.items() if n > 1] == []


def test_sizes_and_positives_meet_the_minimums(posts: dict[str, list[dict[str, Any]]]) -> None:
    for name, rows in posts.items():
        assert len(rows) >= MIN_POSTS[name], name
        share = no_theme(rows) / len(rows)
        assert NO_THEME_SHARE[0] <= share <= NO_THEME_SHARE[1], (name, share)
    total = sum((theme_counts(rows) for rows in posts.values()), Counter[str]())
    short = {t: total[t] for t in THEMES if total[t] < MIN_POSITIVES[t]}
    assert short == {}
    for name in HELD_OUT:
        held = theme_counts(posts[name])
        assert {t: held[t] for t in THEMES if held[t] < MIN_HOLDOUT_POSITIVES} == {}, name


def cells(line: str) -> list[str]:
    return [c.strip().strip("`") for c in line.strip().strip("|").split("|")]


def test_readme_files_table_matches_the_files(posts: dict[str, list[dict[str, Any]]]) -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    stated = {
        row[0]: int(row[1])
        for row in map(cells, readme.splitlines())
        if len(row) == 3 and row[0].startswith("eval_") and row[1].isdigit()
    }
    assert stated == {FILES[name].name: len(rows) for name, rows in posts.items()}


def test_readme_counts_match_the_files(posts: dict[str, list[dict[str, Any]]]) -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- counts:begin -->")[1].split("<!-- counts:end -->")[0]
    header = cells(table.strip().splitlines()[0])
    assert header == ["theme", *FILES, "all"]
    stated: dict[str, tuple[int, ...]] = {}
    for line in table.splitlines():
        row = cells(line)
        if len(row) == len(header) and row[1].isdigit():
            stated[row[0]] = tuple(int(c) for c in row[1:])

    def with_total(*values: int) -> tuple[int, ...]:
        return (*values, sum(values))

    counts = {name: theme_counts(rows) for name, rows in posts.items()}
    actual = {t: with_total(*(counts[name][t] for name in FILES)) for t in THEMES}
    actual["(none)"] = with_total(*(no_theme(posts[name]) for name in FILES))
    actual["posts"] = with_total(*(len(posts[name]) for name in FILES))
    assert stated == actual
