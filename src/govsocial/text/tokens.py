"""The token table: the text of a batch of posts as one row per token, built over Arrow arrays.

:func:`tokenise` gives one row per token occurrence, in text order (the contract; docs/text.md):

====================  ======================================================================
post_id   int64       the post
position  int32       0-based place of the token in the post's text
part      int8        0; a hashtag's words are parts 1, 2, ... at the hashtag's position, and
                      a slang word that expands to several words gives consecutive parts
kind      string      word, hashtag, mention, url, emoji, number, hashtag_word
token     string      normalised: NFKC, mojibake repaired, case-folded, slang expanded;
                      "#perubahaniklim", "@humasjabar", URLs lower-cased
display   string      the surface form ("#PerubahanIklim", "@HumasJabar", "Pemprov")
stem      string      PySastrawi's stem of a word or hashtag word; else the token
stopword  bool        a word or hashtag word in the stopword lists
====================  ======================================================================

Why it is fast: the texts are capped, repaired and split at (Unicode) white space by Arrow
kernels over the whole batch; the pieces between white space are dictionary-encoded, and Python
looks at each *distinct* piece once (cached across batches in a :class:`Lexicon`): it
NFKC-normalises and lexes it, expands slang, splits hashtags and stems each distinct word once.
The rows of every occurrence are then gathered by NumPy index arithmetic: no Python runs per
post.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from importlib import resources
from itertools import chain
from typing import NamedTuple

import emoji
import ftfy
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex
import stopwordsiso
import wordfreq

__all__ = ["KINDS", "MAX_CHARS", "SCHEMA", "Lexicon", "Stats", "default_lexicon", "tokenise"]

KINDS = ("word", "hashtag", "mention", "url", "emoji", "number", "hashtag_word")
SCHEMA = pa.schema(
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
# Longer texts are cut here (and counted): the longest real captions (a Facebook post, 63,206)
# fit, while a multi-megabyte paste costs no more than this.
MAX_CHARS = 65_536
_MAX_PARTS = 127  # part is int8
_MAX_STEMMED = 40  # longer "words" (a paste without spaces) are not worth Sastrawi's time
_MAX_SEGMENTED = 40  # hashtag pieces longer than this are not split by the dictionary
_MAX_WORD = 20  # the longest word the segmentation tries

# A character that is the lead byte of a UTF-8 sequence read as Latin-1 / Windows-1252,
# followed by one that is a continuation byte read the same way ("Ã©", "â€“", "ðŸ™"): the
# cheap test, in RE2 over the whole batch, for the posts ftfy should look at.
_MOJIBAKE = (
    r"[\x{C2}-\x{F4}][\x{80}-\x{BF}\x{152}\x{153}\x{160}\x{161}\x{178}\x{17D}\x{17E}\x{192}"
    r"\x{2C6}\x{2DC}\x{2013}\x{2014}\x{2018}-\x{201A}\x{201C}-\x{201E}\x{2020}-\x{2022}"
    r"\x{2026}\x{2030}\x{2039}\x{203A}\x{20AC}\x{2122}]"
)
_TLD = r"go\.id|co\.id|ac\.id|or\.id|id|com|org|net|gov|edu|int|io|ly|me|info|link|tv|app|gl"
_LEXER = regex.compile(
    rf"""
    (?P<url>(?:https?://|www\.)[^\s<>"]+
      |(?:[\p{{L}}\p{{N}}-]+\.)+(?:{_TLD})(?![\p{{L}}\p{{N}}])(?:/[^\s<>"]*)?)
    |(?P<email>[\p{{L}}\p{{N}}._%+-]+@[\p{{L}}\p{{N}}-]+(?:\.[\p{{L}}\p{{N}}-]+)+)
    |(?P<hashtag>\#[\p{{L}}\p{{M}}\p{{N}}_]*\p{{L}}[\p{{L}}\p{{M}}\p{{N}}_]*)
    |(?P<mention>@[\p{{L}}\p{{N}}_](?:[\p{{L}}\p{{N}}_.]*[\p{{L}}\p{{N}}_])?)
    |(?P<currency>(?i:rp)(?=\p{{N}}))
    |(?P<word>[\p{{L}}\p{{M}}\p{{N}}]*\p{{L}}[\p{{L}}\p{{M}}\p{{N}}]*(?:['’-][\p{{L}}\p{{M}}\p{{N}}]+)*)
    |(?P<number>\p{{N}}+(?:[.,:/]\p{{N}}+)*)
    |(?P<ampersand>(?<![\p{{L}}\p{{N}}])&(?![\p{{L}}\p{{N}}]))
    """,
    regex.VERBOSE,
)
# A standalone "&" is the word "dan" (slang.tsv): "perempuan & anak" reads as "perempuan dan
# anak", as it is said.
_KIND_OF_GROUP = {"email": "url", "currency": "word", "ampersand": "word"}
_URL_TAIL = ".,;:!?)]}'\"»”’"
# The pieces of a hashtag: CamelCase words, acronyms (with a plural s: SDGs), digit runs, and
# letters of scripts without case.
_HASHTAG_PIECE = regex.compile(
    r"\p{Lu}{2,}s(?!\p{Ll})|\p{Lu}+(?!\p{Ll})|\p{Lu}[\p{Ll}\p{M}]+|[\p{Ll}\p{M}]+|\p{N}+"
    r"|[\p{L}\p{M}]+"
)
_LATIN_WORD = regex.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_EMOJI_MODIFIERS = dict.fromkeys([0xFE0F, *range(0x1F3FB, 0x1F400)])  # VS16, skin tones


@dataclass
class Stats:
    """What :func:`tokenise` met: posts read, empty texts, texts cut at :data:`MAX_CHARS`,
    texts whose broken encoding (UTF-8 read as Latin-1) was repaired. Add batches with ``+=``."""

    posts: int = 0
    empty: int = 0
    cut: int = 0
    repaired: int = 0

    def __iadd__(self, other: Stats) -> Stats:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self


class _Rows(NamedTuple):
    """The rows of one distinct piece of text (between white space), in order."""

    surfaces: int  # how many positions the piece takes
    sub: list[int]  # each row's position within the piece
    part: list[int]
    kind: list[int]  # index into KINDS
    token: list[str]
    display: list[str]
    stem: list[str]
    stopword: list[bool]


def _data(name: str) -> Iterable[str]:
    text = resources.files("govsocial.text").joinpath("data", name).read_text("utf-8")
    return (line for line in text.splitlines() if line.strip() and not line.startswith("#"))


@functools.cache
def project_slang() -> Mapping[str, tuple[str, ...]]:
    """The project's slang and abbreviation dictionary (``text/data/slang.tsv``)."""
    pairs = (line.split("\t") for line in _data("slang.tsv"))
    return {slang.strip(): tuple(expansion.split()) for slang, expansion in pairs}


@functools.cache
def project_stopwords() -> frozenset[str]:
    """stopwordsiso's Indonesian and English lists and ``text/data/stopwords.txt``."""
    own = (line.strip() for line in _data("stopwords.txt"))
    return frozenset(stopwordsiso.stopwords(["id", "en"])) | frozenset(own)


@functools.cache
def _sastrawi() -> Callable[[str], str]:
    # The stemmer without Sastrawi's own cache: the Lexicon keeps one per distinct word.
    from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary  # type: ignore[import-untyped]
    from Sastrawi.Stemmer.Stemmer import Stemmer  # type: ignore[import-untyped]
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # type: ignore[import-untyped]

    stem: Callable[[str], str] = Stemmer(ArrayDictionary(StemmerFactory().get_words())).stem
    return stem


@functools.cache
def _word_costs() -> Mapping[str, float]:
    """Log-probabilities of Indonesian and English words (wordfreq's lists), and of the
    project's slang words, for splitting run-on hashtags (#perubahaniklim)."""
    english = wordfreq.get_frequency_dict("en", "small")
    probabilities = english | {
        w: max(p, english.get(w, 0.0))
        for w, p in wordfreq.get_frequency_dict("id", "small").items()
    }
    for slang, expansion in project_slang().items():
        for word in (slang, *expansion):
            probabilities.setdefault(word, 1e-6)
    # A short rare "word" is more often a fragment ("st", "ing") than a word of a hashtag:
    # #stopstunting must not become stop st un ting.
    return {
        w: math.log(p)
        for w, p in probabilities.items()
        if w.isalpha() and (len(w) >= 5 or p >= (1e-5 if len(w) >= 3 else 1e-3))
    }


def _segment(word: str) -> list[str]:
    """``word`` split into the likeliest sequence of known words (Viterbi over unigram
    probabilities); ``[word]`` when it is one word or cannot be split into known words."""
    costs, n = _word_costs(), len(word)
    best, back = [0.0] + [-math.inf] * n, [0] * (n + 1)
    for end in range(2, n + 1):
        for start in range(max(0, end - _MAX_WORD), end - 1):
            cost = costs.get(word[start:end])
            if cost is not None and best[start] + cost > best[end]:
                best[end], back[end] = best[start] + cost, start
    if best[n] == -math.inf:
        return [word]
    words, end = [], n
    while end:
        words.append(word[back[end] : end])
        end = back[end]
    return words[::-1]


class Lexicon:
    """The normalisation data (slang, stopwords, stemmer) and the caches of the work done per
    distinct piece of text and per distinct word. One is shared by default
    (:func:`default_lexicon`); its caches carry over from batch to batch.

    ``stemmer``: a word → stem function (PySastrawi by default); it is called once per distinct
    word. ``max_pieces``: the piece cache is emptied when it grows past this.
    """

    def __init__(
        self,
        slang: Mapping[str, tuple[str, ...]] | None = None,
        stopwords: frozenset[str] | None = None,
        stemmer: Callable[[str], str] | None = None,
        max_pieces: int = 1_000_000,
    ) -> None:
        self.slang = project_slang() if slang is None else slang
        self.stopwords = project_stopwords() if stopwords is None else stopwords
        self._stemmer = stemmer
        self._stems: dict[str, str] = {}
        self._pieces: dict[str, _Rows] = {}
        self._max_pieces = max_pieces

    def stem(self, word: str) -> str:
        """The stem of a normalised word; only plain Latin words go to the stemmer (Sastrawi
        drops every other letter: 'café' would become 'caf')."""
        stem = self._stems.get(word)
        if stem is None:
            stem = word
            if len(word) <= _MAX_STEMMED and _LATIN_WORD.fullmatch(word):
                stem = (self._stemmer or _sastrawi())(word) or word
            self._stems[word] = stem
        return stem

    def rows(self, piece: str) -> _Rows:
        """The rows of a piece of text without white space (cached)."""
        rows = self._pieces.get(piece)
        if rows is None:
            if len(self._pieces) >= self._max_pieces:
                self._pieces.clear()
            rows = self._pieces[piece] = self._lex(piece)
        return rows

    def _lex(self, piece: str) -> _Rows:
        rows = _Rows(0, [], [], [], [], [], [], [])
        surfaces = 0
        # NFKC here, once per distinct piece, rather than over every text: 𝗯𝗼𝗹𝗱 and
        # full-width letters become plain.
        for kind, display in _surface_tokens(unicodedata.normalize("NFKC", piece)):
            if kind == "word":
                self._words(rows, surfaces, 0, display, "word")
            elif kind == "hashtag":
                self._add(rows, surfaces, 0, "hashtag", "#" + display[1:].casefold(), display)
                self._hashtag_words(rows, surfaces, display[1:])
            elif kind == "emoji":
                token = display.translate(_EMOJI_MODIFIERS) or display
                self._add(rows, surfaces, 0, kind, token, display)
            else:  # url, mention, number
                self._add(rows, surfaces, 0, kind, display.casefold(), display)
            surfaces += 1
        return rows._replace(surfaces=surfaces)

    def _hashtag_words(self, rows: _Rows, at: int, body: str) -> None:
        part = 1
        for piece in _HASHTAG_PIECE.findall(body):
            folded = piece.casefold()
            words = [folded]
            # Acronyms (SDGs, PPKM) and other scripts stay whole; "Jabarjuara" is split.
            if (
                len(folded) == len(piece)
                and 4 <= len(folded) <= _MAX_SEGMENTED
                and piece[1:].islower()
                and folded.isascii()
                and folded.isalpha()
            ):
                words = _segment(folded)
            start = 0
            for word in words:  # the display of a dictionary split is cut from the piece
                display = piece[start : start + len(word)]
                start += len(word)
                part = self._words(rows, at, part, display, "hashtag_word", word)
                if part > _MAX_PARTS:
                    return

    def _words(
        self, rows: _Rows, at: int, part: int, display: str, kind: str, folded: str = ""
    ) -> int:
        """Rows of one word at ``at`` from ``part`` on (slang expanded); the next free part."""
        word = folded or display.casefold()
        for token in self.slang.get(word, (word,)):
            if part > _MAX_PARTS:
                break
            self._add(rows, at, part, kind, token, display)
            part += 1
        return part

    def _add(self, rows: _Rows, at: int, part: int, kind: str, token: str, display: str) -> None:
        wordlike = kind in ("word", "hashtag_word")
        rows.sub.append(at)
        rows.part.append(part)
        rows.kind.append(KINDS.index(kind))
        rows.token.append(token)
        rows.display.append(display)
        rows.stem.append(self.stem(token) if wordlike else token)
        rows.stopword.append(wordlike and token in self.stopwords)


def _surface_tokens(piece: str) -> Iterator[tuple[str, str]]:
    """(kind, surface text) of each token of a piece of text, in order; emojis are found by
    the emoji package, the rest by :data:`_LEXER` (punctuation is dropped)."""
    start = 0
    for found in emoji.emoji_list(piece):
        yield from _lexed(piece, start, found["match_start"])
        yield "emoji", found["emoji"]
        start = found["match_end"]
    yield from _lexed(piece, start, len(piece))


def _lexed(piece: str, start: int, end: int) -> Iterator[tuple[str, str]]:
    for match in _LEXER.finditer(piece, start, end):
        kind, text = match.lastgroup or "word", match.group()
        yield _KIND_OF_GROUP.get(kind, kind), text.rstrip(_URL_TAIL) if kind == "url" else text


@functools.cache
def default_lexicon() -> Lexicon:
    """The shared :class:`Lexicon` (the project's slang, stopwords and PySastrawi)."""
    return Lexicon()


def tokenise(
    post_ids: pa.Array | pa.ChunkedArray,
    texts: pa.Array | pa.ChunkedArray,
    *,
    lexicon: Lexicon | None = None,
    stats: Stats | None = None,
) -> pa.Table:
    """The token table (:data:`SCHEMA`) of ``texts``, one post each (int64 ids, any text:
    null, empty, emoji-only, any script, mojibake, megabytes). Counts go into ``stats``."""
    lex = lexicon or default_lexicon()
    ids = _plain(post_ids, pa.int64())
    text = _plain(texts, pa.string())
    if len(ids) != len(text):
        raise ValueError(f"{len(ids)} post ids but {len(text)} texts")
    text, found = _clean(text)
    if stats is not None:
        stats += found
    pieces = pc.utf8_split_whitespace(text)
    flat = pc.list_flatten(pieces)
    keep = pc.greater(pc.binary_length(flat), 0)
    parents = pc.filter(pc.list_parent_indices(pieces), keep).to_numpy()
    encoded = pc.dictionary_encode(pc.filter(flat, keep))
    return _gather(ids.to_numpy(), parents, encoded, lex)


def _plain(values: pa.Array | pa.ChunkedArray, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(kind)


def _clean(text: pa.Array) -> tuple[pa.Array, Stats]:
    """Texts cut at :data:`MAX_CHARS`, mojibake repaired (ftfy, on the few texts that look
    broken), and what the batch met."""
    cut = pc.greater(pc.utf8_length(text), MAX_CHARS)
    text = pc.utf8_slice_codeunits(text, 0, MAX_CHARS)
    suspect = pc.fill_null(pc.match_substring_regex(text, _MOJIBAKE), False)
    rows = np.flatnonzero(suspect.to_numpy(zero_copy_only=False))
    broken = text.take(pa.array(rows, pa.int64())).to_pylist()
    fixed = [ftfy.fix_encoding(t) for t in broken]
    repaired = sum(a != b for a, b in zip(broken, fixed, strict=True))
    if len(rows):
        text = pc.replace_with_mask(text, suspect, pa.array(fixed, pa.string()))
    empty = pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), True)
    stats = Stats(
        posts=len(text),
        empty=pc.sum(empty).as_py() or 0,
        cut=pc.sum(cut).as_py() or 0,
        repaired=repaired,
    )
    return text, stats


def _gather(
    post_ids: np.ndarray, parents: np.ndarray, encoded: pa.DictionaryArray, lex: Lexicon
) -> pa.Table:
    """Every occurrence's rows, by index arithmetic over the rows of the distinct pieces."""
    distinct = [lex.rows(p) for p in encoded.dictionary.to_pylist()]
    piece = encoded.indices.to_numpy().astype(np.int64)
    count = np.array([len(r.token) for r in distinct], np.int64)
    surfaces = np.array([r.surfaces for r in distinct], np.int64)
    first_row = np.cumsum(count) - count

    # The position of each occurrence's first token: the surfaces before it in its post.
    taken = surfaces[piece]
    before = np.cumsum(taken) - taken
    starts = np.r_[True, parents[1:] != parents[:-1]] if len(parents) else np.zeros(0, bool)
    post_start = np.maximum.accumulate(np.where(starts, np.arange(len(parents)), 0))
    offset = before - before[post_start] if len(parents) else before

    per = count[piece]
    occurrence = np.repeat(np.arange(len(piece)), per)
    within = np.arange(len(occurrence)) - np.repeat(np.cumsum(per) - per, per)
    row = pa.array(first_row[piece][occurrence] + within, pa.int64())

    def column(values: Iterable[object], kind: pa.DataType) -> pa.Array:
        return pa.array(list(values), kind).take(row)

    sub = column(chain.from_iterable(r.sub for r in distinct), pa.int32()).to_numpy()
    kind = column(chain.from_iterable(r.kind for r in distinct), pa.int8())
    return pa.table(
        [
            pa.array(post_ids[parents[occurrence]], pa.int64()),
            pa.array(offset[occurrence] + sub, pa.int32()),
            column(chain.from_iterable(r.part for r in distinct), pa.int8()),
            pa.array(KINDS, pa.string()).take(kind),
            column(chain.from_iterable(r.token for r in distinct), pa.string()),
            column(chain.from_iterable(r.display for r in distinct), pa.string()),
            column(chain.from_iterable(r.stem for r in distinct), pa.string()),
            column(chain.from_iterable(r.stopword for r in distinct), pa.bool_()),
        ],
        schema=SCHEMA,
    )
