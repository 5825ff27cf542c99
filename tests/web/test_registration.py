"""Registration in the web app (web/registration.py), through a real server over a real
warehouse: an operator sees their institution's accounts and proposes changes, the organiser
approves or rejects them; an operator reaches nothing of another institution's, nor the jury;
a busy warehouse refuses an approval and changes nothing."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govsocial.jury.registrations import BUSY, list_changes, propose
from govsocial.jury.store import StateStore
from govsocial.jury.users import Console, add_user
from govsocial.publish.model import ReadModel
from govsocial.web.config import WebConfig
from jury.test_registrations import accounts, held, make_warehouse
from jury.world import People
from web.site import Server, csrf_of, post_form, serving, signed_in


@pytest.fixture
def db(tmp_path: Path) -> Path:
    folder = tmp_path / "warehouse"
    folder.mkdir()
    return make_warehouse(folder)


@pytest.fixture
def site(config: WebConfig, db: Path) -> Iterator[Server]:
    """The server, with the warehouse whose registry has institutions x and y."""
    with serving(dataclasses.replace(config, warehouse=db)) as running:
        yield running


def add_operator(config: WebConfig, login: str, institution: str) -> int:
    with StateStore.open(config.state) as store:
        return add_user(
            store,
            Console("test"),
            name=f"Humas {institution}",
            login=login,
            role="operator",
            password=f"sandi-{login}-panjang",
            institution_id=institution,
        ).id


def account_id(page: httpx.Response, handle: str) -> str:
    """The id of the account row showing ``@handle``."""
    row = r'data-account="(\d+)">\s*<td>[^<]*</td><th scope="row">@'
    found = re.search(row + re.escape(handle) + "<", page.text)
    assert found, f"no account @{handle} on the page"
    return found.group(1)


def changes(config: WebConfig, actor: int) -> list[tuple[int, str, str]]:
    with StateStore.open(config.state) as store:
        return [(c.id, c.kind, c.status) for c in list_changes(store, actor)]


def registration_entries(config: WebConfig) -> int:
    """How many entries of the audit log are about registration changes."""
    with StateStore.open(config.state) as store:
        query = "SELECT count(*) FROM audit WHERE action LIKE 'registration.%'"
        return int(store.sqlite.execute(query).fetchone()[0])


def test_the_public_signs_in_first_and_jurors_are_refused(site: Server) -> None:
    with site.client() as anonymous:
        answer = anonymous.get("/registration")
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
        assert anonymous.post("/registration/propose", data={"kind": "add"}).status_code == 403
    with signed_in(site, "juror1") as juror:
        assert juror.get("/registration").status_code == 403
        refused = post_form(
            juror,
            "/account",
            "/registration/propose",
            {"kind": "add", "platform": "x", "handle": "juri", "reason": "?"},
        )
        assert refused.status_code == 403
        assert post_form(juror, "/account", "/registration/1/approve", {}).status_code == 403


def test_an_operator_proposes_and_the_organiser_decides(
    site: Server, people: People, db: Path
) -> None:
    config = site.config
    with signed_in(site, "operator") as operator:
        page = operator.get("/registration")
        assert page.status_code == 200
        assert "Pemerintah Kota X" in page.text and "Pemerintah Daerah" in page.text
        assert "@kotax" in page.text and "@KotaX_Official" in page.text
        assert "kemeny" not in page.text and "Kementerian Y" not in page.text  # y's accounts
        added = post_form(
            operator,
            "/registration",
            "/registration/propose",
            {
                "kind": "add",
                "platform": "youtube",
                "handle": "@KotaXTV",
                "name": "Kota X TV",
                "reason": "Kanal resmi sejak 2024",
            },
        )
        assert added.status_code == 200 and 'data-status="pending"' in added.text
        corrected = post_form(
            operator,
            "/registration",
            "/registration/propose",
            {
                "kind": "correct",
                "account": account_id(page, "kotax"),
                "handle": "kota.x",
                "reason": "Ganti nama",
            },
        )
        assert corrected.status_code == 200
        removal = post_form(
            operator,
            "/registration",
            "/registration/propose",
            {"kind": "remove", "account": account_id(page, "KotaX_Official"), "reason": "Tutup"},
        )
        assert removal.status_code == 200
        assert removal.text.count('data-status="pending"') == 3
    proposed = changes(config, people.operator)
    assert [kind for _, kind, _ in proposed] == ["remove", "correct", "add"]
    (remove_id, _, _), (correct_id, _, _), (add_id, _, _) = proposed
    with signed_in(site, "organiser") as organiser:
        page = organiser.get("/registration")
        assert page.status_code == 200
        assert all(f'data-change="{i}"' in page.text for i in (remove_id, correct_id, add_id))
        approved = post_form(organiser, "/registration", f"/registration/{add_id}/approve", {})
        assert approved.status_code == 200 and 'role="status"' in approved.text
        post_form(organiser, "/registration", f"/registration/{correct_id}/approve", {"note": "ok"})
        no_reason = post_form(organiser, "/registration", f"/registration/{remove_id}/reject", {})
        assert no_reason.status_code == 400 and "note is empty" in no_reason.text
        rejected = post_form(
            organiser,
            "/registration",
            f"/registration/{remove_id}/reject",
            {"note": "Akun masih aktif"},
        )
        assert rejected.status_code == 200
        assert organiser.get("/registration?status=rejected").text.count('data-status="') == 1
    assert [status for _, _, status in changes(config, people.operator)] == [
        "rejected",
        "approved",
        "approved",
    ]
    assert {a[1:] for a in accounts(db)} == {
        ("instagram", "kota.x", "111"),
        ("x", "KotaX_Official", None),
        ("youtube", "KotaXTV", None),
    }
    with signed_in(site, "operator") as operator:
        page = operator.get("/registration")
        assert "@KotaXTV" in page.text and "@kota.x" in page.text  # the registry, as it is now
        assert "Akun masih aktif" in page.text  # the organiser's reason


def test_an_operator_reaches_nothing_of_another_institution(
    site: Server, people: People, db: Path
) -> None:
    config = site.config
    other = add_operator(config, "operator.y", "y")
    with StateStore.open(config.state) as store:
        theirs = propose(store, other, "add", platform="x", handle="ky", reason="y's")
    before = registration_entries(config), accounts(db, "y")
    with signed_in(site, "operator") as operator:
        assert operator.get("/registration?institution=y").status_code == 403
        assert operator.get("/registration?institution=x").status_code == 200
        page = operator.get("/registration")
        assert "ky" not in page.text and f'data-change="{theirs.id}"' not in page.text
        token = csrf_of(page)

        def sent(action: str, **data: str) -> int:
            return operator.post(action, data={"csrf": token, **data}).status_code

        forged = {"kind": "add", "platform": "x", "handle": "mine", "reason": "?"}
        assert sent("/registration/propose", **forged, institution="y") == 403
        assert sent("/registration/propose", kind="remove", account="3", reason="?") == 404  # y's
        assert sent(f"/registration/{theirs.id}/withdraw") == 404
        assert sent(f"/registration/{theirs.id}/approve") == 403
        assert sent(f"/registration/{theirs.id}/reject", note="no") == 403
        for path in ("/admin", "/admin/users", "/admin/audit"):
            assert operator.get(path).status_code == 403
        assert operator.get("/jury").status_code in (403, 404)  # the jury is not theirs
    assert (registration_entries(config), accounts(db, "y")) == before
    assert changes(config, other) == [(theirs.id, "add", "pending")]
    assert changes(config, people.operator) == []


def test_a_refused_proposal_keeps_what_was_typed(site: Server) -> None:
    with signed_in(site, "operator") as operator:
        page = post_form(
            operator,
            "/registration",
            "/registration/propose",
            {"kind": "add", "platform": "tiktok", "handle": "two words", "reason": "Alasan kami"},
        )
        assert page.status_code == 400 and "has spaces" in page.text
        assert 'value="two words"' in page.text and "Alasan kami</textarea>" in page.text
        assert '<option value="tiktok" selected>' in page.text
        withdrawn = post_form(
            operator,
            "/registration",
            "/registration/propose",
            {"kind": "add", "platform": "tiktok", "handle": "kotax.tt", "reason": "baru"},
        )
        change = re.search(r'action="/registration/(\d+)/withdraw"', withdrawn.text)
        assert change
        done = post_form(operator, "/registration", f"/registration/{change.group(1)}/withdraw", {})
        assert done.status_code == 200 and 'data-status="withdrawn"' in done.text


def test_a_busy_warehouse_refuses_the_approval_and_shows_the_accounts_read_before(
    site: Server, people: People, db: Path
) -> None:
    with signed_in(site, "operator") as operator, signed_in(site, "organiser") as organiser:
        post_form(
            operator,
            "/registration",
            "/registration/propose",
            {"kind": "add", "platform": "x", "handle": "kotax2", "reason": "baru"},
        )
        [(change_id, _, _)] = changes(site.config, people.operator)
        before = accounts(db)
        page = organiser.get("/registration")
        with held(db):
            busy = organiser.post(
                f"/registration/{change_id}/approve", data={"csrf": csrf_of(page), "note": "ok"}
            )
            assert busy.status_code == 409 and BUSY in busy.text
            assert 'value="ok"' in busy.text  # the note is kept for the next try
            seen = operator.get("/registration")
            assert seen.status_code == 200 and "@kotax" in seen.text  # as read before
            assert "in use by another govsocial command" in seen.text
        assert changes(site.config, people.operator) == [(change_id, "add", "pending")]
        assert accounts(db) == before
        again = post_form(organiser, "/registration", f"/registration/{change_id}/approve", {})
        assert again.status_code == 200
        assert len(accounts(db)) == len(before) + 1


def test_without_a_warehouse_the_pages_say_so(server: Server, people: People) -> None:
    with signed_in(server, "operator") as operator:
        page = operator.get("/registration")
        assert page.status_code == 200 and "govsocial serve --db WAREHOUSE" in page.text
        proposed = post_form(
            operator,
            "/registration",
            "/registration/propose",
            {"kind": "add", "platform": "x", "handle": "kotax2", "reason": "baru"},
        )
        assert proposed.status_code == 200
        removal = post_form(
            operator,
            "/registration",
            "/registration/propose",
            {"kind": "remove", "account": "1", "reason": "?"},
        )
        assert removal.status_code == 400 and "no warehouse" in removal.text
    [(change_id, _, _)] = changes(server.config, people.operator)
    with signed_in(server, "organiser") as organiser:
        refused = post_form(organiser, "/registration", f"/registration/{change_id}/approve", {})
        assert refused.status_code == 409 and "no warehouse" in refused.text
        rejected = post_form(
            organiser, "/registration", f"/registration/{change_id}/reject", {"note": "nanti"}
        )
        assert rejected.status_code == 200
    assert changes(server.config, people.operator) == [(change_id, "add", "rejected")]


def test_an_operator_is_linked_to_their_institution_in_the_latest_run(
    server: Server, published: ReadModel
) -> None:
    institution = str(published.table("accounts").column("institution_id")[0])
    add_operator(server.config, "humas.run", institution)
    with server.client() as client:
        login = client.get("/login")
        signed = client.post(
            "/login",
            data={
                "csrf": csrf_of(login),
                "login": "humas.run",
                "password": "sandi-humas.run-panjang",
            },
        )
        assert signed.headers["location"] == "/registration"
        page = client.get("/registration")
        run = published.folder.name
        assert f'href="/runs/{run}/institutions/{institution}"' in page.text
        assert f"/runs/{run}/scorecards/" in page.text
        scorecard = re.search(r'href="(/runs/[^"]+/scorecards/[^"]+\.html)"', page.text)
        assert scorecard and client.get(scorecard.group(1)).status_code == 200
    with signed_in(server, "operator") as operator:  # institution x is in no published run
        assert "/institutions/" not in operator.get("/registration").text
