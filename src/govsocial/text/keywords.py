"""Keywords: the terms a group of posts uses more than the rest of the corpus.

A *group* is any labelling of posts (an account, an institution, a cluster, a period). For each
group and term the counts make a 2×2 table against the **rest of the corpus** (every row of the
token table not in the group, including posts that are in no group):

                    group     rest
    this term       a         b
    other tokens    c - a     d - b
                    c         d          N = c + d

``c`` and ``d`` count **tokens**, every row of the token table (stopwords, mentions, URLs,
emoji and numbers too, a hashtag and each of its words), so a term's rate is per token
whatever kinds of term are asked for, and no term can occur more often than its group has
tokens (a bigram is counted at its first token). The statistic is Dunning's log-likelihood
ratio

    G² = 2 Σ O ln(O / E),   E = row total × column total / N,   0 ln 0 = 0

over the four cells (T. Dunning 1993, "Accurate Methods for the Statistics of Surprise and
Coincidence", Computational Linguistics 19(1), 61-74): unlike χ² it stays accurate for the
rare terms that make most of a vocabulary. Only **over-represented** terms are kept
(``a / c > b / d``, compared as ``a·N > c·(a+b)``), with ``a >= min_count`` and
``G² >= min_g2`` (3.84, the 95th percentile of χ² with 1 degree of freedom, by default). The
effect size beside it is Hardie's **log ratio**, ``log2((a / c) / (b / d))``, a zero ``b``
taken as 0.5 (A. Hardie 2014, "Log Ratio: an informal introduction", CASS, Lancaster).

Terms (:func:`term_occurrences`, shared with :mod:`govsocial.text.trends`):

- ``unigram``: a non-stopword ``word`` or ``hashtag_word`` token, counted by its **stem** (so
  "kebijakan" and "kebijakannya" are one term) and shown as the stem's most frequent ``token``
  in the whole corpus;
- ``bigram``: two non-stopword tokens next to each other in a post: two ``word`` tokens at
  positions at most one apart (a stopword, URL, mention, emoji, number or hashtag between them
  breaks the pair; a slang word expanded into several words pairs within itself), or two
  ``hashtag_word`` tokens of the same hashtag (#PerubahanIklim gives "perubahan iklim"); counted
  by the pair of stems, shown as the most frequent pair of tokens;
- ``hashtag``: a ``hashtag`` token, counted case-folded (``token``) and shown in its most
  frequent written form (``display``, #PerubahanIklim).

Ranks within a group: G² (rounded to 6 decimals, so equal data rank equal) descending, then the
group count descending, then kind (unigram, bigram, hashtag), then the shown term.
Everything is counted with Arrow hash aggregation and NumPy over whole columns: the only Python
loop is over the three kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from govsocial.text.tokens import KINDS as TOKEN_KINDS
from govsocial.text.tokens import Tokens

Array = NDArray[Any]

KINDS = ("unigram", "bigram", "hashtag")
TOKEN_COLUMNS = ("post_id", "position", "part", "kind", "token", "display", "stem", "stopword")
CHI2_1DF_95 = 3.841458820694124  # G² above it: p < 0.05 for one table on its own
_WORD_KINDS = ("word", "hashtag_word")
_G2_DECIMALS = 6
_TOKEN_WORD, _TOKEN_HASHTAG_WORD, _TOKEN_HASHTAG = (
    TOKEN_KINDS.index(k) for k in ("word", "hashtag_word", "hashtag")
)


@dataclass(frozen=True)
class Terms:
    """The term occurrences of a token table: one entry per occurrence, terms numbered."""

    post_id: Array  # int64, per occurrence
    term: Array  # int64, per occurrence: index into kind and text
    kind: Array  # int8, per term: index into KINDS
    text: pa.Array  # string, per term: the form shown
    post_tokens: pa.Table  # (post_id, tokens): every post's number of token rows

    @property
    def order(self) -> Array:
        """Per term, its place when terms are sorted by shown form (for tie-breaks)."""
        return _sort_rank(self.text)


def term_occurrences(tokens: pa.Table, kinds: Sequence[str]) -> Terms:
    """The occurrences of the terms of ``kinds`` (names from :data:`KINDS`) in ``tokens``."""
    missing = [name for name in TOKEN_COLUMNS if name not in tokens.column_names]
    if missing:
        raise ValueError(f"the token table has no column {', '.join(missing)}")
    if tokens.column("post_id").null_count:
        tokens = tokens.filter(pc.is_valid(tokens.column("post_id")))
    col = {name: _plain(tokens.column(name)) for name in TOKEN_COLUMNS}
    col["post_id"] = pc.cast(col["post_id"], pa.int64())
    if {"unigram", "bigram"} & set(kinds):  # computed once for both
        col["word"] = _word_mask(col)
        col["stem"] = _stem(col)
    posts: list[Array] = []
    terms: list[Array] = []
    kind_codes: list[Array] = []
    texts: list[pa.Array] = []
    offset = 0
    for kind in kinds:
        post_id, key, surface = _KIND_READERS[kind](col)
        encoded = pc.dictionary_encode(key)
        local = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        n_terms = len(encoded.dictionary)
        posts.append(post_id.to_numpy(zero_copy_only=False).astype(np.int64))
        terms.append(local + offset)
        kind_codes.append(np.full(n_terms, KINDS.index(kind), dtype=np.int8))
        texts.append(_most_frequent(local, n_terms, surface))
        offset += n_terms
    return Terms(
        post_id=np.concatenate(posts) if posts else np.zeros(0, np.int64),
        term=np.concatenate(terms) if terms else np.zeros(0, np.int64),
        kind=np.concatenate(kind_codes) if kind_codes else np.zeros(0, np.int8),
        text=pa.concat_arrays(texts) if texts else pa.array([], pa.string()),
        post_tokens=_count(pa.table({"post_id": col["post_id"]}), ["post_id"]).rename_columns(
            ["post_id", "tokens"]
        ),
    )


@dataclass(frozen=True)
class PostForms:
    """The term counts of a numbered token table (:class:`~govsocial.text.tokens.Tokens`) as
    the warehouse keeps them: by **form**, the text a term was written in (a unigram's token, a
    bigram's pair of tokens, a hashtag's display), each form with the term it counts as (its
    stem, the pair of stems, the folded hashtag), so that summing forms per term gives
    :func:`term_occurrences`' counts, and the most frequent form is the term as shown.

    ``counts``: (post_id, kind: index into :data:`KINDS`, form, next_form: a bigram's second
    token, -1 for the other kinds, occurrences), one row per post and form; ``forms``: (form,
    text, term), the forms used, numbered; ``post_tokens``: (post_id, tokens), every post's
    number of token rows."""

    counts: pa.Table
    forms: pa.Table
    post_tokens: pa.Table


def post_forms(tokens: Tokens) -> PostForms:
    """The forms of the unigrams, bigrams and hashtags of each post of ``tokens`` and how often
    it uses them (rows in text order, as :func:`~govsocial.text.tokens.tokenise_numbered`
    gives them)."""
    nonempty = pc.not_equal(tokens.strings, "").to_numpy(zero_copy_only=False)
    kind = tokens.kind
    word, hashtag_word = kind == _TOKEN_WORD, kind == _TOKEN_HASHTAG_WORD
    eligible = (word | hashtag_word) & ~tokens.stopword & nonempty[tokens.token]
    hashtag = (kind == _TOKEN_HASHTAG) & nonempty[tokens.token]
    stem = np.where(nonempty[tokens.stem], tokens.stem, tokens.token)
    first, second = pair_rows(tokens.post_id, tokens.position, eligible, word, hashtag_word)
    unigram, tag = np.flatnonzero(eligible), np.flatnonzero(hashtag)

    # every form's term: a word's stem, a hashtag display's folded hashtag (a display starts
    # with '#', a word never does: one term per form)
    term_of = np.full(len(tokens.strings), -1, np.int64)
    term_of[tokens.token[unigram]] = stem[unigram]
    term_of[tokens.display[tag]] = tokens.token[tag]
    used = np.flatnonzero(term_of >= 0)

    # The posts' rows are together: a post's number here is its run's.
    starts = np.r_[True, tokens.post_id[1:] != tokens.post_id[:-1]]
    post_start = np.flatnonzero(starts)
    post = np.cumsum(starts) - 1
    # One number per (post, kind, form, next form), counted by sorting: NumPy's sort beats a
    # hash aggregation here by far (a batch: 1.4M occurrences in 0.03 s against 0.6 s).
    strings = len(tokens.strings) + 1
    if len(post_start) * 3 * strings * strings >= 2**63:
        raise ValueError(f"{len(post_start)} posts of {strings} strings: tokenise fewer at once")
    key = np.concatenate(
        [
            (post[unigram] * 3) * strings + tokens.token[unigram],
            (post[first] * 3 + 1) * strings + tokens.token[first],
            (post[tag] * 3 + 2) * strings + tokens.display[tag],
        ]
    ) * strings + np.concatenate(
        [np.zeros(len(unigram), np.int64), tokens.token[second] + 1, np.zeros(len(tag), np.int64)]
    )
    key, occurrences = np.unique(key, return_counts=True)
    key, next_form = np.divmod(key, strings)
    key, form = np.divmod(key, strings)
    post_of, kind_of = np.divmod(key, 3)
    return PostForms(
        counts=pa.table(
            {
                "post_id": tokens.post_id[post_start][post_of],
                "kind": kind_of.astype(np.int8),
                "form": form,
                "next_form": next_form - 1,
                "occurrences": occurrences,
            }
        ),
        forms=pa.table(
            {
                "form": pa.array(used, pa.int32()),
                "text": tokens.strings.take(pa.array(used, pa.int64())),
                "term": tokens.strings.take(pa.array(term_of[used], pa.int64())),
            }
        ),
        post_tokens=pa.table(
            {
                "post_id": tokens.post_id[post_start],
                "tokens": np.diff(np.r_[post_start, len(post)]),
            }
        ),
    )


def keywords(
    tokens: pa.Table,
    groups: pa.Table,
    *,
    ngrams: Sequence[int] = (1, 2),
    hashtags: bool = True,
    min_count: int = 5,
    min_g2: float = CHI2_1DF_95,
    top: int | None = 20,
) -> pa.Table:
    """Per group, the ``top`` terms most over-represented against the rest of the corpus.

    ``groups`` maps ``post_id`` to ``group`` (a post may be in several groups; duplicate and
    null rows are ignored). ``ngrams`` chooses unigrams (1) and bigrams (2); ``hashtags`` adds
    hashtags. Returns (group, term, kind, count, rest_count, g2, log_ratio, rank), ordered by
    group and rank; ``top=None`` keeps every term that passes ``min_count`` and ``min_g2``.
    """
    if not set(ngrams) <= {1, 2}:
        raise ValueError(f"ngrams must be 1 (unigrams) and/or 2 (bigrams), not {list(ngrams)}")
    if min_count < 1 or (top is not None and top < 1):
        raise ValueError("min_count and top must be at least 1")
    kinds = [KINDS[n - 1] for n in sorted(set(ngrams))] + (["hashtag"] if hashtags else [])
    terms = term_occurrences(tokens, kinds)
    group_values, memberships = _memberships(groups)
    in_groups = pa.table({"post_id": terms.post_id, "term": terms.term}).join(
        memberships, "post_id", join_type="inner"
    )
    counted = _count(in_groups, ["group", "term"])
    size = _sum(terms.post_tokens.join(memberships, "post_id", join_type="inner"), "group")
    group_tokens = np.zeros(len(group_values), dtype=np.int64)
    group_tokens[size.column("group").to_numpy()] = size.column("tokens_sum").to_numpy()
    return rank_keywords(
        GroupCounts(
            groups=group_values,
            group=counted.column("group").to_numpy().astype(np.int64),
            term=counted.column("term").to_numpy().astype(np.int64),
            count=counted.column("count_all").to_numpy().astype(np.int64),
            group_tokens=group_tokens,
            term_total=np.bincount(terms.term, minlength=len(terms.kind)),
            tokens=_total(terms.post_tokens.column("tokens")),
            kind=terms.kind,
            text=terms.text,
        ),
        min_count=min_count,
        min_g2=min_g2,
        top=top,
    )


@dataclass(frozen=True)
class GroupCounts:
    """What :func:`rank_keywords` needs: counts of terms in groups and of tokens.

    ``group``, ``term``, ``count``: one entry per (group, term) seen together, the term's
    occurrences in the group (a); ``group_tokens`` per group (c); ``term_total`` per term, its
    occurrences in the whole corpus (a + b); ``tokens`` the corpus's tokens (N); ``kind`` and
    ``text`` per term (index into :data:`KINDS`, the form shown)."""

    groups: pa.Array
    group: Array
    term: Array
    count: Array
    group_tokens: Array
    term_total: Array
    tokens: int
    kind: Array
    text: pa.Array


def rank_keywords(
    counts: GroupCounts,
    *,
    min_count: int = 5,
    min_g2: float = CHI2_1DF_95,
    top: int | None = 20,
) -> pa.Table:
    """The keywords of each group from its counts (the statistics of :func:`keywords`; the
    warehouse's kept term counts give the same counts without reading the texts)."""
    g, t, a = counts.group, counts.term, counts.count
    kind = counts.kind.astype(np.int64)
    total_a_b = counts.term_total[t]
    c = counts.group_tokens[g]
    n = counts.tokens
    # a/c > b/d  <=>  a·N > c·(a+b): exact for equal tables, whatever the rounding of each side
    keep = (a >= min_count) & (a.astype(float) * n > c.astype(float) * total_a_b)
    g, t, a, total_a_b, c = (x[keep] for x in (g, t, a, total_a_b, c))
    b = total_a_b - a
    g2 = np.round(log_likelihood(a, b, c, n - c), _G2_DECIMALS)
    keep = g2 >= min_g2
    g, t, a, b, c, g2 = (x[keep] for x in (g, t, a, b, c, g2))
    log_ratio = log_ratio_hardie(a, b, c, n - c)

    group_rank = _sort_rank(counts.groups)
    order = np.lexsort((_sort_rank(counts.text)[t], kind[t], -a, -g2, group_rank[g]))
    g, t, a, b, g2, log_ratio = (x[order] for x in (g, t, a, b, g2, log_ratio))
    rank = _rank_within(g)
    if top is not None:
        keep = rank <= top
        g, t, a, b, g2, log_ratio, rank = (x[keep] for x in (g, t, a, b, g2, log_ratio, rank))
    return pa.table(
        {
            "group": counts.groups.take(pa.array(g, pa.int64())),
            "term": counts.text.take(pa.array(t, pa.int64())),
            "kind": pa.array(KINDS, pa.string()).take(pa.array(kind[t], pa.int64())),
            "count": pa.array(a, pa.int64()),
            "rest_count": pa.array(b, pa.int64()),
            "g2": pa.array(g2, pa.float64()),
            "log_ratio": pa.array(log_ratio, pa.float64()),
            "rank": pa.array(rank, pa.int32()),
        }
    )


def log_likelihood(a: Array, b: Array, c: Array, d: Array) -> Array:
    """Dunning's G² of the 2×2 tables: the term ``a`` times in the group's ``c`` tokens,
    ``b`` times in the rest's ``d`` (arrays of counts, element-wise)."""
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (a, b, c, d))
    n = c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        cells = [
            (a, c * (a + b) / n),
            (c - a, c * (n - a - b) / n),
            (b, d * (a + b) / n),
            (d - b, d * (n - a - b) / n),
        ]
        g2 = 2 * sum(
            np.where(observed > 0, observed * np.log(observed / expected), 0.0)
            for observed, expected in cells
        )
    # float rounding can leave -1e-12 where the table fits its margins exactly
    return np.maximum(np.asarray(g2, dtype=np.float64), 0.0)


def log_ratio_hardie(a: Array, b: Array, c: Array, d: Array) -> Array:
    """Hardie's log ratio ``log2((a / c) / (b / d))``, a zero count taken as 0.5."""
    a, b, c, d = (np.asarray(x, dtype=np.float64) for x in (a, b, c, d))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(
            np.log2(np.where(a > 0, a, 0.5) / c) - np.log2(np.where(b > 0, b, 0.5) / d),
            dtype=np.float64,
        )


# -- terms of each kind ---------------------------------------------------------------------
Columns = dict[str, pa.Array]


def _unigrams(col: Columns) -> tuple[pa.Array, pa.Array, pa.Array]:
    keep = col["word"]
    return (
        col["post_id"].filter(keep),
        col["stem"].filter(keep),
        col["token"].filter(keep),
    )


def _bigrams(col: Columns) -> tuple[pa.Array, pa.Array, pa.Array]:
    order = _text_order(col)
    word, hashtag_word = (
        pc.equal(col["kind"], kind).fill_null(False).to_numpy(zero_copy_only=False)[order]
        for kind in _WORD_KINDS
    )
    first, second = (
        order[rows]
        for rows in pair_rows(
            col["post_id"].to_numpy(zero_copy_only=False)[order],
            col["position"].to_numpy(zero_copy_only=False).astype(np.int64)[order],
            col["word"].to_numpy(zero_copy_only=False)[order],
            word,
            hashtag_word,
        )
    )
    stem, token = col["stem"], col["token"]

    def joined(values: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(
            values.take(pa.array(first, pa.int64())),
            values.take(pa.array(second, pa.int64())),
            " ",
        )

    return col["post_id"].take(pa.array(first, pa.int64())), joined(stem), joined(token)


def pair_rows(
    post: Array, position: Array, eligible: Array, word: Array, hashtag_word: Array
) -> tuple[Array, Array]:
    """The rows (first, second) of each bigram, rows in text order: both eligible
    (non-stopword words), of one post, and two ``word`` tokens at most one position apart or
    two ``hashtag_word`` tokens of one hashtag."""
    step = position[1:] - position[:-1]
    pair = (
        eligible[:-1]
        & eligible[1:]
        & (post[1:] == post[:-1])
        & (
            (word[:-1] & word[1:] & (step <= 1))  # next word, or the next part of a slang word
            | (hashtag_word[:-1] & hashtag_word[1:] & (step == 0))  # within one hashtag
        )
    )
    first = np.flatnonzero(pair)
    return first, first + 1


def _hashtags(col: Columns) -> tuple[pa.Array, pa.Array, pa.Array]:
    keep = pc.and_(
        pc.equal(col["kind"], "hashtag").fill_null(False),
        pc.invert(pc.or_(pc.is_null(col["token"]), pc.equal(col["token"], ""))),
    )
    display = pc.coalesce(col["display"], col["token"])
    return col["post_id"].filter(keep), col["token"].filter(keep), display.filter(keep)


_KIND_READERS = {"unigram": _unigrams, "bigram": _bigrams, "hashtag": _hashtags}


def _word_mask(col: Columns) -> pa.Array:
    """Non-stopword word and hashtag_word tokens with a text."""
    return pc.and_(
        pc.and_(
            pc.is_in(col["kind"], value_set=pa.array(_WORD_KINDS)).fill_null(False),
            pc.invert(col["stopword"].fill_null(False)),
        ),
        pc.invert(pc.or_(pc.is_null(col["token"]), pc.equal(col["token"], ""))),
    )


def _stem(col: Columns) -> pa.Array:
    """The stem, or the token where the stem is missing or empty."""
    stem = col["stem"]
    return pc.if_else(pc.equal(stem, "").fill_null(True), col["token"], stem)


def _text_order(col: Columns) -> Array:
    """Row indices in text order (post, position, part); no sort when already in it."""
    post = col["post_id"].to_numpy(zero_copy_only=False)
    position = col["position"].to_numpy(zero_copy_only=False).astype(np.int64)
    part = col["part"].to_numpy(zero_copy_only=False).astype(np.int64)
    d_post, d_position, d_part = (np.diff(x) for x in (post, position, part))
    in_order = (d_post > 0) | (
        (d_post == 0) & ((d_position > 0) | ((d_position == 0) & (d_part >= 0)))
    )
    if in_order.all():
        return np.arange(len(post), dtype=np.int64)
    return np.lexsort((part, position, post)).astype(np.int64)


def _most_frequent(term: Array, n_terms: int, surface: pa.Array) -> pa.Array:
    """Per term, its most frequent surface form (ties: the first in sort order)."""
    if n_terms == 0:
        return pa.array([], pa.string())
    encoded = pc.dictionary_encode(surface)
    forms = pc.cast(encoded.dictionary, pa.string())
    pairs = _count(
        pa.table({"term": term, "form": encoded.indices.cast(pa.int64())}), ["term", "form"]
    )
    return most_frequent_form(
        pairs.column("term").to_numpy(),
        pairs.column("form").to_numpy(),
        pairs.column("count_all").to_numpy(),
        forms,
        n_terms,
    )


def most_frequent_form(
    term: Array, form: Array, count: Array, forms: pa.Array, n_terms: int
) -> pa.Array:
    """Per term, the form with the largest count (ties: the first form in sort order), from
    distinct (term, form) pairs and their counts; every term must have a pair."""
    if n_terms == 0:
        return pa.array([], pa.string())
    order = np.lexsort((_sort_rank(forms)[form], -count, term))
    first = order[np.r_[True, term[order][1:] != term[order][:-1]]]
    shown = np.empty(n_terms, dtype=np.int64)
    shown[term[first]] = form[first]
    return forms.take(pa.array(shown, pa.int64()))


# -- small helpers --------------------------------------------------------------------------
def _plain(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One contiguous array, dictionary-decoded (the token table may encode its strings)."""
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def _memberships(groups: pa.Table) -> tuple[pa.Array, pa.Table]:
    """The distinct group labels, and the distinct (post_id, group index) pairs."""
    missing = [name for name in ("post_id", "group") if name not in groups.column_names]
    if missing:
        raise ValueError(f"the groups table has no column {', '.join(missing)}")
    post_id = pc.cast(_plain(groups.column("post_id")), pa.int64())
    label = _plain(groups.column("group"))
    known = pc.and_(pc.is_valid(post_id), pc.is_valid(label))
    encoded = pc.dictionary_encode(label.filter(known))
    pairs = pa.table({"post_id": post_id.filter(known), "group": encoded.indices.cast(pa.int64())})
    return encoded.dictionary, pairs.group_by(["post_id", "group"]).aggregate([])


def _count(table: pa.Table, keys: list[str]) -> pa.Table:
    """Rows per distinct key (Arrow's hash aggregation): the keys and ``count_all``."""
    return table.group_by(keys).aggregate([([], "count_all")])


def _sum(table: pa.Table, key: str) -> pa.Table:
    """``tokens`` summed per ``key``: the key and ``tokens_sum``."""
    return table.group_by(key).aggregate([("tokens", "sum")])


def _total(column: pa.ChunkedArray) -> int:
    total = pc.sum(column).as_py()
    return int(total) if total is not None else 0


def _sort_rank(values: pa.Array) -> Array:
    """Per value, its place in ascending order (equal values: by index)."""
    rank = np.empty(len(values), dtype=np.int64)
    rank[pc.sort_indices(values).to_numpy()] = np.arange(len(values))
    return rank


def _rank_within(segment: Array) -> Array:
    """1, 2, 3 ... within each run of equal values of a sorted ``segment``."""
    if len(segment) == 0:
        return np.zeros(0, dtype=np.int64)
    index = np.arange(len(segment))
    start = np.r_[True, segment[1:] != segment[:-1]]
    return index - np.maximum.accumulate(np.where(start, index, 0)) + 1
