"""The public pages (web/public.py): the results site's pages with the jury's winners once a
jury closes, leaderboards (filters, sorting, htmx), institution pages, charts drawn in
chromium under the CSP, Indonesian and English, and nothing private for the public."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from govsocial.jury.closing import close_jury
from govsocial.jury.juries import open_jury
from govsocial.jury.store import StateStore
from govsocial.publish.model import ReadModel
from jury.world import CATEGORIES, CLUSTERS, DEADLINE, START, Clock, People, fill
from reports.browser import browser_page
from web.site import Server

ROW = re.compile(r'<tr data-unit="([^"]+)"')


def close_a_jury(
    server: Server,
    people: People,
    published: ReadModel,
    categories: list[str] = CATEGORIES,
    clusters: list[str] = CLUSTERS,
) -> dict[tuple[str, str], str]:
    """Open a jury on the run for ``categories`` × ``clusters``, let the three jurors score
    each panel so that its LAST nominee wins (not the numbers' first), and close it, with the
    core functions on the server's state file. Returns the expected winner of each panel."""
    with StateStore.open(server.config.state, clock=Clock(START)) as store:
        jury = open_jury(
            store,
            people.organiser,
            published.folder,
            deadline=DEADLINE,
            categories=categories,
            clusters=clusters,
            jurors=people.jurors,
        )
        for juror in people.jurors:
            for category in categories:
                for cluster in clusters:
                    fill(store, juror, jury.id, category, cluster, lambda place, n: float(place))
        close_jury(store, people.organiser, jury.id)
    expected = {}
    for c in published.results["categories"]:
        for cl in c["clusters"]:
            if c["id"] in categories and cl["cluster_id"] in clusters and cl["nominees"]:
                last = cl["nominees"][-1]
                unit = (
                    last["institution_id"]
                    if last["account_id"] is None
                    else str(last["account_id"])
                )
                expected[(c["id"], cl["cluster_id"])] = unit
    return expected


def units(page: httpx.Response) -> list[str]:
    return ROW.findall(page.text)


def standings(published: ReadModel) -> list[dict[str, Any]]:
    return list(published.table("standings").to_pylist())


def by_rank(rows: list[dict[str, Any]], order: list[str]) -> list[dict[str, Any]]:
    """Rows in the leaderboard's tie order: rank, then the clusters' order, then unit."""
    position = {c: i for i, c in enumerate(order)}
    return sorted(rows, key=lambda r: (r["rank"], position[r["cluster_id"]], r["unit"]))


def cluster_order(published: ReadModel) -> list[str]:
    return [cl["cluster_id"] for cl in published.results["categories"][0]["clusters"]]


# ---------------------------------------------------------------- winners


def test_the_winners_appear_once_a_jury_closes(
    server: Server, published: ReadModel, people: People
) -> None:
    run = published.run_id
    judged = ("most_active", "kementerian")
    with server.client() as client:
        before = client.get(f"/runs/{run}/")
        assert before.status_code == 200
        assert "Juri belum memutuskan" in before.text and "data-winner" not in before.text
        page = client.get(f"/runs/{run}/categories/{judged[0]}/{judged[1]}.html")
        assert 'id="decision"' in page.text and "Juri belum memutuskan" in page.text

        expected = close_a_jury(server, people, published)

        after = client.get(f"/runs/{run}/")  # the kept page is not shown: closing shows at once
        assert "Juri belum memutuskan" not in after.text
        shown = re.findall(r'data-winner="([^"]+)"', after.text)
        assert sorted(shown) == sorted(expected.values())
        assert "Juara umum" in after.text and 'class="champion-jury"' in after.text

        page = client.get(f"/runs/{run}/categories/{judged[0]}/{judged[1]}.html")
        places = re.search(r'<table class="places">.*?</table>', page.text, re.S)
        assert places, "the jury's places are on the category page"
        placed = ROW.findall(places.group(0))
        nominees = [
            n
            for c in published.results["categories"]
            if c["id"] == judged[0]
            for cl in c["clusters"]
            if cl["cluster_id"] == judged[1]
            for n in cl["nominees"]
        ]
        assert placed == [n["institution_id"] for n in reversed(nominees)]  # scored by place
        assert placed[0] == expected[judged]
        winner_name = nominees[-1]["institution_name"]
        assert 'class="badge winner">Pemenang</strong>' in page.text
        assert html.escape(winner_name) in page.text
        not_judged = client.get(f"/runs/{run}/categories/most_engaging/kementerian.html")
        assert "Juri tidak menilai kategori dan klaster ini" in not_judged.text

        board = client.get(f"/runs/{run}/leaderboard?category={judged[0]}&cluster={judged[1]}")
        assert f'<tr data-unit="{expected[judged]}" data-cluster="{judged[1]}" class="winner">' in (
            board.text
        )
        institution = client.get(f"/runs/{run}/institutions/{expected[judged]}")
        assert institution.status_code == 200
        assert re.search(r"<dt>Kemenangan</dt><dd>[1-9]", institution.text)


# ---------------------------------------------------------------- leaderboards


def test_the_leaderboard_filters_and_sorts_as_the_read_model_says(
    server: Server, published: ReadModel
) -> None:
    run = published.run_id
    order = cluster_order(published)
    rows = [r for r in standings(published) if r["category"] == "most_active"]
    pemda = [r for r in rows if r["cluster_id"] == "pemda"]
    with server.client() as client:
        default = client.get(f"/runs/{run}/leaderboard")
        assert default.status_code == 200
        first = published.results["categories"][0]["id"]
        assert f'<option value="{first}" selected>' in default.text
        assert units(default) == [r["unit"] for r in by_rank(rows, order)]  # all clusters

        page = client.get(f"/runs/{run}/leaderboard?category=most_active&cluster=pemda")
        assert units(page) == [r["unit"] for r in by_rank(pemda, order)]
        assert re.search(
            r'<th scope="col" class="num" aria-sort="ascending" data-sort="rank">', page.text
        )

        page = client.get(
            f"/runs/{run}/leaderboard?category=most_active&cluster=pemda&sort=followers&order=desc"
        )
        known = [r for r in by_rank(pemda, order) if r["followers"] is not None]
        unknown = [r for r in by_rank(pemda, order) if r["followers"] is None]
        expected = sorted(known, key=lambda r: r["followers"], reverse=True) + unknown
        assert units(page) == [r["unit"] for r in expected]
        assert 'aria-sort="descending" data-sort="followers"' in page.text
        # the sorted column's link turns the order round; another column starts with its own
        assert "sort=followers&amp;order=asc" in page.text
        assert "sort=name&amp;order=asc" in page.text

        page = client.get(f"/runs/{run}/leaderboard?category=most_active&cluster=pemda&sort=name")
        expected = sorted(
            by_rank(pemda, order), key=lambda r: (r["institution_name"].casefold(), r["unit"])
        )
        assert units(page) == [r["unit"] for r in expected]

        combined = {
            r["unit"]: r["percentile"]
            for r in published.table("components").to_pylist()
            if r["category"] == "most_active"
            and r["cluster_id"] == "pemda"
            and not r["platform"]
            and r["metric"] == "posts_per_week"
        }
        page = client.get(
            f"/runs/{run}/leaderboard?category=most_active&cluster=pemda&sort=posts_per_week"
        )
        expected = sorted(by_rank(pemda, order), key=lambda r: combined[r["unit"]], reverse=True)
        assert units(page) == [r["unit"] for r in expected]


def test_a_platform_shows_the_units_with_an_account_there_and_their_values_on_it(
    server: Server, published: ReadModel
) -> None:
    run = published.run_id
    on: dict[str, set[str]] = defaultdict(set)
    for a in published.table("accounts").to_pylist():
        on[a["institution_id"]].add(a["platform"])

    def has(row: dict[str, Any], platform: str) -> bool:  # an account unit: its own platform
        return (
            row["platform"] == platform
            if row["account_id"]
            else platform in on[row["institution_id"]]
        )

    everyone = standings(published)
    category, platform = next(  # a filter that leaves some units out
        (c, p)
        for c in ("most_engaging", "best_account")
        for p in published.coverage["platforms"]
        if 0
        < sum(has(r, p) for r in everyone if r["category"] == c)
        < sum(r["category"] == c for r in everyone)
    )
    rows = [r for r in everyone if r["category"] == category and has(r, platform)]
    parts = published.table("components").to_pylist()
    on_platform = {
        r["unit"]: (r["rank"], r["of"])
        for r in parts
        if r["category"] == category and r["platform"] == platform
    }
    with server.client() as client:
        page = client.get(
            f"/runs/{run}/leaderboard?category={category}&platform={platform}&sort=platform_rank"
        )
        assert page.status_code == 200
        ranked = [r for r in rows if r["unit"] in on_platform]
        unranked = [r for r in rows if r["unit"] not in on_platform]
        order = cluster_order(published)
        expected = sorted(by_rank(ranked, order), key=lambda r: on_platform[r["unit"]][0])
        assert units(page) == [r["unit"] for r in expected + by_rank(unranked, order)]
        first = expected[0]
        rank, of = on_platform[first["unit"]]
        row = re.search(rf'<tr data-unit="{first["unit"]}".*?</tr>', page.text, re.S)
        assert row and f"{rank} dari {of}" in row.group(0)


def test_htmx_gets_the_board_alone_and_bad_queries_are_explained(
    server: Server, published: ReadModel
) -> None:
    run = published.run_id
    with server.client() as client:
        swapped = client.get(
            f"/runs/{run}/leaderboard?category=best_account&cluster=lembaga",
            headers={"HX-Request": "true"},
        )
        assert swapped.status_code == 200
        assert swapped.text.lstrip().startswith('<div id="board"') and "<html" not in swapped.text
        assert 'data-chart="chart-board"' in swapped.text
        whole = client.get(f"/runs/{run}/leaderboard?category=best_account&cluster=lembaga")
        assert "<html" in whole.text and units(whole) == units(swapped)

        bad = client.get(f"/runs/{run}/leaderboard?category=no_such")
        assert bad.status_code == 400
        assert "no_such" in bad.text and "most_active" in bad.text  # names the choices
        assert client.get(f"/runs/{run}/leaderboard?cluster=atlantis").status_code == 400
        assert client.get(f"/runs/{run}/leaderboard?platform=myspace").status_code == 400
        bad_sort = client.get(f"/runs/{run}/leaderboard?sort=salary")
        assert bad_sort.status_code == 400 and "posts_per_week" in bad_sort.text
        assert client.get(f"/runs/{run}/leaderboard?order=sideways").status_code == 400
        assert client.get("/runs/no-such-run/leaderboard").status_code == 404
        assert client.get(f"/runs/{run}/categories/no_such/pemda.html").status_code == 404
        moved = client.get(f"/runs/{run}")
        assert moved.status_code == 308 and moved.headers["location"] == f"/runs/{run}/"


# ---------------------------------------------------------------- institutions


def test_an_institution_page_shows_its_accounts_ranks_weeks_and_top_posts(
    server: Server, published: ReadModel
) -> None:
    run = published.run_id
    ranked = standings(published)
    institution = next(r["institution_id"] for r in ranked if r["status"] == "nominated")
    accounts = [
        a for a in published.table("accounts").to_pylist() if a["institution_id"] == institution
    ]
    ids = {a["account_id"] for a in accounts}
    weeks = {
        w["week_start"] for w in published.table("weekly").to_pylist() if w["account_id"] in ids
    }
    posts = [
        p["post_id"]
        for p in published.table("top_posts").to_pylist()
        if p["institution_id"] == institution
    ]
    mine = [r for r in ranked if r["institution_id"] == institution]
    with server.client() as client:
        page = client.get(f"/runs/{run}/institutions/{institution}")
        assert page.status_code == 200
        assert html.escape(accounts[0]["institution_name"]) in page.text
        assert sorted(int(a) for a in re.findall(r'data-account="(\d+)"', page.text)) == sorted(ids)
        assert sorted(
            re.findall(r'<tr data-category="([^"]+)" data-unit="([^"]+)"', page.text)
        ) == sorted((r["category"], r["unit"]) for r in mine)
        assert len(re.findall(r'<tr data-week="', page.text)) == len(weeks)
        assert [int(p) for p in re.findall(r'data-post="(\d+)"', page.text)] == posts
        assert 'data-chart="chart-weekly"' in page.text
        assert f"/runs/{run}/scorecards/" in page.text

        listing = client.get(f"/runs/{run}/institutions")
        assert f'data-institution="{institution}"' in listing.text

        category = client.get(f"/runs/{run}/categories/most_active/kementerian.html")
        assert re.search(rf'href="/runs/{run}/institutions/[^"]+"', category.text)

        missing = client.get(f"/runs/{run}/institutions/no-such-institution")
        assert missing.status_code == 404 and "no-such-institution" in missing.text
        assert "<html" in missing.text  # a page, not JSON


# ---------------------------------------------------------------- languages


def test_indonesian_by_default_english_when_chosen(server: Server, published: ReadModel) -> None:
    run = published.run_id
    path = f"/runs/{run}/leaderboard?category=most_active&cluster=kementerian"
    top = next(
        r
        for r in standings(published)
        if (r["category"], r["cluster_id"], r["rank"]) == ("most_active", "kementerian", 1)
    )
    score = f"{top['score']:.3f}"
    with server.client() as client:
        page = client.get(path)
        assert '<html lang="id">' in page.text and "Papan peringkat" in page.text
        assert "Semua platform" in page.text and score.replace(".", ",") in page.text
        switched = client.get("/language/en", params={"next": path})
        assert switched.status_code in (302, 303, 307)
        english = client.get(path)
        assert '<html lang="en">' in english.text and "All platforms" in english.text
        assert score in english.text and "Leaderboards" in english.text
        assert client.get(f"/runs/{run}/").text.count("Winners") >= 1


# ---------------------------------------------------------------- nothing private


@pytest.mark.parametrize("path", ["/admin", "/jury", "/registration", "/account"])
def test_the_public_is_sent_to_sign_in_from_every_private_page(server: Server, path: str) -> None:
    with server.client() as client:
        page = client.get(path)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")


def test_the_public_pages_need_no_one_signed_in_and_keep_each_viewers_token(
    server: Server, published: ReadModel
) -> None:
    run = published.run_id
    path = f"/runs/{run}/leaderboard?category=most_active"
    with server.client() as first, server.client() as second:
        one, two = first.get(path), second.get(path)
        assert one.status_code == two.status_code == 200
        token = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
        found_one, found_two = token.search(one.text), token.search(two.text)
        assert found_one and found_two and found_one.group(1) != found_two.group(1)
        assert "gsCsrfPlaceholder" not in one.text
        assert units(one) == units(two)  # the same page, kept once


# ---------------------------------------------------------------- in the browser


def test_charts_draw_in_chromium_under_the_csp_and_htmx_swaps_the_board(
    server: Server, published: ReadModel, tmp_path: Path
) -> None:
    run = published.run_id
    institution = standings(published)[0]["institution_id"]
    with browser_page(tmp_path / "profile") as (page, _requests):
        problems: list[str] = []
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{server.url}/runs/{run}/leaderboard?category=most_active&cluster=pemda")
        page.wait_for_selector("#chart-board[data-drawn=yes] svg", timeout=15_000)
        ticks = page.eval_on_selector_all(
            "#chart-board svg text", "els => els.map(e => e.textContent)"
        )
        assert "0,2" in ticks and "0.2" not in ticks  # Indonesian numbers in the chart

        page.select_option("#board-cluster", "kementerian")
        page.wait_for_url(re.compile(r"cluster=kementerian"), timeout=15_000)
        page.wait_for_selector('#board-table tr[data-cluster="kementerian"]', timeout=15_000)
        page.wait_for_selector("#chart-board[data-drawn=yes] svg", timeout=15_000)
        kementerian = [
            r["unit"]
            for r in by_rank(
                [
                    r
                    for r in standings(published)
                    if (r["category"], r["cluster_id"]) == ("most_active", "kementerian")
                ],
                cluster_order(published),
            )
        ]
        shown = page.eval_on_selector_all(
            "#board-table tbody tr", "rows => rows.map(r => r.dataset.unit)"
        )
        assert shown == kementerian

        page.click('th[data-sort="score"] a')
        page.wait_for_selector('th[data-sort="score"][aria-sort]', timeout=15_000)
        assert "sort=score" in page.url

        page.goto(f"{server.url}/runs/{run}/institutions/{institution}")
        page.wait_for_selector("#chart-weekly[data-drawn=yes] svg", timeout=15_000)
        assert (
            page.eval_on_selector_all("#chart-weekly svg .mark-rect path", "els => els.length") > 0
        )
        assert not problems, problems
