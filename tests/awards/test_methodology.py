"""Methodology files: the shipped ones load, and every bad file explains itself."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govsocial.awards import methodology as m
from govsocial.awards.methodology import list_methodologies, load_methodology, parse_methodology
from govsocial.errors import MethodologyError, UsageError
from govsocial.metrics.catalogue import METRICS, MetricInfo

CLUSTERS_2025 = ("kementerian", "lembaga", "pemda", "perguruan_tinggi")

MINIMAL = """\
id = "mini"
edition = "Mini Award"
version = "0.1"
title = { id = "Mini", en = "Mini" }
period = { start = 2024-08-01, end = 2025-08-01 }
platforms = ["instagram", "x"]
clusters = ["pemda"]

[[categories]]
id = "most_engaging"
title = { id = "Paling Engaging", en = "Most Engaging" }
description = { id = "Tingkat keterlibatan", en = "Engagement rate" }
unit = "institution"
components = [{ metric = "engagement_rate", weight = 1.0 }]
"""


def write(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str, known_clusters: list[str] | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(MethodologyError) as caught:
        load_methodology(path, known_clusters)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")  # every report names the file
    return message


def test_shipped_methodologies_are_listed_and_load() -> None:
    assert list_methodologies() == ["bonson", "gsm2020", "gsm2025"]
    for name in list_methodologies():
        loaded = load_methodology(name)
        assert loaded.id == name
        assert loaded.source == f"shipped:{name}"
        path = m.SHIPPED_DIR / f"{name}.toml"
        assert loaded.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert loaded.text.encode("utf-8") == path.read_bytes()


def test_gsm2025_is_five_categories_times_four_clusters() -> None:
    gsm = load_methodology("gsm2025", known_clusters=CLUSTERS_2025)
    assert gsm.edition == "GSM Award 2025"
    assert [c.title_en for c in gsm.categories] == [
        "Most Active",
        "Most Engaging",
        "Best Use of Images",
        "Best Use of Videos",
        "Best Account",
    ]
    assert gsm.clusters == CLUSTERS_2025
    assert len(gsm.categories) * len(gsm.clusters) == 20
    assert gsm.platforms == ("facebook", "instagram", "x", "youtube", "tiktok")
    assert dict(gsm.platform_weights) == dict.fromkeys(gsm.platforms, 1.0)
    assert (gsm.interactions_version, gsm.max_follower_gap_days) == (2, 90)
    assert gsm.champion_rule == "most_trophies"
    assert sum(j.weight for j in gsm.jury) == pytest.approx(1.0)
    images = gsm.categories[2]
    assert images.media_types == ("image", "carousel")
    assert images.eligibility.min_posts == 12
    assert [(c.metric, c.weight) for c in gsm.categories[3].components] == [
        ("engagement_rate", 0.6),
        ("view_rate", 0.4),
    ]
    assert gsm.categories[4].unit == "account"
    assert all(c.tiebreakers[-1] == "id" and 3 <= c.nominees <= 5 for c in gsm.categories)


def test_gsm2020_has_a_climate_theme_and_bumn_cluster() -> None:
    gsm = load_methodology("gsm2020", known_clusters=(*CLUSTERS_2025, "bumn"))
    assert "tiktok" not in gsm.platforms
    assert "bumn" in gsm.clusters
    assert 8 <= len(gsm.categories) <= 10
    climate = next(c for c in gsm.categories if c.theme is not None)
    assert climate.theme is not None
    # It names the text stage's theme files: climate change and the 17 SDGs.
    assert climate.theme.names == ("climate", *(f"sdg{i}" for i in range(1, 18)))
    assert not climate.theme.hashtags and not climate.theme.keywords
    assert {"theme_share", "theme_engagement_rate"} <= {c.metric for c in climate.components}
    # 2020 published no rule for several accounts or platforms: the robust ones apply.
    assert (gsm.accounts, gsm.platform_combination) == ("main", "sum")
    rates = [c for c in gsm.categories if c.id not in ("most_active", "most_interactions")]
    assert all(c.eligibility.min_followers == 1000 for c in rates)
    with pytest.raises(MethodologyError, match=r"clusters\[3\]: unknown cluster 'bumn'"):
        load_methodology("gsm2020", known_clusters=CLUSTERS_2025)


def test_bonson_ranks_accounts_on_each_bonson_metric() -> None:
    bonson = load_methodology("bonson")
    assert [c.components[0].metric for c in bonson.categories] == [
        name for name in METRICS if name.startswith("bonson_")
    ]
    assert {c.unit for c in bonson.categories} == {"account"}
    assert bonson.jury == ()


def test_period_is_read_in_jakarta_time_and_stored_in_utc(tmp_path: Path) -> None:
    loaded = load_methodology(write(tmp_path, MINIMAL))
    assert loaded.period_start == datetime(2024, 7, 31, 17, tzinfo=UTC)
    assert loaded.period_end == datetime(2025, 7, 31, 17, tzinfo=UTC)
    assert loaded.period_start.utcoffset() is not None
    offset = MINIMAL.replace("start = 2024-08-01", "start = 2024-08-01T06:00:00+00:00")
    assert load_methodology(write(tmp_path, offset)).period_start == datetime(
        2024, 8, 1, 6, tzinfo=UTC
    )


def test_defaults_of_a_minimal_file(tmp_path: Path) -> None:
    loaded = load_methodology(write(tmp_path, MINIMAL), known_clusters=["pemda"])
    category = loaded.categories[0]
    assert (category.nominees, category.tiebreakers) == (5, ("posts", "followers", "id"))
    assert (category.media_types, category.platforms, category.theme) == ((), (), None)
    assert category.eligibility == m.Eligibility(0, 0, 0, 1)
    assert (loaded.interactions_version, loaded.jury) == (1, ())
    # The rules that cannot be gamed are the default (docs/methodology.md, "Accounts and
    # platforms of an institution").
    assert (loaded.accounts, loaded.platform_combination) == ("main", "sum")
    assert loaded.source == str(tmp_path / "m.toml")
    assert hash(loaded) == hash(load_methodology(tmp_path / "m.toml"))


def test_tiebreakers_always_end_with_id(tmp_path: Path) -> None:
    text = MINIMAL.replace('unit = "institution"', 'unit = "institution"\ntiebreakers = ["posts"]')
    assert load_methodology(write(tmp_path, text)).categories[0].tiebreakers == ("posts", "id")


def test_parse_methodology_reads_stored_text() -> None:
    stored = load_methodology("gsm2025")
    again = parse_methodology(stored.text, source="run 42")
    assert (again.sha256, again.categories) == (stored.sha256, stored.categories)


CATEGORY = "[[categories]]"
BAD = [
    ("nominees = 5", "nominess = 5", ["categories[0].nominess: unknown key", "'nominees'"]),
    ('edition = "Mini Award"', 'edition = "Mini"\ncolour = "red"', ["colour: unknown key"]),
    ("engagement_rate", "engagment_rate", ["categories[0].components[0].metric", "valid: "]),
    ('"instagram", "x"', '"instagram", "myspace"', ["platforms[1]: unknown value 'myspace'"]),
    ('unit = "institution"', 'unit = "person"', ["categories[0].unit", "institution, account"]),
    ("nominees = 5", "nominees = 7", ["categories[0].nominees: 7", "from 3 to 5"]),
    ("weight = 1.0", "weight = 0", ["categories[0].components[0].weight: 0", "> 0"]),
    ("weight = 1.0", "weight = nan", ["categories[0].components[0].weight: nan", "> 0"]),
    ("end = 2025-08-01", "end = 2024-01-01", ["period.end", "not after period.start"]),
    ("end = 2025-08-01", 'end = "2025-08-01"', ["period.end", "not a date"]),
    ("components = [{", "components = []\nx = [{", ["categories[0].components", "non-empty"]),
    ("nominees = 5", 'media_types = ["gif"]', ["categories[0].media_types[0]", "image, video"]),
    ("nominees = 5", 'tiebreakers = ["likes"]', ["categories[0].tiebreakers[0]", "posts, foll"]),
    ("nominees = 5", 'platforms = ["tiktok"]', ["categories[0].platforms[0]", "instagram, x"]),
    ("nominees = 5", "eligibility = { min_post = 3 }", ["eligibility.min_post", "'min_posts'"]),
    ('clusters = ["pemda"]', 'clusters = ["pemda"]\nchampion_rule = "platinum"', ["most_trophies"]),
    ('clusters = ["pemda"]', 'clusters = ["pemda"]\ninteractions_version = 3', ["valid: 1, 2"]),
    (
        'clusters = ["pemda"]',
        'clusters = ["pemda"]\nmax_follower_gap_days = 0',
        ["max_follower_gap_days"],
    ),
    (
        'clusters = ["pemda"]',
        'clusters = ["pemda"]\naccounts = "all"',
        ["accounts: ", "main, pooled"],
    ),
    (
        'clusters = ["pemda"]',
        'clusters = ["pemda"]\nplatform_combination = "mean"',
        ["platform_combination: unknown value 'mean'", "valid: sum"],
    ),
    ("weight = 1.0", "weight = 1.0 }, { metric = 'theme_share'", ["add a [categories.theme]"]),
    ('title = { id = "Mini", en = "Mini" }', 'title = { id = "Mini" }', ["title.en: missing"]),
    ('id = "mini"', 'id = "Mini Award"', ["id: 'Mini Award' is not a valid id"]),
    ("[[categories]]", "[shrinkage]\nepsilon = 0\n[[categories]]", ["shrinkage"]),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD)
def test_each_problem_names_the_key_and_the_fix(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    text = MINIMAL.replace('unit = "institution"', 'unit = "institution"\nnominees = 5')
    assert old in text
    message = problems_of(tmp_path, text.replace(old, new, 1))
    for part in expected:
        assert part in message
    assert "Fix: " in message


def test_duplicate_category_ids(tmp_path: Path) -> None:
    second = MINIMAL[MINIMAL.index(CATEGORY) :]
    assert "categories[1].id: 'most_engaging' appears twice" in problems_of(
        tmp_path, MINIMAL + "\n" + second
    )


def test_unknown_cluster_lists_the_known_ones(tmp_path: Path) -> None:
    message = problems_of(tmp_path, MINIMAL, known_clusters=["kementerian", "pemda_x"])
    assert "clusters[0]: unknown cluster 'pemda'" in message
    assert "did you mean 'pemda_x'? valid: kementerian, pemda_x" in message
    load_methodology(write(tmp_path, MINIMAL), known_clusters=None)  # no check without clusters


def test_metric_unit_must_fit_the_category_unit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = MetricInfo("per_account_only", "account", "for the test", "none")
    monkeypatch.setitem(METRICS, info.name, info)
    message = problems_of(tmp_path, MINIMAL.replace("engagement_rate", info.name))
    assert "'per_account_only' is computed per account, but the category's unit is" in message
    assert "use unit = 'account'" in message


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = problems_of(tmp_path, MINIMAL.replace('version = "0.1"', "version = "))
    assert "not valid TOML" in message
    assert "line 3" in message


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace('unit = "institution"', 'unit = "person"\nnominess = 5')
        .replace("weight = 1.0", "weight = -1")
        .replace("end = 2025-08-01", "end = 2020-01-01")
    )
    message = problems_of(tmp_path, text)
    lines = message.splitlines()
    assert "4 problems" in lines[0]
    assert len(lines) == 5
    assert all(line.startswith("  - ") for line in lines[1:])


def test_theme_is_normalised_and_must_not_be_empty(tmp_path: Path) -> None:
    themed = MINIMAL + '[categories.theme]\nhashtags = ["#SDGs"]\nkeywords = ["Emisi Karbon"]\n'
    theme = load_methodology(write(tmp_path, themed)).categories[0].theme
    assert theme == m.Theme(("sdgs",), ("emisi karbon",))
    empty = MINIMAL + "[categories.theme]\nhashtags = []\n"
    assert "categories[0].theme: has no hashtags and no keywords" in problems_of(tmp_path, empty)


def test_unknown_name_lists_the_shipped_ones() -> None:
    with pytest.raises(UsageError) as caught:
        load_methodology("gsm2030")
    assert "'gsm2030'" in str(caught.value)
    assert "bonson, gsm2020, gsm2025" in str(caught.value)
    assert "path" in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such methodology file") as caught:
        load_methodology(tmp_path / "nope.toml")
    assert caught.value.exit_code == 2  # a wrong --methodology, like a wrong --engine


def test_every_metric_names_its_unit() -> None:
    assert all(info.unit in ("institution", "account", "both") for info in METRICS.values())


def test_every_key_and_metric_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "methodology.md").read_text()
    keys = [*m._TOP, *m._TOP_OPTIONAL, *m._CATEGORY, *m._CATEGORY_OPTIONAL, *m._ELIGIBILITY]
    for key in [*keys, "hashtags", "keywords", "weight", "description"]:
        assert f"| `{key}` |" in docs, key
    for name in METRICS:
        assert f"| `{name}` |" in docs, name
    for name in list_methodologies():
        assert f"### {name}: " in docs, name
