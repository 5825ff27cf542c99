"""Keywords by Dunning's G²: corpora built so the answer is known, the statistic checked against
its other written form, and the edges (empty tables, one group, posts in two groups)."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from govsocial.text.keywords import keywords, log_likelihood, log_ratio_hardie

STOPWORDS = {"di", "yang", "dan", "untuk", "ke", "ini"}
TOKEN_SCHEMA = pa.schema(
    [
        ("post_id", pa.int64()),
        ("position", pa.int32()),
        ("part", pa.int8()),
        ("kind", pa.string()),
        ("token", pa.string()),
        ("display", pa.string()),
        ("stem", pa.string()),
        ("stopword", pa.bool_()),
    ]
)


def token_table(posts: Mapping[int, str], stems: Mapping[str, str] | None = None) -> pa.Table:
    """A token table as text.tokens makes one, for plain test texts: words split on spaces,
    ``#CamelCase`` hashtags split into hashtag_word rows, ``a+b`` a slang word expanded into
    two words at one position."""
    stems = stems or {}
    rows: list[tuple[int, int, int, str, str, str, str, bool]] = []

    def word(post: int, position: int, part: int, kind: str, surface: str) -> None:
        token = surface.lower()
        stem = stems.get(token, token)
        rows.append((post, position, part, kind, token, surface, stem, token in STOPWORDS))

    for post, text in posts.items():
        for position, piece in enumerate(text.split()):
            if piece.startswith("#"):
                token = piece.lower()
                rows.append((post, position, 0, "hashtag", token, piece, token, False))
                for part, sub in enumerate(re.findall(r"[A-Z][a-z]+", piece), start=1):
                    word(post, position, part, "hashtag_word", sub)
            elif "+" in piece:
                for part, sub in enumerate(piece.split("+")):
                    word(post, position, part, "word", sub)
            else:
                word(post, position, 0, "word", piece)
    return pa.Table.from_pylist(
        [dict(zip(TOKEN_SCHEMA.names, row, strict=True)) for row in rows], schema=TOKEN_SCHEMA
    )


def group_table(groups: Mapping[int, str] | Mapping[int, int]) -> pa.Table:
    return pa.table({"post_id": pa.array(list(groups), pa.int64()), "group": list(groups.values())})


BACKGROUND = "pemerintah kota warga program layanan publik sehat"


def stunting_corpus() -> tuple[dict[int, str], dict[int, str]]:
    """Three accounts with the same background; account A speaks of stunting ten times as
    often as B and C, and C of banjir."""
    posts: dict[int, str] = {}
    groups: dict[int, str] = {}
    post = 0
    for group, stunting, banjir in (("A", 20, 0), ("B", 2, 0), ("C", 2, 12)):
        for i in range(30):
            # after a stopword: no bigram with the background
            extra = (" dan stunting" if i < stunting else "") + (
                " dan banjir" if i < banjir else ""
            )
            posts[post] = BACKGROUND + " di kota" + extra
            groups[post] = group
            post += 1
    return posts, groups


def by_group(table: pa.Table) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in table.to_pylist():
        out.setdefault(row["group"], []).append(row["term"])
    return out


# -- known answers ------------------------------------------------------------------------------
def test_a_group_that_uses_a_word_ten_times_more_gets_it_first() -> None:
    posts, groups = stunting_corpus()
    result = keywords(token_table(posts), group_table(groups))
    terms = by_group(result)
    assert terms["A"][0] == "stunting"
    assert terms["C"][0] == "banjir"
    assert "stunting" not in terms.get("B", []) + terms["C"]  # under-represented there
    first = result.to_pylist()[0]
    assert first == {
        "group": "A",
        "term": "stunting",
        "kind": "unigram",
        "count": 20,
        "rest_count": 4,
        "g2": pytest.approx(first["g2"]),
        "log_ratio": pytest.approx(math.log2((20 / 310) / (4 / 572))),
        "rank": 1,
    }
    # the same G² as the 2×2 table written out by hand: tokens are every row (9 per post, and
    # "dan stunting", "dan banjir"): A 30·9 + 20·2, the rest 60·9 + 2·2 + 2·2 + 12·2
    a, b, c, d = 20, 4, 310, 572
    assert first["g2"] == pytest.approx(entropy_form(a, b, c, d), abs=1e-6)


def test_only_over_represented_terms_and_ranks_are_dense_per_group() -> None:
    posts, groups = stunting_corpus()
    result = keywords(token_table(posts), group_table(groups), min_count=1, min_g2=0, top=None)
    for row in result.to_pylist():
        a, b = row["count"], row["rest_count"]
        assert row["log_ratio"] > 0, row
        assert a > 0 and b >= 0
    for group, ranks in _ranks(result).items():
        assert ranks == list(range(1, len(ranks) + 1)), group


def _ranks(table: pa.Table) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row in table.to_pylist():
        out.setdefault(row["group"], []).append(row["rank"])
    return out


def test_stems_count_together_and_show_their_most_frequent_token() -> None:
    stems = {"kebijakan": "bijak", "kebijakannya": "bijak"}
    posts = {i: "kebijakan baru" for i in range(6)} | {6: "kebijakannya baru"}
    posts |= {10 + i: "warga kota" for i in range(20)}
    groups = {i: "A" for i in range(7)} | {10 + i: "B" for i in range(20)}
    result = keywords(token_table(posts, stems), group_table(groups), ngrams=(1,))
    rows = {r["term"]: r for r in result.to_pylist() if r["group"] == "A"}
    assert rows["kebijakan"]["count"] == 7
    assert "kebijakannya" not in rows


def test_bigrams_pair_neighbours_within_a_post_and_a_hashtag_only() -> None:
    posts = {
        1: "perubahan iklim nyata",
        2: "perubahan di iklim",  # a stopword between: no pair
        3: "kota #PerubahanIklim bersih",  # inside the hashtag only
        4: "pemerintah+provinsi jabar",  # a slang word expanded at one position
        5: "iklim",  # posts never join: no "jabar iklim"
    }
    tokens = token_table(posts)
    result = keywords(tokens, group_table(dict.fromkeys(posts, "A")), min_count=1, min_g2=0)
    assert result.num_rows == 0  # one group and nothing else: nothing over-represented
    rest = {i + 100: BACKGROUND for i in range(3)}
    groups = group_table(dict.fromkeys(posts, "A"))
    result = keywords(token_table(posts | rest), groups, min_count=1, min_g2=0, top=None)
    bigrams = {r["term"]: r["count"] for r in result.to_pylist() if r["kind"] == "bigram"}
    assert bigrams == {
        "perubahan iklim": 2,
        "iklim nyata": 1,
        "pemerintah provinsi": 1,
        "provinsi jabar": 1,
    }
    hashtags = [r["term"] for r in result.to_pylist() if r["kind"] == "hashtag"]
    assert hashtags == ["#PerubahanIklim"]


def test_hashtags_count_case_folded_and_show_the_most_frequent_form() -> None:
    posts = {1: "#BanjirJakarta", 2: "#BanjirJakarta", 3: "#banjirjakarta"} | {
        10 + i: BACKGROUND for i in range(5)
    }
    groups = {1: "A", 2: "A", 3: "A"}
    result = keywords(token_table(posts), group_table(groups), min_count=3, min_g2=0)
    hashtag = [r for r in result.to_pylist() if r["kind"] == "hashtag"]
    assert [(r["term"], r["count"]) for r in hashtag] == [("#BanjirJakarta", 3)]


def test_ties_break_by_count_kind_then_term_and_row_order_does_not_matter() -> None:
    posts = {i: "zebra apel" for i in range(6)} | {10 + i: BACKGROUND for i in range(10)}
    groups = dict.fromkeys(range(6), "A") | dict.fromkeys(range(10, 20), "B")
    tokens = token_table(posts)
    result = keywords(tokens, group_table(groups), ngrams=(1,))
    assert by_group(result)["A"] == ["apel", "zebra"]  # same G², same count: by term
    shuffled = list(range(tokens.num_rows))
    random.Random(7).shuffle(shuffled)
    again = keywords(
        tokens.take(shuffled),
        group_table(groups).take([3, 1, 0, 2, *range(4, 16)]),
        ngrams=(1,),
    )
    assert again.equals(result)


def test_a_post_in_two_groups_counts_in_both_against_the_rest() -> None:
    posts = {i: "stunting gizi" for i in range(5)} | {10 + i: BACKGROUND for i in range(10)}
    groups = pa.table(
        {
            "post_id": pa.array([*range(5), *range(5), *range(10, 20), 0, None], pa.int64()),
            "group": ["A"] * 5 + ["B"] * 5 + ["C"] * 10 + ["A", None],  # a duplicate, a null
        }
    )
    result = keywords(token_table(posts), groups, ngrams=(1,))
    terms = by_group(result)
    assert terms["A"] == terms["B"] == ["gizi", "stunting"]
    assert {r["count"] for r in result.to_pylist() if r["group"] in ("A", "B")} == {5}


def test_groups_may_be_numbers_and_columns_dictionary_encoded() -> None:
    posts, groups = stunting_corpus()
    tokens = token_table(posts)
    encoded = tokens.set_column(
        tokens.schema.get_field_index("kind"), "kind", tokens.column("kind").dictionary_encode()
    )
    numbered = {post: ord(group) for post, group in groups.items()}
    result = keywords(encoded, group_table(numbered))
    assert result.schema.field("group").type == pa.int64()
    assert (
        result.column("term").to_pylist()
        == keywords(tokens, group_table(groups)).column("term").to_pylist()
    )


def test_parameters_select_kinds_counts_and_length() -> None:
    posts, groups = stunting_corpus()
    tokens, table = token_table(posts), group_table(groups)
    assert set(keywords(tokens, table, ngrams=(2,), hashtags=False).column("kind").to_pylist()) <= {
        "bigram"
    }
    assert keywords(tokens, table, top=1).num_rows == 2  # A and C have keywords, B none
    assert "banjir" not in by_group(keywords(tokens, table, min_count=13)).get("C", [])
    with pytest.raises(ValueError, match="ngrams"):
        keywords(tokens, table, ngrams=(3,))
    with pytest.raises(ValueError, match="no column stem"):
        keywords(tokens.drop_columns(["stem"]), table)
    with pytest.raises(ValueError, match="no column group"):
        keywords(tokens, table.drop_columns(["group"]))


def test_empty_tables_give_an_empty_result_with_the_columns() -> None:
    posts, groups = stunting_corpus()
    empty_tokens = TOKEN_SCHEMA.empty_table()
    empty_groups = pa.table(
        {"post_id": pa.array([], pa.int64()), "group": pa.array([], pa.string())}
    )
    columns = ["group", "term", "kind", "count", "rest_count", "g2", "log_ratio", "rank"]
    for result in (
        keywords(empty_tokens, group_table(groups)),
        keywords(token_table(posts), empty_groups),
        keywords(empty_tokens, empty_groups),
        keywords(token_table(posts), group_table(dict.fromkeys(posts, "all"))),  # one group
        keywords(token_table({1: "di dan yang"}), group_table({1: "A"})),  # stopwords only
    ):
        assert result.num_rows == 0
        assert result.column_names == columns


# -- the statistic ----------------------------------------------------------------------------
def entropy_form(a: int, b: int, c: int, d: int) -> float:
    """G² as Dunning wrote it: 2 (Σ k ln k - Σ rows ln rows - Σ cols ln cols + N ln N)."""

    def xlx(v: float) -> float:
        return v * math.log(v) if v > 0 else 0.0

    n = c + d
    cells = (a, c - a, b, d - b)
    margins = (c, d, a + b, n - a - b)
    return 2 * (sum(map(xlx, cells)) - sum(map(xlx, margins)) + xlx(n))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 10**6),
    st.integers(1, 10**6),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_g2_is_dunnings_log_likelihood_ratio(c: int, d: int, fa: float, fb: float) -> None:
    a, b = int(fa * c), int(fb * d)
    expected = entropy_form(a, b, c, d)
    got = float(log_likelihood(np.array([a]), np.array([b]), np.array([c]), np.array([d]))[0])
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-6)
    assert got >= 0


def test_g2_is_zero_when_the_group_uses_a_term_at_the_corpus_rate() -> None:
    assert log_likelihood(np.array([10]), np.array([30]), np.array([100]), np.array([300]))[0] == (
        pytest.approx(0, abs=1e-9)
    )
    assert log_ratio_hardie(np.array([4]), np.array([0]), np.array([8]), np.array([8]))[0] == 3
