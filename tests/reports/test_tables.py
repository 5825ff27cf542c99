"""The table writers: every format reads back equal, values are written plainly, rows stream,
and a failed write leaves no file behind."""

import csv
import io
import itertools
import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from govsocial.errors import ConfigError, GovsocialError, OutputError, UsageError
from govsocial.reports import xlsx
from govsocial.reports.tables import (
    atomic_write,
    format_for,
    rows_reader,
    write_table,
)

# 200,000 rows with what makes writers stumble: commas, quotes and line breaks in text,
# characters beyond ASCII, empty strings beside NULLs, time zones, lists, decimals.
ROWS = 200_000
QUERY = f"""
SELECT i AS id,
       CASE WHEN i % 13 = 0 THEN NULL
            WHEN i % 17 = 0 THEN ''
            ELSE 'Pemprov Jabar ' || i
                 || CASE WHEN i % 7 = 0 THEN ', "kutip" dan ✓ ' ELSE '' END
                 || CASE WHEN i % 11 = 0 THEN chr(10) || 'baris' ELSE '' END
       END AS text,
       TIMESTAMPTZ '2025-01-01 07:00:00+07' + INTERVAL (i) MINUTE AS posted_at,
       CASE WHEN i % 3 = 0 THEN NULL ELSE ['#jabar', 'ke-' || i] END AS hashtags,
       (i / 100)::DECIMAL(12, 2) AS amount,
       CASE WHEN i % 5 = 0 THEN NULL ELSE i * 0.5 END AS half
FROM range({ROWS}) t(i)
"""


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    yield connection
    connection.close()


def reader(con: duckdb.DuckDBPyConnection, sql: str = QUERY) -> pa.RecordBatchReader:
    return con.sql(sql).to_arrow_reader(50_000)


def differences(con: duckdb.DuckDBPyConnection, written: str) -> int:
    """Rows in one of QUERY and ``written`` (a query over the written file) but not both."""
    row = con.execute(
        f"SELECT count(*) FROM (({QUERY}) EXCEPT ALL ({written})) "
        f"UNION ALL SELECT count(*) FROM (({written}) EXCEPT ALL ({QUERY}))"
    ).fetchall()
    return sum(r[0] for r in row)


# The written file read back with the query's types (CSV holds a list as JSON text).
CSV_COLUMNS = (
    "{id: 'BIGINT', text: 'VARCHAR', posted_at: 'TIMESTAMPTZ', hashtags: 'VARCHAR', "
    "amount: 'DECIMAL(12, 2)', half: 'DOUBLE'}"
)
JSON_COLUMNS = CSV_COLUMNS.replace("hashtags: 'VARCHAR'", "hashtags: 'VARCHAR[]'")


def test_csv_reads_back_equal_with_plain_values(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    path = tmp_path / "posts.csv"
    assert write_table(reader(con), path) == ROWS
    data = path.read_bytes()
    assert b"\r\n" not in data  # \n endings, for tail, cut and shell loops
    written = (
        "SELECT id, text, posted_at, CAST(hashtags AS JSON)::VARCHAR[] AS hashtags, amount, "
        f"half FROM read_csv('{path}', header = true, allow_quoted_nulls = false, "
        f"columns = {CSV_COLUMNS})"
    )
    assert differences(con, written) == 0
    lines = list(itertools.islice(csv.reader(io.StringIO(data.decode(), newline="")), 20))
    assert lines[0] == ["id", "text", "posted_at", "hashtags", "amount", "half"]
    assert lines[1] == ["0", "", "2025-01-01T00:00:00+00:00", "", "0.00", ""]  # NULLs: empty
    assert lines[2] == [
        "1",
        "Pemprov Jabar 1",
        "2025-01-01T00:01:00+00:00",
        '["#jabar","ke-1"]',
        "0.01",
        "0.5",
    ]
    assert lines[18][:2] == ["17", ""]
    assert b'\n17,"",' in data  # an empty string is quoted: it is not NULL


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_reads_back_equal(con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"posts.{fmt}"
    assert write_table(reader(con), path) == ROWS
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    # the whole array parses as JSON; each of the first lines of JSON Lines does
    objects = json.loads(text) if fmt == "json" else [json.loads(line) for line in lines[:10]]
    assert len(lines) == (ROWS + 2 if fmt == "json" else ROWS)  # one object per line
    assert objects[7]["text"] == 'Pemprov Jabar 7, "kutip" dan ✓ '  # kept, not \u2713
    assert "✓" in text
    assert objects[1] == {
        "id": 1,
        "text": "Pemprov Jabar 1",
        "posted_at": "2025-01-01T00:01:00+00:00",
        "hashtags": ["#jabar", "ke-1"],
        "amount": 0.01,
        "half": 0.5,
    }
    assert '"amount":0.01' in text  # decimals are numbers
    if fmt == "json":
        assert len(objects) == ROWS
        assert text.startswith("[\n{") and text.endswith("}\n]\n")
    layout = "array" if fmt == "json" else "newline_delimited"
    source = f"read_json('{path}', format = '{layout}', columns = {JSON_COLUMNS})"
    assert differences(con, f"SELECT * FROM {source}") == 0


def test_parquet_reads_back_equal(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "posts.parquet"
    assert write_table(reader(con), path) == ROWS
    assert pq.read_table(path).equals(con.sql(QUERY).to_arrow_table())


def xlsx_rows(path: Path) -> list[list[object]]:
    """The cells of the first worksheet (numbers, booleans and inline strings)."""
    spreadsheet = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rows: list[list[object]] = []
    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as sheet:
        for _, element in ElementTree.iterparse(sheet):
            if element.tag != f"{spreadsheet}row":
                continue
            row: list[object] = []
            for cell in element:
                column = "".join(c for c in cell.get("r", "") if c.isalpha())
                index = sum((ord(c) - 64) * 26**i for i, c in enumerate(reversed(column))) - 1
                row += [None] * (index - len(row))
                if cell.get("t") == "inlineStr":
                    row.append("".join(cell.itertext()))
                elif cell.get("t") == "b":
                    row.append(cell.findtext(f"{spreadsheet}v") == "1")
                else:
                    row.append(float(cell.findtext(f"{spreadsheet}v") or "nan"))
            rows.append(row)
            element.clear()
    return rows


def test_xlsx_reads_back_equal(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # XlsxWriter writes about 65,000 cells a second: 20,000 rows here keep the suite quick.
    sql = QUERY.replace(f"range({ROWS})", "range(20000)")
    path = tmp_path / "posts.xlsx"
    assert write_table(reader(con, sql), path) == 20_000
    got = xlsx_rows(path)
    expected = con.sql(sql).fetchall()
    assert got[0] == ["id", "text", "posted_at", "hashtags", "amount", "half"]
    assert len(got) == 20_001
    for row, want in zip(got[1:], expected, strict=True):
        assert row[0] == want[0]
        assert (row[1] if len(row) > 1 else None) == want[1]
        # a timestamp is an Excel date (days since 1899-12-30), in UTC as its format says
        assert row[2] == pytest.approx(want[2].timestamp() / 86_400 + 25_569)
        tags = row[3] if len(row) > 3 else None
        assert tags == (None if want[3] is None else json.dumps(want[3], separators=(",", ":")))
    with zipfile.ZipFile(path) as archive:
        assert "hh:mm:ss &quot;UTC&quot;" in archive.read("xl/styles.xml").decode()


def test_values_are_written_plainly(con: duckdb.DuckDBPyConnection) -> None:
    sql = """
    SELECT 'é' AS s, {'x': 1, 'y': [1, 2]} AS st, MAP {'k': 1} AS m,
           TIMESTAMPTZ '2025-03-01 08:00:00.5+07' AS ts, TIMESTAMP '2025-03-01 08:00:00' AS naive,
           DATE '2025-03-01' AS d, TIME '01:02:03' AS t, 'nan'::DOUBLE AS nan,
           '\\xAA\\xBB'::BLOB AS bytes, INTERVAL 3 DAY AS gap, true AS yes,
           [NULL, 'q"'] AS l
    """
    out = io.StringIO()
    write_table(reader(con, sql), out, "csv")
    assert out.getvalue().splitlines()[1] == (
        'é,"{""x"":1,""y"":[1,2]}","{""k"":1}",2025-03-01T01:00:00.500000+00:00,'
        '2025-03-01T08:00:00,2025-03-01,01:02:03,nan,qrs=,P3D,true,"[null,""q\\""""]"'
    )
    out = io.StringIO()
    write_table(reader(con, sql), out, "jsonl")
    assert json.loads(out.getvalue()) == {
        "s": "é",
        "st": {"x": 1, "y": [1, 2]},
        "m": {"k": 1},
        "ts": "2025-03-01T01:00:00.500000+00:00",
        "naive": "2025-03-01T08:00:00",
        "d": "2025-03-01",
        "t": "01:02:03",
        "nan": None,
        "bytes": "qrs=",
        "gap": "P3D",
        "yes": True,
        "l": [None, 'q"'],
    }


def test_rows_stream_batch_by_batch(con: duckdb.DuckDBPyConnection) -> None:
    """Rows are written while the source is still producing them: not all held at once."""
    written: list[int] = []
    written_when_asked: list[int] = []
    source = con.sql("SELECT i FROM range(400000) t(i)").to_arrow_reader(20_000)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in source:
            written_when_asked.append(sum(written))
            yield batch

    class Sink(io.RawIOBase):
        def write(self, data: object) -> int:
            written.append(len(memoryview(data)))  # type: ignore[arg-type]
            return len(memoryview(data))  # type: ignore[arg-type]

    stream = pa.RecordBatchReader.from_batches(source.schema, batches())
    assert write_table(stream, Sink(), "csv") == 400_000
    assert len(written_when_asked) == 20
    # most rows were out before the source gave its last batch (a few are converted ahead)
    assert written_when_asked[-1] > sum(written) / 2


def test_text_streams_with_or_without_a_byte_buffer() -> None:
    data = rows_reader(["a", "b"], [(1, "é"), (2, None)])
    plain = io.StringIO()
    write_table(data, plain, "csv")
    assert plain.getvalue() == "a,b\n1,é\n2,\n"
    raw = io.BytesIO()
    wrapper = io.TextIOWrapper(raw, encoding="utf-8")
    write_table(rows_reader(["a"], [(1,)]), wrapper, "json")
    wrapper.flush()
    assert raw.getvalue() == b'[\n{"a":1}\n]\n'
    empty = io.StringIO()
    write_table(rows_reader(["a"], []), empty, "json")
    assert empty.getvalue() == "[]\n"


def test_rows_reader_makes_mixed_columns_text() -> None:
    out = io.StringIO()
    write_table(rows_reader(["x", "y"], [(1, "a"), ("b", 2.5)]), out, "csv")
    assert out.getvalue() == "x,y\n1,a\nb,2.5\n"


# -- files ----------------------------------------------------------------------------------
def failing_after_one_batch(error: Exception) -> pa.RecordBatchReader:
    schema = pa.schema([("x", pa.int64())])

    def batches() -> Iterator[pa.RecordBatch]:
        yield pa.record_batch([pa.array(range(20_000))], schema=schema)
        raise error

    return pa.RecordBatchReader.from_batches(schema, batches())


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "parquet", "xlsx"])
def test_a_failure_leaves_no_file_and_the_old_one_intact(tmp_path: Path, fmt: str) -> None:
    new = tmp_path / f"new.{fmt}"
    with pytest.raises(GovsocialError, match="the query broke"):
        write_table(failing_after_one_batch(GovsocialError("the query broke")), new)
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / f"old.{fmt}"
    old.write_bytes(b"yesterday's export")
    with pytest.raises(KeyboardInterrupt):
        write_table(failing_after_one_batch(KeyboardInterrupt()), old)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == [old.name]
    assert old.read_bytes() == b"yesterday's export"


def test_a_full_disk_is_named_and_leaves_nothing(tmp_path: Path) -> None:
    # A file-size limit stands in for a full disk (root ignores permissions).
    script = textwrap.dedent(
        f"""
        import resource, signal
        import pyarrow as pa
        from govsocial.reports.tables import write_table
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        table = pa.table({{"x": pa.array(range(1_000_000))}})
        write_table(table, {str(tmp_path / "big.csv")!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode != 0
    assert "OutputError" in done.stderr
    assert f"Could not write {tmp_path / 'big.csv'}: File too large" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_wrong_targets_say_the_fix(tmp_path: Path) -> None:
    data = rows_reader(["a"], [(1,)])
    with pytest.raises(ConfigError, match="does not exist. Create it first"):
        write_table(data, tmp_path / "missing" / "out.csv")
    with pytest.raises(ConfigError, match="is a folder. Give a file name"):
        write_table(data, tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        write_table(data, tmp_path / "file" / "out.csv")
    with pytest.raises(UsageError, match=r"\.csv, \.json, \.jsonl, \.parquet, \.xlsx"):
        write_table(data, tmp_path / "out.txt")
    with pytest.raises(UsageError, match="binary format"):
        write_table(data, io.StringIO(), "parquet")
    assert format_for("A.CSV") == "csv"
    assert format_for(Path("x/y.jsonl")) == "jsonl"


def test_excel_row_limit_is_refused_with_the_alternatives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsx, "EXCEL_MAX_ROWS", 11)  # 10 rows below the header
    path = tmp_path / "out.xlsx"
    write_table(rows_reader(["a"], [(i,) for i in range(10)]), path)
    assert len(xlsx_rows(path)) == 11
    with pytest.raises(OutputError, match=r"(?s)more rows than an Excel worksheet.*CSV or Parquet"):
        write_table(rows_reader(["a"], [(i,) for i in range(11)]), tmp_path / "big.xlsx")
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]


def test_atomic_write_writes_bytes_the_same_careful_way(tmp_path: Path) -> None:
    atomic_write(tmp_path / "kept.csv", b"a,b\n")
    assert (tmp_path / "kept.csv").read_bytes() == b"a,b\n"
    with pytest.raises(ConfigError, match="does not exist"):
        atomic_write(tmp_path / "no" / "kept.csv", b"")


@pytest.mark.parametrize("zone", [None, "UTC"])
def test_timestamps_are_written_as_python_writes_them(zone: str | None) -> None:
    """The fast path (dates and a table of the day's seconds) against datetime.isoformat."""
    rng = np.random.default_rng(9)
    ticks = rng.integers(-60 * 10**15, 250 * 10**15, 20_000)  # microseconds, years 68–9892
    ticks[::3] -= ticks[::3] % 1_000_000  # whole seconds: no fraction written
    column = pa.array(ticks, pa.int64()).cast(pa.timestamp("us", zone))
    out = io.StringIO()
    write_table(pa.table({"t": column}), out, "csv")
    assert out.getvalue().splitlines()[1:] == [v.isoformat() for v in column.to_pylist()]


def test_xlsxwriter_is_loaded_only_to_write_xlsx() -> None:
    """The writers' modules stay cheap to import: xlsxwriter (and Parquet) load when used."""
    code = (
        "import sys, govsocial.reports.tables; "
        "print(sorted({'xlsxwriter', 'pyarrow.parquet'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
