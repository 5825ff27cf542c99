"""Accounts: argon2 hashes, the first organiser, roles checked from the acting user's id, a
throttle on failed sign-ins (on an injected clock), a disabled user refused at once."""

from __future__ import annotations

import pytest

from govsocial.errors import AuthError, InputError, NotFoundError
from govsocial.jury.audit import entries, verify
from govsocial.jury.store import StateStore
from govsocial.jury.users import (
    Console,
    Throttle,
    active_user,
    add_user,
    change_password,
    create_first_organiser,
    disable_user,
    find_user,
    list_users,
    verify_login,
)
from jury.world import PASSWORD, Clock, People


def test_passwords_are_kept_as_argon2id_hashes_only(store: StateStore, people: People) -> None:
    hashes = [r[0] for r in store.sqlite.execute("SELECT password_hash FROM users")]
    assert len(hashes) == 6 and all(h.startswith("$argon2id$") for h in hashes)
    assert len(set(hashes)) == len(hashes)  # salted
    whole = store.path.read_bytes() + store.path.with_name(store.path.name + "-wal").read_bytes()
    assert PASSWORD.format("juror1").encode() not in whole
    user = verify_login(store, " Juror1 ", PASSWORD.format("juror1"))  # logins ignore case
    assert user.id == people.jurors[0] and user.role == "juror"


def test_the_first_organiser_only_on_an_empty_store(tmp_path: object, store: StateStore) -> None:
    with pytest.raises(AuthError, match="exists already"):
        create_first_organiser(store, name="Eve", login="eve", password="eve-wants-in-123")
    assert "eve" not in {u.login for u in list_users(store, Console("t"))}
    with StateStore.open(store.path.with_name("new.sqlite3"), create=True) as empty:
        first = create_first_organiser(
            empty, name="Ana", login="ana@example.org", password="a-long-password-1"
        )
        assert first.role == "organiser" and first.id == 1
        assert [e.action for e in entries(empty)] == ["user.add"]


def test_only_organisers_and_the_console_manage_users(store: StateStore, people: People) -> None:
    for actor in (people.jurors[0], people.operator):
        with pytest.raises(AuthError, match="only an organiser"):
            add_user(store, actor, name="X", login="xx1", role="organiser", password="x" * 12)
        with pytest.raises(AuthError):
            list_users(store, actor)
        with pytest.raises(AuthError):
            disable_user(store, actor, people.jurors[1])
    with pytest.raises(AuthError, match="does not exist"):
        list_users(store, 999)
    made = add_user(
        store,
        people.organiser,
        name="Op",
        login="op2",
        role="operator",
        password="x" * 12,
        institution_id="syn-kemenag",
    )
    assert made.institution_id == "syn-kemenag"
    assert find_user(store, Console("t"), "op2") == made
    with pytest.raises(NotFoundError):
        find_user(store, Console("t"), "nobody")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"login": "ab"}, "login 'ab'"),
        ({"login": "has space"}, "login"),
        ({"login": "juror1"}, "taken"),
        ({"password": "short"}, "at least 10"),
        ({"password": "newperson1", "login": "newperson1"}, "not be the login"),
        ({"role": "admin"}, "role 'admin'"),
        ({"role": "operator"}, "institution id"),
        ({"institution_id": "x"}, "only an operator"),
        ({"name": "  "}, "name is empty"),
    ],
)
def test_bad_users_are_refused_with_the_reason(
    store: StateStore, fields: dict[str, str], message: str
) -> None:
    given = {"name": "New", "login": "newperson", "role": "juror", "password": "long-enough-1"}
    with pytest.raises(InputError, match=message):
        add_user(store, Console("t"), **(given | fields))  # type: ignore[arg-type]
    assert len(list_users(store, Console("t"))) == 6


def test_wrong_sign_ins_say_only_that_they_are_wrong(store: StateStore, people: People) -> None:
    for login, password in (("juror1", "not-the-password"), ("nobody", "whatever-it-is")):
        with pytest.raises(AuthError) as caught:
            verify_login(store, login, password)
        assert caught.value.message == "wrong login or password"
    failed = [e for e in entries(store) if e.action == "login.failed"]
    assert next(e.subject for e in failed) == f"user:{people.jurors[0]}"
    assert failed[1].subject.startswith("login:") and "nobody" not in failed[1].subject


def test_too_many_failures_lock_the_login_for_a_while(
    store: StateStore, people: People, clock: Clock
) -> None:
    throttle = Throttle(attempts=3)
    right = PASSWORD.format("juror2")
    for _ in range(3):
        with pytest.raises(AuthError, match="wrong login"):
            verify_login(store, "juror2", "guess-guess-guess", throttle)
        clock.advance(minutes=1)
    with pytest.raises(AuthError, match="too many failed sign-ins") as caught:
        verify_login(store, "juror2", right, throttle)  # even the right password
    assert "2025-09-01 08:17" in caught.value.message  # 15 minutes after the last failure
    assert verify_login(store, "juror1", PASSWORD.format("juror1"), throttle)  # others unaffected
    clock.advance(minutes=13)
    with pytest.raises(AuthError, match="too many"):
        verify_login(store, "juror2", right, throttle)
    clock.advance(minutes=2)
    assert verify_login(store, "juror2", right, throttle).id == people.jurors[1]
    with pytest.raises(AuthError, match="wrong login"):  # a success starts the count again
        verify_login(store, "juror2", "guess-guess-guess", throttle)
    assert verify_login(store, "juror2", right, throttle)
    assert any(e.action == "login.refused" for e in entries(store))


def test_failures_spread_wider_than_the_window_never_lock(store: StateStore, clock: Clock) -> None:
    throttle = Throttle(attempts=3)
    for _ in range(6):
        with pytest.raises(AuthError, match="wrong login"):
            verify_login(store, "juror3", "guess-guess-guess", throttle)
        clock.advance(minutes=8)  # at most two failures in any 15 minutes
    assert verify_login(store, "juror3", PASSWORD.format("juror3"), throttle)


def test_a_disabled_user_fails_at_once(store: StateStore, people: People) -> None:
    juror = people.jurors[2]
    assert active_user(store, juror).login == "juror3"
    disable_user(store, people.organiser, juror)
    with pytest.raises(AuthError, match="disabled"):
        verify_login(store, "juror3", PASSWORD.format("juror3"))
    with pytest.raises(AuthError, match="disabled"):
        active_user(store, juror)  # a session of theirs stops on its next request
    with pytest.raises(AuthError, match="disabled"):
        change_password(store, juror, PASSWORD.format("juror3"), "another-long-one")
    with pytest.raises(AuthError, match="cannot disable themselves"):
        disable_user(store, people.organiser, people.organiser)
    assert [u.disabled for u in list_users(store, Console("t")) if u.id == juror] == [True]


def test_password_change_needs_the_current_one(store: StateStore, people: People) -> None:
    juror, old = people.jurors[0], PASSWORD.format("juror1")
    with pytest.raises(AuthError, match="current password is wrong"):
        change_password(store, juror, "not-the-current", "brand-new-password")
    with pytest.raises(InputError, match="at least 10"):
        change_password(store, juror, old, "short")
    change_password(store, juror, old, "brand-new-password")
    with pytest.raises(AuthError):
        verify_login(store, "juror1", old)
    assert verify_login(store, "juror1", "brand-new-password").id == juror
    assert verify(store).ok
