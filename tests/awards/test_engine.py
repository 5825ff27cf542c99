"""The engine on a tiny warehouse whose results are worked out by hand."""

import dataclasses
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import govsocial.awards.engine as engine
import govsocial.awards.methodology as methodology
from conftest import post_row, write_csv
from govsocial.awards.engine import (
    Selection,
    champion,
    cluster_note,
    run_awards,
    select_nominees,
)
from govsocial.awards.methodology import load_methodology
from govsocial.awards.ranking import UnitScore
from govsocial.awards.results import Category, Certainty, Cluster, Flag, Nominee, Title
from govsocial.errors import MethodologyError
from govsocial.registry import read_registry
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, apply_registry, load_file

REGISTRY = """\
institutions:
  - {id: a, name: Kota A, cluster: pemda, sub_cluster: kota,
     accounts: [{platform: instagram, handle: kota_a, platform_id: "1"}]}
  - {id: b, name: Kota B, cluster: pemda, sub_cluster: kota,
     accounts: [{platform: instagram, handle: kota_b, platform_id: "2"}]}
  - {id: c, name: Kota C, cluster: pemda, sub_cluster: kota,
     accounts: [{platform: instagram, handle: kota_c, platform_id: "3"},
                {platform: facebook, handle: kota_c_fb, platform_id: "4"}]}
"""

METHODOLOGY = """\
id = "tiny"
edition = "Tiny test award"
version = "1"
title = { id = "Uji", en = "Test" }
period = { start = 2025-01-01, end = 2025-02-01 }
platforms = ["instagram", "facebook"]
clusters = ["pemda"]
interactions_version = 1
champion_rule = "most_trophies"

[[categories]]
id = "raw"
title = { id = "Mentah", en = "Raw" }
description = { id = "-", en = "-" }
unit = "institution"
nominees = 3
tiebreakers = ["posts", "id"]
components = [{ metric = "engagement_rate_raw", weight = 1.0 }]

[[categories]]
id = "shrunk"
title = { id = "Disusutkan", en = "Shrunk" }
description = { id = "-", en = "-" }
unit = "account"
nominees = 5
tiebreakers = ["id"]
components = [{ metric = "engagement_rate", weight = 1.0 }]

[[categories]]
id = "active"
title = { id = "Aktif", en = "Active" }
description = { id = "-", en = "-" }
unit = "institution"
nominees = 3
components = [{ metric = "posts_per_week", weight = 1.0 }]
"""


def snapshot(platform_id: str, at: str, followers: int) -> dict[str, str]:
    return {
        "platform": "instagram" if platform_id != "4" else "facebook",
        "account_platform_id": platform_id,
        "captured_at": at,
        "followers": str(followers),
    }


@pytest.fixture
def tiny(tmp_path: Path) -> Warehouse:
    wh = Warehouse.open(tmp_path / "w.duckdb", create=True)
    (tmp_path / "r.yaml").write_text(REGISTRY)
    apply_registry(wh, read_registry(tmp_path / "r.yaml"), tmp_path / "r.yaml")
    snaps = [
        snapshot("1", "2024-12-25T00:00:00Z", 1000),
        snapshot("2", "2024-12-25T00:00:00Z", 1000),
        snapshot("3", "2025-01-10T00:00:00Z", 1000),
        snapshot("3", "2025-01-20T00:00:00Z", 2000),
        snapshot("4", "2024-12-25T00:00:00Z", 100),
    ]
    header = ["platform", "account_platform_id", "captured_at", "followers"]
    load_file(wh, write_csv(tmp_path / "s.csv", snaps, header), stage)

    def post(
        pid: str, account: str, day: str, likes: int, comments: int, **kw: str
    ) -> dict[str, str]:
        values = {"posted_at": f"2025-01-{day}T10:00:00Z", **kw}
        return post_row(
            post_id=pid,
            account_platform_id=account,
            captured_at="2025-02-05T00:00:00Z",
            likes=likes,
            comments=comments,
            **values,
        )

    posts = [
        post("a1", "1", "05", 8, 2),  # A: 10 / 1000 = 0.01
        post("a2", "1", "12", 25, 5),  # A: 30 / 1000 = 0.03   mean 0.02
        post("b1", "2", "05", 15, 5),  # B: 20 / 1000 = 0.02
        post("b2", "2", "12", 20, 0),  # B: 20 / 1000 = 0.02   mean 0.02 (ties A)
        post("c1", "3", "05", 40, 10),  # C: before its first snapshot: 50 / 1000 = 0.05
        post("c2", "3", "25", 90, 10),  # C: after the second: 100 / 2000 = 0.05
        post("c3", "3", "26", 900, 100, is_repost="true"),  # a repost: not counted
        post("c4", "3", "27", 1, 1, posted_at="2025-02-03T00:00:00Z"),  # after the period
        post("f1", "4", "06", 0, 2, platform="facebook", reactions=6, shares=2),  # 10 / 100
    ]
    load_file(wh, write_csv(tmp_path / "p.csv", posts), stage)
    (tmp_path / "tiny.toml").write_text(METHODOLOGY)
    return wh


def test_hand_computed_rates_ranks_and_tie_breaks(tiny: Warehouse, tmp_path: Path) -> None:
    m = load_methodology(tmp_path / "tiny.toml")
    doc = run_awards(tiny, m).document
    raw = doc["categories"][0]["clusters"][0]
    ranked = [(n["institution_id"], n["score"]) for n in raw["nominees"]]
    # An institution is compared with every institution of its cluster (3 here), those not
    # eligible on a platform counting as beaten, and its score sums its platforms' scores,
    # 0 where it is not eligible, over the category's 2 platforms (docs/methodology.md).
    # C: instagram 0.05 (best of 3: 2.5/3) and facebook 0.1 (A and B not there: 2.5/3): 5/6.
    # A and B: instagram 0.02 each, tied (1/3), no facebook: 1/6; tied on posts (2) too, so
    # the id decides.
    assert ranked == [
        ("c", pytest.approx(5 / 6, abs=1e-6)),
        ("a", pytest.approx(1 / 6, abs=1e-6)),
        ("b", pytest.approx(1 / 6, abs=1e-6)),
    ]
    c = raw["nominees"][0]
    instagram = next(p for p in c["platforms"] if p["platform"] == "instagram")
    assert instagram["components"]["engagement_rate_raw"]["value"] == pytest.approx(0.05)
    assert instagram["posts"] == 2  # the repost and the post after the period are out
    assert (instagram["rank"], instagram["of"]) == (1, 3)
    facebook = next(p for p in c["platforms"] if p["platform"] == "facebook")
    assert facebook["components"]["engagement_rate_raw"]["value"] == pytest.approx(0.1)
    assert doc["data"]["posts_in_scope"] == 8  # c4 is outside the period


def test_typical_rates_unshrunk_in_a_small_stratum_say_so(tiny: Warehouse, tmp_path: Path) -> None:
    m = load_methodology(tmp_path / "tiny.toml")
    doc = run_awards(tiny, m).document
    nominees = doc["categories"][1]["clusters"][0]["nominees"]
    by_handle = {
        n["handle"]: n["platforms"][0]["components"]["engagement_rate"]["value"]
        for n in nominees
        if n["platform"] == "instagram"
    }
    # Three accounts per stratum are too few to estimate a prior (Morris needs 4): each
    # keeps its typical (geometric-mean) rate, and the category's notes say so.
    assert by_handle == {
        "kota_a": pytest.approx(math.sqrt(0.01 * 0.03), rel=1e-5),
        "kota_b": pytest.approx(0.02, rel=1e-5),
        "kota_c": pytest.approx(0.05, rel=1e-5),
    }
    # B's steady 0.02 beats A's 0.01 and 0.03. The facebook account is alone in its stratum
    # (percentile 0.5, as B's) and follows B on the id tie-break ("2" < "4").
    assert [n["handle"] for n in nominees] == ["kota_c", "kota_b", "kota_c_fb", "kota_a"]
    notes = doc["categories"][1]["notes"]
    assert any(n.startswith("engagement_rate not shrunk") and "facebook" in n for n in notes)
    assert any(n.startswith("engagement_rate not shrunk") and "instagram" in n for n in notes)


def test_same_inputs_give_byte_identical_results(tiny: Warehouse, tmp_path: Path) -> None:
    m = load_methodology(tmp_path / "tiny.toml")
    first, second = run_awards(tiny, m), run_awards(tiny, m)
    assert first.text == second.text and first.run_id == second.run_id
    assert json.loads(first.text)["run_id"] == first.run_id
    # Loading more data changes the run id.
    extra = post_row(
        post_id="a9",
        account_platform_id="1",
        posted_at="2025-01-15T00:00:00Z",
        captured_at="2025-02-05T00:00:00Z",
    )
    load_file(tiny, write_csv(tmp_path / "more.csv", [extra]), stage)
    assert run_awards(tiny, m).run_id != first.run_id


def test_fewer_eligible_than_three_is_explained(tiny: Warehouse, tmp_path: Path) -> None:
    text = METHODOLOGY.replace(
        'tiebreakers = ["posts", "id"]',
        'tiebreakers = ["posts", "id"]\neligibility = { min_posts = 2 }',
        1,
    )
    (tmp_path / "strict.toml").write_text(text)
    doc = run_awards(tiny, load_methodology(tmp_path / "strict.toml")).document
    cluster = doc["categories"][0]["clusters"][0]
    # C's facebook account has 1 post: C stays eligible through instagram (2 posts).
    assert [n["institution_id"] for n in cluster["nominees"]] == ["c", "a", "b"]
    text = text.replace("min_posts = 2", "min_posts = 3")
    (tmp_path / "stricter.toml").write_text(text)
    doc = run_awards(tiny, load_methodology(tmp_path / "stricter.toml")).document
    cluster = doc["categories"][0]["clusters"][0]
    assert cluster["nominees"] == [] and cluster["ineligible"] == {"min_posts": 3}
    assert cluster["note"] == (
        "None of the 3 units with posts is eligible (see 'ineligible'): no nominees."
    )


# ---------------------------------------------------------------- notes (rule 11)


def test_a_metric_note_goes_only_to_categories_scoring_that_metric(
    tiny: Warehouse, tmp_path: Path
) -> None:
    doc = run_awards(tiny, load_methodology(tmp_path / "tiny.toml")).document
    notes = {c["id"]: c["notes"] for c in doc["categories"]}
    # The facebook stratum has one unit: engagement_rate cannot be shrunk there. Only
    # "shrunk" scores engagement_rate; "raw" and "active" must not carry the note.
    assert any(n.startswith("engagement_rate not shrunk") for n in notes["shrunk"])
    assert notes["raw"] == [] and notes["active"] == []


def unit_score(rank: int, institution: str = "", account: int = -1) -> UnitScore:
    return UnitScore(
        f"u{rank}",
        "pemda",
        institution or f"i{rank}",
        account,
        1.0 / rank,
        posts=1,
        followers=1,
        interactions=1,
        n_platforms=1,
        rank=rank,
    )


def test_cluster_notes_say_what_happened() -> None:
    units = [unit_score(r) for r in range(1, 8)]
    flag = Flag(1, "x", "h", "implausible_likes", "severe", "d")
    assert cluster_note(0, 0, 5, Selection([], [])) == (
        "No units of this cluster have posts in this category's scope: no nominees."
    )
    assert cluster_note(4, 0, 5, Selection([], [])) == (
        "None of the 4 units with posts is eligible (see 'ineligible'): no nominees."
    )
    assert cluster_note(9, 7, 5, Selection(units[:5], [])) is None
    assert cluster_note(9, 2, 5, Selection(units[:2], [])) == (
        "2 nominees instead of 5: only 2 of the 9 units with posts are eligible (see 'ineligible')."
    )
    assert cluster_note(9, 7, 5, Selection([units[0], *units[2:6]], [(units[1], (flag,))])) == (
        "Held for review (a severe flag, see 'held'): rank 2. Nominated in its place: "
        "the next eligible, rank 6."
    )
    held = [(units[0], (flag,)), (units[3], (flag,))]
    assert cluster_note(3, 3, 3, Selection([units[1], units[2]], held)) == (
        "Held for review (a severe flag, see 'held'): ranks 1 and 4. "
        "2 nominees instead of 3: only 3 of the 3 units with posts are eligible "
        "(see 'ineligible'), 2 of them held for review."
    )


# ---------------------------------------------------------------- held for review (rule 4)

ATTACK_REGISTRY = "institutions:\n" + "".join(
    f"  - {{id: {i}, name: Kota {i.upper()}, cluster: pemda, sub_cluster: kota,\n"
    f"     accounts: [{{platform: instagram, handle: kota_{i}, platform_id: '{n}'}}]}}\n"
    for n, i in enumerate("abcdefz", start=1)
)
ATTACK_METHODOLOGY = """\
id = "attack"
edition = "Attack"
version = "1"
title = { id = "Uji", en = "Test" }
period = { start = 2025-01-01, end = 2025-04-01 }
platforms = ["instagram"]
clusters = ["pemda"]
champion_rule = "most_trophies"

[[categories]]
id = "engaging"
title = { id = "Engaging", en = "Engaging" }
description = { id = "-", en = "-" }
unit = "institution"
nominees = 3
components = [{ metric = "engagement_rate_raw", weight = 1.0 }]
"""


@pytest.fixture
def attack(tmp_path: Path) -> Warehouse:
    """Seven towns of 10,000 followers, 12 weekly posts each; z's likes are modest except one
    post with 10^12 likes (a broken or forged count)."""
    wh = Warehouse.open(tmp_path / "attack.duckdb", create=True)
    (tmp_path / "r.yaml").write_text(ATTACK_REGISTRY)
    apply_registry(wh, read_registry(tmp_path / "r.yaml"), tmp_path / "r.yaml")
    snaps = [
        {
            "platform": "instagram",
            "account_platform_id": str(n),
            "captured_at": "2024-12-25T00:00:00Z",
            "followers": "10000",
        }
        for n in range(1, 8)
    ]
    header = ["platform", "account_platform_id", "captured_at", "followers"]
    load_file(wh, write_csv(tmp_path / "s.csv", snaps, header), stage)
    start = datetime(2025, 1, 2, 10, tzinfo=UTC)
    posts = [
        post_row(
            post_id=f"p{n}-{week}",
            account_platform_id=str(n),
            posted_at=(start + timedelta(weeks=week)).isoformat(),
            captured_at="2025-04-05T00:00:00Z",
            likes=10**12 if (n == 7 and week == 0) else 100 + 10 * n,
            comments=5,
        )
        for n in range(1, 8)
        for week in range(12)
    ]
    load_file(wh, write_csv(tmp_path / "p.csv", posts), stage)
    (tmp_path / "attack.toml").write_text(ATTACK_METHODOLOGY)
    return wh


def test_a_severe_flag_holds_the_unit_and_the_next_eligible_takes_its_place(
    attack: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = load_methodology(tmp_path / "attack.toml")
    m = dataclasses.replace(m, champion_rule="most_nominations")
    ids = dict(attack.con.execute("SELECT handle, account_id FROM accounts").fetchall())
    real_flags = engine.account_flags

    def flags(cube: Any) -> dict[int, list[dict[str, Any]]]:
        found = real_flags(cube)
        # Flags as metrics/evidence.py gives them: z's by name only (implausible_* is
        # severe), f's with an explicit severity that leaves it nominated.
        found[ids["kota_z"]] = [{"flag": "implausible_interactions", "detail": "10^12 likes"}]
        found[ids["kota_f"]] = [{"flag": "like_comment_ratio", "detail": "d", "severity": "info"}]
        return found

    monkeypatch.setattr(engine, "account_flags", flags)
    doc = run_awards(attack, m).document
    cluster = doc["categories"][0]["clusters"][0]
    # z's one post makes it first by far; it is held, and the 4th takes the third place.
    assert [(h["institution_id"], h["rank"]) for h in cluster["held"]] == [("z", 1)]
    assert (
        "implausible_interactions on @kota_z (instagram): 10^12 likes"
        in (cluster["held"][0]["reason"])
    )
    assert [(n["institution_id"], n["rank"]) for n in cluster["nominees"]] == [
        ("f", 2),
        ("e", 3),
        ("d", 4),
    ]
    assert cluster["nominees"][0]["flags"][0]["severity"] == "info"
    assert "rank 1" in cluster["note"] and "rank 4" in cluster["note"]
    # A held unit is no nomination: it does not count towards the champion.
    standings = doc["champion"]["standings"]
    assert [s["institution_id"] for s in standings] == ["f", "d", "e"]
    assert doc["champion"]["institution_id"] == "f"


def test_implausible_counts_are_held_for_review_with_the_real_flags(
    attack: Warehouse, tmp_path: Path
) -> None:
    """End to end: metrics/evidence.py flags 10^12 likes on 10,000 followers as severe."""
    doc = run_awards(attack, load_methodology(tmp_path / "attack.toml")).document
    cluster = doc["categories"][0]["clusters"][0]
    assert "z" not in [n["institution_id"] for n in cluster["nominees"]]
    [held] = cluster["held"]
    assert held["institution_id"] == "z"
    assert any(f["severity"] == "severe" for f in held["flags"])


@given(
    severe=st.lists(st.booleans(), max_size=12),
    wanted=st.integers(min_value=3, max_value=5),
)
def test_nominees_are_the_first_unflagged_units_in_rank_order(
    severe: list[bool], wanted: int
) -> None:
    units = [unit_score(r) for r in range(1, len(severe) + 1)]
    flag = Flag(1, "x", "h", "implausible_likes", "severe", "d")
    chosen = select_nominees(units, wanted, lambda u: (flag,) if severe[u.rank - 1] else ())
    clean = [u for u in units if not severe[u.rank - 1]]
    assert chosen.nominees == clean[:wanted]  # never a flagged unit, none skipped
    last = chosen.nominees[-1].rank if len(chosen.nominees) == wanted else len(units) + 1
    # Held: exactly the flagged units ranked above the last nominee place filled.
    assert [u.rank for u, _ in chosen.held] == [
        u.rank for u in units if severe[u.rank - 1] and u.rank < last
    ]


# ---------------------------------------------------------------- champion (rule 10)


def test_standings_count_an_institution_once_per_category(tiny: Warehouse, tmp_path: Path) -> None:
    m = load_methodology(tmp_path / "tiny.toml")
    doc = run_awards(tiny, m).document
    shrunk = doc["categories"][1]["clusters"][0]["nominees"]
    assert [n["institution_id"] for n in shrunk].count("c") == 2  # two accounts of C
    standings = {s["institution_id"]: s for s in doc["champion"]["standings"]}
    # C is first in all three: raw, shrunk (twice over: still one nomination) and active.
    assert (standings["c"]["nominations"], standings["c"]["first_places"]) == (3, 3)
    assert standings["c"]["categories"] == ["active", "raw", "shrunk"]
    assert doc["champion"]["rule"] == "most_trophies" == doc["methodology"]["champion_rule"]
    # Before the jury nobody has a trophy: most_trophies names no champion.
    assert not doc["champion"]["decided"] and doc["champion"]["institution_id"] is None
    assert "Before the jury nobody has a trophy" in doc["champion"]["explanation"]


def test_the_declared_champion_rule_is_applied(tiny: Warehouse, tmp_path: Path) -> None:
    m = load_methodology(tmp_path / "tiny.toml")
    doc = run_awards(tiny, dataclasses.replace(m, champion_rule="most_nominations")).document
    assert doc["champion"]["rule"] == "most_nominations"
    assert doc["champion"]["decided"] and doc["champion"]["institution_id"] == "c"


def test_a_rule_the_engine_cannot_apply_is_refused_before_any_work(
    tiny: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = dataclasses.replace(load_methodology(tmp_path / "tiny.toml"), champion_rule="most_likes")

    def no_work(*_: object) -> None:
        raise AssertionError("the cube was computed before the rule was checked")

    monkeypatch.setattr(engine, "cached_cube", no_work)
    with pytest.raises(MethodologyError, match="'most_likes' cannot be applied") as caught:
        run_awards(tiny, m)
    assert "most_trophies" in str(caught.value) and "most_nominations" in str(caught.value)


def test_every_rule_a_methodology_may_declare_is_one_the_engine_applies() -> None:
    assert set(methodology.CHAMPION_RULES) <= set(engine.CHAMPION_RULES)


def nominee(institution: str, account: int | None = None) -> Nominee:
    return Nominee(
        1,
        institution,
        institution.upper(),
        account,
        None,
        None,
        0.5,
        (),
        (),
        1,
        1,
        1,
        (),
        None,
        (),
        1.0,
        (1, 1),
    )


def category(ident: str, clusters: list[list[Nominee]]) -> Category:
    return Category(
        ident,
        Title("-", "-"),
        "account",
        (),
        (),
        (),
        tuple(
            Cluster(f"k{i}", "-", 9, 9, {}, None, tuple(n), (), Certainty(True, "-", (), ()))
            for i, n in enumerate(clusters)
        ),
    )


institutions = st.sampled_from("abcdefg")
nominee_lists = st.lists(st.lists(institutions, min_size=1, max_size=5), min_size=1, max_size=3)


@given(
    st.lists(nominee_lists, min_size=1, max_size=6),
    st.sampled_from(["most_trophies", "most_nominations"]),
    st.data(),
)
def test_standings_follow_the_rule_and_extra_accounts_buy_nothing(
    table: list[list[list[str]]], rule: str, data: st.DataObject
) -> None:
    categories = [
        category(f"c{i}", [[nominee(x) for x in cluster] for cluster in clusters])
        for i, clusters in enumerate(table)
    ]
    result = champion(rule, categories)
    for s in result.standings:
        expected = sorted(
            f"c{i}"
            for i, clusters in enumerate(table)
            if any(s.institution_id in c for c in clusters)
        )
        assert list(s.categories) == expected and s.nominations == len(expected)
        firsts = sum(any(c[0] == s.institution_id for c in cl) for cl in table)
        assert s.first_places == firsts
    merits = [(-s.nominations, -s.first_places) for s in result.standings]
    assert merits == sorted(merits)
    for a, b in zip(result.standings, result.standings[1:], strict=False):
        same = (a.nominations, a.first_places) == (b.nominations, b.first_places)
        assert (a.position == b.position) == same
    leaders = [s for s in result.standings if s.position == 1]
    assert result.decided == (rule == "most_nominations" and len(leaders) == 1)
    # One more account of an already nominated institution, added anywhere but first place,
    # changes nothing.
    i = data.draw(st.integers(0, len(categories) - 1))
    j = data.draw(st.integers(0, len(table[i]) - 1))
    who = table[i][j][0]
    more = [list(map(list, clusters)) for clusters in table]
    more[i][j].append(who)
    again = champion(
        rule,
        [
            category(f"c{k}", [[nominee(x) for x in cluster] for cluster in clusters])
            for k, clusters in enumerate(more)
        ],
    )
    assert again == result
