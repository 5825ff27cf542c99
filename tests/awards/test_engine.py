"""The engine on a tiny warehouse whose results are worked out by hand."""

import json
import math
from pathlib import Path

import pytest

from conftest import post_row, write_csv
from govsocial.awards.engine import run_awards
from govsocial.awards.methodology import load_methodology
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
    # C: instagram 0.05 (best of 3 → 5/6) and facebook 0.1 (alone → 0.5): mean 2/3.
    # A and B: 0.02 each, tied on the percentile (1/3) and on posts (2): the id decides.
    assert ranked == [
        ("c", pytest.approx(2 / 3, abs=1e-6)),
        ("a", pytest.approx(1 / 3, abs=1e-6)),
        ("b", pytest.approx(1 / 3, abs=1e-6)),
    ]
    c = raw["nominees"][0]
    instagram = next(p for p in c["platforms"] if p["platform"] == "instagram")
    assert instagram["components"]["engagement_rate_raw"]["value"] == pytest.approx(0.05)
    assert instagram["posts"] == 2  # the repost and the post after the period are out
    assert (instagram["rank"], instagram["of"]) == (1, 3)
    facebook = next(p for p in c["platforms"] if p["platform"] == "facebook")
    assert facebook["components"]["engagement_rate_raw"]["value"] == pytest.approx(0.1)
    assert doc["data"]["posts_in_scope"] == 8  # c4 is outside the period


def test_shrunk_rates_follow_morris(tiny: Warehouse, tmp_path: Path) -> None:
    m = load_methodology(tmp_path / "tiny.toml")
    doc = run_awards(tiny, m).document
    nominees = doc["categories"][1]["clusters"][0]["nominees"]
    by_handle = {
        n["handle"]: n["platforms"][0]["components"]["engagement_rate"]["value"]
        for n in nominees
        if n["platform"] == "instagram"
    }
    eps = 1e-5
    logs = {
        "kota_a": [math.log(0.01 + eps), math.log(0.03 + eps)],
        "kota_b": [math.log(0.02 + eps)] * 2,
        "kota_c": [math.log(0.05 + eps)] * 2,
    }
    y = {k: sum(v) / len(v) for k, v in logs.items()}
    within = sum((x - y[k]) ** 2 for k, v in logs.items() for x in v) / 3  # 3 degrees of freedom
    sigma2 = within / 2
    mu = sum(y.values()) / 3
    var_y = sum((v - mu) ** 2 for v in y.values()) / 2
    tau2 = max(0.0, var_y - sigma2)
    factor = sigma2 / (sigma2 + tau2)
    for handle, value in by_handle.items():
        expected = math.exp(mu + (1 - factor) * (y[handle] - mu)) - eps
        assert value == pytest.approx(expected, rel=1e-5), handle
    # Geometric means: B's steady 0.02 beats A's 0.01 and 0.03. The facebook account is alone
    # in its stratum (percentile 0.5, as B's) and follows B on the id tie-break ("2" < "4").
    assert [n["handle"] for n in nominees] == ["kota_c", "kota_b", "kota_c_fb", "kota_a"]
    note = doc["categories"][1]["notes"]
    assert any("not shrunk" in n and "facebook" in n for n in note)


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
    assert "Only 0 eligible" in cluster["note"]
