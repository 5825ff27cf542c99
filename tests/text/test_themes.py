"""Theme files (validated, every problem at once) and the matcher over token tables."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from govsocial.errors import InputError, NotFoundError
from govsocial.text.themes import (
    MATCHES,
    Term,
    list_themes,
    load_theme,
    load_themes,
    match,
    parse_theme,
)
from govsocial.text.tokens import tokenise

CLIMATE = """\
id: climate
version: 1
title: {id: Perubahan iklim, en: Climate change}
description: {id: Unggahan tentang perubahan iklim, en: Posts about climate change}
hashtags: [perubahaniklim, ClimateChange, "#KrisisIklim"]
phrases:
  - perubahan iklim
  - iklim
  - {text: emisi karbon, stem: true}
  - pemanasan global
exclude:
  - iklim investasi
  - iklim usaha
"""

HEALTH = """\
id: health
version: 2
title: {id: Kesehatan, en: Health}
hashtags: [sehatbersama]
phrases: [dinkes, puskesmas, imunisasi]
min_matches: 2
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def tag(posts: dict[int, str], *themes: object) -> dict[int, dict[str, list[str]]]:
    """{post: {theme: evidence}} of the posts."""
    ids = list(posts)
    tokens = tokenise(pa.array(ids, pa.int64()), pa.array([posts[i] for i in ids]))
    table = match(tokens, themes)  # type: ignore[arg-type]
    assert table.schema == MATCHES
    out: dict[int, dict[str, list[str]]] = {}
    for row in table.to_pylist():
        out.setdefault(row["post_id"], {})[row["theme"]] = row["evidence"]
    return out


def test_a_theme_file_is_read_and_normalised(tmp_path: Path) -> None:
    theme = load_theme(write(tmp_path, "climate.yaml", CLIMATE))
    assert (theme.id, theme.version, theme.title_id, theme.title_en) == (
        "climate",
        1,
        "Perubahan iklim",
        "Climate change",
    )
    assert theme.description_en == "Posts about climate change"
    assert theme.hashtags == ("perubahaniklim", "climatechange", "krisisiklim")
    assert theme.phrases == (
        Term("perubahan iklim", ("perubahan", "iklim")),
        Term("iklim", ("iklim",)),
        Term("emisi karbon", ("emisi", "karbon"), stem=True),
        Term("pemanasan global", ("pemanasan", "global")),
    )
    assert [t.text for t in theme.exclude] == ["iklim investasi", "iklim usaha"]
    assert theme.min_matches == 1
    assert theme.source.endswith("climate.yaml") and len(theme.sha256) == 64


def test_phrases_are_normalised_like_posts_and_an_abbreviation_is_its_expansion(
    tmp_path: Path,
) -> None:
    text = HEALTH.replace("[dinkes, puskesmas, imunisasi]", "[Dinkes, dinas kesehatan, Puskesmas]")
    theme = parse_theme(text)
    assert [t.text for t in theme.phrases] == ["dinas kesehatan", "pusat kesehatan masyarakat"]


@pytest.fixture
def climate(tmp_path: Path) -> object:
    return load_theme(write(tmp_path, "climate.yaml", CLIMATE))


def test_iklim_investasi_is_not_climate_change(climate: object) -> None:
    posts = {
        1: "Pemprov ajak warga hadapi perubahan iklim 🌍 #PerubahanIklim",
        2: "Iklim investasi di Jabar makin kondusif, kata Gubernur",
        3: "Iklim usaha yg sehat utk UMKM",
        4: "#IklimInvestasi terus membaik",
        5: "Perubahan iklim investasi hijau: peluang baru",  # the phrase is not inside
        6: "iklim usaha membaik, tapi iklim bumi makin panas",  # the second "iklim" counts
        7: "Rapat koordinasi biasa di kantor bupati",
    }
    assert tag(posts, climate) == {
        1: {"climate": ["#perubahaniklim", "iklim", "perubahan iklim"]},
        5: {"climate": ["perubahan iklim"]},  # "iklim" alone lies inside "iklim investasi"
        6: {"climate": ["iklim"]},
    }


def test_hashtags_match_folded_and_phrases_on_stems(climate: object) -> None:
    posts = {
        1: "Kurangi emisi karbonnya! #KrisisIklim",
        2: "Menurunkan emisi karbon daerah",
        3: "#climatechange is real",
        4: "#PemanasanGlobal",  # a phrase in the hashtag's words
        5: "karbon emisi",  # the other order is not the phrase
    }
    assert tag(posts, climate) == {
        1: {"climate": ["#krisisiklim", "emisi karbon", "iklim"]},  # iklim: a hashtag word
        2: {"climate": ["emisi karbon"]},
        3: {"climate": ["#climatechange"]},
        4: {"climate": ["pemanasan global"]},
    }


def test_min_matches_counts_distinct_terms_and_themes_are_matched_together(
    climate: object,
) -> None:
    health = parse_theme(HEALTH)
    posts = {
        1: "Dinkes dan puskesmas gelar imunisasi #SehatBersama",
        2: "Imunisasi di puskesmas, imunisasi lagi di puskesmas",
        3: "dinkes dinkes dinkes",  # one term, three times
        4: "Dinas Kesehatan ajak cegah dampak perubahan iklim di puskesmas",
    }
    assert tag(posts, climate, health) == {
        1: {
            "health": [
                "#sehatbersama",
                "dinas kesehatan",
                "imunisasi",
                "pusat kesehatan masyarakat",
            ]
        },
        2: {"health": ["imunisasi", "pusat kesehatan masyarakat"]},
        4: {
            "climate": ["iklim", "perubahan iklim"],
            "health": ["dinas kesehatan", "pusat kesehatan masyarakat"],
        },
    }


def test_a_phrase_does_not_run_from_one_post_into_the_next(climate: object) -> None:
    assert tag({1: "Ini soal perubahan", 2: "iklim investasi"}, climate) == {}


def test_nothing_to_match(climate: object) -> None:
    empty = tokenise(pa.array([], pa.int64()), pa.array([], pa.string()))
    assert match(empty, [climate]).equals(MATCHES.empty_table())  # type: ignore[list-item]
    assert tag({1: "🙏🙏", 2: "", 3: "東京"}, climate) == {}
    assert tag({1: "perubahan iklim"}) == {}


def test_100k_posts_are_tagged_in_one_vectorised_pass(climate: object) -> None:
    texts = [
        ["Warga gotong royong bersihkan sungai", "Aksi perubahan iklim", "Iklim investasi naik"][
            i % 3
        ]
        for i in range(100_000)
    ]
    tokens = tokenise(pa.array(range(100_000), pa.int64()), pa.array(texts))
    table = match(tokens, [climate])  # type: ignore[list-item]
    assert table["post_id"].to_pylist() == list(range(1, 100_000, 3))
    assert table["evidence"][0].as_py() == ["iklim", "perubahan iklim"]


BROKEN = """\
id: Climate Change
version: 0
title: {id: Perubahan iklim}
hashtags: [perubahaniklim, "perubahan iklim", perubahaniklim]
phrases:
  - perubahan iklim
  - satu dua tiga empat lima
  - "aksi #iklim"
  - Perubahan  Iklim
  - {text: emisi karbon, stem: maybe, weight: 2}
exclude: [perubahan iklim mikro, "#iklim", investasi asing]
min_matches: 9
colour: green
"""


def test_a_theme_file_with_several_problems_reports_all_of_them(tmp_path: Path) -> None:
    path = write(tmp_path, "climate.yaml", BROKEN)
    with pytest.raises(InputError) as caught:
        load_theme(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 14 problems in the theme; it was not loaded")
    expected = [
        "line 1, id: 'Climate Change' is not a valid id",
        "line 2, version: 0 is not a whole number ≥ 1",
        "line 3, title.en: missing",
        "line 4, hashtags[2]: 'perubahaniklim' is listed twice",
        "line 4, hashtags[1]: 'perubahan iklim' is not a hashtag",
        "line 7, phrases[1]: 'satu dua tiga empat lima' has 5 words",
        "line 8, phrases[2]: 'aksi #iklim' is not a phrase of words. Fix: write words only;",
        "line 9, phrases[3]: 'Perubahan  Iklim' is listed twice",
        "line 10, phrases[4].weight: unknown key",
        "line 10, phrases[4].stem: 'maybe' is not true or false",
        "line 11, exclude[1]: '#iklim' is not a phrase of words",
        "line 11, exclude[2]: 'investasi asing' contains none of the theme's phrases",
        "line 12, min_matches: 9 is not a whole number from 1 to 3",
        "line 13, colour: unknown key",
    ]
    lines = message.splitlines()[1:]
    assert len(lines) == len(expected)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(f"  - {start}"), (line, start)


def test_the_id_must_be_the_file_name_and_a_key_given_twice_is_reported(tmp_path: Path) -> None:
    text = CLIMATE.replace("version: 1", "version: 1\nversion: 2")
    with pytest.raises(InputError) as caught:
        load_theme(write(tmp_path, "iklim.yaml", text))
    message = str(caught.value)
    assert "line 1, id: 'climate' is not the file's name 'iklim'" in message
    assert "line 3, version: given twice in one mapping (first at line 2)" in message


def test_a_theme_needs_hashtags_or_phrases() -> None:
    with pytest.raises(InputError, match="the theme has no hashtags and no phrases"):
        parse_theme("id: empty\nversion: 1\ntitle: {id: Kosong, en: Empty}\n")


def test_yaml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"climate\.yaml, line 3: not valid YAML"):
        load_theme(write(tmp_path, "climate.yaml", "id: climate\nphrases: [a, b\nversion: 1\n"))


def test_themes_by_id_and_by_folder(tmp_path: Path) -> None:
    write(tmp_path, "climate.yaml", CLIMATE)
    write(tmp_path, "health.yaml", HEALTH)
    write(tmp_path, "notes.txt", "not a theme")
    assert list_themes(tmp_path) == ("climate", "health")
    assert list_themes(tmp_path / "missing") == ()
    loaded = load_themes([tmp_path / "health.yaml", tmp_path / "climate.yaml"])
    assert [t.id for t in loaded] == ["health", "climate"]
    with pytest.raises(NotFoundError, match="no theme 'no-such-theme'"):
        load_theme("no-such-theme")
    with pytest.raises(InputError, match="no such theme file"):
        load_theme(tmp_path / "missing.yaml")
