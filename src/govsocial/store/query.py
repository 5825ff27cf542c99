"""Read-only SQL for analysts (`govsocial sql`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from govsocial.errors import ConfigError, StoreError
from govsocial.store.warehouse import Warehouse

# Statement types that only read. COPY, ATTACH, EXPORT, SET, INSTALL/LOAD ... are refused too:
# they write files, change the session or reach outside the warehouse.
_READ_ONLY = {"SELECT", "EXPLAIN", "PRAGMA", "RELATION"}


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_read_only(wh: Warehouse, sql: str) -> QueryResult:
    """Run one or more read statements; return the last one's result."""
    try:
        statements = wh.con.extract_statements(sql)
    except duckdb.Error as exc:
        raise ConfigError(f"The query does not parse: {exc}") from exc
    if not statements:
        raise ConfigError(
            "The query is empty. Give a SELECT statement, e.g. "
            'govsocial sql "SELECT count(*) FROM posts".'
        )
    for statement in statements:
        kind = statement.type.name
        if kind not in _READ_ONLY:
            raise ConfigError(
                f"`govsocial sql` only reads: a {kind} statement is refused "
                f"({statement.query.strip()[:60]!r}). The warehouse changes only through "
                "govsocial commands (registry load, import, synth); to experiment, copy the "
                "file and open the copy with the duckdb CLI."
            )
    result: QueryResult | None = None
    for statement in statements:
        try:
            cursor = wh.con.execute(statement.query)
            columns = [d[0] for d in cursor.description or []]
            result = QueryResult(columns, cursor.fetchall())
        except duckdb.Error as exc:
            raise StoreError(f"The query failed: {exc}") from exc
    assert result is not None
    return result
