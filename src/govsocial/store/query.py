"""Read-only SQL for analysts (`govsocial sql`): a guard, a locked-down connection, a stream.

Two layers keep a query from changing anything, each enough for the common cases alone:

1. **The guard** (:func:`check_read_only`) runs no SQL; it asks DuckDB's own parser.
   ``json_serialize_sql`` serialises exactly the SELECT family (SELECT, FROM-first, WITH,
   VALUES, UNION/EXCEPT/INTERSECT, SUMMARIZE, DESCRIBE, SHOW, UNPIVOT, PIVOT with an IN list)
   and refuses every other statement. Three more reads are accepted by shape:
   ``EXPLAIN [ANALYZE] <read>`` (the explained statement is checked the same way, so
   ``EXPLAIN ANALYZE COPY ...`` is refused), ``CALL f(...)`` (checked and run as
   ``SELECT * FROM f(...)``) and a ``PIVOT`` statement without an IN list (DuckDB parses it as
   a MULTI statement that the serialiser refuses; one that begins with PIVOT can only be a
   pivot). Everything else (COPY, EXPORT, ATTACH, INSTALL/LOAD, SET, PRAGMA, writes, DDL,
   transactions) is refused with what, why and what to do instead.
2. **The connection** (:func:`open_query`): the warehouse opened read-only on a connection of
   its own, then ``enable_external_access = false`` (no file read or written, nothing
   downloaded), extension auto-install and auto-load off, and ``lock_configuration = true`` so
   the query cannot switch them back (``SET`` fails at run time too). With ``allow_files``,
   the existing local files the query names become readable (``allowed_paths``), and only
   those. DuckDB 2.0.1 has no read-only variant: ``allowed_paths`` lets those files be
   written too, so writing them stays the guard's to refuse; every other file, URLs and
   extension downloads stay closed. Patterns (``*.csv``) are not supported: they would need
   ``allowed_directories``, which opens whole folders for writing (and, with ``/``, let
   ``INSTALL`` download an extension in our trials).

Results stream: :func:`open_query` yields the columns and an Arrow ``RecordBatchReader``
(``reports/tables.py`` writes it out batch by batch), so no caller holds all rows. Every
error, at parse, bind or run time (even mid-stream), is a :class:`QueryError` that quotes
DuckDB and says the fix.

The lockdown is a setting of the DuckDB *database instance*, which DuckDB shares between the
connections of one process to one file: open queries with :func:`open_query` in a process
that holds no other connection to the warehouse (the CLI), never on a shared ``Warehouse``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from govsocial.errors import StoreError
from govsocial.store.failures import warehouse_failure
from govsocial.store.warehouse import Warehouse

ROWS_PER_BATCH = 65_536

# The hint for files, in the CLI's words (the web app has no such flag and never allows it).
ALLOW_FILES_FLAG = "--allow-files"
_LOCKDOWN = (
    "SET enable_external_access = false",
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    "SET lock_configuration = true",  # last: the query cannot undo the lines above
)

_PARSER_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

_ACCEPTED = (
    "`govsocial sql` runs only reads: SELECT, WITH, FROM, VALUES, UNION, SUMMARIZE, DESCRIBE, "
    "SHOW, PIVOT, UNPIVOT, EXPLAIN [ANALYZE] of these, and CALL of a table function"
)
_SCHEMA_HINT = (
    "The tables and their columns are described in docs/schema.md; `SHOW TABLES` and "
    "`DESCRIBE posts` list them from the warehouse"
)
_CHANGES = (
    "changes the warehouse",
    "The warehouse changes only through govsocial commands (registry load, import, synth, "
    "awards run); to experiment with SQL that writes, copy the warehouse file and open the copy "
    "with the duckdb command-line tool",
)
_FILES = (
    "reads or writes files",
    "To save a result, give an output file instead (--output result.csv; also .json, .jsonl, "
    f".parquet and .xlsx); to read a local file, use read_csv('file.csv') with "
    f"{ALLOW_FILES_FLAG}",
)
# Why each kind of statement is refused, and what to do instead.
_REFUSALS: dict[str, tuple[str, str]] = {
    "COPY": _FILES,
    "EXPORT": _FILES,
    "COPY_DATABASE": _FILES,
    "ATTACH": ("opens another database", "Query the warehouse's own tables"),
    "DETACH": ("closes a database", "Query the warehouse's own tables"),
    "LOAD": (
        "installs or loads a DuckDB extension (a download from the network)",
        "`govsocial sql` works with the extensions built into DuckDB (json, parquet, icu)",
    ),
    "SET": (
        "changes a setting of the session",
        "Settings are fixed for `govsocial sql`; write the value into the query instead",
    ),
    "VARIABLE_SET": (
        "changes a setting of the session",
        "Settings are fixed for `govsocial sql`; write the value into the query instead",
    ),
    "PRAGMA": (
        "can change settings",
        "Use its table-function form, e.g. SELECT * FROM pragma_table_info('posts'), or "
        "DESCRIBE posts, SHOW TABLES",
    ),
    "TRANSACTION": ("controls a transaction", "Leave it out: each query runs on its own"),
    "PREPARE": ("prepares a statement", "Write the values into the query instead"),
    "EXECUTE": ("runs a prepared statement", "Write the values into the query instead"),
}


class QueryError(StoreError):
    """A query that cannot run: empty, does not parse, refused by the guard, or failed at
    run time. The message quotes DuckDB and says the fix (exit code 1)."""


class QueryRefusedError(QueryError):
    """A statement that is not a read, or a read of a file or URL that is not allowed."""


@dataclass(frozen=True)
class ReadStatement:
    """One statement that passed the guard, in the form that is run."""

    sql: str  # the user's statement, or its rewrite (CALL f() → SELECT * FROM f())
    kind: str  # SELECT, PIVOT, CALL or EXPLAIN
    strings: tuple[str, ...]  # the string constants and names in it (files it may read)


@dataclass(frozen=True)
class QueryStream:
    """A running query: its column names and its rows as a stream of Arrow record batches.
    Reading the stream raises :class:`QueryError` for errors met while it runs."""

    columns: list[str]
    reader: pa.RecordBatchReader

    @property
    def schema(self) -> pa.Schema:
        return self.reader.schema


# -- the guard ---------------------------------------------------------------------------------
def check_read_only(sql: str) -> list[ReadStatement]:
    """The statements of ``sql``, each checked to be a read; raise :class:`QueryError` (empty
    or does not parse) or :class:`QueryRefusedError` (not a read). Nothing is run."""
    parser = duckdb.connect(":memory:", config=_PARSER_CONFIG)  # parses; touches nothing
    try:
        statements = _split(parser, sql)
        if not statements:
            raise QueryError(
                "The query is empty (no SQL statement in it, only spaces or comments). Give a "
                'SELECT statement, e.g. govsocial sql "SELECT count(*) FROM posts".'
            )
        checked = []
        for number, text in enumerate(statements, 1):
            where = f"statement {number} of {len(statements)}" if len(statements) > 1 else ""
            checked.append(_check(parser, text, where))
        return checked
    finally:
        parser.close()


def _split(parser: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    try:
        return [s.query for s in parser.extract_statements(sql)]
    except duckdb.Error as exc:
        raise QueryError(
            f"The query does not parse: {_duckdb_words(exc)}\nFix the SQL. {_SCHEMA_HINT}."
        ) from exc


def _check(parser: duckdb.DuckDBPyConnection, text: str, where: str) -> ReadStatement:
    kind = _kind(parser, text)
    body = _LEADING_NOISE.sub("", text, count=1).rstrip().rstrip(";").rstrip()
    first_word = re.match(r"[A-Za-z_]*", body)
    keyword = first_word.group(0).upper() if first_word else ""
    explained = None
    if kind == "SELECT":
        strings = _serialised_strings(parser, body)
        if strings is not None:
            return ReadStatement(body, "SELECT", strings)
    elif kind == "MULTI" and keyword in {"PIVOT", "PIVOT_WIDER"}:
        # A pivot without an IN list; its parts (a table or a subquery, expressions) are all
        # of the SELECT grammar. Its string constants are found in its text.
        return ReadStatement(body, "PIVOT", tuple(_quoted_strings(body)))
    elif kind == "CALL" and keyword == "CALL":
        rewritten = "SELECT * FROM " + body[len("CALL") :].lstrip()
        strings = _serialised_strings(parser, rewritten)
        if strings is not None:
            return ReadStatement(rewritten, "CALL", strings)
    elif kind in {"EXPLAIN", "MULTI"} and keyword == "EXPLAIN":
        inner = _explained(parser, body)
        if isinstance(inner, ReadStatement):
            return inner
        kind, explained = "EXPLAIN", inner
    raise _refused(kind, text, where, explained)


def _explained(parser: duckdb.DuckDBPyConnection, body: str) -> ReadStatement | str:
    """``EXPLAIN [ANALYZE] <statement>`` as a ReadStatement if the explained statement is a
    read; else the kind of the explained statement."""
    prefix = _EXPLAIN.match(body)
    if prefix is None:
        return "INVALID"
    rest = body[prefix.end() :]
    options = _EXPLAIN_OPTIONS.match(rest)
    # `EXPLAIN (FORMAT json) SELECT ...` has options; `EXPLAIN (SELECT 1) UNION ...` does not.
    starts = [prefix.end() + options.end(), prefix.end()] if options else [prefix.end()]
    kind = "INVALID"
    for start in starts:
        try:
            kind = _kind(parser, body[start:])
            if kind == "EXPLAIN":
                continue
            inner = _check(parser, body[start:], "")
        except QueryError:
            continue
        return ReadStatement(body[:start] + inner.sql, "EXPLAIN", inner.strings)
    return kind


def _kind(parser: duckdb.DuckDBPyConnection, text: str) -> str:
    try:
        statements = parser.extract_statements(text)
    except (duckdb.Error, ValueError) as exc:
        raise QueryError(f"The statement does not parse: {_duckdb_words(exc)}") from exc
    if len(statements) != 1:
        return "MULTIPLE"
    try:
        return str(statements[0].type.name)
    except ValueError:  # a statement kind the Python client has no name for
        return "UNKNOWN"


def _serialised_strings(parser: duckdb.DuckDBPyConnection, text: str) -> tuple[str, ...] | None:
    """The strings of ``text``'s syntax tree if it is one statement of the SELECT family;
    else None. json_serialize_sql is DuckDB's own serialiser, which refuses anything else."""
    try:
        statements = parser.extract_statements(text)
        if len(statements) != 1 or statements[0].type.name != "SELECT":
            return None
        row = parser.execute("SELECT json_serialize_sql(?)", [text]).fetchone()
    except (duckdb.Error, ValueError):
        return None
    tree: dict[str, Any] = json.loads(row[0]) if row else {"error": True}
    trees = tree.get("statements")
    if tree.get("error") or not isinstance(trees, list) or len(trees) != 1:
        return None
    return tuple(_strings_in(trees))


def _strings_in(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings_in(value)


def _quoted_strings(text: str) -> Iterator[str]:
    for match in re.finditer(r"'((?:[^']|'')*)'", text):
        yield match.group(1).replace("''", "'")


def _refused(kind: str, text: str, where: str, explained: str | None) -> QueryRefusedError:
    body = _LEADING_NOISE.sub("", text, count=1)
    about = explained or kind
    reason, fix = _REFUSALS.get(about, _CHANGES)
    if about == "MULTI":
        reason = "is not a read DuckDB's parser can confirm"
        fix = (
            "A PIVOT without an IN list runs only as a statement of its own (PIVOT posts ON "
            "platform USING count(*)); inside another query, list the values (... ON platform "
            "IN ('x', 'youtube') ...)"
        )
    elif about == "CALL" and body[:4].upper() == "CALL":
        reason = "does not call a table function"
        fix = "CALL runs table functions only, e.g. CALL pragma_version()"
    elif about in {"SELECT", "INVALID", "UNKNOWN"}:
        reason = "is not a read DuckDB's parser can confirm"
        fix = "Write it as a plain SELECT, or split it into separate statements"
    snippet = " ".join(text.split())
    if kind == "LOAD" and snippet[:7].upper() == "INSTALL":  # DuckDB types INSTALL as LOAD
        kind = "INSTALL"
    snippet = snippet if len(snippet) <= 70 else snippet[:69] + "…"
    which = f" ({where})" if where else ""
    what = f"an EXPLAIN of {_a(explained)} statement" if explained else f"{_a(kind)} statement"
    if explained:
        reason = f"explains a statement that {reason}"
    return QueryRefusedError(
        f"Refused {what}{which}, {snippet!r}: it {reason}. {fix}. {_ACCEPTED}."
    )


def _a(word: str) -> str:
    return ("an " if word[:1] in "AEIOU" else "a ") + word


_LEADING_NOISE = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.S)
_EXPLAIN = re.compile(r"EXPLAIN\b\s*(?:ANALY[SZ]E\b\s*)?(?:VERBOSE\b\s*)?", re.I)
_EXPLAIN_OPTIONS = re.compile(r"\((?:[^()'\"]|'[^']*'|\"[^\"]*\")*\)\s*")


# -- running -----------------------------------------------------------------------------------
@contextlib.contextmanager
def open_query(
    db: Path | str,
    sql: str,
    *,
    allow_files: bool = False,
    rows_per_batch: int = ROWS_PER_BATCH,
) -> Iterator[QueryStream]:
    """Check ``sql`` (:func:`check_read_only`), open the warehouse at ``db`` read-only on a
    locked-down connection of its own, run it, and yield the last statement's columns and
    rows as a stream; the connection closes when the ``with`` block ends.

    Statements before the last are checked against the warehouse (parsed and bound) but not
    run: reads have no effects, and only the last one's rows are returned.
    """
    statements = check_read_only(sql)
    path = Path(db)
    files = _named_files(statements) if allow_files else []
    wh = Warehouse.open(path, read_only=True)
    # Not `with wh`: an error of the caller's own (writing the rows out) is not the warehouse's.
    try:
        _lock_down(wh, files)
        for statement in statements[:-1]:
            with _errors(path, allow_files):
                wh.con.sql(statement.sql)
        with _errors(path, allow_files):
            reader = wh.con.sql(statements[-1].sql).to_arrow_reader(rows_per_batch)
        stream = pa.RecordBatchReader.from_batches(
            reader.schema, _batches(reader, path, allow_files)
        )
        yield QueryStream(list(reader.schema.names), stream)
    finally:
        with contextlib.suppress(duckdb.Error, StoreError):
            wh.close()


def _lock_down(wh: Warehouse, files: list[str]) -> None:
    try:
        if files:  # must come before external access is turned off
            wh.con.execute("SET allowed_paths = ?", [files])
        for statement in _LOCKDOWN:
            wh.con.execute(statement)
    except duckdb.Error as exc:
        raise StoreError(
            f"Could not make the connection to {wh.path} read-only for the query "
            f"({_duckdb_words(exc)}). If this process has the warehouse open elsewhere, close "
            f"it first; DuckDB shares settings between connections to one file."
        ) from exc


def _named_files(statements: list[ReadStatement]) -> list[str]:
    """The existing local files named in the statements, as written and as absolute paths
    (DuckDB compares the paths it is asked for with these)."""
    files: set[str] = set()
    for statement in statements:
        for text in statement.strings:
            if not text or "://" in text or len(text) > 4096 or "\0" in text:
                continue
            with contextlib.suppress(OSError, RuntimeError):  # RuntimeError: ~nosuchuser
                path = Path(text).expanduser()
                if path.is_file():
                    files.update({text, str(path), os.path.abspath(path), str(path.resolve())})
    return sorted(files)


def _batches(
    reader: pa.RecordBatchReader, path: Path, allow_files: bool
) -> Iterator[pa.RecordBatch]:
    while True:
        with _errors(path, allow_files):
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
        yield batch


@contextlib.contextmanager
def _errors(path: Path, allow_files: bool) -> Iterator[None]:
    """DuckDB's errors (and, mid-stream, Arrow's OSError carrying them) as QueryError."""
    try:
        yield
    except (duckdb.Error, OSError, pa.ArrowException) as exc:
        if isinstance(exc, duckdb.InterruptException) or str(exc).startswith("INTERRUPT"):
            raise KeyboardInterrupt from exc
        failure = warehouse_failure(path, exc, "running the query")
        if failure is not None:
            raise failure from exc
        raise _query_error(exc, path, allow_files) from exc


def _query_error(exc: BaseException, path: Path, allow_files: bool) -> QueryError:
    words = _duckdb_words(exc)
    denied = re.search(r'Cannot access (?:file|directory) "([^"]*)"', words)
    if isinstance(exc, duckdb.PermissionException) or denied:
        target = denied.group(1) if denied else ""
        return QueryRefusedError(_file_refusal(target, words, allow_files))
    if isinstance(exc, duckdb.ParserException):
        return QueryError(f"The query does not parse: {words}\nFix the SQL. {_SCHEMA_HINT}.")
    names = isinstance(exc, duckdb.CatalogException | duckdb.BinderException) or re.match(
        r"(Catalog|Binder) Error", words
    )
    fix = f"{_SCHEMA_HINT}." if names else "Fix the query and run it again."
    return QueryError(f"The query failed on the warehouse {path}: {words}\n{fix}")


def _file_refusal(target: str, words: str, allow_files: bool) -> str:
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", target):
        return (
            f"The query tried to read {target}: `govsocial sql` never reads URLs (no network "
            f"access). Download the file, then read your copy with {ALLOW_FILES_FLAG}, e.g. "
            f"read_csv('copy.csv')."
        )
    if not target:
        return f"The query was refused access outside the warehouse ({words}). {_ACCEPTED}."
    if not allow_files:
        return (
            f"The query tried to read the file {target}: by default `govsocial sql` reads only "
            f"the warehouse. Add {ALLOW_FILES_FLAG} to let a query read the local files it "
            f"names; URLs are never read."
        )
    if any(c in target for c in "*?[{"):
        return (
            f"The query names the pattern {target}: with {ALLOW_FILES_FLAG} a query reads "
            f"only files named one by one. List them instead, e.g. "
            f"read_csv(['a.csv', 'b.csv'])."
        )
    if not Path(target).expanduser().exists():
        return (
            f"There is no file {target} (a relative path is read from the current folder, "
            f"{Path.cwd()}). Check the name, or give the full path."
        )
    return (
        f"The query tried to use {target} in a way `govsocial sql` does not allow (only "
        f"reading the files the query names): {words}"
    )


def _duckdb_words(exc: BaseException) -> str:
    """DuckDB's message, with the LINE/caret context kept on its own lines."""
    return str(exc).strip()
