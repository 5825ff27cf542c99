"""Signing in and out, sessions, CSRF, roles (web/auth.py, web/context.py, jury/sessions.py)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest

from govsocial.jury.store import StateStore
from govsocial.jury.users import Console, disable_user
from govsocial.web.config import WebConfig
from jury.world import PASSWORD, People
from web.site import Server, csrf_of, post_form, serving, sign_in, signed_in


def test_sign_in_sets_an_httponly_strict_cookie_and_goes_to_the_role_home(server: Server) -> None:
    with server.client() as client:
        answer = sign_in(client, "juror1")
        assert answer.status_code == 303 and answer.headers["location"] == "/jury"
        cookie = answer.headers["set-cookie"]
        assert "gs_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        page = client.get("/account")
        assert page.status_code == 200 and "Juror1" in page.text


def test_wrong_password_says_only_that_and_sets_no_session(server: Server) -> None:
    with server.client() as client:
        answer = sign_in(client, "juror1", "not-the-password")
        assert answer.status_code == 401 and "gs_session" not in answer.headers.get(
            "set-cookie", ""
        )
        unknown = sign_in(client, "nobody-here", "not-the-password")
        # the same sentence for an unknown login and a wrong password
        said = re.findall(r'role="alert">([^<]+)<', answer.text)
        assert said and said == re.findall(r'role="alert">([^<]+)<', unknown.text)
        assert client.get("/account").status_code == 303  # sent to the sign-in page


def test_a_form_without_the_csrf_token_is_refused(server: Server) -> None:
    with signed_in(server, "juror1") as client:
        token = csrf_of(client.get("/account"))
        for data in ({}, {"csrf": "forged"}, {"csrf": token[:-1]}):
            refused = client.post(
                "/account/password",
                data={"current": PASSWORD.format("juror1"), "new": "x" * 12, "repeat": "x" * 12}
                | data,
            )
            assert refused.status_code == 403, data
        # the sign-in form of an anonymous visitor needs its own token too
    with server.client() as anonymous:
        refused = anonymous.post(
            "/login", data={"login": "juror1", "password": PASSWORD.format("juror1")}
        )
        assert refused.status_code == 403 and "gs_session" not in refused.headers.get(
            "set-cookie", ""
        )


def test_a_disabled_users_session_stops_at_once(server: Server, people: People) -> None:
    with signed_in(server, "juror2") as client:
        assert client.get("/account").status_code == 200
        with StateStore.open(server.config.state) as store:
            disable_user(store, Console("test"), people.jurors[1])
        assert client.get("/account").status_code == 303  # signed out: to the sign-in page
        assert sign_in(client, "juror2").status_code == 401


def test_sign_out_ends_the_session_on_the_server(server: Server) -> None:
    with signed_in(server, "juror1") as client:
        cookie = client.cookies.get("gs_session")
        assert post_form(client, "/account", "/logout", {}).status_code == 303
    with server.client() as replay:  # the old cookie, replayed, no longer works
        replay.cookies.set("gs_session", str(cookie))
        assert replay.get("/account").status_code == 303


def test_a_password_change_signs_out_the_other_sessions(server: Server) -> None:
    with signed_in(server, "juror3") as here, signed_in(server, "juror3") as elsewhere:
        new = "a-brand-new-password"
        changed = post_form(
            here,
            "/account",
            "/account/password",
            {"current": PASSWORD.format("juror3"), "new": new, "repeat": new},
        )
        assert changed.status_code == 200
        assert here.get("/account").status_code == 200
        assert elsewhere.get("/account").status_code == 303
        assert sign_in(elsewhere, "juror3", new).status_code == 303


def test_first_run_page_makes_one_organiser_then_closes(tmp_path: Path, config: WebConfig) -> None:
    empty = WebConfig(state=tmp_path / "new.sqlite3", published=config.published)
    with serving(empty) as server, server.client() as client:
        assert client.get("/login").headers["location"] == "/setup"
        page = client.get("/setup")
        made = client.post(
            "/setup",
            data={
                "csrf": csrf_of(page),
                "name": "Ketua Panitia",
                "login": "ketua",
                "password": "panjang-sekali-1",
                "repeat": "panjang-sekali-1",
            },
        )
        assert made.status_code == 303
        assert client.get("/setup").headers["location"] == "/login"
        again = client.post(
            "/setup",
            data={
                "csrf": csrf_of(client.get("/login")),
                "name": "Mallory",
                "login": "mallory",
                "password": "panjang-sekali-2",
                "repeat": "panjang-sekali-2",
            },
        )
        assert again.status_code == 303 and again.headers["location"] == "/login"
        assert sign_in(client, "mallory", "panjang-sekali-2").status_code == 401
        assert sign_in(client, "ketua", "panjang-sekali-1").headers["location"] == "/admin"


def test_pages_carry_the_security_headers_and_never_the_password(server: Server) -> None:
    with server.client() as client:
        page = client.get("/login")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY"
        answer = sign_in(client, "juror1", "Secret-typed-wrong-123")
        assert "Secret-typed-wrong-123" not in answer.text
        ok = sign_in(client, "juror1")
        for where in (ok.headers.get("location", ""), ok.text, client.get("/account").text):
            assert PASSWORD.format("juror1") not in where


def test_only_paths_of_this_site_are_followed_after_sign_in(server: Server) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        with server.client() as client:
            page = client.get("/login")
            answer = client.post(
                "/login",
                data={
                    "csrf": csrf_of(page),
                    "login": "juror1",
                    "password": PASSWORD.format("juror1"),
                    "next": target,
                },
            )
            assert answer.headers["location"] == "/jury", target


def test_the_language_switch_keeps_the_page(server: Server) -> None:
    with server.client() as client:
        answer = client.get("/language/en", params={"next": "/login"})
        assert answer.headers["location"] == "/login"
        client.cookies.set("gs_lang", "en")
        assert "Sign in" in client.get("/login").text
        client.cookies.set("gs_lang", "id")
        assert "Masuk" in client.get("/login").text


def test_throttle_refuses_a_login_after_repeated_failures(server: Server) -> None:
    with server.client() as client:
        for _ in range(5):
            assert sign_in(client, "juror4", "wrong-password-x").status_code == 401
        refused = sign_in(client, "juror4")  # the right password, too late
        assert refused.status_code == 401 and "gs_session" not in refused.headers.get(
            "set-cookie", ""
        )


def test_an_unknown_page_is_a_404_page_not_a_traceback(server: Server) -> None:
    with httpx.Client(base_url=server.url) as client:
        missing = client.get("/runs/no-such-run/")
        assert missing.status_code == 404 and "Traceback" not in missing.text
        api = client.get("/api/nothing-here")
        assert api.status_code == 404 and api.json()["status"] == 404


def test_passwords_and_tokens_never_reach_the_logs(
    config: WebConfig, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    new = "sandi-rahasia-baru-99"
    with serving(config, log_level="debug") as server, server.client() as client:
        sign_in(client, "juror1", "tebakan-yang-salah-1")
        assert sign_in(client, "juror1").status_code == 303
        token = str(client.cookies.get("gs_session"))
        csrf = csrf_of(client.get("/account"))
        client.post(
            "/account/password",
            data={"csrf": csrf, "current": PASSWORD.format("juror1"), "new": new, "repeat": new},
        )
        client.get("/no-such-page")
    # uvicorn logs to the process's output; the app's own loggers propagate (caplog)
    printed = capfd.readouterr()
    server_side = ("govsocial", "uvicorn", "fastapi", "starlette")  # not the test's client
    logged = "\n".join(
        [printed.out, printed.err]
        + [f"{r.getMessage()} {r.args}" for r in caplog.records if r.name.startswith(server_side)]
    )
    assert "/no-such-page" in logged and "/account/password" in logged  # the access log
    for secret in (PASSWORD.format("juror1"), "tebakan-yang-salah-1", new, token, csrf):
        assert secret not in logged
