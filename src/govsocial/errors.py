"""The one error tree of govsocial.

Every error a user can cause or meet is a :class:`GovsocialError`; the CLI prints its message
as one paragraph (no traceback unless ``--debug``) and exits with :attr:`exit_code`.

    GovsocialError
    ├── UsageError             a wrong option value or argument on the command line (exit 2)
    ├── ConfigError            a wrong setting (environment variable, govsocial.toml) or path
    ├── NotFoundError          no such run, batch, file, cluster, reason, institution ...
    ├── InputError             a bad file or record (carries file, place and reason)
    │   ├── RecordError        one record that cannot be read: quarantined, the file goes on
    │   └── RegistryError      a registry file with validation problems (all of them listed)
    ├── SourceError            a platform API failed (status, URL without tokens, the API's words)
    │   ├── TransientSourceError   trying again later may help (5xx, timeout, throttling)
    │   └── TerminalSourceError    it will not (revoked token, no permission, account gone)
    │       └── QuotaExhausted     the period's quota is spent; says when it resets
    ├── MethodologyError       a methodology file that does not validate
    ├── StoreError             the warehouse cannot be opened, read or written
    │   ├── WarehouseLockedError   another process holds the file
    │   ├── SchemaVersionError     the file was written by a newer govsocial
    │   └── QueryError             a `govsocial sql` query that fails (store/query.py)
    │       └── QueryRefusedError  ... or is not a read
    ├── OutputError            a file we were asked to write cannot be written (full disk ...)
    ├── AuthError              login, session or permission problems (web)
    └── Interrupted            the user pressed Ctrl-C: says what was kept and how to resume

Exit codes: 2 for a wrong command line (Typer's usage errors and :class:`UsageError`), 130
for :class:`Interrupted`, 1 for everything else.

Messages say what went wrong, name the thing (file, row, field, setting) and say the fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: errors.py imports no stage
    from govsocial.sources.api import ApiError


class GovsocialError(Exception):
    """Base of every error govsocial raises on purpose."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(GovsocialError):
    """A wrong option value or argument on the command line (exit code 2, like Typer's own
    usage errors): a value that is not one of its choices or not in its form."""

    exit_code = 2


class ConfigError(GovsocialError):
    """A wrong setting (environment variable, govsocial.toml) or path."""


class NotFoundError(GovsocialError):
    """Something asked for by name or id does not exist: a run, a batch, a kept file, a
    cluster, a quarantine reason, an institution. The message lists what does exist."""


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
        from govsocial.words import count

        super().__init__(
            f"{count(len(problems), 'problem')} found; nothing was loaded.\n{lines}{more}",
            path=path,
        )
        self.problems = problems


class SourceError(GovsocialError):
    """A platform API call failed. ``retryable`` says whether trying again may help (each
    subclass says it); ``url`` is the request's URL with every token, key and secret removed;
    ``platform`` names the platform ("YouTube"); ``api_error`` is what the API itself said (its
    code, type and message, secrets removed); ``retry_at`` is when the platform said to try
    again, if it did; ``rate_limited`` says it was the platform's rate limit or throttling. The
    message says all of it and the fix (made by :mod:`govsocial.sources.http`)."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str | None = None,
        platform: str | None = None,
        api_error: ApiError | None = None,
        retry_at: datetime | None = None,
        rate_limited: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.url = url
        self.platform = platform
        self.api_error = api_error
        self.retry_at = retry_at
        self.rate_limited = rate_limited


class TransientSourceError(SourceError):
    """Trying again later may help: a server error (5xx), a timeout, a dropped connection, a
    body cut off, throttling or a rate limit; ``retry_at`` is when the platform said to retry.
    The HTTP client retries these itself; one that reaches a caller has used up its attempts,
    or its wait would be longer than the client's longest wait."""

    retryable = True


class TerminalSourceError(SourceError):
    """Trying again will not help until someone acts: a revoked or expired token, a missing
    permission, a deleted or unknown account, a request the API refuses. A collector reports it
    for the account and goes on with the others."""


class QuotaExhausted(TerminalSourceError):
    """The platform's quota for the period is used up (YouTube's daily units, TikTok's daily
    requests, X's monthly post cap), or the next call would exceed it. ``resets_at`` (also
    ``retry_at``) is when it comes back, None when the platform does not say."""

    @property
    def resets_at(self) -> datetime | None:
        return self.retry_at


class MethodologyError(GovsocialError):
    """A methodology file that does not validate."""


class StoreError(GovsocialError):
    """The warehouse cannot be opened, read or written."""


class WarehouseLockedError(StoreError):
    """Another process is writing to the warehouse."""


class SchemaVersionError(StoreError):
    """The warehouse was written by a newer govsocial than this one."""


class OutputError(GovsocialError):
    """A table or file could not be written: the file cannot be created or written (full disk,
    read-only file system), or the rows do not fit the chosen format (Excel's row limit)."""


class AuthError(GovsocialError):
    """Login, session or permission problems."""


class Interrupted(GovsocialError):
    """The user interrupted a long command (Ctrl-C). The message says what was kept and how to
    resume."""

    exit_code = 130


def interrupted_query(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB stopping a query because the user pressed Ctrl-C (it raises a
    ``RuntimeError`` or ``InterruptException`` saying "Query interrupted", not
    ``KeyboardInterrupt``)."""
    return isinstance(exc, Exception) and "query interrupted" in str(exc).lower()
