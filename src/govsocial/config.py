"""Settings: one declared table; flag → ``GOVSOCIAL_*`` environment variable → govsocial.toml.

Each setting is declared once in :data:`SETTINGS` with its default, help text and kind; the CLI
(``option_help``), the docs (``govsocial settings``) and error messages all read this table, so
a message can always name every way to change a value.

A value is checked where it is resolved (:func:`resolve`, or :func:`resolve_all` for every
setting at once) through the one :class:`govsocial.checking.Checker`: every wrong value is
refused together, each with a sentence naming the setting, where the value came from (option,
environment variable, or file and line), what is allowed and how to change it. A settings file
is checked whole when it is read: two wrong values in it are two problems in one error. From
command-line options only, it is a :class:`UsageError` (exit 2); from the environment or
govsocial.toml a :class:`ConfigError` (exit 1).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Literal, TypeVar, overload

from govsocial.checking import Checker, Problem, listed
from govsocial.errors import ConfigError, UsageError
from govsocial.words import count

CONFIG_FILE_NAME = "govsocial.toml"
# Credentials may also live in a file of their own (kept out of version control), named by
# GOVSOCIAL_SECRETS or found beside the settings file: only "secret" settings are read from it.
SECRETS_FILE_NAME = "govsocial.secrets.toml"

Kind = Literal["path", "choice", "count", "size", "secret", "text", "url"]
Value = str | int  # a count is an int, every other kind text
_V = TypeVar("_V", bound=Value, covariant=True)
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
    default: Value
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
        if self.kind == "path" and not Path(str(self.default)).is_absolute():
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
        if self.kind == "url":
            return "an http:// or https:// address, such as http://127.0.0.1:8080"
        if self.kind in ("secret", "text"):
            return "text in quotes, on one line"
        return "a file path, such as ./govsocial.duckdb"

    def parse(self, raw: object) -> Value:
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
        if self.kind in ("secret", "text") and ("\n" in raw or raw != raw.strip()):
            raise _Refused("it has spaces or line breaks around or inside it")
        if self.kind == "url" and not re.match(r"https?://[^\s/]+", raw.strip()):
            raise _Refused("it is not an http:// or https:// address")
        return raw.strip() if self.kind == "url" else raw


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
        # Credentials of the platform APIs (docs/collect.md says how to get each); never
        # printed, logged or kept in the warehouse.
        Setting("youtube_key", "", "YouTube Data API v3 key.", "secret"),
        Setting("facebook_token", "", "Facebook Graph API access token (Pages).", "secret"),
        Setting("instagram_token", "", "Instagram Graph API access token.", "secret"),
        Setting(
            "instagram_user_id",
            "",
            "Instagram business account id that makes business_discovery calls.",
            "text",
        ),
        Setting("x_bearer_token", "", "X API v2 bearer token.", "secret"),
        Setting("tiktok_client_key", "", "TikTok Research API client key.", "secret"),
        Setting("tiktok_client_secret", "", "TikTok Research API client secret.", "secret"),
        Setting(
            "api_root",
            "",
            "Collect from this server instead of the platforms (the fake platform server of "
            "tests and the demo); empty = the real APIs.",
            "url",
        ),
    ]
}


@dataclass(frozen=True)
class Resolved(Generic[_V]):
    value: _V
    origin: str  # "flag", "env", "file <path>", or "default"


TextSetting = Literal["db", "engine", "memory_limit"]  # the settings whose value is text


@overload
def resolve(
    name: Literal["threads"],
    flag_value: object = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Resolved[int]: ...
@overload
def resolve(
    name: TextSetting,
    flag_value: object = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Resolved[str]: ...
@overload
def resolve(
    name: str,
    flag_value: object = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Resolved[Value]: ...
def resolve(
    name: str,
    flag_value: object = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Resolved[Value]:
    """Setting ``name``: the flag if given, else the env var, else the file, else the default.

    The value is checked: a wrong flag raises :class:`UsageError`, a wrong environment variable
    or file value :class:`ConfigError`, each naming the setting, the source and the fix. When
    the file is read it is checked whole: its every problem is in the error.
    """
    return check_settings([name], {name: flag_value}, env=env, cwd=cwd).values()[name]


def resolve_all(
    flags: Mapping[str, object] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> dict[str, Resolved[Value]]:
    """Every setting at once (``flags``: setting name → the option's value, None when not
    given). One error lists every wrong option, environment variable and file value."""
    return check_settings(None, flags, env=env, cwd=cwd).values()


@dataclass(frozen=True)
class SettingsCheck:
    """Settings resolved and checked together (:func:`check_settings`)."""

    resolved: Mapping[str, Resolved[Value]]  # the settings whose value is right
    problems: tuple[Problem, ...]  # each names its setting (``key``), where and the fix
    error: ConfigError | UsageError | None  # every problem in one error; None: all right

    def values(self) -> dict[str, Resolved[Value]]:
        """The resolved settings; raises :attr:`error` if any value is wrong."""
        if self.error is not None:
            raise self.error
        return dict(self.resolved)


def check_settings(
    names: Sequence[str] | None = None,
    flags: Mapping[str, object] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> SettingsCheck:
    """Resolve ``names`` (default: every setting) and check them, raising nothing: for
    ``govsocial settings``, which lists the right ones and then every problem."""
    resolved, check, from_flags = _resolve(names or list(SETTINGS), flags or {}, env, cwd)
    return SettingsCheck(resolved, tuple(check.problems), check.failure(_error(from_flags)))


def read_config_file(path: Path) -> dict[str, Value]:
    """The settings in ``path`` (TOML, UTF-8 with or without a byte order mark), checked: a
    :class:`ConfigError` lists every problem."""
    check = Checker(_DOCS)
    values = _check_file(check, path)
    check.raise_if_any(_error(0))
    return values


_DOCS = "docs/cli.md"  # "govsocial settings"


def _resolve(
    names: Sequence[str],
    flags: Mapping[str, object],
    env: Mapping[str, str] | None,
    cwd: Path | None,
) -> tuple[dict[str, Resolved[Value]], Checker, int]:
    """The right values, the checker holding every problem, and how many are of options."""
    environ = os.environ if env is None else env
    check = Checker(_DOCS)
    resolved: dict[str, Resolved[Value]] = {}
    file: dict[str, Value] | None = None  # read once, when a setting needs it; its good values
    path: Path | None = None
    secrets: dict[str, Value] | None = None  # the secrets file, read when a credential is asked
    secrets_path: Path | None = None
    from_flags = 0  # problems of options: a UsageError when they are the only ones
    for name in names:
        setting = SETTINGS[name]
        flag = flags.get(name)
        if flag is not None:
            before = len(check.problems)
            value = _checked(check, setting, flag, f"The {setting.flag} option")
            from_flags += len(check.problems) - before
            if value is not None:
                resolved[name] = Resolved(value, "flag")
        elif environ.get(setting.env_var, "") != "":
            where = f"The {setting.env_var} environment variable"
            value = _checked(check, setting, environ[setting.env_var], where)
            if value is not None:
                resolved[name] = Resolved(value, "env")
        else:
            if file is None:
                path = _config_file(check, environ, cwd)
                file = _check_file(check, path) if path is not None else {}
            if name in file:
                resolved[name] = Resolved(file[name], f"file {path}")
                continue
            if setting.kind == "secret":
                if secrets is None:
                    secrets_path = _secrets_file(check, environ, path, cwd)
                    secrets = _check_file(check, secrets_path) if secrets_path else {}
                if name in secrets:
                    resolved[name] = Resolved(secrets[name], f"file {secrets_path}")
                    continue
            if not any(p.key == name for p in check.problems):  # else wrong in the file
                resolved[name] = Resolved(setting.default, "default")
    return resolved, check, from_flags


def _secrets_file(
    check: Checker, environ: Mapping[str, str], config: Path | None, cwd: Path | None
) -> Path | None:
    """GOVSOCIAL_SECRETS, else govsocial.secrets.toml beside the settings file (or in the
    working folder)."""
    explicit = environ.get("GOVSOCIAL_SECRETS")
    if explicit:
        if not Path(explicit).is_file():
            check.problem(
                "GOVSOCIAL_SECRETS",
                f"GOVSOCIAL_SECRETS points to {explicit}, which is not a file",
                f"Fix the path or unset GOVSOCIAL_SECRETS to use ./{SECRETS_FILE_NAME}.",
                value=explicit,
            )
            return None
        return Path(explicit)
    folder = config.parent if config is not None else (cwd or Path.cwd())
    candidate = folder / SECRETS_FILE_NAME
    return candidate if candidate.is_file() else None


def _error(from_flags: int) -> Callable[[list[Problem]], ConfigError | UsageError]:
    def error(problems: list[Problem]) -> ConfigError | UsageError:
        kind = UsageError if from_flags == len(problems) else ConfigError

        def sentence(p: Problem) -> str:
            return f"{p.reason}. {p.fix}"

        if len(problems) == 1:
            return kind(sentence(problems[0]))
        return kind(
            f"{count(len(problems), 'problem')} with the settings:\n{listed(problems, sentence)}"
        )

    return error


def _checked(
    check: Checker, setting: Setting, raw: object, where: str, line: int | None = None
) -> Value | None:
    """``raw`` as ``setting``'s value, or None and a problem: the sentence "<where> sets
    'threads' to '-1': it is negative" and the fix "'threads' must be ... Change it with ..."."""
    try:
        return setting.parse(raw)
    except ValueError as exc:
        shown = repr(raw) if isinstance(raw, str) else _toml_repr(raw)
        if setting.kind == "secret":  # a credential is never shown, even a wrong one
            shown, raw = "a value (not shown)", None
        reason = f": {exc}" if str(exc) else ""
        check.problem(
            setting.name,
            f"{where} sets '{setting.name}' to {shown}{reason}",
            f"'{setting.name}' must be {setting.allowed()}. "
            f"Change it with {setting.ways_to_set()}.",
            value=raw,
            line=line,
        )
        return None


def _whole_number(raw: object) -> int:
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


def _toml_type(value: object) -> str:
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


def _toml_repr(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


# -- govsocial.toml ----------------------------------------------------------------------------
_TOML_FIX = (
    "Write each setting on its own line as `name = value`, text in double quotes and numbers "
    'without (db = "data/gov.duckdb", memory_limit = "8GB", threads = 4)'
)


def _config_file(
    check: Checker, environ: Mapping[str, str], cwd: Path | None = None
) -> Path | None:
    explicit = environ.get("GOVSOCIAL_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            check.problem(
                "GOVSOCIAL_CONFIG",
                f"GOVSOCIAL_CONFIG points to {path}, which is not a file",
                f"Fix the path or unset GOVSOCIAL_CONFIG to use ./{CONFIG_FILE_NAME}.",
                value=explicit,
            )
            return None
        return path
    path = (cwd or Path.cwd()) / CONFIG_FILE_NAME
    return path if path.is_file() else None


def _check_file(check: Checker, path: Path) -> dict[str, Value]:
    """The good values of the settings file ``path``; each problem of it goes to ``check``:
    a file that cannot be read, is not UTF-8 or not TOML, an unknown setting, a wrong value."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        check.problem(
            "",
            f"Cannot read the settings file {path} ({exc.strerror or exc})",
            "Make it readable, or remove it.",
        )
        return {}
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        check.problem(
            "",
            f"{path}, line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "Save the file as UTF-8.",
            line=line,
        )
        return {}
    try:
        settings = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        place, line = _toml_error_place(exc, text)
        check.problem(
            "",
            f"{path}, {place}: not valid TOML ({_toml_error_reason(exc)})",
            f"{_TOML_FIX}; or remove the file.",
            line=line,
        )
        return {}
    values: dict[str, Value] = {}
    for key, raw in settings.items():
        at = _line_of(text, key)
        if key not in SETTINGS:
            close = difflib.get_close_matches(key, list(SETTINGS), n=1)
            hint = f"Did you mean {close[0]}? " if close else ""
            check.problem(
                key,
                f"{path}{f', line {at}' if at else ''}: unknown setting {key}",
                f"{hint}Valid settings: {', '.join(sorted(SETTINGS))}.",
                value=raw,
                line=at,
            )
            continue
        where = f"Line {at} of {path}" if at else f"{path}"
        value = _checked(check, SETTINGS[key], raw, where, at)
        if value is not None:
            values[key] = value
    return values


def _toml_error_place(exc: tomllib.TOMLDecodeError, text: str) -> tuple[str, int]:
    # Python 3.14 gives lineno/colno; before, only the message says where.
    lineno, colno = getattr(exc, "lineno", None), getattr(exc, "colno", None)
    if lineno is None:
        found = re.search(r"at line (\d+), column (\d+)\)", str(exc))
        if found:
            lineno, colno = int(found[1]), int(found[2])
    if lineno is None:  # "at end of document"
        lines = text.split("\n")
        lineno, colno = len(lines), len(lines[-1]) + 1
    return f"line {lineno}, column {colno}", int(lineno)


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
