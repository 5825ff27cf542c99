"""`govsocial users ...` and `govsocial audit ...` in-process, through the same entry point
as the installed command (the sub-apps mounted as cli/__init__.py will mount them)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

import typer
from typer.testing import CliRunner

from govsocial.cli.failures import run
from govsocial.cli.jury import audit_app, users_app

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")


@dataclass
class Ran:
    code: int
    out: str
    err: str


def cli(*args: str, cwd: Path, given: str = "") -> Ran:
    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("GOVSOCIAL_")}
    with CliRunner().isolation(input=given, env=environ) as (out, err, _), contextlib.chdir(cwd):
        code = run(app, list(args), debug=False)
        sys.stdout.flush()
        sys.stderr.flush()
        return Ran(code, out.getvalue().decode(), err.getvalue().decode())


def test_users_are_added_listed_and_disabled(tmp_path: Path) -> None:
    secret = "organiser-secret-1"
    first = cli(
        "users",
        "add",
        "ana@example.org",
        "--name",
        "Ana",
        "--role",
        "organiser",
        "--password-stdin",
        cwd=tmp_path,
        given=secret + "\n",
    )
    assert first.code == 0, first.err
    assert "Added organiser ana@example.org (user 1)" in first.out
    assert (tmp_path / "govsocial-web.sqlite3").exists()  # beside the default warehouse
    juror = cli(
        "users", "add", "budi", "--name", "Budi", cwd=tmp_path, given="juror-secret-22\n" * 2
    )
    assert juror.code == 0 and "Added juror budi (user 2)" in juror.out, juror.err
    mismatch = cli(
        "users", "add", "cici", "--name", "C", cwd=tmp_path, given="a-long-one-1\nb\n" * 3
    )
    assert "do not match" in (mismatch.out + mismatch.err).lower()
    operator = cli(
        "users",
        "add",
        "dedi",
        "--name",
        "Dedi",
        "--role",
        "operator",
        "--institution",
        "syn-kemenag",
        "--password-stdin",
        cwd=tmp_path,
        given="operator-secret-3\n",
    )
    assert operator.code == 0, operator.err
    listed = cli("users", "list", "--format", "json", cwd=tmp_path)
    rows = json.loads(listed.out)
    assert [(r["login"], r["role"], r["disabled"]) for r in rows] == [
        ("ana@example.org", "organiser", False),
        ("budi", "juror", False),
        ("dedi", "operator", False),
    ]
    assert rows[2]["institution"] == "syn-kemenag"
    assert cli("users", "disable", "budi", cwd=tmp_path).code == 0
    table = cli("users", "list", cwd=tmp_path)
    assert "budi" in table.out and "True" in table.out
    for text in (first.out, juror.out, listed.out, table.out):
        assert secret not in text and "juror-secret-22" not in text and "$argon2" not in text


def test_wrong_input_is_one_paragraph_with_the_right_exit_code(tmp_path: Path) -> None:
    role = cli("users", "add", "eka", "--name", "E", "--role", "admin", cwd=tmp_path, given="x\n")
    assert role.code == 2 and "--role must be one of organiser, juror, operator" in role.err
    short = cli("users", "add", "eka", "--name", "E", "--password-stdin", cwd=tmp_path, given="x\n")
    assert short.code == 1 and "at least 10 characters" in short.err
    missing = cli("users", "list", "--state", "elsewhere.sqlite3", cwd=tmp_path)
    assert missing.code == 1 and "no web state file" in missing.err
    assert not (tmp_path / "elsewhere.sqlite3").exists()
    assert "Traceback" not in missing.err + short.err
    (tmp_path / "notes.txt").write_text("hello" * 100)
    junk = cli("audit", "verify", "--state", "notes.txt", cwd=tmp_path)
    assert junk.code == 1 and "not a govsocial web state file" in junk.err
    unknown = cli("users", "disable", "nobody", "--state", "govsocial-web.sqlite3", cwd=tmp_path)
    assert unknown.code == 1 and "no user 'nobody'" in unknown.err


def test_audit_verify_and_export(tmp_path: Path) -> None:
    state = tmp_path / "web.sqlite3"
    for login in ("ana", "budi", "cici"):
        added = cli(
            "users",
            "add",
            login,
            "--name",
            login,
            "--role",
            "organiser",
            "--password-stdin",
            "--state",
            str(state),
            cwd=tmp_path,
            given="organiser-secret-1\n",
        )
        assert added.code == 0, added.err
    cli("users", "disable", "budi", "--state", str(state), cwd=tmp_path)
    checked = cli("audit", "verify", "--state", str(state), cwd=tmp_path)
    assert checked.code == 0 and "4 entries, chain intact. Head: 4:" in checked.out
    head = checked.out.split("Head: ")[1].strip()
    exported = cli("audit", "export", "--out", "log.jsonl", "--state", str(state), cwd=tmp_path)
    assert exported.code == 0 and "Wrote 4 audit entries" in exported.out
    lines = (tmp_path / "log.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["user.add"] * 3 + ["user.disable"]
    to_stdout = cli("audit", "export", "--state", str(state), cwd=tmp_path)
    assert to_stdout.out.splitlines() == lines
    from_file = cli("audit", "verify", "--file", "log.jsonl", "--anchor", head, cwd=tmp_path)
    assert from_file.code == 0 and "chain intact" in from_file.out
    con = sqlite3.connect(state)
    con.execute("DROP TRIGGER audit_no_update")
    demoted = """replace(after, '"role":"organiser"', '"role":"juror"')"""
    con.execute(f"UPDATE audit SET after = {demoted} WHERE seq = 2")
    con.commit()
    con.close()
    broken = cli("audit", "verify", "--state", str(state), cwd=tmp_path)
    assert broken.code == 1
    assert "entry 2: its content does not match its hash" in broken.err
    assert "The 1 entries before it are intact" in broken.err
