"""The results document against docs/results-schema.md: the typed records and a real run."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

import govsocial.awards.engine as engine
from govsocial.awards.engine import run_awards
from govsocial.awards.methodology import load_methodology
from govsocial.awards.results import RECORDS, Results, dumps, nominee_rows
from govsocial.demo import load_world
from govsocial.store import Warehouse
from govsocial.synth import generate

SCHEMA_DOC = Path(__file__).parents[2] / "docs" / "results-schema.md"
ROW = re.compile(r"^\| `(\w+)` \| ([^|]+) \|")


def documented() -> dict[str, list[tuple[str, str]]]:
    """Each `## Record` section's table: (key, type) rows in order."""
    records: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in SCHEMA_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = records.setdefault(line[3:].strip(), [])
        elif current is not None and (match := ROW.match(line)):
            current.append((match.group(1), match.group(2).strip()))
    return {name: rows for name, rows in records.items() if rows}


SCHEMA = documented()


def check(value: Any, kind: str, at: str) -> None:
    """Fail unless ``value`` has the documented type ``kind`` (and, for a record, exactly
    its documented keys in their documented order)."""
    if " or " in kind:
        errors = []
        for alternative in kind.split(" or "):
            try:
                check(value, alternative, at)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{at}: {value!r} is none of {kind}: {errors}")
    if kind.endswith("[]"):
        assert isinstance(value, list), f"{at}: {value!r} is not a list"
        for i, item in enumerate(value):
            check(item, kind[:-2], f"{at}[{i}]")
        return
    if kind.startswith("{"):
        inner = re.fullmatch(r"\{\w+: (\w+)\}", kind)
        assert inner, f"{at}: undocumented type form {kind!r}"
        assert isinstance(value, dict), f"{at}: {value!r} is not an object"
        for key, item in value.items():
            assert isinstance(key, str)
            check(item, inner.group(1), f"{at}.{key}")
        return
    if kind in SCHEMA:
        assert isinstance(value, dict), f"{at}: {value!r} is not a {kind}"
        keys = [key for key, _ in SCHEMA[kind]]
        assert list(value) == keys, f"{at}: keys {list(value)}, documented {keys}"
        for key, sub in SCHEMA[kind]:
            check(value[key], sub, f"{at}.{key}")
        return
    simple = {
        "string": lambda v: isinstance(v, str),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "bool": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    assert kind in simple, f"{at}: undocumented type {kind!r}"
    assert simple[kind](value), f"{at}: {value!r} is not {kind}"


def test_every_record_is_documented_field_by_field() -> None:
    assert {r.__name__ for r in RECORDS} == set(SCHEMA)
    for record in RECORDS:
        assert [f.name for f in fields(record)] == [k for k, _ in SCHEMA[record.__name__]]


def test_the_checker_catches_what_it_should() -> None:
    flag = {
        "account_id": 1,
        "platform": "x",
        "handle": None,
        "flag": "f",
        "severity": "info",
        "detail": "d",
    }
    check(flag, "Flag", "flag")
    for broken in (
        {**flag, "extra": 1},  # an undocumented field
        {k: v for k, v in flag.items() if k != "detail"},  # a missing one
        {**flag, "account_id": "1"},  # a wrong type
        dict(reversed(flag.items())),  # the wrong order
    ):
        with pytest.raises(AssertionError):
            check(broken, "Flag", "flag")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("results")
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        load_world(wh, generate(folder / "files", seed=7, posts=8_000))
    return folder / "w.duckdb"


def test_a_real_run_matches_the_schema(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = load_methodology("gsm2025")
    with Warehouse.open(world, read_only=True) as wh:
        plain = run_awards(wh, m, replicates=20)
        # The same run with the like/comment flag made severe, so that the document also
        # holds units held for review.
        real_flags = engine.account_flags

        def severe_ratio(cube: Any) -> dict[int, list[dict[str, Any]]]:
            return {
                a: [
                    {**f, "severity": "severe" if f["flag"] == "like_comment_ratio" else "info"}
                    for f in found
                ]
                for a, found in real_flags(cube).items()
            }

        monkeypatch.setattr(engine, "account_flags", severe_ratio)
        strict = run_awards(wh, m, replicates=20)
    for run in (plain, strict):
        document = json.loads(run.text)
        check(document, "Results", "results")
        assert isinstance(run.results, Results)
        assert dumps(document) == run.text  # canonical: reading back changes nothing
        assert run.document == document
    nominees = [
        n for c in plain.document["categories"] for cl in c["clusters"] for n in cl["nominees"]
    ]
    assert len(nominees) > 20
    # How sure each ranking is: every nominee has a stability and a rank interval around its
    # rank, and every cluster a statement.
    assert plain.document["stability"]["replicates"] == 20
    assert all(0 <= n["stability"] <= 1 for n in nominees)
    assert all(lo <= hi for n in nominees for lo, hi in [n["rank_interval"]])
    certainties = [cl["certainty"] for c in plain.document["categories"] for cl in c["clusters"]]
    assert all(c["statement"] and c["clear"] == (c["places"] == []) for c in certainties)
    held = [h for c in strict.document["categories"] for cl in c["clusters"] for h in cl["held"]]
    assert held and all(
        any(f["severity"] == "severe" for f in h["flags"]) and h["reason"] for h in held
    )
    # The CSV lists held units with their status, in rank order.
    statuses = {row[3] for row in nominee_rows(strict.document)}
    assert statuses == {"nominated", "held for review"}
