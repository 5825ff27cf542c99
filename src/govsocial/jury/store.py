"""The web app's own state: users, juries, ballots and the audit log in ONE SQLite file.

The warehouse (DuckDB) allows one writing process; this file is separate so that the web app
can serve while the CLI imports, collects and runs awards (docs/jury.md, "The store").

- WAL mode, so readers never wait for the writer; ``synchronous=FULL``, so a committed ballot
  survives a crash of the process or of the machine; foreign keys on; a busy timeout, so a
  writer waits for another instead of failing.
- Every write is ``BEGIN IMMEDIATE`` (:meth:`StateStore.write`): the write lock is taken
  before anything is read, so two jurors saving at once are serialised, never lost, and no
  read-then-write decision can be made on a stale read.
- Every write goes with its audit entry in the same transaction: a transaction that changed a
  row and wrote no entry is rolled back (:class:`Transaction`).
- One connection per :class:`StateStore`, used by one thread: the web app opens one per
  request (cheap), each test thread its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from govsocial.errors import ConfigError, SchemaVersionError, StoreError

DEFAULT_NAME = "govsocial-web.sqlite3"  # beside the warehouse, unless --state says otherwise
APPLICATION_ID = 0x67734A59  # "gsJY" in the file's header: a govsocial web state file
BUSY_TIMEOUT_SECONDS = 30.0
Clock = Callable[[], datetime]
Params = Sequence[Any] | dict[str, Any]

_V1 = """
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  login TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('organiser', 'juror', 'operator')),
  institution_id TEXT,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created TEXT NOT NULL,
  CHECK ((role = 'operator') = (institution_id IS NOT NULL))
);
CREATE TABLE juries (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL,
  folder TEXT NOT NULL,
  methodology_id TEXT NOT NULL,
  categories TEXT NOT NULL,
  clusters TEXT NOT NULL,
  criteria TEXT NOT NULL,
  champion TEXT NOT NULL,
  rule TEXT NOT NULL CHECK (rule IN ('standardised', 'borda')),
  panel_size INTEGER NOT NULL CHECK (panel_size >= 1),
  deadline TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
  outcome TEXT,
  created TEXT NOT NULL,
  created_by INTEGER NOT NULL REFERENCES users(id),
  closed TEXT,
  CHECK ((status = 'closed') = (outcome IS NOT NULL))
);
CREATE TABLE nominees (
  jury_id INTEGER NOT NULL REFERENCES juries(id),
  category TEXT NOT NULL,
  cluster_id TEXT NOT NULL,
  unit TEXT NOT NULL,
  institution_id TEXT NOT NULL,
  institution_name TEXT NOT NULL,
  label TEXT NOT NULL,
  rank INTEGER NOT NULL,
  score REAL NOT NULL,
  PRIMARY KEY (jury_id, category, cluster_id, unit)
);
CREATE TABLE assignments (
  jury_id INTEGER NOT NULL REFERENCES juries(id),
  juror_id INTEGER NOT NULL REFERENCES users(id),
  category TEXT NOT NULL,
  cluster_id TEXT NOT NULL,
  PRIMARY KEY (jury_id, juror_id, category, cluster_id)
);
CREATE TABLE ballots (
  id INTEGER PRIMARY KEY,
  jury_id INTEGER NOT NULL,
  juror_id INTEGER NOT NULL,
  category TEXT NOT NULL,
  cluster_id TEXT NOT NULL,
  unit TEXT NOT NULL,
  scores TEXT NOT NULL,
  comment TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
  recused INTEGER NOT NULL CHECK (recused IN (0, 1)),
  recusal_reason TEXT,
  updated TEXT NOT NULL,
  UNIQUE (jury_id, juror_id, category, cluster_id, unit),
  FOREIGN KEY (jury_id, juror_id, category, cluster_id)
    REFERENCES assignments (jury_id, juror_id, category, cluster_id),
  FOREIGN KEY (jury_id, category, cluster_id, unit)
    REFERENCES nominees (jury_id, category, cluster_id, unit),
  CHECK (recused = 0 OR (recusal_reason IS NOT NULL AND scores = '{}'))
);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  before TEXT NOT NULL,
  after TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_by_subject ON audit (action, subject, seq);
CREATE TABLE audit_head (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, printf('%.64c', '0'));
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

_V2 = """
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created TEXT NOT NULL,
  expires TEXT NOT NULL,
  ended TEXT
);
CREATE INDEX sessions_by_user ON sessions (user_id, ended);
"""

_V3 = """
CREATE TABLE registrations (
  id INTEGER PRIMARY KEY,
  institution_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('add', 'remove', 'correct')),
  platform TEXT NOT NULL,
  account_id INTEGER,
  handle TEXT,
  platform_id TEXT,
  name TEXT,
  current TEXT,
  reason TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'withdrawn')),
  proposed_by INTEGER NOT NULL REFERENCES users(id),
  proposed TEXT NOT NULL,
  decided_by INTEGER REFERENCES users(id),
  decided TEXT,
  note TEXT,
  outcome TEXT,
  uid TEXT NOT NULL UNIQUE,
  CHECK ((kind = 'add') = (account_id IS NULL)),
  CHECK ((kind = 'add') OR current IS NOT NULL),
  CHECK (kind <> 'correct' OR handle IS NOT NULL),
  CHECK ((status = 'pending') = (decided IS NULL)),
  CHECK ((status = 'approved') = (outcome IS NOT NULL))
);
CREATE INDEX registrations_by_institution ON registrations (institution_id, status, id);
CREATE INDEX registrations_by_status ON registrations (status, id);
"""

# (version, what it adds, SQL): applied in order, never edited once released.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "users, juries, nominees, assignments, ballots, audit log", _V1),
    (2, "sign-in sessions of the web app", _V2),
    (3, "registration changes", _V3),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """A time as the store keeps it: UTC, ISO 8601, microseconds, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("a time without a time zone cannot be kept")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class Transaction:
    """One ``BEGIN IMMEDIATE`` transaction: its rows and its audit entries commit together.
    ``at`` is the transaction's one time (its entries and rows all say it)."""

    def __init__(self, con: sqlite3.Connection, at: datetime) -> None:
        self.sqlite = con
        self.at = at
        self.audited = 0
        self._changes = con.total_changes

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        return self.sqlite.execute(sql, params)

    def one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.sqlite.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(self.sqlite.execute(sql, params).fetchall())

    def audit(self, actor: str, action: str, subject: str, before: Any, after: Any) -> int:
        """Append the audit entry of this transaction's change; returns its seq."""
        from govsocial.jury.audit import append

        self.audited += 1
        return append(self.sqlite, iso(self.at), actor, action, subject, before, after)

    def unaudited(self) -> bool:
        """Rows changed and no audit entry written (each entry is two writes of its own)."""
        return self.audited == 0 and self.sqlite.total_changes > self._changes


class StateStore:
    """The web state file, open. ``clock`` gives every time the store records (tests pass
    their own)."""

    def __init__(self, path: Path, con: sqlite3.Connection, clock: Clock) -> None:
        self.path = path
        self.sqlite = con
        self.clock = clock

    @classmethod
    def open(cls, path: Path | str, *, create: bool = False, clock: Clock = utc_now) -> StateStore:
        """Open (and migrate) the state file; ``create``: make it if it is missing."""
        path = Path(path)
        if not path.exists() and not create:
            raise ConfigError(
                f"{path}: no web state file there. Create it with its first organiser "
                "(`govsocial users add --role organiser ...`), or give the right --state path."
            )
        if path.is_dir():
            raise ConfigError(f"{path} is a folder; --state names the state file itself.")
        try:
            con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the web state file ({exc}).") from exc
        con.row_factory = sqlite3.Row
        store = cls(path, con, clock)
        try:
            store._prepare()
        except BaseException:
            con.close()
            raise
        return store

    def _prepare(self) -> None:
        try:
            self.sqlite.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            app_id = self.sqlite.execute("PRAGMA application_id").fetchone()[0]
            tables = self.sqlite.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path} is not a govsocial web state file ({exc}). Give the path of "
                "the state file (--state), or a new path to create one."
            ) from exc
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            raise StoreError(
                f"{self.path} is an SQLite file of another program, not a govsocial web state "
                "file. Give the state file's path (--state), or a new path to create one."
            )
        self.sqlite.execute("PRAGMA foreign_keys = ON")
        self.sqlite.execute("PRAGMA synchronous = FULL")
        if self.sqlite.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise StoreError(f"{self.path}: SQLite cannot use WAL mode here (a network drive?).")
        if app_id != APPLICATION_ID or self._version() != MIGRATIONS[-1][0]:
            self._migrate()  # takes the write lock: only when there is something to do

    def _version(self) -> int | None:
        try:
            row = self.sqlite.execute("SELECT max(version) FROM migrations").fetchone()
        except sqlite3.OperationalError:  # no migrations table yet
            return None
        return None if row is None or row[0] is None else int(row[0])

    def _migrate(self) -> None:
        with self._immediate():
            self.sqlite.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            self.sqlite.execute(
                "CREATE TABLE IF NOT EXISTS migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)"
            )
            done = {r[0] for r in self.sqlite.execute("SELECT version FROM migrations")}
            newest = MIGRATIONS[-1][0]
            if done and max(done) > newest:
                raise SchemaVersionError(
                    f"{self.path} was written by a newer govsocial (state version {max(done)}; "
                    f"this one knows up to {newest}). Upgrade govsocial."
                )
            for version, name, sql in MIGRATIONS:
                if version not in done:
                    for statement in _statements(sql):
                        self.sqlite.execute(statement)
                    self.sqlite.execute(
                        "INSERT INTO migrations VALUES (?, ?, ?)",
                        (version, name, iso(self.clock())),
                    )

    @contextmanager
    def _immediate(self) -> Iterator[None]:
        try:
            self.sqlite.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(
                f"{self.path}: could not get the write lock in {BUSY_TIMEOUT_SECONDS:.0f} s "
                f"({exc}); another process holds it. Try again."
            ) from exc
        try:
            yield
        except BaseException:
            self.sqlite.execute("ROLLBACK")
            raise
        self.sqlite.execute("COMMIT")

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """A write transaction (``BEGIN IMMEDIATE``); every change in it needs its audit entry
        (:meth:`Transaction.audit`), else it is rolled back with an error."""
        with self._immediate():
            tx = Transaction(self.sqlite, self.clock())
            yield tx
            if tx.unaudited():
                raise StoreError(
                    "a change to the web state without its audit entry was refused "
                    "(a bug in govsocial: report it)."
                )

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read transaction: every query in it sees the same snapshot."""
        self.sqlite.execute("BEGIN")
        try:
            yield Transaction(self.sqlite, self.clock())
        finally:
            self.sqlite.execute("COMMIT")

    def close(self) -> None:
        self.sqlite.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _statements(sql: str) -> list[str]:
    """The migration's statements (a trigger's body keeps its inner ``;``)."""
    statements, current = [], ""
    for line in sql.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements
