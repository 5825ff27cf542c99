"""Read a published run (docs/read-model.md): the reports and the web app read only this."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from govsocial.errors import ConfigError

SCHEMA = "govsocial.published/1"
MANIFEST = "manifest.json"
TABLES = ("standings", "components", "accounts", "weekly", "top_posts")
FILES = ("results.json", "methodology.toml", "coverage.json", *(f"{t}.parquet" for t in TABLES))


@dataclass(frozen=True)
class ReadModel:
    """A published run's folder, checked on opening: its manifest names every file with its
    SHA-256, and each must be there and match (a damaged or edited folder is refused)."""

    folder: Path
    manifest: dict[str, Any]

    @classmethod
    def open(cls, folder: Path | str) -> ReadModel:
        folder = Path(folder)
        path = folder / MANIFEST
        if not path.is_file():
            raise ConfigError(
                f"{folder} is not a published run (no {MANIFEST}). Publish one with "
                "`govsocial publish RUN_ID`; `govsocial awards list` shows the runs."
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} cannot be read ({exc}). Publish the run again.") from exc
        if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
            raise ConfigError(
                f"{path} is not a read model this version reads (schema "
                f"{manifest.get('schema') if isinstance(manifest, dict) else '?'}, expected "
                f"{SCHEMA}). Publish the run again with this version."
            )
        files = manifest.get("files") or {}
        for name in FILES:
            data = folder / name
            if name not in files or not data.is_file():
                raise ConfigError(f"{folder} lacks {name}. Publish the run again.")
            if hashlib.sha256(data.read_bytes()).hexdigest() != files[name]:
                raise ConfigError(
                    f"{data} does not match its SHA-256 in {MANIFEST}: the published run was "
                    "changed or damaged. Publish it again into a new folder."
                )
        return cls(folder, manifest)

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])

    @property
    def synthetic(self) -> bool:
        return bool(self.manifest.get("synthetic"))

    @functools.cached_property
    def results(self) -> dict[str, Any]:
        """The results document (docs/results-schema.md), as the run kept it."""
        parsed: dict[str, Any] = json.loads((self.folder / "results.json").read_text("utf-8"))
        return parsed

    @functools.cached_property
    def coverage(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads((self.folder / "coverage.json").read_text("utf-8"))
        return parsed

    @property
    def methodology_text(self) -> str:
        return (self.folder / "methodology.toml").read_text(encoding="utf-8")

    def table(self, name: str) -> pa.Table:
        """One of :data:`TABLES` (docs/read-model.md gives their columns)."""
        if name not in TABLES:
            raise ValueError(f"no table {name!r}; the read model has {', '.join(TABLES)}")
        return pq.read_table(self.folder / f"{name}.parquet")
