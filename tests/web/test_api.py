"""The JSON API (web/api.py): each endpoint answers what the read model says, leaderboards page
and sort, errors are JSON, /api/openapi.json describes every answer, /api/docs shows it, and
nothing of a jury but its public outcome is ever in it."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from govsocial.publish.model import ReadModel
from jury.world import People
from web.site import Server
from web.test_public import by_rank, close_a_jury, cluster_order

ENDPOINTS = (
    "/api/runs",
    "/api/runs/{run_id}",
    "/api/runs/{run_id}/results",
    "/api/runs/{run_id}/categories",
    "/api/runs/{run_id}/categories/{category}/{cluster}",
    "/api/runs/{run_id}/winners",
    "/api/runs/{run_id}/leaderboard",
    "/api/runs/{run_id}/institutions",
    "/api/runs/{run_id}/institutions/{institution_id}",
)


def keys(value: Any) -> set[str]:
    """Every key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys(v)}
    return set()


def test_runs_results_and_categories_are_the_read_models(
    server: Server, published: ReadModel
) -> None:
    run = published.run_id
    with server.client() as client:
        runs = client.get("/api/runs").json()["runs"]
        assert [r["run_id"] for r in runs] == [run]
        assert runs[0]["synthetic"] is True and runs[0]["links"]["page"] == f"/runs/{run}/"

        assert client.get(f"/api/runs/{run}/results").json() == published.results

        detail = client.get(f"/api/runs/{run}").json()
        assert detail["coverage"] == published.coverage
        assert detail["champion"] == published.results["champion"]
        assert detail["winners"]["decided"] is False and detail["winners"]["panels"] == []

        categories = client.get(f"/api/runs/{run}/categories").json()["categories"]
        assert [c["id"] for c in categories] == [c["id"] for c in published.results["categories"]]
        for mine, theirs in zip(categories, published.results["categories"], strict=True):
            assert [
                (cl["cluster_id"], cl["eligible"], cl["nominees"]) for cl in mine["clusters"]
            ] == [
                (cl["cluster_id"], cl["eligible"], len(cl["nominees"])) for cl in theirs["clusters"]
            ]

        category = published.results["categories"][-1]
        cluster = category["clusters"][1]
        panel = client.get(
            f"/api/runs/{run}/categories/{category['id']}/{cluster['cluster_id']}"
        ).json()
        assert panel["nominees"] == cluster["nominees"] and panel["held"] == cluster["held"]
        assert panel["certainty"] == cluster["certainty"] and panel["decision"] is None


def test_the_leaderboard_pages_sorts_and_filters(server: Server, published: ReadModel) -> None:
    run = published.run_id
    rows = [r for r in published.table("standings").to_pylist() if r["category"] == "most_active"]
    expected = by_rank(rows, cluster_order(published))
    with server.client() as client:
        first = client.get(f"/api/runs/{run}/leaderboard", params={"limit": 7}).json()
        assert first["total"] == len(rows) and first["category"] == "most_active"
        got: list[dict[str, Any]] = []
        page: dict[str, Any] | None = first
        while page is not None:
            got += page["rows"]
            page = client.get(page["next"]).json() if page["next"] else None
        assert [r["unit"] for r in got] == [r["unit"] for r in expected]
        one = got[0]
        source = expected[0]
        for key in ("rank", "score", "posts", "followers", "interactions", "platforms", "status"):
            assert one[key] == source[key], key

        sorted_by = client.get(
            f"/api/runs/{run}/leaderboard",
            params={"cluster": "pemda", "sort": "interactions", "order": "asc", "limit": 500},
        ).json()
        pemda = [r for r in expected if r["cluster_id"] == "pemda"]
        assert [r["unit"] for r in sorted_by["rows"]] == [
            r["unit"] for r in sorted(pemda, key=lambda r: r["interactions"])
        ]
        assert sorted_by["cluster"] == "pemda" and "cluster" not in sorted_by["columns"]

        values: dict[str, dict[str, float]] = defaultdict(dict)
        for part in published.table("components").to_pylist():
            if part["category"] == "most_active" and part["platform"] == "facebook":
                values[part["unit"]][part["metric"]] = part["value"]
        on_facebook = client.get(
            f"/api/runs/{run}/leaderboard", params={"platform": "facebook", "limit": 500}
        ).json()
        for row in on_facebook["rows"]:
            if row["unit"] in values:
                assert row["values"] == values[row["unit"]]
                assert row["platform_rank"] is not None

        for bad, status in (
            ({"limit": 501}, 400),
            ({"offset": -1}, 400),
            ({"sort": "salary"}, 400),
            ({"category": "no_such"}, 400),
        ):
            answer = client.get(f"/api/runs/{run}/leaderboard", params=bad)
            assert answer.status_code == status
            assert set(answer.json()) == {"error", "status"} and answer.json()["status"] == status


def test_institutions_are_the_read_models(server: Server, published: ReadModel) -> None:
    run = published.run_id
    accounts = published.table("accounts").to_pylist()
    standings = published.table("standings").to_pylist()
    with server.client() as client:
        listed = client.get(f"/api/runs/{run}/institutions").json()["institutions"]
        assert {i["institution_id"] for i in listed} == {a["institution_id"] for a in accounts} | {
            r["institution_id"] for r in standings
        }
        institution = standings[0]["institution_id"]
        found = client.get(f"/api/runs/{run}/institutions/{institution}").json()
        mine = [a for a in accounts if a["institution_id"] == institution]
        assert sorted(a["account_id"] for a in found["accounts"]) == sorted(
            a["account_id"] for a in mine
        )
        ids = {a["account_id"] for a in mine}
        weekly = [w for w in published.table("weekly").to_pylist() if w["account_id"] in ids]
        assert len(found["weekly"]) == len(weekly)
        assert sum(w["posts"] for w in found["weekly"]) == sum(w["posts"] for w in weekly)
        posts = [
            p
            for p in published.table("top_posts").to_pylist()
            if p["institution_id"] == institution
        ]
        assert [p["post_id"] for p in found["top_posts"]] == [p["post_id"] for p in posts]
        assert sorted((s["category"], s["unit"], s["rank"]) for s in found["standings"]) == sorted(
            (r["category"], r["unit"], r["rank"])
            for r in standings
            if r["institution_id"] == institution
        )

        missing = client.get(f"/api/runs/{run}/institutions/no-such")
        assert missing.status_code == 404 and missing.json()["status"] == 404
        assert "no-such" in missing.json()["error"]
        gone = client.get("/api/runs/no-such-run/categories")
        assert gone.status_code == 404 and set(gone.json()) == {"error", "status"}
        assert client.get("/api/nothing-here").json()["status"] == 404
        refused = client.post(f"/api/runs/{run}/results")
        assert refused.status_code in (403, 405) and "error" in refused.json()


def test_winners_after_a_jury_closes_and_never_a_ballot(
    server: Server, published: ReadModel, people: People
) -> None:
    run = published.run_id
    with server.client() as client:
        assert client.get(f"/api/runs/{run}/winners").json()["decided"] is False
        expected = close_a_jury(server, people, published)
        winners = client.get(f"/api/runs/{run}/winners").json()
        assert winners["decided"] is True and len(winners["juries"]) == 1
        assert {
            (p["category"], p["cluster_id"]): p["winner"]["unit"] for p in winners["panels"]
        } == (expected)
        assert winners["champion"]["rule"] == "most_trophies"
        (category, cluster), unit = next(iter(expected.items()))
        panel = client.get(f"/api/runs/{run}/categories/{category}/{cluster}").json()
        assert panel["decision"]["winner"]["unit"] == unit
        assert panel["decision"]["placed"][0]["place"] == 1
        categories = client.get(f"/api/runs/{run}/categories").json()["categories"]
        shown = {
            (c["id"], cl["cluster_id"]): cl["winner"]
            for c in categories
            for cl in c["clusters"]
            if cl["winner"]
        }
        assert shown == expected
        board = client.get(
            f"/api/runs/{run}/leaderboard", params={"category": category, "cluster": cluster}
        ).json()
        assert [r["unit"] for r in board["rows"] if r["winner"]] == [unit]

        everything = [
            client.get(f"/api/runs/{run}").json(),
            winners,
            panel,
            client.get(
                f"/api/runs/{run}/institutions/{winners['panels'][0]['winner']['institution_id']}"
            ).json(),
        ]
        private = {
            "ballot",
            "ballots",
            "scores",
            "comment",
            "recused",
            "leniency",
            "agreement",
            "juror_id",
        }
        for answer in everything:
            assert not keys(answer) & private, keys(answer) & private
            assert "kata-sandi" not in json.dumps(answer)


def test_openapi_describes_every_answer_and_the_docs_page_shows_it(server: Server) -> None:
    with server.client() as client:
        spec = client.get("/api/openapi.json").json()
        schemas = spec["components"]["schemas"]
        for path in ENDPOINTS:
            operation = spec["paths"][path]["get"]
            answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
            name = answer["$ref"].rsplit("/", 1)[-1]
            assert schemas[name]["properties"], path
        assert {"Nominee", "Results", "Board", "BoardRow", "Winners", "Institution"} <= set(schemas)
        assert set(schemas["Placed"]["properties"]) >= {"place", "unit", "jury_score", "jurors"}
        api = [p for p in spec["paths"] if p.startswith("/api/")]
        assert all(set(spec["paths"][p]) == {"get"} for p in api)  # GET only

        docs = client.get("/api/docs")
        assert docs.status_code == 200 and "<script" not in docs.text.split("<footer")[0]
        for path in ENDPOINTS:
            assert f"<code>GET {path}</code>" in docs.text
        assert 'id="schema-Board"' in docs.text and "API JSON" in docs.text
        assert client.get("/site.css").headers["content-type"].startswith("text/css")
