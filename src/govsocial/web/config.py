"""What one web server serves: its state file, its published runs, its cookie key."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from govsocial.errors import ConfigError
from govsocial.jury.users import Throttle

KEY_NAME = "govsocial-web.key"  # beside the state file, made on first start, mode 0600


@dataclass(frozen=True)
class WebConfig:
    """``state``: the SQLite state file (created on first start); ``published``: the folder
    of published runs (``published/`` beside the warehouse); ``warehouse``: the DuckDB
    warehouse whose registry approved registration changes update (opened only for that, for
    a moment); ``secure_cookies``: send the
    session cookie over HTTPS only (set it behind a TLS proxy; plain HTTP on 127.0.0.1 needs
    it off); ``key``: the secret that signs the anonymous CSRF cookie (read from or made in
    ``govsocial-web.key`` beside the state file when not given)."""

    state: Path
    published: Path
    warehouse: Path | None = None
    secure_cookies: bool = False
    key: bytes = b""
    throttle: Throttle = field(default_factory=Throttle)

    def to_json(self) -> str:
        """The config for a worker process (the key stays in its file; throttle: default)."""
        return json.dumps(
            {
                "state": str(self.state),
                "published": str(self.published),
                "warehouse": str(self.warehouse) if self.warehouse else None,
                "secure_cookies": self.secure_cookies,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> WebConfig:
        raw = json.loads(text)
        return cls(
            state=Path(raw["state"]),
            published=Path(raw["published"]),
            warehouse=Path(raw["warehouse"]) if raw.get("warehouse") else None,
            secure_cookies=bool(raw.get("secure_cookies")),
        )

    def with_key(self) -> WebConfig:
        if self.key:
            return self
        return dataclasses.replace(self, key=load_key(self.state))


def load_key(state: Path) -> bytes:
    """The server's secret key, from ``govsocial-web.key`` beside ``state`` (made on first
    start, readable by its owner only)."""
    path = state.parent / KEY_NAME
    if not path.exists():
        if not state.parent.is_dir():
            raise ConfigError(
                f"The folder {state.parent} of the web state file does not exist; create it "
                "or give another --state path."
            )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
    if len(text) < 32:
        raise ConfigError(
            f"{path}: the web server's key is too short or empty. Delete the file; a new one "
            "is made on the next start (everyone signed out stays signed out)."
        )
    return text.encode()
