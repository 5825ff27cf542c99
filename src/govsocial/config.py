"""Settings: one declared table; flag → ``GOVSOCIAL_*`` environment variable → govsocial.toml.

Each setting is declared once in :data:`SETTINGS` with its default and help text; the CLI,
the docs (``govsocial settings``) and error messages all read this table, so a message can
always name every way to change a value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from govsocial.errors import ConfigError

CONFIG_FILE_NAME = "govsocial.toml"


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    has_flag: bool = False  # a global CLI option (--name) exists for it

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


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in [
        Setting("db", "govsocial.duckdb", "Path of the DuckDB warehouse file.", has_flag=True),
        Setting(
            "engine",
            "duckdb",
            "Compute engine for metrics and awards: duckdb (embedded) or spark (Apache Spark; "
            "needs `pip install 'govsocial[spark]'` and Java 17).",
        ),
        Setting("threads", 0, "DuckDB worker threads (0 = one per core)."),
        Setting(
            "memory_limit",
            "3GB",
            "DuckDB memory limit, e.g. '8GB'; beyond it DuckDB spills to disk "
            "(empty = DuckDB's default, 80% of RAM).",
        ),
    ]
}


@dataclass(frozen=True)
class Resolved:
    value: Any
    origin: str  # "flag", "env", "file <path>", or "default"


def _config_file(cwd: Path | None = None) -> Path | None:
    explicit = os.environ.get("GOVSOCIAL_CONFIG")
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
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}). Fix the file or remove it.") from exc
    unknown = sorted(set(data) - set(SETTINGS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(unknown)}. "
            f"Valid settings: {', '.join(sorted(SETTINGS))}."
        )
    return data


def resolve(
    name: str,
    flag_value: Any = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Resolved:
    """Setting ``name``: the flag if given, else the env var, else the file, else the default."""
    setting = SETTINGS[name]
    if flag_value is not None:
        return Resolved(flag_value, "flag")
    environ = os.environ if env is None else env
    if setting.env_var in environ and environ[setting.env_var] != "":
        return Resolved(_coerce(setting, environ[setting.env_var], setting.env_var), "env")
    path = _config_file(cwd)
    if path is not None:
        data = read_config_file(path)
        if name in data:
            return Resolved(_coerce(setting, data[name], f"{path}"), f"file {path}")
    return Resolved(setting.default, "default")


def _coerce(setting: Setting, raw: Any, where: str) -> Any:
    if isinstance(setting.default, int) and not isinstance(raw, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(
                f"{where}: setting '{setting.name}' must be a whole number, got {raw!r}. "
                f"Set it with {setting.ways_to_set()}."
            ) from None
    if isinstance(setting.default, str) and not isinstance(raw, str):
        raise ConfigError(
            f"{where}: setting '{setting.name}' must be text, got {raw!r}. "
            f"Set it with {setting.ways_to_set()}."
        )
    return raw
