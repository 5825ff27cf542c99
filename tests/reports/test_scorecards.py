"""Institution scorecards: the numbers on a card are the read model's (accounts, category
ranks), "what would move it up" names the component with the largest weighted gap (computed
here again from the tables), each PDF page has ink and the charts are drawn, the page fetches
nothing, Indonesian by default and English when asked."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from babel.messages.extract import extract_from_file
from PIL import Image

from govsocial.errors import ConfigError
from govsocial.publish.model import ReadModel
from govsocial.reports import charts, scorecards
from govsocial.reports.i18n import Language, catalogue
from govsocial.reports.scorecards import METRIC_LABELS, write_scorecards
from govsocial.vocabulary import PLATFORM_NAMES
from reports.pages import Node, parse
from reports.published import published_fixture  # noqa: F401

ID = Language("id", "scorecard")
OWN_ORANGE = (0xD9, 0x5F, 0x02)  # charts.OWN: drawn only by the charts


def rows(table: Node) -> list[list[str]]:
    return [[cell.text() for cell in row] for row in table.rows()]


def integer(text: str) -> int | None:
    """'336.741' (Indonesian) → 336741; '–' → None."""
    return None if text.strip() == "–" else int(text.replace(".", "").split()[0])


# ------------------------------------------------------------------ the cards


def choose(model: ReadModel) -> list[str]:
    """A nominee, an institution ranked but not nominated in a category of two components
    or more, and one not eligible in some category: the three kinds of place."""
    standings = model.table("standings").to_pylist()
    institutions = sorted({r["institution_id"] for r in model.table("accounts").to_pylist()})
    units = [r for r in standings if r["account_id"] is None]
    nominee = next(r["unit"] for r in units if r["status"] == "nominated")
    several = {c["id"] for c in model.results["categories"] if len(c["components"]) > 1}
    ranked = next(
        r["unit"]
        for r in units
        if r["category"] in several and not r["status"] and r["unit"] != nominee
    )
    for category in (c["id"] for c in model.results["categories"] if c["unit"] == "institution"):
        listed = {r["unit"] for r in units if r["category"] == category}
        absent = [i for i in institutions if i not in listed and i not in (nominee, ranked)]
        if absent:
            return [nominee, ranked, absent[0]]
    raise AssertionError("every institution is eligible everywhere: no card to test that on")


@pytest.fixture(scope="module")
def cards(published: ReadModel, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three cards in Indonesian with PDFs, written by the worker processes (the pool starts
    at two cards here), and one in English without."""
    out = tmp_path_factory.mktemp("cards")
    chosen = choose(published)
    calls: list[tuple[int, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scorecards, "POOL_FROM", 2)
        paths = write_scorecards(
            published,
            out,
            institutions=chosen,
            progress=lambda done, total: calls.append((done, total)),
        )
    english = write_scorecards(published, out / "en", lang="en", pdf=False, institutions=chosen[:1])
    return {
        "model": published,
        "out": out,
        "ids": chosen,
        "paths": paths,
        "calls": calls,
        "english": english,
    }


def page(cards: dict[str, Any], institution_id: str) -> Node:
    html = (cards["out"] / "scorecards" / f"{institution_id}.html").read_text("utf-8")
    return parse(html)


def test_one_html_and_one_pdf_per_institution(cards: dict[str, Any]) -> None:
    folder = cards["out"] / "scorecards"
    expected = [folder / f"{i}{suffix}" for i in cards["ids"] for suffix in (".html", ".pdf")]
    assert cards["paths"] == expected
    assert all(p.stat().st_size > 0 for p in expected)
    assert cards["calls"][-1] == (3, 3) and len(cards["calls"]) == 3
    assert not list(folder.glob(".*"))  # no temporary file left behind
    assert cards["english"] == [cards["out"] / "en" / "scorecards" / f"{cards['ids'][0]}.html"]


def test_accounts_match_the_read_model(cards: dict[str, Any]) -> None:
    accounts = cards["model"].table("accounts").to_pylist()
    for institution in cards["ids"]:
        own = sorted(
            (a for a in accounts if a["institution_id"] == institution),
            key=lambda a: a["account_id"],
        )
        shown = rows(next(page(cards, institution).one("section", id="accounts").all("table")))
        assert len(shown) == len(own)
        by_handle = {(r[0], r[1].split(" ")[0].lstrip("@")): r for r in shown}
        assert len(by_handle) == len(shown)
        for account in own:
            row = by_handle[PLATFORM_NAMES[account["platform"]], account["handle"]]
            assert integer(row[2]) == account["followers"]
            assert integer(row[3]) == account["posts"]
            assert integer(row[4]) == account["interactions"]
            assert row[5] == ID.percent(account["engagement_rate"], 2)


def test_category_ranks_match_the_standings(cards: dict[str, Any]) -> None:
    model = cards["model"]
    standings = model.table("standings").to_pylist()
    accounts = model.table("accounts").to_pylist()
    for institution in cards["ids"]:
        cluster = next(a["cluster_id"] for a in accounts if a["institution_id"] == institution)
        shown = rows(next(page(cards, institution).one("section", id="categories").all("table")))
        assert len(shown) == len(model.results["categories"])
        for category, row in zip(model.results["categories"], shown, strict=True):
            assert row[0].startswith(category["title"]["id"])
            group = [
                r
                for r in standings
                if (r["category"], r["cluster_id"]) == (category["id"], cluster)
            ]
            own = sorted(
                (
                    r
                    for r in group
                    if r["institution_id"] == institution
                    and (category["unit"] == "account" or r["unit"] == institution)
                ),
                key=lambda r: r["rank"],
            )
            if not own:
                assert row[1] == "–" and row[4] == "Tidak memenuhi syarat"
                continue
            assert row[1] == f"{ID.number(own[0]['rank'])} dari {ID.number(len(group))}"
            assert row[2] == ID.number(own[0]["score"], 3)
            expected = {"nominated": "Nominasi", "held for review": "Ditahan untuk ditinjau"}
            assert row[4] == expected.get(own[0]["status"], "Diperingkat")


def largest_gaps(model: ReadModel, institution: str) -> dict[str, str]:
    """Per category in which the institution's unit is ranked but not nominated: the metric
    of the largest weighted gap to the last nominee, from standings and components."""
    standings = model.table("standings").to_pylist()
    components = [c for c in model.table("components").to_pylist() if not c["platform"]]
    found = {}
    for category in model.results["categories"]:
        if category["unit"] != "institution":
            continue
        mine = [
            r for r in standings if r["category"] == category["id"] and r["unit"] == institution
        ]
        if not mine or mine[0]["status"]:
            continue
        cluster = mine[0]["cluster_id"]
        nominees = [
            r
            for r in standings
            if (r["category"], r["cluster_id"], r["status"])
            == (category["id"], cluster, "nominated")
        ]
        last = max(nominees, key=lambda r: r["rank"])
        total = sum(c["weight"] for c in category["components"])

        combined = {
            (c["unit"], c["metric"]): c["percentile"]
            for c in components
            if (c["category"], c["cluster_id"]) == (category["id"], cluster)
        }

        gaps = {
            c["metric"]: c["weight"]
            / total
            * (
                combined.get((last["unit"], c["metric"]), 0.0)
                - combined.get((institution, c["metric"]), 0.0)
            )
            for c in category["components"]
        }
        metric, gap = max(gaps.items(), key=lambda item: item[1])
        if gap > 0:
            found[category["title"]["id"]] = metric
    return found


def test_what_would_move_it_up_names_the_largest_weighted_gap(cards: dict[str, Any]) -> None:
    checked = 0
    for institution in cards["ids"]:
        expected = largest_gaps(cards["model"], institution)
        blocks = {
            next(div.all("h3")).text(): div
            for div in page(cards, institution).one("section", id="move-up").all("div")
        }
        for title, metric in expected.items():
            largest = [
                p.text() for p in blocks[title].all("p") if p.attrs.get("class") == "largest"
            ]
            label = ID.gettext(METRIC_LABELS[metric])
            assert largest and largest[0].startswith(f"Selisih tertimbang terbesar: {label}."), (
                institution,
                title,
                largest,
            )
            checked += 1
    assert checked  # the ranked institution has a gap in a category of several components


def test_top_posts_link_to_the_posts(cards: dict[str, Any]) -> None:
    top = cards["model"].table("top_posts").to_pylist()
    for institution in cards["ids"]:
        section = page(cards, institution).one("section", id="top-posts")
        links = [a.attrs["href"] for a in section.all("a")]
        assert links == [
            t["url"]
            for t in sorted(top, key=lambda t: t["place"])
            if t["institution_id"] == institution and t["url"]
        ]


def test_the_page_fetches_nothing(cards: dict[str, Any]) -> None:
    """Charts are inline SVG, the CSS inline; the only addresses are links to the posts."""
    for institution in cards["ids"]:
        html = (cards["out"] / "scorecards" / f"{institution}.html").read_text("utf-8")
        root = parse(html)
        assert len(list(root.all("svg"))) >= 3
        assert "<script" not in html and "@import" not in html and "url(" not in html
        assert not [n for tag in ("img", "link", "iframe") for n in root.all(tag)]
        links = {a.attrs["href"] for a in root.all("a")}
        assert links == {a.attrs["href"] for a in root.one("section", id="top-posts").all("a")}


def test_every_pdf_page_has_ink_and_the_charts_are_drawn(cards: dict[str, Any]) -> None:
    for pdf in (p for p in cards["paths"] if p.suffix == ".pdf"):
        prefix = pdf.with_suffix("")
        subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(prefix)], check=True)
        images = sorted(pdf.parent.glob(f"{prefix.name}-*.png"))
        assert len(images) >= 2
        orange = 0
        for path in images:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"), dtype=int).reshape(-1, 3)
            assert (pixels < 250).any(), f"blank page {path.name}"
            orange += int((np.abs(pixels - OWN_ORANGE) < 30).all(axis=1).sum())
        assert orange > 20, f"{pdf.name}: no chart drawn (no pixel of the charts' orange)"
        fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
        lines = fonts.stdout.splitlines()[2:]
        assert lines and all(" yes " in line for line in lines), fonts.stdout  # all embedded
        assert any("DejaVu" in line for line in lines)


def test_indonesian_by_default_and_english_when_asked(cards: dict[str, Any]) -> None:
    institution = cards["ids"][0]
    indonesian = (cards["out"] / "scorecards" / f"{institution}.html").read_text("utf-8")
    english = cards["english"][0].read_text("utf-8")
    assert '<html lang="id">' in indonesian and '<html lang="en">' in english
    for words in (
        "Kartu skor institusi",
        "Posisi di setiap kategori",
        "Unggahan orisinal per minggu",
        "Yang dapat menaikkan posisi",
        "Periode penilaian",
    ):
        assert words in indonesian and words not in english
    for words in (
        "Institution scorecard",
        "Place in each category",
        "Original posts per week",
        "What would move it up",
        "Evaluation period",
    ):
        assert words in english and words not in indonesian
    assert cards["model"].synthetic
    assert "DATA SINTETIS" in indonesian and "SYNTHETIC DATA" in english
    assert re.search(r"\d+ Agustus 2024", indonesian) and re.search(r"\d+ August 2024", english)


def test_charts_are_valid_vega_lite_drawn_without_any_address() -> None:
    for kind in ("weekly_posts", "peer_rates", "media_mix", "category_scores"):
        for lang in ("id", "en"):
            spec = charts.spec(kind, lang, "scorecard", ("Instagram", "X"))
            assert "datasets" not in spec  # validated by Altair, rows added at each drawing
    rows = [{"category": "Paling Aktif", "score": 0.4, "line": 0.6}]
    svg = charts.draw("category_scores", ID, rows, label="Skor <Anda>")
    assert svg.startswith('<svg role="img" aria-label="Skor &lt;Anda&gt;"')
    assert "Paling Aktif" in svg and "href" not in svg
    assert "Skor (0–1)" in svg and "0,25" in svg  # the axis in Indonesian, its numbers too
    remote = dict(charts.spec("category_scores", "id", "scorecard", ()))
    remote["data"] = {"url": "https://example.org/rows.json"}
    with pytest.raises(ValueError, match="External data url not allowed"):
        charts.vl_convert.vegalite_to_svg(remote, allowed_base_urls=[])


def test_an_unknown_institution_is_refused(published: ReadModel, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No institution 'nobody'"):
        write_scorecards(published, tmp_path, institutions=["nobody"], pdf=False)
    assert not (tmp_path / "scorecards").exists()


def test_every_label_marked_in_the_code_is_translated() -> None:
    """The labels marked N_ (media types, metrics, levers, statuses), which the gettext
    extraction of test_i18n.py does not look for."""
    marked = [
        m for _, m, _, _ in extract_from_file("python", scorecards.__file__, keywords={"N_": None})
    ]
    assert len(marked) > 20
    missing = [m for m in marked if m not in catalogue("id", "scorecard")]
    assert not missing
