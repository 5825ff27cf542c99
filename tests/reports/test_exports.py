"""The exports (reports/exports.py) read back with the run's values: every nominee of the
results once, the leaderboards as standings.parquet, per-institution and per-account metrics
recomputed here with SQL; the workbook in the report's language with numbers as numbers, the
CSV and Parquet with machine names, the readme naming every file and column."""

from __future__ import annotations

import codecs
import csv
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from babel.messages.extract import extract_from_file

import govsocial.reports
from govsocial.errors import UsageError
from govsocial.publish.model import ReadModel
from govsocial.reports import exports
from govsocial.reports.exports_columns import METRIC_LABELS
from govsocial.reports.exports_tables import nominee_rows
from govsocial.reports.i18n import Language, catalogue
from reports.published import published  # noqa: F401

TABLES = ("nominees", "leaderboards", "institutions", "accounts")
SHEETS = {
    "id": ["Tentang", "Nominasi", "Papan peringkat", "Instansi", "Akun"],
    "en": ["About", "Nominees", "Leaderboards", "Institutions", "Accounts"],
}


@pytest.fixture(scope="module")
def exported(published: ReadModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:  # noqa: F811
    """The exports of the small published run in both languages: lang → the exports folder."""
    folders = {}
    for lang in ("id", "en"):
        out = tmp_path_factory.mktemp(f"exports-{lang}")
        exports.write_exports(published, out, lang)
        folders[lang] = out / "exports"
    return folders


def parquet_rows(folder: Path, table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = pq.read_table(folder / f"{table}.parquet").to_pylist()
    return rows


def csv_rows(path: Path, schema: pa.Schema) -> list[dict[str, Any]]:
    """The CSV's rows, each value read as its Parquet column's type (empty: null)."""

    def typed(text: str, kind: pa.DataType) -> Any:
        if text == "":
            return None
        if pa.types.is_integer(kind):
            return int(text)
        return float(text) if pa.types.is_floating(kind) else text

    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == schema.names
        return [{f.name: typed(row[f.name], f.type) for f in schema} for row in reader]


def sheet_rows(path: Path, sheet: str) -> tuple[list[Any], list[list[Any]], Any]:
    """The sheet's header row, its cells below, and the sheet."""
    workbook = openpyxl.load_workbook(path)
    rows = list(workbook[sheet].iter_rows())
    return [c.value for c in rows[0]], [list(r) for r in rows[1:]], workbook[sheet]


def workbook(folder: Path, model: ReadModel) -> Path:
    return folder / f"{model.manifest['methodology_id']}-{model.run_id}.xlsx"


def test_every_nominee_appears_once_with_the_results_numbers(
    published: ReadModel,  # noqa: F811
    exported: dict[str, Path],
) -> None:
    expected = [
        (cat["id"], cl["cluster_id"], unit, status)
        for cat in published.results["categories"]
        for cl in cat["clusters"]
        for status, units in (("nominated", cl["nominees"]), ("held for review", cl["held"]))
        for unit in units
    ]
    assert len(expected) >= 50
    rows = parquet_rows(exported["id"], "nominees")
    keys = [(r["category"], r["cluster_id"], r["institution_id"], r["account_id"]) for r in rows]
    assert len(rows) == len(expected) and len(set(keys)) == len(keys)
    found = {key: row for key, row in zip(keys, rows, strict=True)}
    for category, cluster, unit, status in expected:
        row = found[(category, cluster, unit["institution_id"], unit["account_id"])]
        assert row["status"] == status and row["institution_name"] == unit["institution_name"]
        for name in ("rank", "score", "posts", "followers", "interactions", "stability"):
            assert row[name] == unit[name], name
        assert [row["rank_best"], row["rank_worst"]] == unit["rank_interval"]
        for component in unit["components"]:
            assert row[f"percentile_{component['metric']}"] == component["percentile"]
        scored = {f"percentile_{c['metric']}" for c in unit["components"]}
        assert all(
            v is None for k, v in row.items() if k.startswith("percentile_") and k not in scored
        )
        assert row["severe_flags"] == sum(f["severity"] == "severe" for f in unit["flags"])
        assert (row["flags"] or "").count(";") == max(len(unit["flags"]) - 1, 0)


@pytest.mark.parametrize("table", TABLES)
def test_csv_and_parquet_hold_the_same_rows(exported: dict[str, Path], table: str) -> None:
    folder = exported["id"]
    schema = pq.read_schema(folder / f"{table}.parquet")
    assert csv_rows(folder / f"{table}.csv", schema) == parquet_rows(folder, table)
    # machine files are the same in every language
    for ext in ("csv", "parquet"):
        english = (exported["en"] / f"{table}.{ext}").read_bytes()
        assert (folder / f"{table}.{ext}").read_bytes() == english


def test_csv_is_utf8_with_a_byte_order_mark_and_plain_numbers(exported: dict[str, Path]) -> None:
    path = exported["id"] / "institutions.csv"
    data = path.read_bytes()
    assert data.startswith(codecs.BOM_UTF8 + b"institution_id,institution_name,")
    rows = csv_rows(path, pq.read_schema(exported["id"] / "institutions.parquet"))
    text = data.decode("utf-8-sig").splitlines()
    big = max(rows, key=lambda r: r["followers"] or 0)
    assert big["followers"] > 1000 and f",{big['followers']}," in text[rows.index(big) + 1]
    # DuckDB (like pandas and R) reads the names without the mark
    assert duckdb.sql(f"SELECT * FROM read_csv('{path}')").columns[0] == "institution_id"


def test_parquet_is_typed_and_names_its_run(
    published: ReadModel,  # noqa: F811
    exported: dict[str, Path],
) -> None:
    schema = pq.read_schema(exported["id"] / "nominees.parquet")
    for name, kind in (("rank", pa.int64()), ("score", pa.float64()), ("account_id", pa.int64()),
                       ("posts", pa.int64()), ("category", pa.string())):  # fmt: skip
        assert schema.field(name).type == kind
    assert all(schema.field(n).type == pa.float64() for n in schema.names if "percentile" in n)
    for table in TABLES:
        meta = pq.read_schema(exported["id"] / f"{table}.parquet").metadata[b"govsocial"]
        run = json.loads(meta)
        assert run["run_id"] == published.run_id and run["synthetic"] is published.synthetic


def test_leaderboards_are_the_standings_with_their_percentiles(
    published: ReadModel,  # noqa: F811
    exported: dict[str, Path],
) -> None:
    rows = parquet_rows(exported["id"], "leaderboards")
    standings = published.table("standings").to_pylist()
    assert len(rows) == len(standings)
    by_unit = {(r["category"], r["cluster_id"], r["unit"]): r for r in rows}
    for unit in standings:
        row = by_unit[(unit["category"], unit["cluster_id"], unit["unit"])]
        for name in ("rank", "institution_id", "account_id", "handle", "score", "posts",
                     "followers", "interactions", "platforms"):  # fmt: skip
            assert row[name] == unit[name]
        assert row["status"] == (unit["status"] or None)
    components = published.table("components").to_pylist()
    combined = [c for c in components if c["platform"] == ""]
    for c in combined:
        row = by_unit[(c["category"], c["cluster_id"], c["unit"])]
        assert row[f"percentile_{c['metric']}"] == c["percentile"]
    filled = sum(v is not None for r in rows for k, v in r.items() if k.startswith("percentile_"))
    assert filled == len(combined) > 0


def test_institution_and_account_metrics_are_recomputed_equal(
    published: ReadModel,  # noqa: F811
    exported: dict[str, Path],
) -> None:
    period = published.results["methodology"]["period"]
    span = datetime.fromisoformat(period["end"]) - datetime.fromisoformat(period["start"])
    weeks = math.ceil(span.total_seconds() / (7 * 86_400))
    folder = published.folder
    sql = f"""
    WITH a AS (SELECT * FROM '{folder}/accounts.parquet'),
    w AS (SELECT a.institution_id, w.* FROM '{folder}/weekly.parquet' w JOIN a USING (account_id)),
    per_week AS (SELECT institution_id, count(DISTINCT week) AS active_weeks,
                        sum(sum_rate) / nullif(sum(rated_posts), 0) AS engagement_rate
                 FROM w GROUP BY ALL)
    SELECT institution_id, count(*) AS accounts, count(DISTINCT platform) AS platforms,
           sum(followers) AS followers, sum(posts) AS posts, sum(reposts) AS reposts,
           sum(interactions) AS interactions, sum(likes) AS likes, sum(comments) AS comments,
           sum(shares) AS shares, sum(rated_posts) AS rated_posts,
           any_value(p.engagement_rate) AS engagement_rate,
           coalesce(any_value(p.active_weeks), 0) AS active_weeks,
           sum(posts) / {weeks} AS posts_per_week
    FROM a LEFT JOIN per_week p USING (institution_id) GROUP BY institution_id
    """
    con = duckdb.connect()
    expected = {r[0]: r for r in con.sql(sql).fetchall()}
    names = con.sql(sql).columns
    rows = parquet_rows(exported["id"], "institutions")
    assert len(rows) == len(expected) == sum(published.coverage["institutions"].values())
    for row in rows:
        want = dict(zip(names, expected[row["institution_id"]], strict=True))
        for name, value in want.items():
            assert row[name] == (pytest.approx(value, rel=1e-12) if isinstance(value, float)
                                 else value), name  # fmt: skip
    nominations = {
        s["institution_id"]: s["nominations"] for s in published.results["champion"]["standings"]
    }
    assert {r["institution_id"]: r["nominations"] for r in rows if r["nominations"]} == nominations
    # every original post of the period, as coverage.json counts them
    originals = sum(p["posts"] - p["reposts"] for p in published.coverage["posts"].values())
    assert sum(r["posts"] for r in rows) == originals > 0

    accounts = {r["account_id"]: r for r in parquet_rows(exported["id"], "accounts")}
    source = published.table("accounts").to_pylist()
    assert len(accounts) == len(source)
    active = dict(
        con.sql(
            f"SELECT account_id, count(DISTINCT week) FROM '{folder}/weekly.parquet' GROUP BY 1"
        ).fetchall()
    )
    for account in source:
        row = accounts[account["account_id"]]
        assert {k: row[k] for k in account} == account
        assert row["active_weeks"] == active.get(account["account_id"], 0)
        assert row["posts_per_week"] == pytest.approx(account["posts"] / weeks)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_workbook_reads_back_in_its_language_with_numbers_as_numbers(
    published: ReadModel,  # noqa: F811
    exported: dict[str, Path],
    lang: str,
) -> None:
    path = workbook(exported[lang], published)
    assert openpyxl.load_workbook(path).sheetnames == SHEETS[lang]
    language = Language(lang, "exports")
    titles = {c["id"]: c["title"][lang] for c in published.results["categories"]}
    words = {
        "nominated": language.gettext("Nominated"),
        "held for review": language.gettext("Held for review"),
        None: None,
    }
    numbers = 0
    for table, sheet_name in zip(TABLES, SHEETS[lang][1:], strict=True):
        header, cells, sheet = sheet_rows(path, sheet_name)
        expected = parquet_rows(exported[lang], table)
        assert len(cells) == len(expected)
        assert (
            sheet.freeze_panes == "A2"
            and sheet.auto_filter.ref
            == f"A1:{sheet.cell(1, len(header)).column_letter}{len(cells) + 1}"
        )
        assert all(
            sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width > 5
            for i in range(len(header))
        )
        for row, want in zip(cells, expected, strict=True):
            for cell, (name, value) in zip(row, want.items(), strict=True):
                if name == "category":
                    value = titles[value]
                elif name == "status":
                    value = words[value]
                if isinstance(value, int | float):
                    assert cell.data_type == "n", (table, name)
                    numbers += 1
                    # XlsxWriter writes 16 significant digits (Excel keeps 15)
                    assert cell.value == pytest.approx(value, rel=1e-15), (table, name)
                else:
                    assert cell.value == value, (table, name)
    assert numbers > 10_000
    nominees_header = sheet_rows(path, SHEETS[lang][1])[0]
    if lang == "id":
        assert nominees_header[:7] == [
            "Kategori",
            "ID klaster",
            "Klaster",
            "Peringkat",
            "Status",
            "ID instansi",
            "Instansi",
        ]
        assert {
            "Skor",
            "Unggahan",
            "Pengikut",
            "Interaksi",
            "Persentil: Tingkat keterlibatan",
        } <= set(nominees_header)
        assert sheet_rows(path, "Nominasi")[1][0][4].value == "Dinominasikan"
    else:
        assert nominees_header[:7] == [
            "Category",
            "Cluster ID",
            "Cluster",
            "Rank",
            "Status",
            "Institution ID",
            "Institution",
        ]
        assert {
            "Score",
            "Posts",
            "Followers",
            "Interactions",
            "Percentile: Engagement rate",
        } <= set(nominees_header)
    _, cells, _ = sheet_rows(path, SHEETS[lang][1])
    formats = {h: c.number_format for h, c in zip(nominees_header, cells[0], strict=True)}
    assert (
        formats[header_of("Posts", lang)] == "#,##0"
        and formats[header_of("Score", lang)] == "0.000"
    )


def header_of(english: str, lang: str) -> str:
    return Language(lang, "exports").gettext(english)


def test_the_about_sheet_and_the_readme_name_the_run_and_every_column(
    published: ReadModel,  # noqa: F811
    exported: dict[str, Path],
) -> None:
    assert published.synthetic  # the demo world is synthetic: every file must say so
    _, cells, sheet = sheet_rows(workbook(exported["id"], published), "Tentang")
    about = {row[0].value: row[1].value for row in cells}
    assert about["ID perhitungan"] == published.run_id and "DATA SINTETIS" in about
    assert "DATA SINTETIS" in sheet.oddHeader.center.text  # printed atop every page
    for lang, name in (("id", "BACA-SAYA.txt"), ("en", "README.txt")):
        data = (exported[lang] / name).read_bytes()
        assert (
            data.startswith(codecs.BOM_UTF8)
            and b"\r\n" in data
            and b"\n" not in data.replace(b"\r\n", b"")
        )
        text = data.decode("utf-8-sig")
        banner = "DATA SINTETIS" if lang == "id" else "SYNTHETIC DATA"
        assert text.splitlines()[1].startswith(banner) and published.run_id in text
        for table in TABLES:
            assert f"{table}.csv, {table}.parquet" in text
            for column in pq.read_schema(exported[lang] / f"{table}.parquet").names:
                assert f"\n    {column}: " in text.replace("\r\n", "\n"), column
        assert workbook(exported[lang], published).name in text
    start = published.results["methodology"]["period"]["start"]
    indonesian = (exported["id"] / "BACA-SAYA.txt").read_text("utf-8-sig")
    assert Language("id").date(start) in indonesian and "Periode:" in indonesian


def test_a_real_run_says_nothing_of_synthetic_data(published: ReadModel) -> None:  # noqa: F811
    real = ReadModel(published.folder, {**published.manifest, "synthetic": False})
    language = Language("id", "exports")
    text = exports.readme_text(real, [], language, exports.FORMATS)
    assert "SINTETIS" not in text and published.run_id in text
    assert all("SINTETIS" not in label for label, _ in exports.about_rows(real, language))


def test_only_the_formats_asked_for_are_written(
    published: ReadModel,  # noqa: F811
    tmp_path: Path,
) -> None:
    written = exports.write_exports(published, tmp_path, "en", formats=("parquet",))
    assert [p.name for p in written] == [*(f"{t}.parquet" for t in TABLES), "README.txt"]
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == sorted(
        p.name for p in written
    )
    readme = written[-1].read_text("utf-8-sig")
    assert "nominees.csv" not in readme and workbook(tmp_path, published).name not in readme
    with pytest.raises(UsageError, match="csv, xlsx, parquet"):
        exports.write_exports(published, tmp_path, "en", formats=("ods",))


def test_held_units_themes_and_flags_become_rows() -> None:
    def unit(rank: int, institution: str, **more: Any) -> dict[str, Any]:
        component = {"metric": "theme_share", "weight": 1.0, "percentile": 0.9, "contribution": 0.9}
        return {"rank": rank, "institution_id": institution, "institution_name": institution,
                "account_id": None, "platform": None, "handle": None, "score": 0.5,
                "components": [component],
                "posts": 30, "followers": 2000, "interactions": 700, "theme": None, "flags": [],
                "stability": 0.8, "rank_interval": [1, 3], **more}  # fmt: skip

    flag = {"account_id": 7, "platform": "x", "handle": None, "flag": "follower_jump",
            "severity": "severe", "detail": "+900% in a week"}  # fmt: skip
    theme = {"posts": 12, "terms": [{"term": "#iklim", "posts": 9}, {"term": "banjir", "posts": 4}],
             "examples": []}  # fmt: skip
    results = {"categories": [{"id": "climate", "clusters": [{
        "cluster_id": "pemda", "cluster_name": "Pemda",
        "nominees": [unit(1, "a", theme=theme), unit(3, "c")],
        "held": [unit(2, "b", flags=[flag], reason="follower_jump on x #7")],
    }]}]}  # fmt: skip
    rows = list(nominee_rows(results))
    assert [(r["rank"], r["institution_id"], r["status"]) for r in rows] == [
        (1, "a", "nominated"),
        (2, "b", "held for review"),
        (3, "c", "nominated"),
    ]
    assert rows[0]["theme_posts"] == 12 and rows[0]["theme_terms"] == "#iklim (9); banjir (4)"
    assert rows[1]["severe_flags"] == 1 and rows[1]["reason"] == "follower_jump on x #7"
    assert rows[1]["flags"] == "follower_jump (severe), x #7: +900% in a week"
    assert rows[2]["percentile_theme_share"] == 0.9 and rows[2]["flags"] is None


def test_every_message_is_translated_and_every_translation_used(
    published: ReadModel,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shown: list[str] = []

    class Recording(Language):
        def gettext(self, message: str, **values: Any) -> str:
            shown.append(message)
            return super().gettext(message, **values)

    monkeypatch.setattr(exports, "Language", Recording)
    exports.write_exports(published, tmp_path, "id")
    translated = catalogue("id", "exports")
    assert not {m for m in shown if m not in translated}
    assert not {m for m in METRIC_LABELS.values() if m not in translated}
    # every message is marked for extraction (`_("...")`), as gettext tools find them
    folder = Path(govsocial.reports.__file__).parent
    marked = {
        message
        for path in folder.glob("exports*.py")
        for _, message, _, _ in extract_from_file("python", path, keywords={"_": None})
    }
    assert set(shown) <= marked
    assert set(translated) <= marked, "stale entries in locales/id/exports.po"
