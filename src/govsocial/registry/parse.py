"""Registry files (YAML or CSV) as plain structures that remember the line of every part.

Validation (load.py, through :class:`govsocial.checking.Checker` with :func:`line_of`) reports
each problem at the line a person sees in their editor: the line of the field's key (YAML) or
cell (CSV), else of its record. A mapping is a :class:`Record` that knows its own line and the
line of each field; a list is a :class:`Located` with the line of each item. Comments, blank
lines, multi-line values, flow (``{...}``) and block items, a CSV header and quoted cells that
span lines are all counted as the editor counts them.

Problems only a parser can see (a YAML key given twice in one mapping, a CSV row with more cells
than the header, an institution whose CSV rows disagree) are returned beside the structure.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml

from govsocial.checking import Problem, Table
from govsocial.errors import InputError

CSV_COLUMNS = [
    "institution_id",
    "institution_name",
    "cluster",
    "sub_cluster",
    "region",
    "platform",
    "handle",
    "platform_id",
    "account_name",
]
_INSTITUTION_COLUMNS = {
    "institution_id": "id",
    "institution_name": "name",
    "cluster": "cluster",
    "sub_cluster": "sub_cluster",
    "region": "region",
}
_ACCOUNT_COLUMNS = {
    "platform": "platform",
    "handle": "handle",
    "platform_id": "platform_id",
    "account_name": "name",
}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Record(dict[str, object]):
    """A mapping (YAML) or row (CSV) that knows the line where it starts and the line of each
    of its fields (the field's key in YAML, its cell in CSV)."""

    line: int
    lines: dict[str, int]

    def __init__(self, fields: Mapping[str, object], line: int, lines: Mapping[str, int]) -> None:
        super().__init__(fields)
        self.line = line
        self.lines = dict(lines)


class Located(list[object]):
    """A list that knows the line of each of its items."""

    lines: list[int]

    def __init__(self, items: list[object], lines: list[int]) -> None:
        super().__init__(items)
        self.lines = lines

    def line(self, index: int) -> int | None:
        return self.lines[index] if index < len(self.lines) else None


def line_of(container: object, key: str | int | None = None) -> int | None:
    """The line of field ``key`` of a :class:`Record` (else of the record), or of item ``key``
    of a :class:`Located` list; None for anything that carries no line (a
    :data:`govsocial.checking.LineOf`)."""
    if isinstance(container, Record):
        if isinstance(key, str) and key in container.lines:
            return container.lines[key]
        return container.line or None
    if isinstance(container, Located) and isinstance(key, int):
        return container.line(key)
    return None


# -- YAML --------------------------------------------------------------------------------------
class _LineLoader(yaml.SafeLoader):
    """PyYAML's safe loader, keeping the node marks (0-based lines) of mappings, keys and items;
    it also notes keys given twice in one mapping, which PyYAML would silently overwrite."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[Problem] = []


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Record:
    first: dict[str, int] = {}
    for key, line in _key_lines(loader, node):  # before merging (<<), which may repeat keys
        if key in first:
            loader.problems.append(
                Problem(
                    key,
                    f"given twice in one mapping (first at line {first[key]})",
                    "keep one of the two",
                    line=line,
                )
            )
        first.setdefault(key, line)
    # Keys as text (YAML reads `yes:` as a boolean).
    mapping = {str(k): v for k, v in loader.construct_mapping(node, deep=True).items()}
    lines = dict(_key_lines(loader, node))  # merged keys come first: the mapping's own win
    return Record(
        mapping, node.start_mark.line + 1, {key: lines[key] for key in mapping if key in lines}
    )


def _key_lines(loader: _LineLoader, node: yaml.MappingNode) -> list[tuple[str, int]]:
    return [
        (str(loader.construct_object(key)), key.start_mark.line + 1)
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge"
    ]


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Located:
    items = loader.construct_sequence(node, deep=True)
    return Located(items, [child.start_mark.line + 1 for child in node.value])


# Numbers and dates stay as written: a registry holds text, and YAML 1.1 would read the
# platform_id 0123 as the octal 83, 1:30 as 90 and 2025-13-45 as an error without a line.
_AS_WRITTEN = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
_LineLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _AS_WRITTEN]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(path: Path, text: str) -> tuple[Table, list[Problem]]:
    loader = _LineLoader(text)
    try:
        top = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(
            f"not valid YAML ({getattr(exc, 'problem', None) or exc}). Fix the syntax.",
            path=path,
            place=place,
        ) from exc
    except ValueError as exc:  # an explicit tag, such as !!timestamp 2025-13-45
        raise InputError(f"not valid YAML ({exc}). Fix the value.", path=path) from exc
    finally:
        loader.dispose()
    if not isinstance(top, Record) or "institutions" not in top:
        raise InputError(
            "expected a mapping with an 'institutions:' list (see docs/registry.md).", path=path
        )
    return top, loader.problems


# -- CSV ---------------------------------------------------------------------------------------
def parse_csv(path: Path, text: str) -> tuple[Table, list[Problem]]:
    """One institution per ``institution_id`` (its first row gives its line), one account per
    row with account columns; each field's line is the line of its cell."""
    rows = _rows_with_lines(path, text)
    header_line, header = next(rows, (1, []))
    columns = [c.strip() for c in header]
    _check_header(path, columns, header_line)
    problems: list[Problem] = []
    institutions: dict[str, Record] = {}
    accounts: dict[str, list[Record]] = {}
    for line, row in rows:
        if len(row) > len(columns):
            problems.append(
                Problem(
                    f"cell {len(columns) + 1}",
                    f"the row has {len(row)} cells but the header has {len(columns)} columns",
                    "remove the extra cells, or put a value that contains a comma in double "
                    'quotes ("Kota Bandung, Jawa Barat")',
                    line=line,
                    value=row[len(columns) :],
                )
            )
        cells: dict[str, tuple[str | None, int]] = {}
        cell_line = line
        for column, raw in zip(columns, row, strict=False):
            cells[column] = (raw.strip() or None, cell_line)
            cell_line += len(_LINE_BREAK.findall(raw))

        institution = _record(_INSTITUTION_COLUMNS, cells, line)
        key = str(institution["id"] or f"__line{line}")
        first = institutions.get(key)
        if first is None:
            first = institutions[key] = institution
        else:
            problems.extend(_disagreements(first, institution))
        if any(cells.get(c, (None, 0))[0] for c in ("platform", "handle", "platform_id")):
            accounts.setdefault(key, []).append(_record(_ACCOUNT_COLUMNS, cells, line))
    for key, institution in institutions.items():
        listed_accounts = accounts.get(key, [])
        institution["accounts"] = Located(list(listed_accounts), [a.line for a in listed_accounts])
    listed = list(institutions.values())
    located = Located(list(listed), [i.line for i in listed])
    return {"institutions": located}, problems


def _record(names: dict[str, str], cells: dict[str, tuple[str | None, int]], line: int) -> Record:
    """The fields ``names`` (column → field) of one row, with the row's and each cell's line."""
    return Record(
        {field: cells.get(c, (None, 0))[0] for c, field in names.items()},
        line,
        {field: cells[c][1] for c, field in names.items() if c in cells},
    )


def _rows_with_lines(path: Path, text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of each non-blank row: a quoted cell may span several lines."""
    reader = csv.reader(io.StringIO(text, newline=""))
    read = 0
    try:
        for row in reader:
            start, read = read + 1, reader.line_num
            if row:  # a blank line is an empty row
                yield start, row
    except csv.Error as exc:
        raise InputError(
            f"not valid CSV ({exc}). Check the quotes around that row's cells.",
            path=path,
            place=f"line {read + 1}",
        ) from exc


def _check_header(path: Path, columns: list[str], line: int) -> None:
    place = f"line {line}"
    missing = [c for c in ("institution_id", "institution_name", "cluster") if c not in columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the header must contain "
            f"{', '.join(CSV_COLUMNS)}.",
            path=path,
            place=place,
        )
    unknown = [c if c else repr(c) for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column(s) {', '.join(unknown)}; valid columns are {', '.join(CSV_COLUMNS)}.",
            path=path,
            place=place,
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        raise InputError(
            f"column(s) {', '.join(twice)} given twice; give each column once.",
            path=path,
            place=place,
        )


def _disagreements(first: Record, later: Record) -> list[Problem]:
    """An institution's columns on a later row that differ from its first row (an empty cell
    repeats nothing and is fine)."""
    return [
        Problem(
            field,
            f"'{later[field]}' differs from '{first[field] or ''}' given for institution "
            f"'{first['id']}' on line {line_of(first, field)}",
            "give an institution the same institution columns on each of its rows",
            line=line_of(later, field),
            value=later[field],
        )
        for field in ("name", "cluster", "sub_cluster", "region")
        if later[field] and later[field] != first[field]
    ]
