"""Documentation that must stay true: every column and every command is documented."""

import re
from pathlib import Path

import typer

from govsocial.cli import app
from govsocial.store import PUBLIC_RELATIONS, Warehouse

DOCS = Path(__file__).resolve().parents[1] / "docs"


def documented_columns() -> dict[str, set[str]]:
    sections: dict[str, set[str]] = {}
    current = None
    for line in (DOCS / "schema.md").read_text().splitlines():
        heading = re.match(r"^## (\w+)", line)
        if heading:
            current = heading.group(1)
            sections[current] = set()
        cell = re.match(r"^\| `(\w+)` \|", line)
        if cell and current:
            sections[current].add(cell.group(1))
    return sections


def test_every_column_of_every_public_relation_is_documented(tmp_path: Path) -> None:
    docs = documented_columns()
    with Warehouse.open(tmp_path / "w.duckdb", create=True) as wh:
        for relation in PUBLIC_RELATIONS:
            columns = {
                r[0]
                for r in wh.con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                    [relation],
                ).fetchall()
            }
            assert relation in docs, f"docs/schema.md has no section for {relation}"
            if relation.endswith("_latest"):
                continue  # views: "same columns as" their table
            assert docs[relation] == columns, relation


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    command = typer.main.get_command(app)
    names = []
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        if hasattr(sub, "commands"):
            names += [f"{name} {child}" for child in sub.commands]
        else:
            names.append(name)
    for name in names:
        assert f"## govsocial {name}\n" in text, f"docs/cli.md does not document `{name}`"


def test_every_option_of_every_command_is_documented_in_its_section() -> None:
    text = (DOCS / "cli.md").read_text()
    sections = dict(
        (m.group(1), m.group(2))
        for m in re.finditer(r"^## govsocial (.+?)\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    )
    command = typer.main.get_command(app)
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        children = sub.commands.items() if hasattr(sub, "commands") else [("", sub)]
        for child, cmd in children:
            title = f"{name} {child}".strip()
            for param in cmd.params:
                for opt in getattr(param, "opts", []):
                    if opt.startswith("--") and opt not in {"--db", "--help"}:
                        assert opt in sections[title], f"`{title}`: {opt} is not in docs/cli.md"
