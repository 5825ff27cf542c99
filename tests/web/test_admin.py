"""The organiser's pages: users and the audit log (web/admin.py)."""

from __future__ import annotations

import json
import sqlite3

from govsocial.jury.audit import AuditEntry, check_chain
from govsocial.jury.registrations import propose
from govsocial.jury.store import StateStore
from jury.world import People
from web.site import Server, post_form, sign_in, signed_in


def test_only_an_organiser_reaches_the_admin_pages(server: Server) -> None:
    with server.client() as anonymous:
        for path in ("/admin", "/admin/users", "/admin/audit", "/admin/audit/export"):
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    for login in ("juror1", "operator"):
        with signed_in(server, login) as client:
            for path in ("/admin", "/admin/users", "/admin/audit", "/admin/audit/export"):
                assert client.get(path).status_code == 403, (login, path)
            refused = post_form(
                client,
                "/account",
                "/admin/users",
                {"name": "Mallory", "login": "mallory", "role": "organiser", "password": "x" * 12},
            )
            assert refused.status_code == 403
    with signed_in(server, "organiser") as organiser:
        assert "mallory" not in organiser.get("/admin/users").text


def test_the_organiser_adds_a_juror_who_can_then_sign_in(server: Server) -> None:
    with signed_in(server, "organiser") as organiser:
        added = post_form(
            organiser,
            "/admin/users",
            "/admin/users",
            {
                "name": "Juri Baru",
                "login": "juri.baru",
                "role": "juror",
                "password": "sandi-juri-baru",
            },
        )
        assert added.status_code == 200 and 'data-login="juri.baru"' in added.text
        assert "sandi-juri-baru" not in added.text
        clash = post_form(
            organiser,
            "/admin/users",
            "/admin/users",
            {"name": "Again", "login": "juri.baru", "role": "juror", "password": "sandi-juri-baru"},
        )
        assert clash.status_code == 400 and "juri.baru" in clash.text
        operator = post_form(  # an operator needs an institution: said, kept in the form
            organiser,
            "/admin/users",
            "/admin/users",
            {"name": "Humas", "login": "humas", "role": "operator", "password": "sandi-humas-1"},
        )
        assert operator.status_code == 400 and 'value="Humas"' in operator.text
    with server.client() as client:
        assert sign_in(client, "juri.baru", "sandi-juri-baru").headers["location"] == "/jury"


def test_disabling_a_user_from_the_page_signs_them_out(server: Server) -> None:
    with signed_in(server, "juror1") as juror, signed_in(server, "organiser") as organiser:
        assert juror.get("/account").status_code == 200
        page = organiser.get("/admin/users")
        user_id = page.text.split('data-login="juror1"')[1].split("/admin/users/")[1].split("/")[0]
        done = post_form(organiser, "/admin/users", f"/admin/users/{user_id}/disable", {})
        assert done.status_code == 200
        assert juror.get("/account").status_code == 303


def test_the_dashboard_counts_the_registration_changes_waiting(
    server: Server, people: People
) -> None:
    with signed_in(server, "organiser") as organiser:
        assert "data-pending" not in organiser.get("/admin").text
    with StateStore.open(server.config.state) as store:
        propose(store, people.operator, "add", reason="akun baru", platform="x", handle="humas1")
    with signed_in(server, "organiser") as organiser:
        assert 'data-pending="1"' in organiser.get("/admin").text


def test_the_audit_page_verifies_the_chain_and_the_export_checks_out(server: Server) -> None:
    with signed_in(server, "organiser") as organiser:
        page = organiser.get("/admin/audit")
        assert 'data-verified="ok"' in page.text and "session.start" in page.text
        export = organiser.get("/admin/audit/export")
        assert export.status_code == 200
        lines = [json.loads(line) for line in export.text.splitlines()]
        assert check_chain(AuditEntry(**line) for line in lines).ok
        assert lines[-1]["action"] == "session.start"
        # someone edits an old entry behind govsocial's back: the page says so
        with sqlite3.connect(server.config.state) as con:
            con.execute("DROP TRIGGER audit_no_update")
            con.execute("UPDATE audit SET actor = 'user:999' WHERE seq = 2")
        damaged = organiser.get("/admin/audit")
        assert 'data-verified="bad"' in damaged.text and "2" in damaged.text
