"""The state file: WAL, foreign keys, its migrations, refusing files that are not ours, and no
write without its audit entry."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from govsocial.errors import ConfigError, SchemaVersionError, StoreError
from govsocial.jury.audit import verify
from govsocial.jury.store import APPLICATION_ID, MIGRATIONS, StateStore


def test_a_new_file_is_wal_with_foreign_keys_and_its_migrations(tmp_path: Path) -> None:
    with StateStore.open(tmp_path / "s.sqlite3", create=True) as store:
        assert store.sqlite.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.sqlite.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.sqlite.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        assert store.sqlite.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        versions = [r[0] for r in store.sqlite.execute("SELECT version FROM migrations")]
        assert versions == [m[0] for m in MIGRATIONS]
        assert verify(store).ok and verify(store).entries == 0
    with StateStore.open(tmp_path / "s.sqlite3") as again:  # reopening applies nothing twice
        assert again.sqlite.execute("SELECT count(*) FROM migrations").fetchone()[0] == len(
            MIGRATIONS
        )


def test_a_missing_file_is_created_only_when_asked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no web state file"):
        StateStore.open(tmp_path / "none.sqlite3")
    assert not (tmp_path / "none.sqlite3").exists()


def test_files_that_are_not_a_state_file_are_refused_untouched(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite3"
    text.write_text("not a database at all, just some text that is long enough" * 10)
    with pytest.raises(StoreError, match="not a govsocial web state file"):
        StateStore.open(text)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE photos (id INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="another program"):
        StateStore.open(other)
    with sqlite3.connect(other) as con:
        assert [r[0] for r in con.execute("SELECT name FROM sqlite_master")] == ["photos"]
    con.close()
    with pytest.raises(ConfigError, match="folder"):
        StateStore.open(tmp_path)


def test_a_file_of_a_newer_govsocial_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    StateStore.open(path, create=True).close()
    with sqlite3.connect(path) as con:
        con.execute("INSERT INTO migrations VALUES (999, 'from the future', 'x')")
    con.close()
    with pytest.raises(SchemaVersionError, match="newer govsocial"):
        StateStore.open(path)


def test_a_write_without_its_audit_entry_is_rolled_back(store: StateStore) -> None:
    before = store.sqlite.execute("SELECT count(*) FROM users").fetchone()[0]
    with pytest.raises(StoreError, match="without its audit entry"), store.write() as tx:
        tx.execute("UPDATE users SET name = 'Mallory'")
    assert (
        store.sqlite.execute("SELECT count(*) FROM users WHERE name = 'Mallory'").fetchone()[0] == 0
    )
    assert store.sqlite.execute("SELECT count(*) FROM users").fetchone()[0] == before
    with store.write() as tx:  # with its entry, the same change commits
        tx.execute("UPDATE users SET name = 'Mallory' WHERE login = 'juror1'")
        tx.audit("console:test", "user.rename", "user:2", {"name": "Juror1"}, {"name": "Mallory"})
    assert (
        store.sqlite.execute("SELECT count(*) FROM users WHERE name = 'Mallory'").fetchone()[0] == 1
    )


def test_an_error_in_a_write_leaves_nothing_of_it(store: StateStore) -> None:
    entries = store.sqlite.execute("SELECT count(*) FROM audit").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError), store.write() as tx:
        tx.audit("console:test", "test", "user:2", None, {"x": 1})
        tx.execute("INSERT INTO users (id, name) VALUES (1, 'dup')")
    assert store.sqlite.execute("SELECT count(*) FROM audit").fetchone()[0] == entries
    assert verify(store).ok


def test_the_audit_table_refuses_updates_and_deletes(store: StateStore) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.sqlite.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.sqlite.execute("DELETE FROM audit")
