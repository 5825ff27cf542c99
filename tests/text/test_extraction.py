"""The loader's hashtags and mentions columns and the text stage's tokens follow one grammar
(vocabulary.HASHTAG_BODY, MENTION_BODY): the same posts give the same hashtags and mentions."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa

from conftest import post_row, scalar, write_csv
from govsocial.sources.generic import stage
from govsocial.store import Warehouse, load_file
from govsocial.text.tokens import tokenise

PIECES = [
    "#Jabar", "#2024", "#PerubahanIklim", "#Café_Kita", "#selamat_datang", "#a1", "#_",
    "@HumasJabar", "@humas.jabar", "@humas.jabar.", "@kemenkes_ri,", "@_x", "@@double",
    "humas@jabarprov.go.id", "x@y", "a#b", "#tag!", "(#tag)", "@user:", "'@kutip'", "#",
    "@", "#ÉtéIndah", "#数字", "@ñandú", "Halo", "warga", "yg", "2025", ".", "!",
]  # fmt: skip


def test_the_loader_and_the_tokeniser_find_the_same_hashtags_and_mentions(
    registered: Warehouse, tmp_path: Path
) -> None:
    rng = random.Random(12)
    texts = {
        f"p{i}": " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 9))) for i in range(400)
    }
    load_file(registered, write_csv(tmp_path / "p.csv", [
        post_row(post_id=pid, text=text) for pid, text in texts.items()]), stage)  # fmt: skip
    tokens = tokenise(
        pa.array(range(len(texts)), pa.int64()), pa.array(list(texts.values()), pa.string())
    ).to_pylist()
    for number, pid in enumerate(texts):
        kept = scalar(
            registered,
            f"SELECT [hashtags, mentions] FROM posts WHERE platform_post_id = '{pid}'",
        )
        found = [
            sorted({t["token"][1:] for t in tokens if t["post_id"] == number and t["kind"] == kind})
            for kind in ("hashtag", "mention")
        ]
        assert [sorted(k) for k in kept] == found, texts[pid]
