"""The jury's pages (web/judging.py) through the real server: the organiser opens, assigns,
watches, reopens and closes; jurors score, recuse and submit; nobody reads or changes what is
not theirs; a killed server loses no submitted ballot."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from govsocial.jury.audit import verify
from govsocial.jury.ballots import Ballot, read_ballots
from govsocial.jury.juries import Nominee, get_jury, nominees
from govsocial.jury.store import StateStore
from govsocial.publish.model import ReadModel
from govsocial.vocabulary import WIB
from jury.world import CRITERIA, PASSWORD, People
from web.site import Server, csrf_of, free_port, post_form, sign_in, signed_in

CATEGORY, CLUSTER = "most_active", "kementerian"  # the panel most tests judge
OTHER = "pemda"  # a cluster of the same category
WEIGHTS = {"content_quality": 0.35, "public_value": 0.25, "responsiveness": 0.2, "creativity": 0.2}


def local(moment: datetime) -> str:
    """A time as the deadline's datetime-local input takes it (WIB)."""
    return moment.astimezone(WIB).strftime("%Y-%m-%dT%H:%M")


def in_days(days: float) -> str:
    return local(datetime.now(UTC) + timedelta(days=days))


def open_by_form(
    organiser: httpx.Client,
    run: str,
    jurors: tuple[int, ...],
    categories: tuple[str, ...] = (CATEGORY,),
    clusters: tuple[str, ...] = (CLUSTER, OTHER),
    **extra: str,
) -> int:
    """The organiser opens a jury through /jury/new; returns its id."""
    data: dict[str, str | list[str]] = {
        "csrf": csrf_of(organiser.get("/jury/new")),
        "run": run,
        "deadline": in_days(30),
        "panel_size": "3",
        "category": list(categories),
        "cluster": list(clusters),
        "juror": [str(j) for j in jurors],
        **extra,
    }
    answer = organiser.post("/jury/new", data=data)
    assert answer.status_code == 303, answer.text[:2000]
    found = re.fullmatch(r"/jury/(\d+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


def store_of(server: Server) -> StateStore:
    return StateStore.open(server.config.state)


def the_panel(server: Server, jury_id: int, cluster: str = CLUSTER) -> list[Nominee]:
    with store_of(server) as store:
        return [
            n for n in nominees(store, jury_id) if (n.category, n.cluster_id) == (CATEGORY, cluster)
        ]


def ballots(server: Server, organiser: int, jury_id: int) -> list[Ballot]:
    with store_of(server) as store:
        return read_ballots(store, organiser, jury_id)


def panel_url(jury_id: int, cluster: str = CLUSTER) -> str:
    return f"/jury/{jury_id}/panel/{CATEGORY}/{cluster}"


def scores(value: float) -> dict[str, str]:
    return {f"score.{c}": f"{value:g}" for c in CRITERIA}


def save(
    client: httpx.Client,
    jury_id: int,
    unit: str,
    fields: dict[str, str],
    *,
    cluster: str = CLUSTER,
    htmx: bool = False,
    token: str | None = None,
) -> httpx.Response:
    url = panel_url(jury_id, cluster)
    token = token or csrf_of(client.get("/account"))
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(f"{url}/save", data={"csrf": token, "unit": unit, **fields}, headers=headers)


@pytest.fixture
def run(published: ReadModel) -> str:
    return published.folder.name


@pytest.fixture
def jury_id(server: Server, people: People, run: str) -> int:
    """A jury on most_active × (kementerian, pemda), the three jurors on both panels."""
    with signed_in(server, "organiser") as organiser:
        return open_by_form(organiser, run, people.jurors)


# ---------------------------------------------------------------- who reaches what


def test_only_organisers_and_jurors_reach_the_jury(
    server: Server, people: People, jury_id: int
) -> None:
    unit = the_panel(server, jury_id)[0].unit
    pages = ("/jury", "/jury/new", f"/jury/{jury_id}", panel_url(jury_id))
    with server.client() as anonymous:
        for path in pages:
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    with signed_in(server, "operator") as operator:
        for path in pages:
            assert operator.get(path).status_code == 403, path
        refused = save(operator, jury_id, unit, scores(9))
        assert refused.status_code == 403
        token = csrf_of(operator.get("/account"))
        for action in ("close", "assign", "deadline"):
            posted = operator.post(
                f"/jury/{jury_id}/{action}",
                data={"csrf": token, "juror": str(people.spare), "deadline": in_days(60)},
            )
            assert posted.status_code == 403, action
    with signed_in(server, "juror1") as juror:  # a juror is not the organiser
        assert juror.get("/jury/new").status_code == 403
        token = csrf_of(juror.get("/account"))
        took = juror.post(
            f"/jury/{jury_id}/unassign",
            data={
                "csrf": token,
                "juror": str(people.jurors[1]),
                "category": CATEGORY,
                "cluster": CLUSTER,
            },
        )
        assert took.status_code == 403
        assert juror.post(f"/jury/{jury_id}/close", data={"csrf": token}).status_code == 403
    assert ballots(server, people.organiser, jury_id) == []
    with store_of(server) as store:
        assert get_jury(store, jury_id).status == "open"
    with signed_in(server, "organiser") as organiser:  # juror2 is still on the panel
        page = organiser.get(f"/jury/{jury_id}")
        assert page.text.count('data-juror="juror2"') == 2


def test_forms_without_the_csrf_token_are_refused(
    server: Server, people: People, run: str, jury_id: int
) -> None:
    unit = the_panel(server, jury_id)[0].unit
    with signed_in(server, "juror1") as juror:
        url = panel_url(jury_id)
        for data in ({"unit": unit, **scores(5)}, {"csrf": "forged", "unit": unit, **scores(5)}):
            assert juror.post(f"{url}/save", data=data).status_code == 403
        assert juror.post(f"{url}/recuse", data={"unit": unit, "reason": "x"}).status_code == 403
        assert juror.post(f"{url}/submit", data={}).status_code == 403
    with signed_in(server, "organiser") as organiser:
        opened = organiser.post(
            "/jury/new",
            data={"run": run, "category": CATEGORY, "cluster": CLUSTER, "deadline": in_days(9)},
        )
        assert opened.status_code == 403
        assert organiser.post(f"/jury/{jury_id}/close", data={}).status_code == 403
    assert ballots(server, people.organiser, jury_id) == []


# ---------------------------------------------------------------- the organiser


def test_the_organiser_opens_a_jury_with_the_methodologys_defaults(
    server: Server, people: People, run: str
) -> None:
    with signed_in(server, "organiser") as organiser:
        form = organiser.get("/jury/new")
        assert form.status_code == 200
        # every category and cluster checked, the panel size 3, the methodology's rule
        assert form.text.count('name="category"') == 5 == form.text.count('name="category" v')
        assert 'value="most_active" checked' in form.text
        assert re.search(r'name="panel_size"[^>]*value="3"', form.text)
        assert re.search(r'<option value="standardised" selected>', form.text)
        for juror in people.jurors:  # four jurors: the organiser picks (none checked)
            assert re.search(rf'value="{juror}">', form.text)
        # refusals say what and keep what was typed
        token = csrf_of(form)
        base = {"csrf": token, "run": run, "deadline": in_days(5), "panel_size": "2"}
        none = organiser.post("/jury/new", data={**base, "cluster": CLUSTER})
        assert none.status_code == 400 and "kategori" in none.text.lower()
        assert re.search(r'name="panel_size"[^>]*value="2"', none.text)
        past = organiser.post(
            "/jury/new",
            data={**base, "category": CATEGORY, "cluster": CLUSTER, "deadline": in_days(-1)},
        )
        assert past.status_code == 400 and "is not in the future" in past.text
        garbled = organiser.post(
            "/jury/new",
            data={**base, "category": CATEGORY, "cluster": CLUSTER, "deadline": "soon"},
        )
        assert garbled.status_code == 400 and "soon" in garbled.text
        unknown = organiser.post(
            "/jury/new", data={**base, "category": "best_tiktok", "cluster": CLUSTER}
        )
        assert unknown.status_code == 404 and "best_tiktok" in unknown.text
        borda = open_by_form(
            organiser, run, people.jurors[:2], clusters=(CLUSTER,), rule="borda", panel_size="2"
        )
        page = organiser.get(f"/jury/{borda}")
        assert page.status_code == 200 and "Borda" in page.text
        assert page.text.count('data-juror="juror1"') == 1
        again = organiser.post(
            "/jury/new",
            data={**base, "category": CATEGORY, "cluster": CLUSTER},
        )  # one open jury per run
        assert again.status_code == 403 and f"jury {borda}" in again.text
        listed = organiser.get("/jury")
        assert f'data-jury="{borda}"' in listed.text
    with store_of(server) as store:
        jury = get_jury(store, borda)
    assert (jury.rule, jury.panel_size, jury.categories, jury.clusters) == (
        "borda",
        2,
        (CATEGORY,),
        (CLUSTER,),
    )


def test_the_organiser_assigns_extends_and_sees_progress(
    server: Server, people: People, jury_id: int
) -> None:
    unit = the_panel(server, jury_id)[0].unit
    with signed_in(server, "juror1") as juror:
        assert save(juror, jury_id, unit, {"score.creativity": "7"}).status_code == 303
    with signed_in(server, "organiser") as organiser:
        page = organiser.get(f"/jury/{jury_id}")
        panel = page.text.split(f'data-panel="{CATEGORY}/{CLUSTER}"')[1]
        assert re.search(r'data-juror="juror1" data-status="draft"', panel)
        assert re.search(r'data-juror="juror2" data-status="not started"', panel)
        # the spare juror joins one panel, then leaves it
        token = csrf_of(page)
        spare = {"csrf": token, "juror": str(people.spare), "category": CATEGORY, "cluster": OTHER}
        added = organiser.post(
            f"/jury/{jury_id}/assign",
            data=spare,
        )
        assert added.status_code == 200 and "1 panel" in added.text
        other = added.text.split(f'data-panel="{CATEGORY}/{OTHER}"')[1]
        assert 'data-juror="juror4"' in other
        gone = organiser.post(
            f"/jury/{jury_id}/unassign",
            data=spare,
        )
        assert gone.status_code == 200 and 'data-juror="juror4"' not in gone.text
        missing = organiser.post(
            f"/jury/{jury_id}/unassign",
            data=spare,
        )
        assert missing.status_code == 404 and "is not on panel" in missing.text
        later = datetime.now(UTC) + timedelta(days=60)
        moved = organiser.post(
            f"/jury/{jury_id}/deadline", data={"csrf": token, "deadline": local(later)}
        )
        assert moved.status_code == 200
        earlier = organiser.post(
            f"/jury/{jury_id}/deadline", data={"csrf": token, "deadline": in_days(-2)}
        )
        assert earlier.status_code == 400 and "is not in the future" in earlier.text
        assert organiser.get("/jury/999").status_code == 404
        assert organiser.post("/jury/999/close", data={"csrf": token}).status_code == 404
    with store_of(server) as store:
        kept = get_jury(store, jury_id).deadline
    assert abs(kept - later.replace(second=0, microsecond=0)) < timedelta(minutes=1)


# ---------------------------------------------------------------- a juror


def test_a_juror_scores_with_htmx_in_their_language(
    server: Server, people: People, run: str, jury_id: int
) -> None:
    nominee = the_panel(server, jury_id)[0]
    with signed_in(server, "juror1") as juror:
        mine = juror.get("/jury")
        assert mine.status_code == 200
        assert f'href="{panel_url(jury_id)}"' in mine.text
        assert f'href="{panel_url(jury_id, OTHER)}"' in mine.text
        page = juror.get(panel_url(jury_id))
        assert page.status_code == 200
        assert "Kualitas konten" in page.text and "Content quality" not in page.text
        evidence = f"/runs/{run}/categories/{CATEGORY}/{CLUSTER}.html#rank-{nominee.rank}"
        assert evidence in page.text
        assert juror.get(evidence.split("#")[0]).status_code == 200
        for c in CRITERIA:
            assert f'name="score.{c}"' in page.text
        assert 'step="0.5"' in page.text and "data-confirm" in page.text
        fields = {**scores(7.5), "score.creativity": "", "comment": "Konten rapi, kurang kreatif"}
        answer = save(juror, jury_id, nominee.unit, fields, htmx=True, token=csrf_of(page))
        assert answer.status_code == 200 and answer.headers["x-jury-fragment"] == "1"
        assert answer.text.lstrip().startswith("<article") and "<html" not in answer.text
        assert re.search(r"Disimpan pukul \d\d\.\d\d WIB", answer.text)
        assert 'value="7.5"' in answer.text and "kurang kreatif" in answer.text
        refused = save(juror, jury_id, nominee.unit, {"score.creativity": "11"}, htmx=True)
        assert refused.status_code == 400 and refused.headers["x-jury-fragment"] == "1"
        assert "11" in refused.text and 'value="11"' in refused.text
        words = save(
            juror,
            jury_id,
            nominee.unit,
            {**scores(6.5), "score.creativity": "banyak", "comment": "masih draf"},
            htmx=True,
        )
        assert words.status_code == 400 and "banyak" in words.text
        # the refused form comes back as typed: the other scores and the comment too
        assert 'value="6.5"' in words.text and "masih draf" in words.text
        juror.get("/language/en?next=/jury")
        english = juror.get(panel_url(jury_id))
        assert "Content quality" in english.text and "Kualitas konten" not in english.text
        again = save(juror, jury_id, nominee.unit, {"score.creativity": "8,5"}, htmx=True)
        assert re.search(r"Saved at \d\d:\d\d WIB", again.text)
        plain = save(juror, jury_id, nominee.unit, {"score.creativity": "6"})
        assert plain.status_code == 303 and plain.headers["location"].endswith("#nominee-1")
    (ballot,) = ballots(server, people.organiser, jury_id)
    assert ballot.juror_id == people.jurors[0] and ballot.scores == {"creativity": 6.0}
    assert ballot.comment == ""  # the last save sent no comment: it is what was saved


def test_recusal_and_its_withdrawal(server: Server, people: People, jury_id: int) -> None:
    first, second = the_panel(server, jury_id)[:2]
    with signed_in(server, "juror2") as juror:
        url = panel_url(jury_id)
        token = csrf_of(juror.get(url))
        save(juror, jury_id, first.unit, scores(6), token=token)
        empty = juror.post(
            f"{url}/recuse", data={"csrf": token, "unit": first.unit, "reason": "  "}
        )
        assert empty.status_code == 400 and "konflik kepentingan" in empty.text
        done = juror.post(
            f"{url}/recuse",
            data={"csrf": token, "unit": first.unit, "reason": "Saya pernah bekerja di sana"},
            headers={"HX-Request": "true"},
        )
        assert done.status_code == 200 and 'data-state="recused"' in done.text
        assert "Saya pernah bekerja di sana" in done.text
        (recused,) = ballots(server, people.organiser, jury_id)
        assert recused.recused and recused.scores == {}
        withdrawn = save(juror, jury_id, first.unit, {"comment": ""}, htmx=True, token=token)
        assert withdrawn.status_code == 200 and 'data-state="draft"' in withdrawn.text
        other = juror.post(
            f"{url}/recuse",
            data={"csrf": token, "unit": second.unit, "reason": "Keluarga"},
        )
        assert other.status_code == 303
    by_unit = {b.unit: b for b in ballots(server, people.organiser, jury_id)}
    assert not by_unit[first.unit].recused and by_unit[second.unit].recused


def test_submitting_is_refused_until_complete_then_locked_until_reopened(
    server: Server, people: People, jury_id: int
) -> None:
    panel = the_panel(server, jury_id)
    with signed_in(server, "juror3") as juror:
        url = panel_url(jury_id)
        token = csrf_of(juror.get(url))
        for n in panel[:-1]:
            save(juror, jury_id, n.unit, scores(5), token=token)
        early = juror.post(f"{url}/submit", data={"csrf": token})
        assert early.status_code == 400 and "not submitted: 1 nominee" in early.text
        assert panel[-1].label in early.text.split("not submitted")[1]
        save(juror, jury_id, panel[-1].unit, scores(4), token=token)
        sent = juror.post(f"{url}/submit", data={"csrf": token})
        assert sent.status_code == 303
        locked = juror.get(url)
        assert 'data-panel-status="submitted"' in locked.text
        assert "minta panitia" in locked.text.lower() and 'name="score.' not in locked.text
        late = save(juror, jury_id, panel[0].unit, scores(9), token=token, htmx=True)
        assert late.status_code == 403 and "ask the organiser to reopen" in late.text
        listed = juror.get("/jury")
        assert re.search(rf'data-panel="{CATEGORY}/{CLUSTER}" data-status="submitted"', listed.text)
    with signed_in(server, "organiser") as organiser:
        page = organiser.get(f"/jury/{jury_id}")
        assert re.search(r'data-juror="juror3" data-status="submitted"', page.text)
        data = {
            "csrf": csrf_of(page),
            "juror": str(people.jurors[2]),
            "category": CATEGORY,
            "cluster": CLUSTER,
        }
        assert organiser.post(f"/jury/{jury_id}/reopen", data=data).status_code == 400
        reopened = organiser.post(f"/jury/{jury_id}/reopen", data={**data, "reason": "Salah ketik"})
        assert reopened.status_code == 200
        assert re.search(r'data-juror="juror3" data-status="draft"', reopened.text)
    with signed_in(server, "juror3") as juror:
        assert save(juror, jury_id, panel[0].unit, scores(9)).status_code == 303
    assert {b.status for b in ballots(server, people.organiser, jury_id)} == {"draft"}


# ---------------------------------------------------------------- blindness


def test_a_juror_reads_and_changes_only_their_own_ballots(
    server: Server, people: People, jury_id: int
) -> None:
    nominee = the_panel(server, jury_id)[0]
    juror1, juror2 = people.jurors[:2]
    with signed_in(server, "juror2") as second:
        save(second, jury_id, nominee.unit, {**scores(3), "comment": "rahasia-juri-dua"})
    # the spare juror is on no panel: nothing of this jury
    with signed_in(server, "juror4") as spare:
        assert spare.get(panel_url(jury_id)).status_code == 403
        assert spare.get(f"/jury/{jury_id}").status_code == 403
        assert save(spare, jury_id, nominee.unit, scores(1)).status_code == 403
        assert "rahasia-juri-dua" not in spare.get("/jury").text
    with signed_in(server, "organiser") as organiser:  # juror1 leaves the pemda panel
        post_form(
            organiser,
            f"/jury/{jury_id}",
            f"/jury/{jury_id}/unassign",
            {"juror": str(juror1), "category": CATEGORY, "cluster": OTHER},
        )
    other_unit = the_panel(server, jury_id, OTHER)[0].unit
    with signed_in(server, "juror1") as first:
        page = first.get(panel_url(jury_id))
        assert "rahasia-juri-dua" not in page.text and "Juror2" not in page.text
        assert 'value="3"' not in page.text
        # a field naming juror2, or any other id, changes nothing of theirs
        token = csrf_of(page)
        forged = {
            **scores(10),
            "juror": str(juror2),
            "juror_id": str(juror2),
            "user": str(juror2),
        }
        assert save(first, jury_id, nominee.unit, forged, token=token).status_code == 303
        # a panel they are not on, by URL: refused, nothing written
        assert first.get(panel_url(jury_id, OTHER)).status_code == 403
        assert save(first, jury_id, other_unit, scores(2), cluster=OTHER).status_code == 403
        # a nominee of another panel, in the form of their own
        stray = save(first, jury_id, other_unit, scores(2), token=token)
        assert stray.status_code == 404
        assert first.get(f"/jury/{jury_id}/panel/{CATEGORY}/nowhere").status_code == 404
        assert (
            first.get(f"/jury/{jury_id}/panel/{CATEGORY}/{OTHER}?juror={juror2}").status_code == 403
        )
        # the juror's jury page shows their own panel only, nobody's counts
        mine = first.get(f"/jury/{jury_id}")
        assert mine.status_code == 200 and "juror2" not in mine.text
        assert f'data-panel="{CATEGORY}/{OTHER}"' not in mine.text
    by_juror = {(b.juror_id, b.unit): b for b in ballots(server, people.organiser, jury_id)}
    assert by_juror[(juror2, nominee.unit)].scores == dict.fromkeys(CRITERIA, 3.0)
    assert by_juror[(juror2, nominee.unit)].comment == "rahasia-juri-dua"
    assert by_juror[(juror1, nominee.unit)].scores == dict.fromkeys(CRITERIA, 10.0)
    assert set(by_juror) == {(juror2, nominee.unit), (juror1, nominee.unit)}


# ---------------------------------------------------------------- concurrency


def test_concurrent_saves_from_several_jurors_lose_nothing(
    server: Server, people: People, jury_id: int
) -> None:
    panel = the_panel(server, jury_id)
    rounds = 4
    start = threading.Barrier(len(people.jurors))
    failures: list[BaseException] = []

    def value(juror: int, round_: int, place: int) -> float:
        return float((juror * 3 + round_ * 2 + place) % 11)

    def scorer(login: str, juror: int) -> None:
        try:
            with signed_in(server, login) as client:
                token = csrf_of(client.get(panel_url(jury_id)))
                start.wait()
                for round_ in range(rounds):
                    for place, n in enumerate(panel):
                        fields = {
                            **scores(value(juror, round_, place)),
                            "comment": f"{login} {round_}",
                        }
                        done = save(client, jury_id, n.unit, fields, token=token, htmx=True)
                        assert done.status_code == 200, done.text[:500]
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [
        threading.Thread(target=scorer, args=(f"juror{i + 1}", juror))
        for i, juror in enumerate(people.jurors)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    stored = {(b.juror_id, b.unit): b for b in ballots(server, people.organiser, jury_id)}
    assert len(stored) == len(people.jurors) * len(panel)
    for i, juror in enumerate(people.jurors):
        for place, n in enumerate(panel):
            ballot = stored[(juror, n.unit)]
            expected = value(juror, rounds - 1, place)
            assert ballot.scores == dict.fromkeys(CRITERIA, expected)
            assert ballot.comment == f"juror{i + 1} {rounds - 1}"
    with store_of(server) as store:
        assert verify(store).ok


# ---------------------------------------------------------------- the whole flow


def z_scores(values: dict[str, float]) -> dict[str, float]:
    mean = sum(values.values()) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values.values()) / len(values))
    return {k: (v - mean) / sd for k, v in values.items()}


def test_the_whole_flow_open_score_recuse_submit_close(
    server: Server, people: People, run: str
) -> None:
    with signed_in(server, "organiser") as organiser:
        jury_id = open_by_form(organiser, run, people.jurors, clusters=(CLUSTER,))
    panel = the_panel(server, jury_id)
    units = [n.unit for n in panel]
    assert len(units) == 5
    # Each juror's per-criterion scores of the nominees in results order; juror3 recuses from
    # the second nominee. The jury prefers the third nominee (rank 3) over the first.
    given = {
        "juror1": [[6, 6, 5, 5], [4, 5, 4, 4], [9, 8, 9, 9], [3, 3, 3, 2], [5, 5, 5, 5]],
        "juror2": [[8, 8, 8, 8], [7, 7, 7, 6], [9, 9, 8, 9], [6, 6, 6, 6], [7, 7, 8, 7]],
        "juror3": [[7, 9, 6, 6], None, [6, 7, 7, 6], [2, 2, 2, 2], [4, 5, 5, 4]],
    }
    for login, rows in given.items():
        with signed_in(server, login) as juror:
            token = csrf_of(juror.get(panel_url(jury_id)))
            for n, row in zip(panel, rows, strict=True):
                if row is None:
                    answer = juror.post(
                        f"{panel_url(jury_id)}/recuse",
                        data={"csrf": token, "unit": n.unit, "reason": "Mantan pegawai"},
                    )
                else:
                    fields = {f"score.{c}": str(v) for c, v in zip(CRITERIA, row, strict=True)}
                    answer = save(juror, jury_id, n.unit, fields, token=token)
                assert answer.status_code == 303, answer.text[:500]
            if login != "juror3":
                sent = juror.post(f"{panel_url(jury_id)}/submit", data={"csrf": token})
                assert sent.status_code == 303
    with signed_in(server, "organiser") as organiser:
        page = organiser.get(f"/jury/{jury_id}")
        early = organiser.post(f"/jury/{jury_id}/close", data={"csrf": csrf_of(page)})
        assert early.status_code == 403 and "cannot close yet" in early.text
        assert f"waits for juror {people.jurors[2]}" in early.text
    with signed_in(server, "juror3") as juror:
        post_form(juror, panel_url(jury_id), f"{panel_url(jury_id)}/submit", {})
    # the expected places: weighted scores, each juror standardised, the mean per nominee
    z: dict[str, list[float]] = {u: [] for u in units}
    for rows in given.values():
        weighted = {
            u: sum(WEIGHTS[c] * v for c, v in zip(CRITERIA, row, strict=True))
            for u, row in zip(units, rows, strict=True)
            if row is not None
        }
        for unit, value in z_scores(weighted).items():
            z[unit].append(value)
    jury_score = {u: sum(v) / len(v) for u, v in z.items()}
    winner = max(units, key=lambda u: jury_score[u])
    assert winner == units[2]
    with signed_in(server, "organiser") as organiser:
        live = organiser.get(f"/jury/{jury_id}")
        assert re.search(rf'data-unit="{winner}" data-place="1"', live.text)
        assert "Kendall" in live.text
        left_out = live.text.split('class="agreement"')[1].split("</p>")[0]
        assert "Juror3" in left_out  # recused: out of W, and named
        assert 'data-juror="juror1"' in live.text.split('class="leniency"')[1]
        closed = organiser.post(f"/jury/{jury_id}/close", data={"csrf": csrf_of(live)})
        assert closed.status_code == 200 and 'data-status="closed"' in closed.text
        assert re.search(rf'data-panel="{CATEGORY}/{CLUSTER}" data-winner="{winner}"', closed.text)
        champion = panel[2].institution_id
        assert f'data-champion="{champion}"' in closed.text
    with store_of(server) as store:
        outcome = get_jury(store, jury_id).outcome
    assert outcome is not None and outcome["panels"][0]["winner"]["unit"] == winner
    placed = {x["unit"]: x["jury_score"] for x in outcome["panels"][0]["placed"]}
    for unit in units:
        assert placed[unit] == pytest.approx(jury_score[unit], abs=1e-9)
    # blindness ends: every juror reads every ballot of the panel, and the outcome
    with signed_in(server, "juror1") as juror:
        page = juror.get(panel_url(jury_id))
        assert page.status_code == 200 and "Mantan pegawai" in page.text
        assert page.text.count("data-juror-ballot=") == 15  # 3 jurors × 5 (one recused)
        assert 'name="score.' not in page.text
        assert re.search(rf'data-unit="{winner}" data-place="1"', page.text)
        jury_page = juror.get(f"/jury/{jury_id}")
        assert f'data-winner="{winner}"' in jury_page.text
        assert save(juror, jury_id, units[0], scores(1)).status_code == 403
        listed = juror.get("/jury")
        assert listed.status_code == 200 and "ditutup" in listed.text
    with signed_in(server, "organiser") as organiser:
        listed = organiser.get("/jury")
        assert re.search(rf'data-jury="{jury_id}">.*?badge ok', listed.text, re.DOTALL)


# ---------------------------------------------------------------- a server killed mid-save


def start_server(state: Path, root: Path, port: int, cwd: Path) -> subprocess.Popen[bytes]:
    """`govsocial serve` in its own process (its messages in cwd/server.log), once it answers."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GOVSOCIAL_")}
    log = cwd / "server.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "govsocial", "serve", "--state", str(state), "--root",
             str(root), "--port", str(port)],
            cwd=cwd,
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return process
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=30)
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)


def test_a_server_killed_mid_save_loses_no_submitted_ballot(
    state_file: Path, published: ReadModel, people: People, tmp_path: Path
) -> None:
    root = published.folder.parent
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(state_file, root, port, tmp_path)
    try:

        def client(login: str) -> httpx.Client:
            c = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
            assert sign_in(c, login, PASSWORD.format(login)).status_code == 303
            return c

        organiser = client("organiser")
        jury_id = open_by_form(organiser, published.folder.name, people.jurors)
        with StateStore.open(state_file) as store:
            panel = [
                n
                for n in nominees(store, jury_id)
                if (n.category, n.cluster_id) == (CATEGORY, CLUSTER)
            ]
            others = [
                n
                for n in nominees(store, jury_id)
                if (n.category, n.cluster_id) == (CATEGORY, OTHER)
            ]
        jurors = {login: client(login) for login in ("juror1", "juror2", "juror3")}
        tokens = {login: csrf_of(c.get(panel_url(jury_id))) for login, c in jurors.items()}
        for login, c in jurors.items():  # each submits the kementerian panel
            for place, n in enumerate(panel):
                fields = {f"score.{k}": str((place + len(login)) % 11) for k in CRITERIA}
                data = {"csrf": tokens[login], "unit": n.unit, "comment": login, **fields}
                assert c.post(f"{panel_url(jury_id)}/save", data=data).status_code == 303
            assert (
                c.post(f"{panel_url(jury_id)}/submit", data={"csrf": tokens[login]}).status_code
                == 303
            )
        with StateStore.open(state_file) as store:
            submitted = {
                b.subject: b.audited()
                for b in read_ballots(store, people.organiser, jury_id)
                if b.status == "submitted"
            }
        assert len(submitted) == 3 * len(panel)
        # then they keep saving drafts of the pemda panel while the server is killed
        acknowledged: dict[tuple[str, str], int] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def saver(login: str) -> None:
            c = jurors[login]
            value = 0
            while not stop.is_set():
                value += 1
                n = others[value % len(others)]
                data = {
                    "csrf": tokens[login],
                    "unit": n.unit,
                    "comment": f"{login} {value}",
                    "score.creativity": str(value % 11),
                }
                try:
                    done = c.post(f"{panel_url(jury_id, OTHER)}/save", data=data)
                except httpx.TransportError:
                    return
                if done.status_code == 303:
                    with lock:
                        acknowledged[(login, n.unit)] = value

        threads = [threading.Thread(target=saver, args=(login,)) for login in jurors]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        for c in [organiser, *jurors.values()]:
            c.close()
        assert len(acknowledged) >= 6
        # restarted on the same state file: every submitted ballot is there, the log verifies
        server = start_server(state_file, root, port, tmp_path)
        with StateStore.open(state_file) as store:
            assert verify(store).ok
            after = read_ballots(store, people.organiser, jury_id)
        kept = {b.subject: b.audited() for b in after if b.status == "submitted"}
        assert kept == submitted
        drafts = {(b.juror_id, b.unit): b for b in after if b.status == "draft"}
        logins = dict(zip(("juror1", "juror2", "juror3"), people.jurors, strict=True))
        for (login, unit), value in acknowledged.items():  # no acknowledged save lost
            stored = drafts[(logins[login], unit)]
            assert int(stored.comment.split()[1]) >= value
        with httpx.Client(base_url=url, follow_redirects=False, timeout=30) as again:
            assert sign_in(again, "organiser").status_code == 303
            page = again.get(f"/jury/{jury_id}")
            assert page.status_code == 200
            assert page.text.count('data-juror="juror1" data-status="submitted"') == 1
    finally:
        server.kill()
        server.wait(timeout=30)
