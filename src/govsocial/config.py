"""Settings: one declared table; flag → ``GOVSOCIAL_*`` environment variable → govsocial.toml.

Each setting is declared once in :data:`SETTINGS` with its default, help text and kind; the CLI
(``option_help``), the docs (``govsocial settings``) and error messages all read this table, so
a message can always name every way to change a value.

A value is checked where it is resolved (:func:`resolve`): a wrong one is refused with a message
naming the setting, where the value came from (option, environment variable or file and line),
what is allowed and how to change it. From a command-line option it is a :class:`UsageError`
(exit 2), from the environment or govsocial.toml a :class:`ConfigError` (exit 1).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from govsocial.errors import ConfigError, UsageError

CONFIG_FILE_NAME = "govsocial.toml"

Kind = Literal["path", "choice", "count", "size"]
MAX_THREADS = 1024  # DuckDB starts every thread at once: 100,000 hung a machine for minutes

# The memory sizes DuckDB's `SET memory_limit` accepts (checked against DuckDB 2.0.1 in
# tests/test_config.py): a number and a unit, 1000^i (KB) or 1024^i (KiB), or a share of RAM.
# DuckDB also takes looser forms ("8 G B", "8 GB extra", "-1"); we keep to the documented ones.
_SIZE = re.compile(r"\s*(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(?P<unit>[a-z]*)\s*", re.I)
_PERCENT = re.compile(r"\s*(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)%\s*")
_SIZE_UNITS = {"b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib", "k", "m", "g", "t"}
_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]+\s*")


class _Refused(ValueError):
    """A value that is not of its setting's kind; the text says what is wrong with it."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    kind: Kind
    choices: tuple[str, ...] = ()  # for kind "choice"
    has_flag: bool = False  # a CLI option (--name) exists for it

    @property
    def env_var(self) -> str:
        return "GOVSOCIAL_" + self.name.upper()

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def ways_to_set(self) -> str:
        """How a user changes this setting, for error messages."""
        flag = f"{self.flag}, " if self.has_flag else ""
        return (
            f"{flag}the {self.env_var} environment variable or `{self.name} = ...` "
            f"in {CONFIG_FILE_NAME}"
        )

    def shown_default(self) -> str:
        """The default as people write it (a relative path with its ``./``)."""
        if self.kind == "path" and not Path(self.default).is_absolute():
            return f"./{self.default}"
        return str(self.default)

    def option_help(self) -> str:
        """Help for this setting's command-line option: the help, then its environment
        variable, its default and (for a choice) its choices, in one bracket."""
        extra = [f"env: {self.env_var}", f"default: {self.shown_default()}"]
        if self.choices:
            extra.append(f"one of: {', '.join(self.choices)}")
        return f"{self.help} [{'; '.join(extra)}]"

    def allowed(self) -> str:
        """What a value of this setting may be, as a phrase for messages."""
        if self.kind == "count":
            return f"a whole number from 0 to {MAX_THREADS:,}, such as 4"
        if self.kind == "size":
            return (
                'a memory size: a number and a unit, such as "8GB", "512MB" or "3GiB" (units '
                'B, KB, MB, GB, TB, or KiB, MiB, GiB, TiB), or a share of the RAM such as "50%"'
                "; empty for DuckDB's default (80% of the RAM)"
            )
        if self.kind == "choice":
            return f"one of: {', '.join(self.choices)}"
        return "a file path, such as ./govsocial.duckdb"

    def parse(self, raw: Any) -> Any:
        """``raw`` (text from the environment or an option, or a TOML value) as this
        setting's value; raises ``ValueError`` saying what is wrong."""
        if self.kind == "count":
            return _whole_number(raw)
        if isinstance(raw, os.PathLike) and self.kind == "path":
            raw = os.fspath(raw)
        if not isinstance(raw, str):
            raise _Refused(f"it is a {_toml_type(raw)}, not text in quotes")
        if self.kind == "size":
            return _memory_size(raw)
        if self.kind == "choice":
            value = raw.strip().lower()
            if value not in self.choices:
                raise _Refused("")  # allowed() lists the choices
            return value
        if not raw.strip():
            raise _Refused("it is empty")
        if "\0" in raw:
            raise _Refused("it contains a NUL character")
        return raw


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting(
            "db", "govsocial.duckdb", "Path of the DuckDB warehouse file.", "path", has_flag=True
        ),
        Setting(
            "engine",
            "duckdb",
            "Compute engine for metrics and awards: duckdb (embedded) or spark (Apache Spark; "
            "needs `pip install 'govsocial[spark]'` and Java 17).",
            "choice",
            choices=("duckdb", "spark"),
            has_flag=True,
        ),
        Setting("threads", 0, "DuckDB worker threads (0 = one per core).", "count"),
        Setting(
            "memory_limit",
            "3GB",
            "DuckDB memory limit, e.g. '8GB'; beyond it DuckDB spills to disk "
            "(empty = DuckDB's default, 80% of RAM).",
            "size",
        ),
    ]
}


@dataclass(frozen=True)
class Resolved:
    value: Any
    origin: str  # "flag", "env", "file <path>", or "default"


def resolve(
    name: str,
    flag_value: Any = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Resolved:
    """Setting ``name``: the flag if given, else the env var, else the file, else the default.

    The value is checked: a wrong flag raises :class:`UsageError`, a wrong environment variable
    or file value :class:`ConfigError`, each naming the setting, the source and the fix.
    """
    setting = SETTINGS[name]
    if flag_value is not None:
        return Resolved(
            _checked(setting, flag_value, f"The {setting.flag} option", UsageError), "flag"
        )
    environ = os.environ if env is None else env
    if environ.get(setting.env_var, "") != "":
        where = f"The {setting.env_var} environment variable"
        return Resolved(_checked(setting, environ[setting.env_var], where), "env")
    path = _config_file(environ, cwd)
    if path is not None:
        data, text = _read(path)
        if name in data:
            line = _line_of(text, name)
            where = f"Line {line} of {path}" if line else f"{path}"
            return Resolved(_checked(setting, data[name], where), f"file {path}")
    return Resolved(setting.default, "default")


def _checked(
    setting: Setting, raw: Any, where: str, error: type[ConfigError | UsageError] = ConfigError
) -> Any:
    try:
        return setting.parse(raw)
    except ValueError as exc:
        shown = repr(raw) if isinstance(raw, str) else _toml_repr(raw)
        reason = f": {exc}" if str(exc) else ""
        raise error(
            f"{where} sets '{setting.name}' to {shown}{reason}. '{setting.name}' must be "
            f"{setting.allowed()}. Change it with {setting.ways_to_set()}."
        ) from None


def _whole_number(raw: Any) -> int:
    if isinstance(raw, bool):  # TOML true/false are ints to Python
        raise _Refused(f"it is a {_toml_type(raw)}")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(raw):
        value = int(raw)
    elif isinstance(raw, str):
        raise _Refused("it is not a whole number")
    else:
        raise _Refused(f"it is a {_toml_type(raw)}")
    if value < 0:
        raise _Refused("it is negative")
    if value > MAX_THREADS:
        raise _Refused(f"more than {MAX_THREADS:,} threads would only exhaust the machine")
    return value


def _memory_size(raw: str) -> str:
    if not raw.strip():
        return ""  # DuckDB's own default
    percent = _PERCENT.fullmatch(raw)
    if percent:
        if not 0 < float(percent["number"]) <= 100:
            raise _Refused("a share of the RAM is more than 0% and at most 100%")
        return raw.strip()
    size = _SIZE.fullmatch(raw)
    if size is None:
        raise _Refused("it is not a number followed by a unit")
    if not size["unit"]:
        raise _Refused("it has no unit")
    if size["unit"].lower() not in _SIZE_UNITS:
        raise _Refused(f"'{size['unit']}' is not a unit of memory")
    if float(size["number"]) == 0:
        raise _Refused("it is zero")
    return raw.strip()


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, int):
        return "whole number"
    if isinstance(value, float):
        return "decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "table"
    return "date or time"


def _toml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


# -- govsocial.toml ----------------------------------------------------------------------------
_TOML_FIX = (
    "Write each setting on its own line as `name = value`, text in double quotes and numbers "
    'without (db = "data/gov.duckdb", memory_limit = "8GB", threads = 4)'
)


def _config_file(environ: Mapping[str, str], cwd: Path | None = None) -> Path | None:
    explicit = environ.get("GOVSOCIAL_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                f"GOVSOCIAL_CONFIG points to {path}, which is not a file. "
                f"Fix the path or unset GOVSOCIAL_CONFIG to use ./{CONFIG_FILE_NAME}."
            )
        return path
    path = (cwd or Path.cwd()) / CONFIG_FILE_NAME
    return path if path.is_file() else None


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in ``path`` (TOML, UTF-8 with or without a byte order mark)."""
    return _read(path)[0]


def _read(path: Path) -> tuple[dict[str, Any], str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the settings file {path} ({exc.strerror or exc}). "
            f"Make it readable, or remove it."
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}). "
            f"Save the file as UTF-8."
        ) from exc
    try:
        settings = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}, {_toml_error_place(exc, text)}: not valid TOML ({_toml_error_reason(exc)}). "
            f"{_TOML_FIX}; or remove the file."
        ) from exc
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        first = _line_of(text, unknown[0])
        where = f"{path}, line {first}" if first else f"{path}"
        raise ConfigError(
            f"{where}: unknown {'setting' if len(unknown) == 1 else 'settings'} "
            f"{', '.join(unknown)}. "
            f"Valid settings: {', '.join(sorted(SETTINGS))}."
        )
    return settings, text


def _toml_error_place(exc: tomllib.TOMLDecodeError, text: str) -> str:
    # Python 3.14 gives lineno/colno; before, only the message says where.
    lineno, colno = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    if lineno is None:
        found = re.search(r"at line (\d+), column (\d+)\)", str(exc))
        if found:
            lineno, colno = int(found[1]), int(found[2])
    if lineno is None:  # "at end of document"
        lines = text.split("\n")
        lineno, colno = len(lines), len(lines[-1]) + 1
    return f"line {lineno}, column {colno}"


def _toml_error_reason(exc: tomllib.TOMLDecodeError) -> str:
    reason = getattr(exc, "msg", None) or re.sub(r"\s*\(at [^)]*\)$", "", str(exc))
    return reason[:1].lower() + reason[1:]


def _line_of(text: str, key: str) -> int | None:
    """The line that sets ``key`` in a settings file, if one does."""
    pattern = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""")
    for number, line in enumerate(text.split("\n"), start=1):
        if pattern.match(line):
            return number
    return None
