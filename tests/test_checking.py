"""One checker for every validated file: methodology, registry and settings files each report
every problem at once, each with where it is (key path and/or line), the value and the fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from govsocial.awards.methodology import load_methodology
from govsocial.checking import Checker, Problem, Table
from govsocial.config import SETTINGS, check_settings, resolve, resolve_all
from govsocial.errors import (
    ConfigError,
    GovsocialError,
    MethodologyError,
    RegistryError,
    UsageError,
)
from govsocial.registry import read_registry

METHODOLOGY = """\
id = "mini"
edition = "Mini Award"
version = "0.1"
colour = "red"
title = { id = "Mini", en = "Mini" }
period = { start = 2024-08-01, end = 2025-08-01 }
platforms = ["instagram", "myspace"]
clusters = ["pemda"]

[[categories]]
id = "most_engaging"
title = { id = "Paling Engaging", en = "Most Engaging" }
description = { id = "Tingkat keterlibatan", en = "Engagement rate" }
unit = "person"
components = [{ metric = "engagement_rate", weight = -1 }]
"""

REGISTRY = """\
synthetic: maybe
institutions:
  - id: a
    name: A
    cluster: kementrian
  - id: b
    name: B
    cluster: lembaga
    accounts:
      - {platform: myspace, handle: b}
"""

SETTINGS_FILE = """\
# settings of the 2025 edition
threads = 2.5
memory_limit = "lots"
engine = "duckdb"
dbb = "x.duckdb"
"""


@dataclass(frozen=True)
class Kind:
    """One kind of validated file: its name, text, how it is loaded and what it must report
    (a location and a fragment of the fix, per problem, in the file's order)."""

    name: str
    text: str
    load: Callable[[Path], object]
    error: type[GovsocialError]
    expected: list[tuple[str, str]]


def _load_settings(path: Path) -> object:
    return resolve("db", env={}, cwd=path.parent)  # a right setting: the file is checked whole


KINDS = [
    Kind(
        "m.toml",
        METHODOLOGY,
        load_methodology,
        MethodologyError,
        [
            ("colour: unknown key", "Fix: valid: id, edition, version"),
            ("platforms[1]: unknown value 'myspace'", "Fix: valid: facebook, instagram"),
            ("categories[0].unit: unknown value 'person'", "Fix: valid: institution, account"),
            ("categories[0].components[0].weight: -1 is not a number > 0", "Fix: give e.g. 1.0"),
        ],
    ),
    Kind(
        "r.yaml",
        REGISTRY,
        read_registry,
        RegistryError,
        [
            ("line 1, field 'synthetic': 'maybe' is not true or false", "Fix: write true or"),
            ("line 5, field 'cluster': unknown cluster 'kementrian'", "Fix: use one of: bumn,"),
            ("line 10, field 'platform': unknown platform 'myspace'", "Fix: use one of: face"),
        ],
    ),
    Kind(
        "govsocial.toml",
        SETTINGS_FILE,
        _load_settings,
        ConfigError,
        [
            ("Line 2 of {path} sets 'threads' to 2.5: it is a decimal number", "Change it with"),
            ("Line 3 of {path} sets 'memory_limit' to 'lots'", "Change it with"),
            ("{path}, line 5: unknown setting dbb", "Did you mean db? Valid settings: api_root,"),
        ],
    ),
]


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_problem_of_a_file_is_reported_at_once_with_its_place_and_fix(
    tmp_path: Path, kind: Kind
) -> None:
    path = tmp_path / kind.name
    path.write_text(kind.text, encoding="utf-8")
    with pytest.raises(kind.error) as caught:
        kind.load(path)
    head, *items = str(caught.value).splitlines()
    assert f"{len(kind.expected)} problems" in head
    assert len(items) == len(kind.expected)
    for item, (place, fix) in zip(items, kind.expected, strict=True):
        assert item.startswith("  - ")
        assert place.format(path=path) in item
        assert fix in item


def test_a_settings_file_problem_carries_its_setting_line_and_value(tmp_path: Path) -> None:
    (tmp_path / "govsocial.toml").write_text(SETTINGS_FILE, encoding="utf-8")
    checked = check_settings(env={}, cwd=tmp_path)
    assert [(p.key, p.line, p.value) for p in checked.problems] == [
        ("threads", 2, 2.5),
        ("memory_limit", 3, "lots"),
        ("dbb", 5, "x.duckdb"),
    ]
    # The right values are still known (`govsocial settings` lists them), the wrong ones not.
    values = {name: r.value for name, r in checked.resolved.items()}
    assert {values["db"], values["engine"]} == {SETTINGS["db"].default, "duckdb"}
    assert "threads" not in values and "memory_limit" not in values
    assert isinstance(checked.error, ConfigError)
    with pytest.raises(ConfigError):
        checked.values()


def test_wrong_options_environment_and_file_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "govsocial.toml").write_text("threads = -3\n", encoding="utf-8")
    env = {"GOVSOCIAL_MEMORY_LIMIT": "8 PB"}
    with pytest.raises(ConfigError) as caught:
        resolve_all({"engine": "sparky"}, env=env, cwd=tmp_path)
    message = str(caught.value)
    assert message.startswith("3 problems with the settings:")
    assert "The --engine option sets 'engine' to 'sparky'" in message
    assert "The GOVSOCIAL_MEMORY_LIMIT environment variable sets 'memory_limit'" in message
    assert f"Line 1 of {tmp_path / 'govsocial.toml'} sets 'threads' to -3" in message
    assert caught.value.exit_code == 1  # not only the command line is wrong


def test_wrong_options_alone_are_a_usage_error_listing_each(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_all({"engine": "sparky", "db": ""}, env={}, cwd=tmp_path)
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "The --engine option sets 'engine'" in message
    assert "The --db option sets 'db' to ''" in message


def test_a_checker_keeps_reading_after_a_bad_value_and_orders_problems_by_line() -> None:
    lines = {"b": 7, "a": 3}

    def line_of(container: object, key: str | int | None) -> int | None:
        return lines.get(key) if isinstance(key, str) else None

    raw: Table = {"a": "x", "b": True, "c": 4}
    check = Checker("docs/thing.md", line_of)
    assert check.integer(raw, "b", "", 1, 0) == 1  # true is not a whole number: the default
    assert check.number(raw, "a", "", 2.0) == 2.0
    assert check.integer(raw, "c", "", 1, 0) == 4
    check.table(raw, "", ("a", "b", "c", "d"))
    assert [(p.key, p.line, p.value) for p in check.problems] == [
        ("b", 7, True),
        ("a", 3, "x"),
        ("d", None, None),
    ]

    def error(problems: list[Problem]) -> MethodologyError:
        return MethodologyError("\n".join(map(str, problems)))

    with pytest.raises(MethodologyError) as caught:
        check.raise_if_any(error)
    assert str(caught.value).splitlines() == [
        "d: missing. Fix: add it (see docs/thing.md)",
        "line 3, a: 'x' is not a number > 0. Fix: give e.g. 1.0",
        "line 7, b: True is not a whole number ≥ 0. Fix: give one ≥ 0",
    ]
