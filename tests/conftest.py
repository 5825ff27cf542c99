"""Shared fixtures: real DuckDB files in tmp folders, small registry and generic files."""

from __future__ import annotations

import contextlib
import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from govsocial.registry import read_registry
from govsocial.sources.staging import POST_COLUMNS
from govsocial.store import Warehouse, apply_registry, known_clusters

REGISTRY_YAML = """\
institutions:
  - id: jabarprov
    name: Pemerintah Provinsi Jawa Barat
    cluster: pemda
    sub_cluster: provinsi
    region: Jawa Barat
    accounts:
      - {platform: instagram, handle: jabarprovgov, platform_id: "1001"}
      - {platform: x, handle: "@JabarProvGov"}
  - id: kemenkes
    name: Kementerian Kesehatan
    cluster: kementerian
    accounts:
      - {platform: youtube, handle: kemenkesri, platform_id: "UC123"}
"""

POST_HEADER = list(POST_COLUMNS)  # the generic format's columns, in order

METHODOLOGY_HEAD = """\
id = "{id}"
edition = "Test"
version = "1"
title = {{ id = "Uji", en = "Test" }}
period = {{ start = 2025-01-01, end = 2025-06-01 }}
platforms = {platforms}
clusters = ["pemda", "kementerian"]
champion_rule = "most_trophies"
"""
CATEGORY = """
[[categories]]
id = "{id}"
title = {{ id = "{id}", en = "{id}" }}
description = {{ id = "-", en = "-" }}
unit = "{unit}"
nominees = 3
eligibility = {{ min_posts = 1 }}
{extra}
components = {components}
"""


def methodology_file(
    path: Path,
    categories: list[dict[str, str]],
    *,
    ident: str = "test",
    platforms: str = '["instagram", "x", "youtube"]',
) -> Path:
    """A small methodology file over the ``registered`` warehouse's clusters: each category
    a dict with ``id`` and ``components`` (TOML), and optionally ``unit`` and ``extra`` (more
    TOML lines of the category, e.g. its theme)."""
    text = METHODOLOGY_HEAD.format(id=ident, platforms=platforms)
    for c in categories:
        text += CATEGORY.format(
            id=c["id"],
            unit=c.get("unit", "account"),
            extra=c.get("extra", ""),
            components=c["components"],
        )
    path.write_text(text, encoding="utf-8")
    return path


def post_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "platform": "instagram",
        "account_platform_id": "1001",
        "account_handle": "",
        "post_id": "p1",
        "posted_at": "2025-03-01T08:00:00+07:00",
        "captured_at": "2025-03-02T08:00:00+07:00",
        "media_type": "image",
        "text": "Halo #Jabar",
        "url": "",
        "is_repost": "false",
        "video_duration_s": "",
        "views": "",
        "likes": "10",
        "reactions": "",
        "comments": "2",
        "shares": "",
        "quotes": "",
        "saves": "",
    }
    row.update({k: ("" if v is None else v) for k, v in values.items()})
    return row


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header or POST_HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        yield wh


@pytest.fixture
def registered(warehouse: Warehouse, tmp_path: Path) -> Warehouse:
    """A warehouse with two institutions and three accounts registered."""
    path = tmp_path / "registry.yaml"
    path.write_text(REGISTRY_YAML, encoding="utf-8")
    apply_registry(warehouse, read_registry(path, known_clusters(warehouse)), path)
    return warehouse


def scalar(wh: Warehouse, sql: str) -> Any:
    row = wh.con.execute(sql).fetchone()
    assert row is not None
    return row[0]


@dataclass(frozen=True)
class Ran:
    """What a command did: its exit code and what it printed."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Ran:
    """Run `govsocial ARGS` in-process in ``cwd``, as a user would, without our env settings:
    the same entry point (exit codes, messages) as the installed command, 80 columns wide."""
    from typer.testing import CliRunner

    from govsocial.cli import app
    from govsocial.cli.failures import run

    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GOVSOCIAL_")}
    environ.update(env or {})
    with CliRunner().isolation(env=environ) as (stdout, stderr, _), contextlib.chdir(cwd):
        code = run(app, list(args), debug="--debug" in args)
        sys.stdout.flush()
        sys.stderr.flush()
        printed, complained = stdout.getvalue().decode(), stderr.getvalue().decode()
    return Ran(code, printed, complained)


def run_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m govsocial ARGS` as a separate process (the smoke test only)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GOVSOCIAL_")}
    environ.update({"NO_COLOR": "1"}, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "govsocial", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
