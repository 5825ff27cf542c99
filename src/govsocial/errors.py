"""The one error tree of govsocial.

Every error a user can cause or meet is a :class:`GovsocialError`; the CLI prints its message
as one paragraph (no traceback unless ``--debug``) and exits with :attr:`exit_code`.

    GovsocialError
    ├── ConfigError            a wrong option, setting or path given by the user
    ├── InputError             a bad file or record (carries file, place and reason)
    │   ├── RecordError        one record that cannot be read: quarantined, the file goes on
    │   └── RegistryError      a registry file with validation problems (all of them listed)
    ├── SourceError            a platform API failed (retryable or terminal; status, URL)
    ├── MethodologyError       a methodology file that does not validate
    ├── StoreError             the warehouse cannot be opened, read or written
    │   ├── WarehouseLockedError   another process holds the write lock
    │   └── SchemaVersionError     the file was written by a newer govsocial
    └── AuthError              login, session or permission problems (web)

Messages say what went wrong, name the thing (file, row, field, setting) and say the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class GovsocialError(Exception):
    """Base of every error govsocial raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(GovsocialError):
    """A wrong option, setting or path."""

    exit_code = 2


class InputError(GovsocialError):
    """A bad input file or record; names the file and the place in it."""

    def __init__(self, message: str, *, path: Path | str | None = None, place: str | None = None):
        where = ""
        if path is not None:
            where = f"{path}"
            if place:
                where += f", {place}"
            where += ": "
        super().__init__(where + message)
        self.path = path
        self.place = place


class RecordError(InputError):
    """One record that cannot be read. ``reason`` is its quarantine code (``bad_value``,
    ``missing_field``, ``bad_json``, …) and ``detail`` the sentence saying why; a reader
    catches it, quarantines the record and goes on with the file."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Problem:
    """One validation problem in an input file: where it is, what is wrong, how to fix it."""

    place: str
    field: str
    reason: str
    fix: str

    def __str__(self) -> str:
        return f"{self.place}, field '{self.field}': {self.reason}. Fix: {self.fix}"


class RegistryError(InputError):
    """A registry file with one or more problems; nothing of it was loaded."""

    def __init__(self, path: Path | str, problems: list[Problem]):
        shown = problems[:20]
        lines = "\n".join(f"  - {p}" for p in shown)
        more = (
            f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        )
        super().__init__(
            f"{len(problems)} problem(s) found; nothing was loaded.\n{lines}{more}", path=path
        )
        self.problems = problems


class SourceError(GovsocialError):
    """A platform API call failed. ``retryable`` says whether trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        retryable: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.url = url
        self.retryable = retryable


class MethodologyError(GovsocialError):
    """A methodology file that does not validate."""


class StoreError(GovsocialError):
    """The warehouse cannot be opened, read or written."""


class WarehouseLockedError(StoreError):
    """Another process is writing to the warehouse."""


class SchemaVersionError(StoreError):
    """The warehouse was written by a newer govsocial than this one."""


class AuthError(GovsocialError):
    """Login, session or permission problems."""
