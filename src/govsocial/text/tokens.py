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
NFKC-normalises and lexes it, expands slang, splits hashtags and stems each distinct word once
(in stemming processes when there are many, while the next batch is read: :func:`read_texts`).
A piece's rows are kept as numbers (its strings numbered in the lexicon's vocabulary), and the
rows of every occurrence are gathered by NumPy index arithmetic (:func:`tokenise_numbered`):
no Python runs per post, and no string is copied per token until :func:`tokenise` decodes them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, fields
from importlib import metadata, resources
from itertools import chain
from multiprocessing import get_context
from typing import Any, NamedTuple

import emoji
import ftfy
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex
import stopwordsiso
import wordfreq
from numpy.typing import NDArray

from govsocial.vocabulary import HASHTAG_BODY, MENTION_BODY

__all__ = [
    "KINDS",
    "MAX_CHARS",
    "SCHEMA",
    "Lexicon",
    "Stats",
    "Tokens",
    "default_lexicon",
    "lexicon_fingerprint",
    "read_texts",
    "tokenise",
    "tokenise_numbered",
]

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
_PARALLEL_STEMS = 4_000  # new words of a batch worth starting stemming processes for
_WORDLIKE = ("word", "hashtag_word")
_WORD, _HASHTAG_WORD = KINDS.index("word"), KINDS.index("hashtag_word")

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
    |(?P<hashtag>\#{HASHTAG_BODY})
    |(?P<mention>(?<![\p{{L}}\p{{N}}_.@])@{MENTION_BODY})
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
# Most pieces are one plain word, maybe with punctuation after it: :data:`_LEXER` gives them
# one word token (ASCII letters are NFKC-stable, hold no emoji, and without '.' + letters,
# '@' or a digit no URL, e-mail, number or currency), found here without the lexer.
_PLAIN_WORD = re.compile(r"([A-Za-z]+)[.,!?;:)\]}\"']*")
_KIND_NUMBER = {kind: i for i, kind in enumerate(KINDS)}
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
    import sys

    from Sastrawi.Dictionary.ArrayDictionary import ArrayDictionary  # type: ignore[import-untyped]
    from Sastrawi.Stemmer.Stemmer import Stemmer  # type: ignore[import-untyped]
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory  # type: ignore[import-untyped]

    shim = _PatternCache()
    for name, module in list(sys.modules.items()):
        if name.startswith("Sastrawi.") and getattr(module, "re", None) is re:
            setattr(module, "re", shim)  # noqa: B010 (a module's global, not a typed attribute)
    stemmer = Stemmer(ArrayDictionary(StemmerFactory().get_words()))
    visitors = stemmer.visitor_provider.prefix_visitors
    visitors[:] = [_OnlyIfMatching(v) if hasattr(v, "disambiguators") else v for v in visitors]
    stem: Callable[[str], str] = stemmer.stem
    return stem


class _OnlyIfMatching:
    """One of Sastrawi's prefix rules, tried only on words that one of its patterns matches.

    Sastrawi tries its 40 prefix rules in turn, up to three times per removal and in several
    passes, on every word it cannot find in its dictionary; most rules do nothing to most
    words. Each rule's disambiguators return a word only when ``re.match(PATTERN, word)``
    does (and two when the word is "belajar" or "pelajar"), with ``PATTERN`` a string in
    their code: a word none of those strings matches as a pattern (one compiled alternation)
    is left as it was without asking them. Halves the stemmer's time on unknown words; a test
    compares the stems with Sastrawi's own on thousands of words.
    """

    def __init__(self, visitor: Any) -> None:
        self._visitor = visitor
        self._when = _acting_words(visitor.disambiguators)

    def visit(self, context: Any) -> None:
        if self._when is None or self._when.match(context.current_word):
            self._visitor.visit(context)


def _acting_words(disambiguators: Sequence[Any]) -> re.Pattern[str] | None:
    """A pattern that matches every word one of ``disambiguators`` can act on (the strings in
    their code, as patterns), or None when one has no string to tell."""
    patterns = []
    for disambiguator in disambiguators:
        constants = type(disambiguator).disambiguate.__code__.co_consts
        texts = [c for c in constants if isinstance(c, str)]
        if not texts:
            return None
        for text in texts:
            with contextlib.suppress(re.error):
                patterns.append(re.compile(text).pattern)
    return re.compile("|".join(f"(?:{p})" for p in patterns))


class _PatternCache:
    """The ``re`` that Sastrawi's modules see: the same answers, faster.

    Sastrawi calls ``re.match(pattern_text, word)`` some 150 times per word it cannot find in
    its dictionary, and ``re.sub(candidate, "", word, count=1)`` with each candidate root as
    the *pattern*: ``re`` looks every pattern text up in its cache of 512, which those
    one-off patterns keep emptying, so it compiles again and again (about half of
    Sastrawi's time on unknown words). Here compiled patterns are kept, and a
    substitution of a pattern of plain letters and digits, which matches only itself, is
    ``str.replace``.
    """

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], re.Pattern[str]] = {}

    def _pattern(self, pattern: str, flags: int) -> re.Pattern[str]:
        compiled = self._compiled.get((pattern, flags))
        if compiled is None:
            compiled = re.compile(pattern, flags)
            if len(self._compiled) < 4096:
                self._compiled[(pattern, flags)] = compiled
        return compiled

    def match(self, pattern: str, string: str, flags: int = 0) -> re.Match[str] | None:
        return self._pattern(pattern, flags).match(string)

    def sub(self, pattern: str, repl: str, string: str, count: int = 0, flags: int = 0) -> str:
        if not flags and _LITERAL.fullmatch(pattern) and "\\" not in repl:
            return string.replace(pattern, repl, count or -1)
        return self._pattern(pattern, flags).sub(repl, string, count)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


_LITERAL = re.compile(r"[A-Za-z0-9]+")  # a pattern that matches only itself


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


class _Grown:
    """A NumPy array that grows by doubling (amortised appends of whole batches)."""

    def __init__(self, dtype: type[np.generic], fill: int = 0) -> None:
        self._data = np.full(1024, fill, dtype)
        self._fill = fill
        self.size = 0

    def extend(self, values: Sequence[int] | Sequence[bool]) -> None:
        end = self.size + len(values)
        if end > len(self._data):
            grown = np.full(max(end, 2 * len(self._data)), self._fill, self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : end] = values
        self.size = end

    @property
    def values(self) -> NDArray[Any]:
        return self._data[: self.size]


class _Rows(NamedTuple):
    """The rows of one distinct piece of text (between white space), in order; ``token`` and
    ``display`` are numbers of strings in the lexicon's vocabulary."""

    surfaces: int  # how many positions the piece takes
    sub: list[int]  # each row's position within the piece
    part: list[int]
    kind: list[int]  # index into KINDS
    token: list[int]
    display: list[int]


class Lexicon:
    """The normalisation data (slang, stopwords, stemmer) and the caches of the work done per
    distinct piece of text and per distinct word. One is shared by default
    (:func:`default_lexicon`); its caches carry over from batch to batch.

    ``stemmer``: a word → stem function (PySastrawi by default); it is called once per distinct
    word. ``known_stems``: words → the stems already known for some of them (e.g. kept in the
    warehouse by an earlier run); asked once per batch for the batch's new words, before the
    stemmer. ``workers``: processes that share the stemming of a batch's new words when there
    are many (PySastrawi, pure Python, takes 0.1-0.6 ms a word); 1 stems in this process.
    ``max_pieces``: the caches are emptied, between batches, when the pieces grow past this.
    """

    def __init__(
        self,
        slang: Mapping[str, tuple[str, ...]] | None = None,
        stopwords: frozenset[str] | None = None,
        stemmer: Callable[[str], str] | None = None,
        max_pieces: int = 1_000_000,
        known_stems: Callable[[Sequence[str]], Mapping[str, str]] | None = None,
        workers: int = 1,
    ) -> None:
        self.slang = project_slang() if slang is None else slang
        self.stopwords = project_stopwords() if stopwords is None else stopwords
        self.known_stems = known_stems
        self._stemmer = stemmer
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._max_pieces = max_pieces
        self._stems: dict[str, str] = {}
        # stem submissions not yet recorded: (string numbers, words stemmed, their stems)
        self._pending: list[tuple[list[int], list[str], Iterable[list[str]]]] = []
        self._submitted = 0  # submissions recorded so far
        self._reading = 0  # texts read whose tokens are not yet gathered
        self._reset()

    def _reset(self) -> None:
        self._pieces: dict[str, int] = {}  # piece → its number
        self._strings: list[str] = []  # the vocabulary: tokens, displays and stems
        self._vocabulary_chunks: list[pa.Array] = []
        self._ids: dict[str, int] = {}
        # per string: its stem's number (-1: not asked for, -2: asked for)
        self._stem_of = _Grown(np.int32, -1)
        self._stop = _Grown(np.bool_)  # per string: a stopword
        self._first_row = _Grown(np.int64)  # per piece
        self._row_count = _Grown(np.int32)
        self._surfaces = _Grown(np.int32)
        self._columns = {name: _Grown(np.int32) for name in _Rows._fields[1:]}
        self._unstemmed: dict[int, None] = {}  # strings met as words, stems not asked for
        if len(self._stems) > self._max_pieces:
            self._stems.clear()

    def _vocabulary(self) -> pa.ChunkedArray:
        """The strings numbered so far, as Arrow (new ones appended as a chunk)."""
        known = sum(len(c) for c in self._vocabulary_chunks)
        if known < len(self._strings):
            self._vocabulary_chunks.append(pa.array(self._strings[known:], pa.string()))
        return pa.chunked_array(self._vocabulary_chunks, pa.string())

    def close(self) -> None:
        """Stop the stemming processes, if any were started."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def stem(self, word: str) -> str:
        """The stem of a normalised word; only plain Latin words go to the stemmer (Sastrawi
        drops every other letter: 'café' would become 'caf')."""
        stem = self._stems.get(word)
        if stem is None:
            stem = self._stems[word] = _stem_with(self._stemmer or _sastrawi(), word)
        return stem

    def _number(self, text: str) -> int:
        number = self._ids.get(text)
        if number is None:
            number = self._ids[text] = len(self._strings)
            self._strings.append(text)
            self._stop.extend([text in self.stopwords])
            self._stem_of.extend([-1])
        return number

    def _piece_numbers(self, pieces: list[str]) -> NDArray[np.int64]:
        """The number of each distinct piece of a batch; new pieces are lexed (their new words
        wait for :meth:`_submit_stems`)."""
        if len(self._pieces) > self._max_pieces and not self._reading:
            self._resolve_stems(self._submitted + len(self._pending))
            self._reset()  # between batches, none of whose numbers are still to be used
        out = np.empty(len(pieces), np.int64)
        new: list[_Rows] = []
        for i, piece in enumerate(pieces):
            number = self._pieces.get(piece)
            if number is None:
                new.append(self._lex(piece))
                number = self._pieces[piece] = self._surfaces.size + len(new) - 1
            out[i] = number
        counts = [len(rows.token) for rows in new]
        self._first_row.extend((np.cumsum(counts) - counts + self._columns["sub"].size).tolist())
        self._row_count.extend(counts)
        self._surfaces.extend([rows.surfaces for rows in new])
        for name, column in self._columns.items():
            column.extend(list(chain.from_iterable(getattr(rows, name) for rows in new)))
        return out

    def _submit_stems(self) -> int:
        """Start stemming the words met since the last call (those the warehouse does not
        know, in the stemming processes when there are many); the submission's number."""
        numbers = list(self._unstemmed)
        self._unstemmed.clear()
        words = [self._strings[n] for n in numbers]
        todo = list(dict.fromkeys(w for w in words if w not in self._stems))
        if todo and self.known_stems is not None:
            self._stems.update(self.known_stems(todo))
            todo = [w for w in todo if w not in self._stems]
        stemmer = self._stemmer
        stems: Iterable[list[str]] = []
        if todo and (self._workers <= 1 or stemmer is not None or len(todo) < _PARALLEL_STEMS):
            stems = [[_stem_with(stemmer or _sastrawi(), w) for w in todo]]
        elif todo:
            if self._pool is None:
                # spawn, not fork: this process has threads (DuckDB's, Arrow's)
                self._pool = ProcessPoolExecutor(self._workers, mp_context=get_context("spawn"))
            size = -(-len(todo) // (4 * self._workers))
            chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
            stems = self._pool.map(_sastrawi_stems, chunks)  # submitted now, read later
        self._pending.append((numbers, todo, stems))
        return self._submitted + len(self._pending)

    def _resolve_stems(self, upto: int) -> None:
        """Wait for the submissions up to number ``upto`` and record their stems."""
        while self._pending and self._submitted < upto:
            numbers, todo, stems = self._pending.pop(0)
            self._submitted += 1
            try:
                found = list(chain.from_iterable(stems))
            except BrokenProcessPool:  # e.g. a __main__ that a new process cannot import
                self._pool, self._workers = None, 1
                found = [_stem_with(_sastrawi(), w) for w in todo]
            self._stems.update(zip(todo, found, strict=True))
            for number in numbers:
                stem = self._number(self._stems[self._strings[number]])
                self._stem_of._data[number] = stem

    def _lex(self, piece: str) -> _Rows:
        """The rows of a piece of text without white space."""
        plain = _PLAIN_WORD.fullmatch(piece)
        if plain:
            display = plain.group(1)
            word = display.lower()  # an ASCII word: lower-case is its case-folding
            if word not in self.slang:  # the commonest piece of all, without _words and _add
                number = self._ids.get(word)
                if number is None:
                    number = self._number(word)
                if self._stem_of._data[number] == -1:
                    self._stem_of._data[number] = -2  # asked for
                    self._unstemmed[number] = None
                shown = number if display == word else self._ids.get(display)
                if shown is None:
                    shown = self._number(display)
                return _Rows(1, [0], [0], [_WORD], [number], [shown])
            rows = _Rows(1, [], [], [], [], [])
            self._words(rows, 0, 0, display, "word")
            return rows
        rows = _Rows(1, [], [], [], [], [])
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
        number = self._ids.get(token)
        if number is None:
            number = self._number(token)
        if kind in _WORDLIKE and self._stem_of._data[number] == -1:
            self._stem_of._data[number] = -2  # asked for
            self._unstemmed[number] = None
        rows.sub.append(at)
        rows.part.append(part)
        rows.kind.append(_KIND_NUMBER[kind])
        rows.token.append(number)
        shown = self._ids.get(display)
        rows.display.append(self._number(display) if shown is None else shown)


def _stem_with(stemmer: Callable[[str], str], word: str) -> str:
    if len(word) <= _MAX_STEMMED and _LATIN_WORD.fullmatch(word):
        return stemmer(word) or word
    return word


def _sastrawi_stems(words: list[str]) -> list[str]:
    """Stems of ``words`` by PySastrawi (run in a stemming process)."""
    stem = _sastrawi()
    return [_stem_with(stem, w) for w in words]


def _surface_tokens(piece: str) -> Iterator[tuple[str, str]]:
    """(kind, surface text) of each token of a piece of text, in order; emojis are found by
    the emoji package (only in pieces that are not plain ASCII: no emoji is), the rest by
    :data:`_LEXER` (punctuation is dropped)."""
    start = 0
    if not piece.isascii():
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


@functools.cache
def lexicon_fingerprint() -> str:
    """One hash of what the tokens of a text depend on besides the code: the slang and
    stopword lists and the versions of the packages that normalise and stem."""
    parts = [
        "\n".join(f"{k}\t{' '.join(v)}" for k, v in sorted(project_slang().items())),
        "\n".join(sorted(project_stopwords())),
        *(f"{name} {_version(name)}" for name in ("PySastrawi", "emoji", "ftfy", "wordfreq")),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


@dataclass(frozen=True)
class Tokens:
    """A token table (:data:`SCHEMA`) as NumPy columns, its strings numbered: ``token``,
    ``display`` and ``stem`` index ``strings``; ``kind`` indexes :data:`KINDS`."""

    post_id: NDArray[np.int64]
    position: NDArray[np.int32]
    part: NDArray[np.int8]
    kind: NDArray[np.int8]
    token: NDArray[np.int32]
    display: NDArray[np.int32]
    stem: NDArray[np.int32]
    stopword: NDArray[np.bool_]
    strings: pa.Array  # string

    def __len__(self) -> int:
        return len(self.post_id)

    def table(self, *, encoded: bool = False) -> pa.Table:
        """The token table; ``encoded``: its string columns dictionary-encoded (no strings
        copied; what :func:`govsocial.text.themes.match` reads fastest)."""
        kinds = pa.array(KINDS, pa.string())
        if encoded:
            columns: list[pa.Array] = [
                pa.DictionaryArray.from_arrays(pa.array(self.kind), kinds),
                *(
                    pa.DictionaryArray.from_arrays(pa.array(c), self.strings)
                    for c in (self.token, self.display, self.stem)
                ),
            ]
        else:
            columns = [
                kinds.take(pa.array(self.kind)),
                *(self.strings.take(pa.array(c)) for c in (self.token, self.display, self.stem)),
            ]
        return pa.table(
            [
                pa.array(self.post_id, pa.int64()),
                pa.array(self.position, pa.int32()),
                pa.array(self.part, pa.int8()),
                *columns,
                pa.array(self.stopword, pa.bool_()),
            ],
            names=SCHEMA.names,
        )


def tokenise(
    post_ids: pa.Array | pa.ChunkedArray,
    texts: pa.Array | pa.ChunkedArray,
    *,
    lexicon: Lexicon | None = None,
    stats: Stats | None = None,
) -> pa.Table:
    """The token table (:data:`SCHEMA`) of ``texts``, one post each (int64 ids, any text:
    null, empty, emoji-only, any script, mojibake, megabytes). Counts go into ``stats``."""
    return tokenise_numbered(post_ids, texts, lexicon=lexicon, stats=stats).table()


def tokenise_numbered(
    post_ids: pa.Array | pa.ChunkedArray,
    texts: pa.Array | pa.ChunkedArray,
    *,
    lexicon: Lexicon | None = None,
    stats: Stats | None = None,
) -> Tokens:
    """:func:`tokenise`, with the strings numbered (no string is copied per token)."""
    return read_texts(post_ids, texts, lexicon=lexicon, stats=stats).tokens()


@dataclass
class Reading:
    """Texts split and lexed, the stems of their new words maybe still being computed (in the
    lexicon's stemming processes): :meth:`tokens` waits for them and gives the tokens. Read
    the next batch before taking this one's tokens, and both cores work."""

    post_ids: NDArray[np.int64]
    parents: NDArray[Any]
    piece: NDArray[np.int64]
    lexicon: Lexicon
    stems: int  # the stem submissions it needs
    done: bool = False

    def tokens(self) -> Tokens:
        lex = self.lexicon
        lex._resolve_stems(self.stems)
        if not self.done:
            self.done = True
            lex._reading -= 1
        return _gather(self.post_ids, self.parents, self.piece, lex)


def read_texts(
    post_ids: pa.Array | pa.ChunkedArray,
    texts: pa.Array | pa.ChunkedArray,
    *,
    lexicon: Lexicon | None = None,
    stats: Stats | None = None,
) -> Reading:
    """The first half of :func:`tokenise_numbered`: the texts cleaned, split and lexed, the
    stems of new words asked for. Take the tokens (:meth:`Reading.tokens`) in the order the
    texts were read."""
    lex = lexicon or default_lexicon()
    ids = _plain(post_ids, pa.int64())
    text = _plain(texts, pa.string())
    if len(ids) != len(text):
        raise ValueError(f"{len(ids)} post ids but {len(text)} texts")
    text, found = _clean(text)
    pieces = pc.utf8_split_whitespace(text)
    flat = pc.list_flatten(pieces)
    keep = pc.greater(pc.binary_length(flat), 0)
    parents = pc.filter(pc.list_parent_indices(pieces), keep).to_numpy()
    found.empty = int(np.count_nonzero(np.bincount(parents, minlength=len(text)) == 0))
    if stats is not None:
        stats += found
    encoded = pc.dictionary_encode(pc.filter(flat, keep))
    numbers = lex._piece_numbers(encoded.dictionary.to_pylist())
    lex._reading += 1
    return Reading(
        ids.to_numpy(), parents, numbers[encoded.indices.to_numpy()], lex, lex._submit_stems()
    )


def _plain(values: pa.Array | pa.ChunkedArray, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(kind)


def _clean(text: pa.Array) -> tuple[pa.Array, Stats]:
    """Texts cut at :data:`MAX_CHARS`, mojibake repaired (ftfy, on the few texts that look
    broken), and what the batch met (but the empty texts: :func:`read_texts` counts them)."""
    cut = 0
    if len(text) and (pc.max(pc.binary_length(text)).as_py() or 0) > MAX_CHARS:
        cut = pc.sum(pc.greater(pc.utf8_length(text), MAX_CHARS)).as_py() or 0
        text = pc.utf8_slice_codeunits(text, 0, MAX_CHARS)
    # Mojibake is made of characters outside ASCII: only texts that have some are searched.
    rows = np.flatnonzero(
        ~pc.fill_null(pc.string_is_ascii(text), True).to_numpy(zero_copy_only=False)
    )
    suspect = pc.match_substring_regex(text.take(pa.array(rows, pa.int64())), _MOJIBAKE)
    rows = rows[pc.fill_null(suspect, False).to_numpy(zero_copy_only=False)]
    broken = text.take(pa.array(rows, pa.int64())).to_pylist()
    fixed = [ftfy.fix_encoding(t) for t in broken]
    repaired = sum(a != b for a, b in zip(broken, fixed, strict=True))
    if len(rows):
        mask = np.zeros(len(text), bool)
        mask[rows] = True
        text = pc.replace_with_mask(text, pa.array(mask), pa.array(fixed, pa.string()))
    return text, Stats(posts=len(text), cut=cut, repaired=repaired)


def _gather(
    post_ids: NDArray[np.int64], parents: NDArray[Any], piece: NDArray[np.int64], lex: Lexicon
) -> Tokens:
    """Every occurrence's rows, by index arithmetic over the rows of the distinct pieces."""
    count = lex._row_count.values[piece]
    surfaces = lex._surfaces.values[piece].astype(np.int64)

    # The position of each occurrence's first token: the surfaces before it in its post.
    before = np.cumsum(surfaces) - surfaces
    starts = np.r_[True, parents[1:] != parents[:-1]] if len(parents) else np.zeros(0, bool)
    post_start = np.maximum.accumulate(np.where(starts, np.arange(len(parents)), 0))
    offset = (before - before[post_start]).astype(np.int32)

    # Each occurrence's rows: row i of the batch is row (i - the occurrence's first) of its
    # piece's rows in the lexicon.
    ends = np.cumsum(count, dtype=np.int64)
    shift = lex._first_row.values[piece] - (ends - count)
    row = np.repeat(shift, count)
    row += np.arange(len(row))
    column = {name: values.values[row] for name, values in lex._columns.items()}
    kind = column["kind"].astype(np.int8)
    token = column["token"]
    wordlike = (kind == _WORD) | (kind == _HASHTAG_WORD)
    stem = np.where(wordlike, lex._stem_of.values[token], token)

    # The batch's own numbering of the strings it uses (a slice of the lexicon's vocabulary).
    used = np.zeros(len(lex._strings), bool)
    for numbers in (token, column["display"], stem):
        used[numbers] = True
    strings = np.flatnonzero(used)
    renumber = np.cumsum(used, dtype=np.int32) - 1
    position = np.repeat(offset, count)
    position += column["sub"]
    rows_per_post = np.bincount(parents, weights=count, minlength=len(post_ids))
    return Tokens(
        post_id=np.repeat(post_ids, rows_per_post.astype(np.int64)),
        position=position,
        part=column["part"].astype(np.int8),
        kind=kind,
        token=renumber[token],
        display=renumber[column["display"]],
        stem=renumber[stem],
        stopword=wordlike & lex._stop.values[token],
        strings=lex._vocabulary().take(pa.array(strings, pa.int64())).combine_chunks(),
    )
