"""The audit log: hash-chained, and any edited, deleted, reordered or inserted entry is found
and named; exported as JSON Lines that verify the same; never a password or a hash in it."""

from __future__ import annotations

import io
import itertools
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from govsocial.errors import AuthError, InputError
from govsocial.jury.audit import (
    GENESIS,
    canonical,
    check_chain,
    entries,
    entry_hash,
    export,
    read_export,
    verify,
)
from govsocial.jury.juries import Jury
from govsocial.jury.store import StateStore
from govsocial.jury.users import Console, add_user, change_password, disable_user, verify_login
from jury.world import PASSWORD, People, fill

Tamper = Callable[[sqlite3.Connection], None]


def logged(store: StateStore, n: int = 6) -> None:
    with store.write() as tx:
        for i in range(n):
            tx.audit("console:test", "test.entry", f"thing:{i}", {"i": i}, {"i": i + 1, "ü": "é"})


def raw(path: Path) -> sqlite3.Connection:
    """The file as an attacker with write access sees it: the triggers dropped first."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("DROP TRIGGER audit_no_delete")
    return con


def test_each_entry_hashes_its_content_and_the_previous_hash(store: StateStore) -> None:
    logged(store)
    chain = list(entries(store))
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == GENESIS
    for previous, entry in itertools.pairwise(chain):
        assert entry.prev_hash == previous.hash
    last = chain[-1]
    assert last.after == {"i": 6, "ü": "é"} and last.actor == "console:test"
    fields = {k: getattr(last, k) for k in ("seq", "at", "actor", "action", "subject")}
    fields |= {"before": last.before, "after": last.after, "prev_hash": last.prev_hash}
    assert entry_hash(fields) == last.hash
    assert canonical({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
    report = verify(store)
    assert report.ok and report.entries == len(chain) and report.head == f"{last.seq}:{last.hash}"


def _edit_after(con: sqlite3.Connection) -> None:
    con.execute("""UPDATE audit SET after = '{"i":99,"ü":"é"}' WHERE seq = 12""")


def _edit_actor(con: sqlite3.Connection) -> None:
    con.execute("UPDATE audit SET actor = 'user:1' WHERE seq = 12")


def _edit_to_bad_json(con: sqlite3.Connection) -> None:
    con.execute("UPDATE audit SET before = '{broken' WHERE seq = 12")


def _delete_one(con: sqlite3.Connection) -> None:
    con.execute("DELETE FROM audit WHERE seq = 12")


def _delete_and_renumber(con: sqlite3.Connection) -> None:
    con.execute("DELETE FROM audit WHERE seq = 12")
    con.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 12")


def _swap(con: sqlite3.Connection) -> None:  # entries 12 and 13 change places
    con.execute("UPDATE audit SET seq = -1 WHERE seq = 12")
    con.execute("UPDATE audit SET seq = 12 WHERE seq = 13")
    con.execute("UPDATE audit SET seq = 13 WHERE seq = -1")


def _swap_contents(con: sqlite3.Connection) -> None:  # numbers kept, rows' contents swapped
    a = con.execute("SELECT * FROM audit WHERE seq = 12").fetchone()
    b = con.execute("SELECT * FROM audit WHERE seq = 13").fetchone()
    con.execute("DELETE FROM audit WHERE seq IN (12, 13)")
    con.execute("INSERT INTO audit VALUES (12, ?, ?, ?, ?, ?, ?, ?, ?)", b[1:])
    con.execute("INSERT INTO audit VALUES (13, ?, ?, ?, ?, ?, ?, ?, ?)", a[1:])


def _insert(con: sqlite3.Connection) -> None:  # a forged entry, hashed right, renumbered in
    con.execute("UPDATE audit SET seq = seq + 1000 WHERE seq >= 12")
    con.execute("UPDATE audit SET seq = seq - 999 WHERE seq >= 1012")
    prev = con.execute("SELECT hash FROM audit WHERE seq = 11").fetchone()[0]
    fields = {
        "seq": 12,
        "at": "2025-09-01T08:00:00.000000Z",
        "actor": "user:1",
        "action": "ballot.draft",
        "subject": "forged",
        "before": None,
        "after": {"x": 1},
        "prev_hash": prev,
    }
    con.execute(
        "INSERT INTO audit VALUES (12, ?, ?, ?, ?, 'null', ?, ?, ?)",
        (fields["at"], "user:1", "ballot.draft", "forged", '{"x":1}', prev, entry_hash(fields)),
    )


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "problem"),
    [
        (_edit_after, 12, "does not match its hash"),
        (_edit_actor, 12, "does not match its hash"),
        (_edit_to_bad_json, 12, "not the JSON that was written"),
        (_delete_one, 12, "missing (deleted): entry 13 follows entry 11"),
        (_delete_and_renumber, 12, "prev_hash"),
        (_swap, 12, "prev_hash"),
        (_swap_contents, 12, "prev_hash"),
        (_insert, 13, "prev_hash"),
    ],
)
def test_a_changed_past_is_found_and_named(
    store: StateStore, people: People, tamper: Tamper, bad_seq: int, problem: str
) -> None:
    logged(store, 20)
    assert verify(store).ok
    con = raw(store.path)
    tamper(con)
    con.close()
    report = verify(store)
    assert not report.ok
    assert report.bad_seq == bad_seq, report
    assert problem in (report.problem or "")
    assert report.entries == bad_seq - 1  # the entries before the first bad one are intact


def test_deleting_the_last_entries_is_found_by_the_head(store: StateStore) -> None:
    logged(store, 20)
    total = verify(store).entries
    con = raw(store.path)
    con.execute("DELETE FROM audit WHERE seq > ?", (total - 3,))
    con.close()
    report = verify(store)
    assert not report.ok and report.bad_seq == total - 2
    assert f"entries {total - 2}–{total} are missing from the end" in (report.problem or "")


def test_a_rewritten_chain_is_caught_by_an_anchor(store: StateStore) -> None:
    logged(store, 5)
    anchor = verify(store).head
    assert verify(store, anchor).ok
    logged(store, 3)
    assert verify(store, anchor).ok  # later entries do not move an anchor
    con = raw(store.path)  # rewrite everything from entry 3, hashes and head recomputed
    rows = con.execute("SELECT * FROM audit ORDER BY seq").fetchall()
    prev = rows[1][8]
    for row in rows[2:]:
        fields = dict(zip(("seq", "at", "actor", "action", "subject"), row[:5], strict=True))
        fields |= {"before": json.loads(row[5]), "after": {"forged": True}, "prev_hash": prev}
        digest = entry_hash(fields)
        con.execute(
            "UPDATE audit SET after = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            ('{"forged":true}', prev, digest, row[0]),
        )
        prev = digest
    con.execute("UPDATE audit_head SET hash = ?", (prev,))
    con.close()
    assert verify(store).ok  # a whole rewrite hashes right ...
    report = verify(store, anchor)  # ... but not against the anchor kept elsewhere
    assert not report.ok and report.bad_seq == int(anchor.split(":")[0])
    with pytest.raises(InputError, match="SEQ:HASH"):
        verify(store, "12:abc")


def test_the_export_is_json_lines_that_verify_the_same(store: StateStore, tmp_path: Path) -> None:
    logged(store, 4)
    buffer = io.StringIO()
    written = export(store, buffer)
    lines = buffer.getvalue().splitlines()
    assert written == len(lines) == verify(store).entries
    assert json.loads(lines[-1])["after"] == {"i": 4, "ü": "é"}
    path = tmp_path / "audit.jsonl"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    assert check_chain(read_export(path)) == verify(store)
    edited = next(n for n, line in enumerate(lines) if '"after":{"i":2' in line)
    lines[edited] = lines[edited].replace('"i":2', '"i":7')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = check_chain(read_export(path))
    assert not report.ok and report.bad_seq == edited + 1
    path.write_text(lines[0] + "\nnot json\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        check_chain(read_export(path))


def test_no_password_or_hash_ever_reaches_the_log(
    store: StateStore, people: People, jury: Jury
) -> None:
    secret, new = PASSWORD.format("juror1"), "a-brand-new-secret-pass"
    verify_login(store, "juror1", secret)
    with pytest.raises(AuthError):
        verify_login(store, "juror1", "wrong-password-attempt")
    with pytest.raises(AuthError):  # a password typed in the login field
        verify_login(store, secret, secret)
    change_password(store, people.jurors[0], secret, new)
    verify_login(store, "juror1", new)
    added = add_user(
        store,
        Console("t"),
        name="X",
        login="x@example.org",
        role="juror",
        password="p4ss-w0rd-long",
    )
    disable_user(store, people.organiser, added.id)
    fill(store, people.jurors[0], jury.id, "most_active", "pemda", lambda place, n: 5.0)
    hashes = [r[0] for r in store.sqlite.execute("SELECT password_hash FROM users")]
    text = "".join(json.dumps(e.__dict__) for e in entries(store))
    for word in (secret, new, "wrong-password-attempt", "p4ss-w0rd-long", "$argon2", *hashes):
        assert word not in text
    assert "login.failed" in text and "user.password" in text and "ballot.draft" in text
    with pytest.raises(ValueError, match="never be logged"), store.write() as tx:
        tx.audit("console:test", "x", "y", None, {"nested": [{"password": "oops"}]})
    with pytest.raises(ValueError, match="hash must never"), store.write() as tx:
        tx.audit("console:test", "x", "y", None, {"note": hashes[0]})
    assert verify(store).ok
