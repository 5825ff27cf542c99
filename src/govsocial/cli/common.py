"""What every command shares: the consoles, the common options, the warehouse, tables, output.

Nothing here interprets data as markup: the consoles print text as it is (``[siaran pers]`` and
``:fire:`` stay as written); styles are applied with :class:`rich.text.Text` only.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from govsocial.config import SETTINGS

if TYPE_CHECKING:
    from rich.progress import Progress

    from govsocial.store.warehouse import Warehouse


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """The reader of stdout went away (`govsocial info | head -1`): the reader's choice,
        not an error. Quiet the stream and end with exit code 0 (Rich exits 1)."""
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(0)


out = _Console(markup=False, emoji=False, highlight=False, soft_wrap=True)
err = _Console(stderr=True, markup=False, emoji=False, highlight=False, soft_wrap=True)


class State:
    """Global options, set by the main callback (a command's own --db wins)."""

    db: Path | None = None


class OutputFormat(StrEnum):
    """How a command prints rows: a table for people, CSV or JSON for programs."""

    table = "table"
    csv = "csv"
    json = "json"


DbOption = Annotated[
    Path | None,
    typer.Option("--db", help=SETTINGS["db"].option_help(), show_default=False),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", help="table (for reading), csv or json (for programs)."),
]


def db_path(db: Path | None = None) -> Path:
    """The warehouse path: this command's --db, else the global --db, else the settings."""
    from govsocial.config import resolve

    return Path(resolve("db", db if db is not None else State.db).value)


def open_warehouse(
    db: Path | None = None, *, create: bool = False, read_only: bool = False
) -> Warehouse:
    from govsocial.store.warehouse import Warehouse

    return Warehouse.open(db_path(db), create=create, read_only=read_only)


def styled(text: str, style: str) -> Text:
    return Text(text, style=style)


def say(*parts: str | Text) -> None:
    """Print one line to stdout; plain strings are printed as they are."""
    out.print(Text.assemble(*parts))


def warn(*parts: str | Text) -> None:
    err.print(Text.assemble(*parts))


def progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


NARROWEST = 8  # a wrapping column is never narrower than this (or its widest cell)


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    keep: Sequence[str] = (),
    title: str | None = None,
) -> Table | Group:
    """A table whose ``keep`` columns (ids people copy) are never cut or wrapped; the others
    wrap, sharing the room left in proportion to their widest cell. ``None`` is shown as
    empty. When even that does not fit the console, each row is shown as a block of
    ``column: value`` lines instead (like psql's expanded display): nothing is ever cut."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    widest = [max([len(name), *(len(r[i]) for r in cells)]) for i, name in enumerate(columns)]
    room = out.width - 3 * (len(columns) - 1) - 1  # between columns: a rule and two spaces
    widths = _widths(columns, widest, keep, room)
    if widths is None:
        return _blocks(columns, cells, title)
    grid = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False
    )
    for name, width in zip(columns, widths, strict=True):
        grid.add_column(name, no_wrap=name in keep, overflow="fold", width=width)
    for r in cells:
        grid.add_row(*r)
    return grid


def _widths(
    columns: Sequence[str], widest: list[int], keep: Sequence[str], room: int
) -> list[int] | None:
    """Each column's width within ``room``: kept columns their widest cell; the others share
    the rest, narrowest need first (a short column gets all it needs, the long ones divide what
    is left), never under NARROWEST. None if it cannot fit."""
    kept = [name in keep for name in columns]
    floor = [w if k else min(w, NARROWEST) for w, k in zip(widest, kept, strict=True)]
    if sum(floor) > room:
        return None
    if sum(widest) <= room:
        return widest
    widths = list(floor)
    left = room - sum(w for w, k in zip(widest, kept, strict=True) if k)
    wrapping = sorted((i for i, k in enumerate(kept) if not k), key=lambda i: widest[i])
    for n, i in enumerate(wrapping):
        fair = left // (len(wrapping) - n)
        widths[i] = min(widest[i], max(fair, floor[i]))
        left -= widths[i]
    return widths


def _blocks(columns: Sequence[str], cells: list[list[str]], title: str | None) -> Group:
    label = max(len(c) for c in columns)
    parts: list[Text] = [Text(title, style="bold")] if title else []
    for n, row in enumerate(cells):
        lines = [f"{name:>{label}}: {value}" for name, value in zip(columns, row, strict=True)]
        parts.append(Text(("\n" if n or title else "") + "\n".join(lines)))
    return Group(*parts)


def emit(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    fmt: OutputFormat,
    *,
    keep: Sequence[str] = (),
    title: str | None = None,
) -> None:
    """Print rows as a table, CSV or JSON (stdout), through the one set of table writers."""
    if fmt is OutputFormat.table:
        out.print(table(columns, rows, keep=keep, title=title))
        return
    from govsocial.reports.tables import rows_reader, write_table

    with piped():
        write_table(rows_reader(list(columns), rows), sys.stdout, written(fmt))


def written(fmt: OutputFormat) -> Literal["csv", "json"]:
    """The table writer's name for a machine format."""
    return "csv" if fmt is OutputFormat.csv else "json"


@contextmanager
def piped() -> Iterator[None]:
    """Writing to standard output that a reader may close early (`... | head`): that is the
    reader's choice, not an error, so the command ends quietly with exit code 0."""
    try:
        yield
    except BrokenPipeError:
        try:  # the interpreter's last flush of stdout must not fail again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        raise typer.Exit(0) from None


@contextmanager
def interrupted(what: str) -> Iterator[None]:
    """Turn Ctrl-C into :class:`~govsocial.errors.Interrupted` saying ``what`` was kept."""
    from govsocial.errors import Interrupted, interrupted_query

    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(what) from None
    except RuntimeError as exc:  # DuckDB's own Ctrl-C
        if not interrupted_query(exc):
            raise
        raise Interrupted(what) from None
