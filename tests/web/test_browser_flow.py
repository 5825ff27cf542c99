"""The whole flow in a real browser (Debian's chromium driven by Playwright), several people at
once, each in a browser context of their own: the organiser adds an institution's operator;
the operator proposes an account and the organiser approves it (the warehouse's registry
changes); the organiser opens a jury; three jurors score (one recuses from a nominee) and
submit; the organiser closes; the public page shows the winner. Screenshots are kept in
test-artifacts/web/ (tests/web/browsing.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from govsocial.jury.audit import verify
from govsocial.jury.store import StateStore
from govsocial.publish.model import ReadModel
from govsocial.store import Warehouse
from govsocial.web.config import WebConfig
from jury.world import PASSWORD
from web.browsing import browsing, sign_in
from web.site import Server, serving

CRITERIA = ("content_quality", "public_value", "responsiveness", "creativity")


@pytest.fixture
def flow_server(config: WebConfig, published: ReadModel, tmp_path: Path) -> Iterator[Server]:
    """The server over a copy of the published run's warehouse (registration writes to it)."""
    warehouse = tmp_path / "w.duckdb"
    shutil.copyfile(published.folder.parent.parent / "w.duckdb", warehouse)
    with serving(
        WebConfig(state=config.state, published=config.published, warehouse=warehouse)
    ) as server:
        yield server


def accept_dialogs(page: Page) -> Page:
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def test_the_whole_flow_in_a_browser(flow_server: Server, published: ReadModel) -> None:
    server = flow_server
    results = published.results
    category = results["categories"][0]
    panel = next(cl for cl in category["clusters"] if len(cl["nominees"]) >= 3)
    nominees = panel["nominees"]
    institution = nominees[0]["institution_id"]
    with browsing(server.url) as people:
        organiser = accept_dialogs(people.person())
        sign_in(organiser, "organiser", PASSWORD.format("organiser"))
        expect(organiser).to_have_url(f"{server.url}/admin")

        # 1. the organiser adds the institution's operator
        organiser.goto("/admin/users")
        organiser.fill("input[name=name]", "Humas Instansi")
        organiser.fill("input[name=login]", "humas.instansi")
        organiser.select_option("select[name=role]", "operator")
        organiser.fill("input[name=institution]", institution)
        organiser.fill("input[name=password]", "sandi-humas-instansi")
        organiser.click("form[action='/admin/users'] button[type=submit]")
        expect(organiser.locator('tr[data-login="humas.instansi"]')).to_be_visible()
        people.shot(organiser, "organiser-users")

        # 2. the operator proposes an account; the organiser approves it
        operator = accept_dialogs(people.person())
        sign_in(operator, "humas.instansi", "sandi-humas-instansi")
        expect(operator).to_have_url(f"{server.url}/registration")
        form = operator.locator("form#add-account")
        form.locator("select[name=platform]").select_option("tiktok")
        form.locator("input[name=handle]").fill("humas_instansi_resmi")
        form.locator("textarea[name=reason]").fill("Akun TikTok resmi yang baru dibuat.")
        form.locator("button[type=submit]").click()
        expect(operator.locator("tr[data-change]").first).to_contain_text("humas_instansi_resmi")
        people.shot(operator, "operator-proposes")

        organiser.goto("/registration")
        change = organiser.locator("tr[data-change]").filter(has_text="humas_instansi_resmi")
        change.locator("form[action$='/approve'] button[type=submit]").click()
        expect(organiser.locator(".done, [role=status]").first).to_be_visible()
        people.shot(organiser, "organiser-approves")
        with Warehouse.open(server.config.warehouse, read_only=True) as wh:  # type: ignore[arg-type]
            found = wh.con.execute(
                "SELECT institution_id FROM accounts WHERE platform = 'tiktok' AND handle_key = ?",
                ["humas_instansi_resmi"],
            ).fetchall()
        assert found == [(institution,)]
        operator.reload()
        expect(operator.locator("body")).to_contain_text("approved")

        # 3. the organiser opens a jury on one panel with the three jurors
        organiser.goto("/jury/new")
        for box in organiser.locator("input[name=category]").all():
            box.set_checked(box.get_attribute("value") == category["id"])
        for box in organiser.locator("input[name=cluster]").all():
            box.set_checked(box.get_attribute("value") == panel["cluster_id"])
        for box in organiser.locator("input[name=juror]").all():
            label = box.locator("xpath=..").inner_text()
            box.set_checked(any(f"juror{i}" in label for i in (1, 2, 3)))
        people.shot(organiser, "organiser-opens-jury")
        organiser.click("form[action='/jury/new'] button[type=submit]")
        expect(organiser.locator("[data-status=open]")).to_be_visible()
        jury_url = organiser.url

        # 4. three jurors score; juror3 recuses from the first nominee; the last one wins
        winner = nominees[-1]
        units = [str(n.get("account_id") or n["institution_id"]) for n in nominees]
        for number in (1, 2, 3):
            juror = accept_dialogs(people.person())
            sign_in(juror, f"juror{number}", PASSWORD.format(f"juror{number}"))
            juror.locator(f"a[href*='/panel/{category['id']}/{panel['cluster_id']}']").first.click()
            articles = juror.locator("article.nominee.ballot")
            expect(articles).to_have_count(len(nominees))
            for place in range(len(nominees)):
                article = articles.nth(place)
                if number == 3 and place == 0:
                    article.locator("details.recuse summary").click()
                    article.locator("textarea[name=reason]").fill("Saya pernah bekerja di sana.")
                    article.locator("form[action$='/recuse'] button[type=submit]").click()
                    expect(articles.nth(place)).to_have_attribute("data-state", "recused")
                    continue
                score = 9 if place == len(nominees) - 1 else 3 + place
                for criterion in CRITERIA:
                    article.locator(f"input[name='score.{criterion}']").fill(str(score))
                article.locator("textarea[name=comment]").fill(f"Catatan juri {number}.")
                article.locator("form.scores button[type=submit]").click()
                expect(articles.nth(place)).to_have_attribute("data-state", "draft")
            if number == 3:
                people.shot(juror, "juror-scores-and-recuses")
            juror.click("form.submit-panel button[type=submit]")
            expect(juror.locator("[data-panel-status=submitted]")).to_be_visible()
        assert len(units) == len(nominees)

        # 5. the organiser sees the tally and closes
        organiser.goto(jury_url)
        people.shot(organiser, "organiser-tally")
        organiser.click("form[action$='/close'] button[type=submit]")
        expect(organiser.locator("[data-status=closed]")).to_be_visible()
        people.shot(organiser, "organiser-closed")

        # 6. the public page shows the winner, in Indonesian by default
        public = people.person(lang="id")
        public.goto(
            f"/runs/{published.run_id}/categories/{category['id']}/{panel['cluster_id']}.html"
        )
        expect(public.locator(".winner-line")).to_contain_text(winner["institution_name"])
        expect(public.locator("html")).to_have_attribute("lang", "id")
        people.shot(public, "public-winner")
        public.goto(f"/runs/{published.run_id}/")
        expect(public.locator("body")).to_contain_text(winner["institution_name"])
        people.shot(public, "public-overview")

    assert not people.problems, people.problems
    assert len(people.shots) >= 9 and all(p.stat().st_size > 10_000 for p in people.shots)
    with StateStore.open(server.config.state) as store:
        report = verify(store)
    assert report.ok, report.problem
