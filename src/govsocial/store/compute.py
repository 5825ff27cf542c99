"""Computations on the warehouse's own connection: an Ibis DuckDB session and Arrow results.

The metrics layer builds Ibis expressions and runs them here, on the connection the
:class:`Warehouse` holds (read-only ones too: nothing here writes to the file)::

    with duckdb_session(wh, {"TimeZone": "UTC"}) as ibis_con:
        sql = ibis_con.compile(ibis_con.table("posts").count().as_table())
        table = arrow(wh, sql)

Ibis is imported on first use, not with this module: ``govsocial info`` and ``--help`` must
start fast, and only computations need it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import duckdb

from govsocial.store.warehouse import Warehouse

if TYPE_CHECKING:
    import pyarrow as pa

SettingValue = str | bool


@contextlib.contextmanager
def duckdb_session(wh: Warehouse, settings: Mapping[str, SettingValue]) -> Iterator[Any]:
    """The warehouse's connection as an Ibis DuckDB backend, with DuckDB ``settings`` applied.

    Each setting is read first and put back when the block ends, also those Ibis changes
    itself on connecting (``TimeZone``, ``python_enable_replacements``) if they are listed, so
    the connection is as it was for the warehouse's other users. A setting this DuckDB does not
    have is skipped. The backend is only valid inside the block.
    """
    saved: dict[str, Any] = {}
    for name in settings:
        with contextlib.suppress(duckdb.Error):  # a setting this DuckDB does not have
            rows = wh.con.execute("SELECT current_setting(?)", [name]).fetchall()
            saved[name] = rows[0][0]
    try:
        import ibis  # slow to import: only when a computation runs

        con = ibis.duckdb.from_connection(wh.con)
        for name, value in settings.items():
            if name in saved:  # a name DuckDB knows, so safe to write into SET
                wh.con.execute(f"SET {name} = {_sql_value(value)}")
        settle(wh)
        yield con
    finally:
        for name, value in saved.items():
            with contextlib.suppress(duckdb.Error):  # the connection may be closed already
                wh.con.execute(f"SET {name} = {_sql_value(value)}")


def arrow(wh: Warehouse, sql: str) -> pa.Table:
    """Run the query ``sql`` (e.g. compiled by an Ibis session) on the warehouse; all rows as
    Arrow, with DuckDB's own types.

    DuckDB's own Arrow export, not Ibis's ``to_pyarrow``, which goes through ``con.sql()`` in
    a way DuckDB >= 2.0 refuses while another result of the connection is partly read.
    """
    settle(wh)
    relation = wh.con.sql(sql)
    if hasattr(relation, "to_arrow_table"):  # DuckDB >= 1.4 (arrow() before)
        return relation.to_arrow_table()
    return relation.arrow()


def settle(wh: Warehouse) -> None:
    """Finish a partly read ``execute()`` result (e.g. after ``fetchone()``) on the connection.

    DuckDB >= 2 refuses ``con.sql()`` (used by Ibis and by :func:`arrow`) while one is pending.
    """
    if hasattr(wh.con, "complete"):
        wh.con.complete()


def _sql_value(value: SettingValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"
