"""One checker for every file a person writes and govsocial validates.

Methodology files (TOML), registry files (YAML or CSV) and settings (``govsocial.toml``,
``GOVSOCIAL_*`` environment variables, command-line options) are all read through a
:class:`Checker`. It reads each value out of the parsed data; for a bad one it records a
:class:`Problem` (where: the key path and, where the parser knows it, the line of the file;
the bad value; what is wrong; the fix), returns a default and goes on. At the end
:meth:`Checker.raise_if_any` raises the caller's own error (``MethodologyError``,
``RegistryError``, ``ConfigError``, ``UsageError``) with every problem, in the file's order:
a person fixes a file in one round, not one problem per run.

Parsed data is typed as what a parser gives (:data:`Table`: text keys, values of any kind)
and narrowed here, value by value, to what the caller declared. A leaf module: it imports only
:mod:`govsocial.errors`, :mod:`govsocial.vocabulary` and :mod:`govsocial.words`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from math import inf
from typing import Any, TypeVar

from govsocial.errors import GovsocialError
from govsocial.vocabulary import WIB
from govsocial.words import count

__all__ = ["Checker", "LineOf", "Problem", "Table", "choices", "listed", "report"]

Table = Mapping[str, object]  # a parsed table (TOML) or mapping (YAML, a CSV row), unchecked
# The line of ``key`` in ``container`` (a table's key, a list's index), or of the container
# itself when ``key`` is None; None where the parser kept no line (TOML).
LineOf = Callable[[object, str | int | None], int | None]
_T = TypeVar("_T")
_C = TypeVar("_C", bound=str | int)
_E = TypeVar("_E", bound=GovsocialError)


@dataclass(frozen=True)
class Problem:
    """One problem in a validated file: where it is, the bad value, what is wrong, the fix."""

    key: str  # the key path ("categories[2].components[0].metric"), a field; "" = top level
    reason: str  # what is wrong, naming the bad value as the person wrote it
    fix: str = ""  # how to put it right; "" when the reason says it
    line: int | None = None  # the line of the file, where the parser knows it
    value: object = None  # the bad value as read; None when it is missing

    @property
    def place(self) -> str:
        """``line 12, categories[0].unit``, ``categories[0].unit``, or ``top level``."""
        key = self.key or "top level"
        return f"line {self.line}, {key}" if self.line else key

    def __str__(self) -> str:
        return f"{self.place}: {self.reason}" + (f". Fix: {self.fix}" if self.fix else "")


def listed(problems: Sequence[Problem], render: Callable[[Problem], str] = str) -> str:
    """The problems as an indented list, one per line (``  - ...``)."""
    return "\n".join(f"  - {render(p)}" for p in problems)


def report(what: str, problems: Sequence[Problem], outcome: str) -> str:
    """``<what>: 3 problems <outcome>`` and the list: the message of a file that failed."""
    return f"{what}: {count(len(problems), 'problem')} {outcome}\n{listed(problems)}"


def choices(bad: object, valid: Collection[object]) -> str:
    """``did you mean 'x'? valid: a, b, x`` (the closest spelling first, when one is close)."""
    close = difflib.get_close_matches(str(bad), [str(x) for x in valid], n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"{hint}valid: {', '.join(str(x) for x in valid)}"


def _key(at: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{at}[{key}]"
    return f"{at}.{key}" if at else key


class Checker:
    """Reads values out of parsed data, recording a problem (and returning a default) for each
    bad one, then raises them all at once.

    ``docs``: where the format is documented (``docs/methodology.md``), named in fixes.
    ``line_of``: the parser's lines (:data:`LineOf`); without it problems carry key paths only.
    Each reader takes the table, the key and ``at``, the key path of the table ("" at the top).
    """

    def __init__(self, docs: str, line_of: LineOf | None = None) -> None:
        self.docs = docs
        self.problems: list[Problem] = []
        self._line_of = line_of

    # -- recording and raising ------------------------------------------------------------
    def line(self, container: object, key: str | int | None = None) -> int | None:
        """The line of ``key`` in ``container`` (else of the container), if the parser knows."""
        return self._line_of(container, key) if self._line_of is not None else None

    def problem(
        self,
        key: str,
        reason: str,
        fix: str = "",
        *,
        value: object = None,
        line: int | None = None,
    ) -> None:
        self.problems.append(Problem(key, reason, fix, line, value))

    def extend(self, problems: Collection[Problem]) -> None:
        """Problems found before checking (by the parser: a key given twice, a row too long)."""
        self.problems.extend(problems)

    def raise_if_any(self, error: Callable[[list[Problem]], GovsocialError]) -> None:
        """Raise ``error(problems)`` if any problem was found: every one, in the file's order
        (by line where lines are known, else in the order they were found)."""
        failure = self.failure(error)
        if failure is not None:
            raise failure

    def failure(self, error: Callable[[list[Problem]], _E]) -> _E | None:
        """``error(problems)`` as :meth:`raise_if_any` would raise it; None without problems."""
        if not self.problems:
            return None
        return error(sorted(self.problems, key=lambda p: p.line or 0))

    # -- readers ----------------------------------------------------------------------------
    def table(
        self,
        raw: object,
        at: str,
        required: Collection[str] = (),
        optional: Collection[str] = (),
        *,
        noun: str = "key",
    ) -> Table:
        """``raw`` as a table, after reporting its unknown keys (``unknown <noun>``) and its
        missing ``required`` ones; an empty table when ``raw`` is not one."""
        if not isinstance(raw, Mapping):
            self.problem(
                at,
                f"expected a table {{...}}, got {raw!r}",
                f"see {self.docs}",
                value=raw,
                line=self.line(raw),
            )
            return {}
        valid = (*required, *optional)
        for key, value in raw.items():
            if key not in valid:
                self.problem(
                    _key(at, str(key)),
                    f"unknown {noun}",
                    choices(key, valid) if valid else "remove it",
                    value=value,
                    line=self.line(raw, str(key)),
                )
        for key in required:
            if key not in raw:
                self.problem(
                    _key(at, key), "missing", f"add it (see {self.docs})", line=self.line(raw)
                )
        return raw  # the parser's own object, which may carry its lines

    def string(self, raw: Table, key: str, at: str) -> str:
        """A non-empty text ("" and a problem when it is anything else; "" when missing)."""
        value = raw.get(key, "")
        if not isinstance(value, str) or (key in raw and not value.strip()):
            self.problem_at(
                raw, key, f"expected a non-empty text, got {value!r}", "quote it", at=at
            )
            return ""
        return value

    def text(self, raw: Table, key: str, at: str) -> str | None:
        """An optional text, stripped: None when missing or empty. A value that is not one
        text (a list, a table) is a problem; a number or true/false is read as written."""
        value = raw.get(key)
        if isinstance(value, list | Mapping):
            kind = "a list" if isinstance(value, list) else "a mapping"
            self.problem_at(raw, key, f"is {kind}, not text", f"write one value for '{key}'", at=at)
            return None
        if value is None:
            return None
        return str(value).strip() or None

    def ident(self, raw: Table, key: str, at: str, pattern: re.Pattern[str], allowed: str) -> str:
        """A text that matches ``pattern``; ``allowed`` says which characters are."""
        value = self.string(raw, key, at)
        if value and not pattern.match(value):
            self.problem_at(raw, key, f"{value!r} is not a valid id", f"use {allowed}", at=at)
        return value

    def number(self, raw: Table, key: str, at: str, default: float) -> float:
        """A finite number > 0 (``default`` when missing or bad)."""
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < inf:
            self.problem_at(raw, key, f"{value!r} is not a number > 0", "give e.g. 1.0", at=at)
            return default
        return float(value)

    def integer(
        self, raw: Table, key: str, at: str, default: int, low: int, high: int | None = None
    ) -> int:
        """A whole number from ``low`` to ``high`` (no bound when None)."""
        value = raw.get(key, default)
        span = f"from {low} to {high}" if high is not None else f"≥ {low}"
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < low
            or (high is not None and value > high)
        ):
            self.problem_at(
                raw, key, f"{value!r} is not a whole number {span}", f"give one {span}", at=at
            )
            return default
        return value

    def boolean(self, raw: Table, key: str, at: str, default: bool) -> bool:
        """true or false (``default`` when missing)."""
        value = raw.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem_at(
                raw, key, f"{value!r} is not true or false", "write true or false", at=at
            )
            return default
        return value

    def choice(self, raw: Table, key: str, at: str, valid: Sequence[_C], default: _C) -> _C:
        """One of ``valid`` (``default`` when missing: a missing required key is reported by
        :meth:`table`)."""
        if key not in raw:
            return default
        value = raw[key]
        for option in valid:  # the declared option, typed as declared (1 is not True)
            if value == option and type(value) is type(option):
                return option
        self.problem_at(raw, key, f"unknown value {value!r}", choices(value, valid), at=at)
        return default

    def names(
        self,
        raw: Table,
        key: str,
        at: str,
        valid: Collection[str] | None,
        normalise: Callable[[str], str] | None = None,
        nonempty: bool = False,
    ) -> tuple[str, ...]:
        """A list of distinct texts, each one of ``valid`` (when given)."""
        value = self._list(raw, key, at, nonempty, "list", f'write {key} = ["...", ...]')
        if value is None:
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            where, line = f"{_key(at, key)}[{i}]", self.line(value, i)
            if not isinstance(item, str) or not item.strip():
                self.problem(
                    where,
                    f"expected a non-empty text, got {item!r}",
                    "quote it",
                    value=item,
                    line=line,
                )
            elif valid is not None and item not in valid:
                self.problem(
                    where, f"unknown value {item!r}", choices(item, valid), value=item, line=line
                )
            elif (normalise(item) if normalise else item) in out:
                self.problem(
                    where,
                    f"{item!r} is listed twice",
                    "remove the duplicate",
                    value=item,
                    line=line,
                )
            else:
                out.append(normalise(item) if normalise else item)
        return tuple(out)

    def items(
        self,
        raw: Table,
        key: str,
        at: str,
        parse: Callable[[Table, str], _T],
        unique: str = "id",
        nonempty: bool = True,
    ) -> tuple[_T, ...]:
        """A list of tables, each parsed by ``parse(table, key_path)``; the attribute
        ``unique`` of the parsed items distinct."""
        fix = f"add at least one entry (see {self.docs})"
        value = self._list(raw, key, at, nonempty, "list of tables", fix)
        if value is None:
            return ()
        out: list[_T] = []
        seen: set[object] = set()
        for i, table in enumerate(value):
            where = f"{_key(at, key)}[{i}]"
            if not isinstance(table, Mapping):
                self.problem(
                    where,
                    f"expected a table, got {table!r}",
                    f"see {self.docs}",
                    value=table,
                    line=self.line(value, i),
                )
                continue
            out.append(parse(table, where))
            ident = getattr(out[-1], unique)
            if ident and ident in seen:
                self.problem(
                    f"{where}.{unique}",
                    f"{ident!r} appears twice",
                    "remove or rename one",
                    value=ident,
                    line=self.line(table, unique),
                )
            seen.add(ident)
        return tuple(out)

    def moment(self, raw: Table, key: str, at: str) -> datetime | None:
        """A TOML date (00:00 WIB) or date-time (WIB unless it has an offset), in UTC; None
        when missing (reported by :meth:`table`) or bad."""
        value = raw.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=WIB)
        elif isinstance(value, date):
            moment = datetime.combine(value, time(), WIB)
        else:
            self.problem_at(
                raw,
                key,
                f"{value!r} is not a date",
                "write e.g. 2024-08-01 (a TOML date, without quotes)",
                at=at,
            )
            return None
        return moment.astimezone(UTC)

    def _list(
        self, raw: Table, key: str, at: str, nonempty: bool, expected: str, fix: str
    ) -> list[Any] | None:
        """``raw[key]`` as a list (absent: empty), not empty when ``nonempty`` and given; else
        the problem ("expected a non-empty ``expected``"), and None."""
        value = raw.get(key, [])
        if isinstance(value, list) and not (nonempty and not value and key in raw):
            return value
        self.problem_at(raw, key, f"expected a non-empty {expected}, got {value!r}", fix, at=at)
        return None

    def problem_at(self, raw: Table, key: str, reason: str, fix: str, at: str = "") -> None:
        """A problem with ``raw[key]``: at its key path and line, with its value."""
        self.problem(_key(at, key), reason, fix, value=raw.get(key), line=self.line(raw, key))
