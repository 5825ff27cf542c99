"""The same methodology on DuckDB and on Spark (local[2]) gives the same nominees and scores."""

from pathlib import Path

import pytest

from govsocial.awards.engine import run_awards
from govsocial.awards.methodology import load_methodology
from govsocial.demo import load_world
from govsocial.store import Warehouse
from govsocial.synth import generate
from govsocial.text.update import update

# Scores are weighted means of percentiles: exact arithmetic on both engines except float
# summation order in the cube (sums of rates and log rates). 1e-6 absolute is far below any
# gap that changes a rank, and the results document rounds to 6 significant digits anyway.
TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parity")
    with Warehouse.open(folder / "w.duckdb", create=True) as wh:
        load_world(wh, generate(folder / "files", seed=5, posts=15_000))
        update(wh)  # theme tags, for gsm2020's themed categories
    return folder / "w.duckdb"


def nominees(document: dict) -> list[tuple]:  # type: ignore[type-arg]
    return [
        (
            c["id"],
            cl["cluster_id"],
            n["rank"],
            n["institution_id"],
            n.get("account_id"),
            n["score"],
            tuple(p["post_id"] for p in n["top_posts"]),
            tuple(sorted(f["flag"] for f in n["flags"])),
            n["theme"],
        )
        for c in document["categories"]
        for cl in c["clusters"]
        for n in cl["nominees"]
    ]


def test_gsm2025_on_duckdb_and_spark_agree(world: Path) -> None:
    m = load_methodology("gsm2025")
    with Warehouse.open(world, read_only=True) as wh:
        duck = run_awards(wh, m, "duckdb")
        spark = run_awards(wh, m, "spark")
    assert duck.run_id == spark.run_id
    a, b = nominees(duck.document), nominees(spark.document)
    assert len(a) > 50
    assert [x[:5] for x in a] == [x[:5] for x in b]  # same nominees, same order
    assert all(abs(x[5] - y[5]) <= TOLERANCE for x, y in zip(a, b, strict=True))
    assert [x[6:] for x in a] == [x[6:] for x in b]  # same evidence: top posts and flags


def test_themed_and_collaboration_categories_agree_too(world: Path) -> None:
    """gsm2020 reads the text stage's theme tags and counts collaboration: the same nominees
    and the same theme evidence (posts and terms) on both engines."""
    m = load_methodology("gsm2020")
    with Warehouse.open(world, read_only=True) as wh:
        duck = run_awards(wh, m, "duckdb", replicates=0)
        spark = run_awards(wh, m, "spark", replicates=0)
    a, b = nominees(duck.document), nominees(spark.document)
    assert [x[:5] for x in a] == [x[:5] for x in b]
    assert all(abs(x[5] - y[5]) <= TOLERANCE for x, y in zip(a, b, strict=True))
    assert [x[6:] for x in a] == [x[6:] for x in b]
    themed = [x[8] for x in a if x[8] is not None]
    assert themed and all(t["posts"] > 0 and t["terms"] and t["examples"] for t in themed)
