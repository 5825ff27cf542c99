"""Exports of a published run: its nominees, leaderboards and per-institution and per-account
metrics as CSV, XLSX and Parquet, with a readme naming every file and column.

Two audiences, two kinds of file (docs/exports.md says why):

- for people, one workbook (``<methodology>-<run>.xlsx``): a sheet per table after an "About"
  sheet, headers in the report's language (Indonesian by default), categories by their title
  and statuses in words, numbers as numbers shown in the reader's locale, a frozen header row
  with a filter, fitted column widths; "SYNTHETIC DATA" on the About sheet and at the top of
  every printed page when the run is synthetic;
- for programs, ``<table>.csv`` and ``<table>.parquet``: the same rows and columns with machine
  names and codes, the same whatever the language. CSV is UTF-8 with a byte order mark (so
  Excel reads its text as UTF-8), commas, a ``.`` for decimals; Parquet is typed and names the
  run in its metadata (``govsocial``: run id, methodology, synthetic).

The readme is ``BACA-SAYA.txt`` in Indonesian, ``README.txt`` in English (UTF-8 with a byte
order mark and Windows line ends, for Notepad). The tables are built in ``exports_tables.py``,
their columns described in ``exports_columns.py``.
"""

from __future__ import annotations

import codecs
import json
import textwrap
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from govsocial.errors import UsageError
from govsocial.publish.model import ReadModel
from govsocial.reports.exports_columns import METRIC_LABELS, Column
from govsocial.reports.exports_tables import HELD, NOMINATED, Export, build
from govsocial.reports.files import atomic_write, replacing, synced
from govsocial.reports.i18n import Language
from govsocial.reports.tables import write_table
from govsocial.reports.text import write_csv
from govsocial.reports.xlsx import Sheet, write_workbook

FORMATS = ("csv", "xlsx", "parquet")
README = {"id": "BACA-SAYA.txt", "en": "README.txt"}
WIDTH = 92  # of the readme's lines


def write_exports(
    model: ReadModel, out: Path, lang: str = "id", formats: Sequence[str] = FORMATS
) -> list[Path]:
    """Write the exports of ``model`` into ``out/exports/`` in ``formats`` (any of
    :data:`FORMATS`), and the readme; the files written, in that order. Each file is written
    under a temporary name and renamed into place."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise UsageError(
            f"There is no export format {', '.join(map(repr, unknown))}. Choose among: "
            f"{', '.join(FORMATS)}."
        )
    language = Language(lang, "exports")
    folder = Path(out) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    exports = build(model)
    written: list[Path] = []
    if "csv" in formats:
        for export in exports:
            written.append(_write_csv(export.table, folder / f"{export.name}.csv"))
    if "xlsx" in formats:
        written.append(_write_workbook(model, exports, language, folder / workbook_name(model)))
    if "parquet" in formats:
        for export in exports:
            path = folder / f"{export.name}.parquet"
            write_table(export.table.replace_schema_metadata(_metadata(model)), path, "parquet")
            written.append(path)
    readme = folder / README[lang]
    atomic_write(readme, readme_text(model, exports, language, formats).encode("utf-8-sig"))
    return [*written, readme]


def workbook_name(model: ReadModel) -> str:
    return f"{model.manifest['methodology_id']}-{model.run_id}.xlsx"


def _write_csv(table: pa.Table, path: Path) -> Path:
    with replacing(path, "table.csv") as partial, synced(partial) as handle:
        handle.write(codecs.BOM_UTF8)  # Excel reads UTF-8 text as such only after this mark
        write_csv(table.to_reader(), handle.write)
    return path


def _metadata(model: ReadModel) -> dict[str, str]:
    keys = ("run_id", "methodology_id", "edition", "synthetic", "published_at")
    return {"govsocial": json.dumps({key: model.manifest.get(key) for key in keys})}


def header(column: Column, language: Language) -> str:
    """The column's header in the workbook."""
    if column.metric is None:
        return language.gettext(column.label)
    return language.gettext(column.label, metric=metric_label(column.metric, language))


def metric_label(metric: str, language: Language) -> str:
    return language.gettext(METRIC_LABELS[metric]) if metric in METRIC_LABELS else metric


def for_people(export: Export, model: ReadModel, language: Language) -> pa.Table:
    """The table as the workbook shows it: categories by their title and statuses in words
    in ``language``; every other value as it is."""
    _ = language.gettext
    table = export.table
    names = table.column_names
    if "category" in names:
        titles = {c["id"]: c["title"][language.lang] for c in model.results["categories"]}
        shown = [titles.get(v, v) for v in table.column("category").to_pylist()]
        table = table.set_column(names.index("category"), "category", pa.array(shown, pa.string()))
    if "status" in names:
        words = {NOMINATED: _("Nominated"), HELD: _("Held for review")}
        shown = [words.get(v, v) for v in table.column("status").to_pylist()]
        table = table.set_column(names.index("status"), "status", pa.array(shown, pa.string()))
    return table


def _write_workbook(
    model: ReadModel, exports: Sequence[Export], language: Language, path: Path
) -> Path:
    _ = language.gettext
    banner = _("SYNTHETIC DATA: NOT REAL RESULTS") if model.synthetic else None
    about = about_rows(model, language)
    sheets = [
        Sheet(
            _("About"),
            pa.table({"item": [a for a, _b in about], "value": [b for _a, b in about]}),
            headers=[_("Item"), _("Value")],
            fit_widths=True,
            print_header=banner,
        )
    ]
    for export in exports:
        sheets.append(
            Sheet(
                _(export.sheet),
                for_people(export, model, language),
                headers=[header(c, language) for c in export.columns],
                formats={c.name: c.shown for c in export.columns if c.shown},
                fit_widths=True,
                autofilter=True,
                print_header=banner,
            )
        )
    with replacing(path, "exports.xlsx") as partial:
        write_workbook(sheets, partial)
    return path


def about_rows(model: ReadModel, language: Language) -> list[tuple[str, str]]:
    """What the run is, as (label, value): the About sheet and the readme's head."""
    _ = language.gettext
    manifest, results = model.manifest, model.results
    period = results["methodology"]["period"]
    last_day = datetime.fromisoformat(period["end"]) - timedelta(microseconds=1)  # end exclusive
    rows = []
    if model.synthetic:
        rows.append((_("SYNTHETIC DATA"), _("These are NOT real results: the data is synthetic, "
                     "made by govsocial's generator for trials and demonstrations.")))  # fmt: skip
    rows += [
        (_("Edition"), str(manifest["edition"])),
        (_("Methodology"), str(manifest["methodology_id"])),
        (_("Methodology file SHA-256"), str(manifest["methodology_sha256"])),
        (_("Period"), f"{language.date(period['start'])} – {language.date(last_day)}"),
        (_("Run ID"), model.run_id),
        (_("Published"), language.datetime(manifest["published_at"])),
        (_("Data fingerprint"), str(manifest["data_fingerprint"])),
        (_("govsocial version"), str(manifest["govsocial_version"])),
        (
            _("Columns"),
            _("{readme} describes every file and column.", readme=README[language.lang]),
        ),
    ]
    return rows


def readme_text(
    model: ReadModel, exports: Sequence[Export], language: Language, formats: Sequence[str]
) -> str:
    """The readme: the run, the files written, the categories, then every table's columns."""
    _ = language.gettext
    lines: list[str] = []

    def para(text: str, indent: str = "", hanging: str = "") -> None:
        lines.extend(
            textwrap.wrap(
                text,
                WIDTH,
                initial_indent=indent,
                subsequent_indent=hanging or indent,
                break_long_words=False,
            )
        )

    if model.synthetic:
        lines += ["=" * WIDTH, _("SYNTHETIC DATA: NOT REAL RESULTS"), "=" * WIDTH, ""]
    lines += [_("Exports of the results: {edition}", edition=model.manifest["edition"]), ""]
    width = max(len(label) for label, _value in about_rows(model, language))
    for label, value in about_rows(model, language):
        para(f"{label + ':':<{width + 2}}{value}", hanging=" " * (width + 2))
    lines += ["", _("FILES"), ""]
    if "xlsx" in formats:
        lines.append(workbook_name(model))
        para(_("A workbook for Excel and LibreOffice: the About sheet, then a sheet per table "
               "below, with headers in this language and numbers as numbers."), "    ")  # fmt: skip
    for export in exports:
        names = [f"{export.name}.{f}" for f in ("csv", "parquet") if f in formats]
        if names:
            lines.append(", ".join(names))
            para(_(export.about), "    ")
    lines.append("")
    if "csv" in formats or "parquet" in formats:
        para(_("The CSV and Parquet files are for programs: their columns have the machine "
               "names below, categories and statuses their codes, the same in every "
               "language."))  # fmt: skip
    if "csv" in formats:
        para(_("CSV: UTF-8 with a byte order mark, comma-separated, a point before decimals. "
               "To read the tables in Excel, open the workbook (.xlsx): Excel set to "
               "Indonesian separates a CSV's columns with semicolons and would misread its "
               "numbers."))  # fmt: skip
    lines.append("")
    lines += [_("CATEGORIES"), ""]
    for category in model.results["categories"]:
        lines.append(f"{category['id']}: {category['title'][language.lang]}")
    lines += ["", _("COLUMNS"), ""]
    for export in exports:
        sheet = _("sheet")
        lines.append(f'{export.name} ({sheet} "{_(export.sheet)}")')
        for column in export.columns:
            lines.append(f"    {column.name}: {header(column, language)}")
            about = _(column.about)
            if column.metric is not None:
                label = metric_label(column.metric, language)
                about = _(column.about, metric=label, name=column.metric)
            para(about, "        ")
        lines.append("")
    return "\r\n".join(lines) + "\r\n"
