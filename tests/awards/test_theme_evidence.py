"""A themed category's nominees carry their evidence: which posts the theme counted, and which
terms matched them (theme files' tags from the text stage, or the category's own lists)."""

from __future__ import annotations

from pathlib import Path

from conftest import methodology_file, post_row, write_csv
from govsocial.awards.results import NOMINEE_COLUMNS, nominee_rows
from govsocial.awards.runs import run_and_keep
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file

TEXTS = {
    "c1": ("Aksi nyata hadapi #PerubahanIklim: tanam 1.000 mangrove di pesisir", "40"),
    "c2": ("Kurangi emisi karbon, ayo naik transportasi umum #AksiIklim", "90"),
    "c3": ("Waspada cuaca ekstrem akibat perubahan iklim, cek info BMKG", "15"),
    "n1": ("Iklim investasi di Jawa Barat makin kondusif, perizinan makin cepat", "500"),
    "n2": ("Selamat Hari Jadi Kota Bandung! #Bandung", "300"),
}
SHARE = '[{ metric = "theme_share", weight = 1.0 }]'


def test_themed_nominees_name_their_posts_and_the_terms_that_matched(
    registered: Warehouse, tmp_path: Path
) -> None:
    rows = [post_row(post_id=pid, text=text, likes=likes) for pid, (text, likes) in TEXTS.items()]
    load_file(registered, write_csv(tmp_path / "p.csv", rows), stage)
    db = registered.path
    registered.close()
    path = methodology_file(
        tmp_path / "m.toml",
        [
            {"id": "files", "extra": 'theme = ["climate"]', "components": SHARE},
            {
                "id": "lists",
                "extra": 'theme = { hashtags = ["#AksiIklim"], keywords = ["mangrove"] }',
                "components": SHARE,
            },
            {"id": "plain", "components": '[{ metric = "posts_per_week", weight = 1.0 }]'},
        ],
    )
    document = run_and_keep(db, str(path), "duckdb", replicates=0).document
    nominees = {
        c["id"]: {n["handle"]: n for cl in c["clusters"] for n in cl["nominees"]}
        for c in document["categories"]
    }
    files = nominees["files"]["jabarprovgov"]["theme"]
    # The climate theme counts the three climate posts, never "iklim investasi".
    assert files["posts"] == 3
    shown = {e["platform_post_id"]: e for e in files["examples"]}
    assert list(shown) == ["c2", "c1", "c3"]  # most interactions first
    assert all(e["themes"] == ["climate"] and e["terms"] for e in shown.values())
    assert "#perubahaniklim" in shown["c1"]["terms"]  # the hashtag, case-folded
    assert "perubahan iklim" in shown["c3"]["terms"]
    assert sum(t["posts"] for t in files["terms"]) >= 3
    assert [t["posts"] for t in files["terms"]] == sorted(
        (t["posts"] for t in files["terms"]), reverse=True
    )

    lists = nominees["lists"]["jabarprovgov"]["theme"]
    assert lists["posts"] == 2
    by_post = {e["platform_post_id"]: (e["themes"], e["terms"]) for e in lists["examples"]}
    assert by_post == {"c2": (["hashtags"], ["#aksiiklim"]), "c1": (["keywords"], ["mangrove"])}
    assert {t["term"]: t["posts"] for t in lists["terms"]} == {"#aksiiklim": 1, "mangrove": 1}

    assert nominees["plain"]["jabarprovgov"]["theme"] is None
    # The nominee table (CSV, spreadsheets) carries the count and the terms.
    table = [dict(zip(NOMINEE_COLUMNS, r, strict=True)) for r in nominee_rows(document)]
    row = next(r for r in table if r["category"] == "lists" and r["handle"] == "jabarprovgov")
    assert (row["theme_posts"], row["theme_terms"]) == (2, "#aksiiklim;mangrove")
    plain = next(r for r in table if r["category"] == "plain")
    assert (plain["theme_posts"], plain["theme_terms"]) == (None, "")
