import pytest

from conftest import scalar
from govsocial.errors import ConfigError, StoreError
from govsocial.store import Warehouse, run_read_only


def test_select_returns_columns_and_rows(registered: Warehouse) -> None:
    result = run_read_only(
        registered, "SELECT institution_id, cluster_id FROM institutions ORDER BY 1"
    )
    assert result.columns == ["institution_id", "cluster_id"]
    assert result.rows == [("jabarprov", "pemda"), ("kemenkes", "kementerian")]


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM institutions",
        "UPDATE institutions SET name = 'x'",
        "DROP TABLE posts",
        "CREATE TABLE t (x INT)",
        "COPY institutions TO '/tmp/out.csv'",
        "ATTACH '/tmp/other.duckdb'",
        "SELECT 1; DELETE FROM institutions",
    ],
)
def test_writes_are_refused_and_nothing_changes(registered: Warehouse, statement: str) -> None:
    with pytest.raises(ConfigError, match="only reads: a .* statement is refused"):
        run_read_only(registered, statement)
    assert scalar(registered, "SELECT count(*) FROM institutions") == 2


def test_bad_sql_is_explained(registered: Warehouse) -> None:
    with pytest.raises(ConfigError, match="does not parse"):
        run_read_only(registered, "SELEC 1")
    with pytest.raises(StoreError, match="query failed.*no_such_table"):
        run_read_only(registered, "SELECT * FROM no_such_table")
