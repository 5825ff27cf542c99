"""Themes as data: theme files (YAML), validated, and the matcher that tags posts with them.

A theme file (``text/themes/<id>.yaml``; the format in docs/text.md)::

    id: climate
    version: 1
    title: {id: Perubahan iklim, en: Climate change}
    description: {id: "...", en: "..."}
    hashtags: [perubahaniklim, climatechange]     # folded, without '#'
    phrases:                                      # 1-4 words, on consecutive words
      - perubahan iklim                           # compared on tokens ...
      - {text: emisi karbon, stem: true}          # ... or on stems
    exclude: [iklim investasi, iklim usaha]       # a phrase match inside one is void
    min_matches: 1                                # distinct matched terms a post needs

Phrases and exclusions are normalised by the same tokeniser as posts (slang expanded: a
phrase "pemprov" is the two words "pemerintah provinsi"). Every problem of a file is reported
at once, with its key path, line and fix, through :class:`govsocial.checking.Checker`.

:func:`match` tags a token table (:func:`govsocial.text.tokens.tokenise`) with themes, in
vectorised steps: hashtags by a join, phrases by the n-grams of the post's consecutive word and
hashtag-word tokens encoded as integers and looked up in the themes' term keys, exclusions as
spans that void the phrase matches inside them.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from numpy.typing import NDArray

from govsocial.checking import Checker, Problem, Table, choices, report
from govsocial.errors import InputError, NotFoundError
from govsocial.registry.parse import _LineLoader, line_of
from govsocial.text.tokens import KINDS, Lexicon, default_lexicon, tokenise

__all__ = [
    "MATCHES",
    "THEMES",
    "Term",
    "Theme",
    "list_themes",
    "load_theme",
    "load_themes",
    "match",
    "parse_theme",
]

DOCS = "docs/text.md"
THEMES = Path(__file__).with_name("themes")  # the themes that ship with govsocial
MAX_WORDS = 4  # words of a phrase or exclusion
MATCHES = pa.schema(
    [("post_id", pa.int64()), ("theme", pa.string()), ("evidence", pa.list_(pa.string()))]
)
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_HASHTAG = re.compile(r"^[^\W]+$")  # letters, digits, '_' (any script)
_TOP = ("id", "version", "title")
_TOP_OPTIONAL = ("description", "hashtags", "phrases", "exclude", "min_matches")
_WORDLIKE = ("word", "hashtag_word")
_ROW = ["post_id", "kind", "token", "stem"]
_WORD, _HASHTAG_WORD, _HASHTAG_KIND = (KINDS.index(k) for k in ("word", "hashtag_word", "hashtag"))


@dataclass(frozen=True)
class Term:
    """A phrase or exclusion: its normalised text (the evidence shown) and the words compared,
    tokens or, with ``stem``, stems."""

    text: str
    words: tuple[str, ...]
    stem: bool = False


@dataclass(frozen=True)
class Theme:
    id: str
    version: int
    title_id: str
    title_en: str
    description_id: str | None
    description_en: str | None
    hashtags: tuple[str, ...]  # folded, without '#'
    phrases: tuple[Term, ...]
    exclude: tuple[Term, ...]
    min_matches: int
    source: str  # the file it was read from
    sha256: str  # of the file's text (UTF-8): a run records which theme it used


class _ThemeLoader(_LineLoader):
    """The registry's YAML loader (lines of every key and item, keys given twice) reading
    numbers as numbers: ``version: 1``."""


_ThemeLoader.yaml_implicit_resolvers = yaml.SafeLoader.yaml_implicit_resolvers


# -- files -------------------------------------------------------------------------------------
def list_themes(folder: Path = THEMES) -> tuple[str, ...]:
    """The ids of the theme files in ``folder`` (the shipped themes by default), sorted."""
    return tuple(sorted(p.stem for p in folder.glob("*.yaml"))) if folder.is_dir() else ()


def load_themes(
    refs: Sequence[str | Path] | None = None, lexicon: Lexicon | None = None
) -> tuple[Theme, ...]:
    """The themes named (ids of shipped themes, or paths); all shipped themes by default."""
    return tuple(load_theme(ref, lexicon) for ref in (list_themes() if refs is None else refs))


def load_theme(ref: str | Path, lexicon: Lexicon | None = None) -> Theme:
    """A theme by id (a shipped theme: ``climate``, ``sdg13``) or by the path of its file."""
    path = Path(ref)
    if isinstance(ref, str) and _ID.match(ref):
        path = THEMES / f"{ref}.yaml"
        if not path.is_file():
            raise NotFoundError(f"no theme '{ref}': {choices(ref, list_themes())}")
    if not path.is_file():
        raise InputError("no such theme file. Check the path.", path=path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc}).", path=path) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}). Save as UTF-8.", path=path) from exc
    return parse_theme(text, str(path), path.stem, lexicon)


def parse_theme(
    text: str,
    source: str = "<text>",
    file_id: str | None = None,
    lexicon: Lexicon | None = None,
) -> Theme:
    """Validate a theme from its YAML text; ``file_id`` is the file's name, which must be
    the theme's id. With the default lexicon, a text read before is not read again."""
    if lexicon is None:
        return _parse_with_default_lexicon(text, source, file_id)
    return _parse(text, source, file_id, lexicon)


@functools.lru_cache(maxsize=256)
def _parse_with_default_lexicon(text: str, source: str, file_id: str | None) -> Theme:
    # A theme is immutable and its phrases' normalisation costs a tokenisation each: a
    # process that loads the themes again (an award run after `text update`) reuses them.
    return _parse(text, source, file_id, default_lexicon())


def _parse(text: str, source: str, file_id: str | None, lexicon: Lexicon) -> Theme:
    loader = _ThemeLoader(text)
    try:
        raw = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark is not None else None
        reason = getattr(exc, "problem", None) or exc
        raise InputError(
            f"not valid YAML ({reason}). Fix the syntax.", path=source, place=place
        ) from exc
    finally:
        loader.dispose()
    check = Checker(DOCS, line_of)
    check.extend(loader.problems)
    theme = _theme(check, raw, file_id, lexicon)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()

    def error(problems: list[Problem]) -> InputError:
        outcome = f"in the theme; it was not loaded (the format is in {DOCS})."
        return InputError(report(source, problems, outcome))

    check.raise_if_any(error)
    return replace(theme, source=source, sha256=sha)


def _theme(c: Checker, raw: object, file_id: str | None, lex: Lexicon) -> Theme:
    top = c.table(raw, "", _TOP, _TOP_OPTIONAL)
    ident = c.ident(top, "id", "", _ID, "lower-case letters, digits, '_' or '-'")
    if _ID.match(ident) and file_id is not None and ident != file_id:
        c.problem_at(
            top,
            "id",
            f"'{ident}' is not the file's name '{file_id}'",
            f"name the file {ident}.yaml, or write id: {file_id}",
        )
    version = c.integer(top, "version", "", 1, 1)
    title = c.table(top["title"], "title", ("id", "en")) if "title" in top else {}
    description: Table = {}
    if "description" in top:  # optional; when given, in both languages
        description = c.table(top["description"], "description", ("id", "en"))
    hashtags = tuple(t for t in c.names(top, "hashtags", "", None, _fold) if _HASHTAG.match(t))
    listed = top.get("hashtags")
    for i, tag in enumerate(listed if isinstance(listed, list) else []):
        if isinstance(tag, str) and tag.strip() and not _HASHTAG.match(_fold(tag)):
            c.problem(
                f"hashtags[{i}]",
                f"'{tag}' is not a hashtag",
                "write the hashtag's letters and digits only, without '#' and spaces",
                value=tag,
                line=c.line(listed, i),
            )
    phrases = tuple(term for term, _ in _terms(c, top, "phrases", lex))
    exclude: list[Term] = []
    for term, written in _terms(c, top, "exclude", lex):
        exclude.append(term)
        if not any(_inside(p, term) for p in phrases):
            c.problem(
                written.at,
                f"'{term.text}' contains none of the theme's phrases, so it can void no match",
                "list a longer phrase that contains one of the phrases, or remove it",
                value=written.text,
                line=written.line,
            )
    terms = len(hashtags) + len(phrases)
    if not terms and "hashtags" not in top and "phrases" not in top:
        c.problem("", "the theme has no hashtags and no phrases", "add hashtags: or phrases:")
    min_matches = c.integer(top, "min_matches", "", 1, 1, max(terms, 1))
    return Theme(
        id=ident,
        version=version,
        title_id=c.string(title, "id", "title"),
        title_en=c.string(title, "en", "title"),
        description_id=c.string(description, "id", "description") or None,
        description_en=c.string(description, "en", "description") or None,
        hashtags=hashtags,
        phrases=phrases,
        exclude=tuple(exclude),
        min_matches=min_matches,
        source="",
        sha256="",
    )


def _fold(tag: str) -> str:
    return tag.strip().removeprefix("#").casefold()


class _Written(NamedTuple):
    at: str  # key path
    line: int | None
    text: str
    stem: bool


def _terms(c: Checker, top: Table, key: str, lex: Lexicon) -> list[tuple[Term, _Written]]:
    """The phrases (or exclusions) under ``key``, each a text or ``{text, stem}``, with where
    each was written."""
    items = top.get(key, [])
    if not isinstance(items, list):
        c.problem_at(top, key, f"expected a list, got {items!r}", f"write {key}: [..., ...]")
        return []
    written: list[_Written] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        at, line = f"{key}[{i}]", c.line(items, i)
        text: object = item
        stem = False
        if isinstance(item, Mapping):
            c.table(item, at, ("text",), ("stem",))
            text = item.get("text", "")
            stem = c.boolean(item, "stem", at, False)
        if not isinstance(text, str) or not text.strip():
            c.problem(
                at, f"expected a text, got {text!r}", "write the words", value=text, line=line
            )
        elif " ".join(text.casefold().split()) in seen:
            c.problem(at, f"'{text}' is listed twice", "remove one", value=text, line=line)
        else:
            seen.add(" ".join(text.casefold().split()))
            written.append(_Written(at, line, text, stem))
    out: list[tuple[Term, _Written]] = []
    for term, where in _normalised(c, written, lex):
        # An abbreviation and its expansion (PKH, program keluarga harapan) are one term.
        if all((t.text, t.stem) != (term.text, term.stem) for t, _ in out):
            out.append((term, where))
    return out


def _normalised(
    c: Checker, written: Sequence[_Written], lex: Lexicon
) -> Iterator[tuple[Term, _Written]]:
    """The terms of the written phrases, tokenised together as posts are."""
    ids = pa.array(range(len(written)), pa.int64())
    tokens = tokenise(ids, pa.array([w.text for w in written], pa.string()), lexicon=lex)
    rows: list[list[tuple[str, str, str]]] = [[] for _ in written]
    for post, kind, token, stem in zip(*tokens.select(_ROW).to_pydict().values(), strict=True):
        rows[post].append((kind, token, stem))
    for w, found in zip(written, rows, strict=True):
        kinds = [kind for kind, _, _ in found]
        if "hashtag" in kinds or not found or any(k not in _WORDLIKE for k in kinds):
            hashtags = "; hashtags go under hashtags:" if "hashtag" in kinds else ""
            fix = f"write words only{hashtags}"
            c.problem(w.at, f"'{w.text}' is not a phrase of words", fix, value=w.text, line=w.line)
        elif len(found) > MAX_WORDS:
            c.problem(
                w.at,
                f"'{w.text}' has {len(found)} words (after expanding abbreviations)",
                f"shorten it to at most {MAX_WORDS} words",
                value=w.text,
                line=w.line,
            )
        else:
            text = " ".join(token for _, token, _ in found)
            compared = tuple(stem if w.stem else token for _, token, stem in found)
            yield Term(text, compared, w.stem), w


def _inside(phrase: Term, exclusion: Term) -> bool:
    """Whether ``phrase`` can lie inside ``exclusion``: its tokens (or, both on stems, its
    stems) are consecutive words of the exclusion."""

    def within(part: Sequence[str], whole: Sequence[str]) -> bool:
        n = len(part)
        return any(tuple(whole[i : i + n]) == tuple(part) for i in range(len(whole) - n + 1))

    on_stems = phrase.stem and exclusion.stem and within(phrase.words, exclusion.words)
    return on_stems or within(phrase.text.split(" "), exclusion.text.split(" "))


# -- matching ----------------------------------------------------------------------------------
def match(tokens: pa.Table, themes: Sequence[Theme]) -> pa.Table:
    """(post_id, theme, evidence) for each post that matches a theme: ``evidence`` the sorted
    distinct matched terms ("#perubahaniklim", "perubahan iklim"), at least the theme's
    ``min_matches``. ``tokens`` is a token table whose rows of a post are together and in
    text order, as :func:`~govsocial.text.tokens.tokenise` gives them (its string columns may
    be dictionary-encoded, as ``Tokens.table(encoded=True)`` gives them: read faster)."""
    terms = _terms_of(tuple(themes))
    kind = _positions(tokens.column("kind"), KINDS)
    post_id = _numbers(tokens.column("post_id"))
    seq = np.flatnonzero((kind == _WORD) | (kind == _HASHTAG_WORD))
    post = post_id[seq]
    phrases, exclusions = [], []
    for field in ("token", "stem"):
        spans = _spans(
            _positions(tokens.column(field), terms.words[field])[seq], post, terms, field
        )
        phrases.append(spans.filter(pc.invert(spans["exclude"])))
        exclusions.append(spans.filter(spans["exclude"]))
    voided = _unvoided(pa.concat_tables(phrases), pa.concat_tables(exclusions))
    hashtags = np.flatnonzero(kind == _HASHTAG_KIND)
    tagged = _hashtag_hits(post_id[hashtags], _strings(tokens.column("token"), hashtags), terms)
    hit_post = np.concatenate([tagged[0], voided.column("post_id").to_numpy()])
    hit_term = np.concatenate([tagged[1], voided.column("term").to_numpy()])
    return _evidence(hit_post.astype(np.int64), hit_term.astype(np.int64), terms, themes)


@dataclass(frozen=True)
class _Terms:
    """Every theme's terms numbered: by theme id, then by text within a theme (so numbers sort
    as (theme, term) do); ``words`` the distinct words compared on tokens and on stems."""

    theme: NDArray[np.int64]  # per term: index into the themes given
    text: pa.Array  # per term: the evidence shown
    hashtag: dict[str, list[int]]  # folded hashtag → its terms
    listed: tuple[tuple[int, Term, bool], ...]  # (term number, phrase, is an exclusion)
    words: dict[str, tuple[str, ...]]


@functools.lru_cache(maxsize=8)
def _terms_of(themes: tuple[Theme, ...]) -> _Terms:
    texts: list[str] = []
    theme_of: list[int] = []
    number: dict[tuple[int, str], int] = {}
    for i in sorted(range(len(themes)), key=lambda i: themes[i].id):
        t = themes[i]
        for text in sorted({"#" + h for h in t.hashtags} | {p.text for p in t.phrases}):
            number[(i, text)] = len(texts)
            texts.append(text)
            theme_of.append(i)
    hashtag: dict[str, list[int]] = {}
    for i, t in enumerate(themes):
        for h in t.hashtags:
            hashtag.setdefault(h, []).append(number[(i, "#" + h)])
    listed: list[tuple[int, Term, bool]] = []
    for i, t in enumerate(themes):
        listed += [(number[(i, p.text)], p, False) for p in t.phrases]
        listed += [(-1 - i, x, True) for x in t.exclude]  # numbered by its theme only
    words = {
        field: tuple(sorted({w for _, term, _ in listed if term.stem == (field == "stem")
                             for w in term.words}))
        for field in ("token", "stem")
    }  # fmt: skip
    return _Terms(
        np.array(theme_of, np.int64), pa.array(texts, pa.string()), hashtag, tuple(listed), words
    )


_SPANS = pa.schema(
    [
        ("post_id", pa.int64()),
        ("theme", pa.int64()),
        ("term", pa.int64()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("exclude", pa.bool_()),
    ]
)


def _spans(word: NDArray[np.int64], post: NDArray[np.int64], terms: _Terms, field: str) -> pa.Table:
    """Where the phrases and exclusions compared on ``field`` (token or stem) occur: rows
    ``start`` to ``end`` (exclusive) of the word sequence. ``word`` is each row's place among
    the themes' words of the field (-1: none). Each n-gram of consecutive rows of one post that
    starts on a theme word is encoded as one integer over those words and looked up."""
    stem = field == "stem"
    listed = [(n, t, x) for n, t, x in terms.listed if t.stem == stem]
    vocabulary = terms.words[field]
    base = len(vocabulary) + 1
    if not listed or not len(word):
        return _SPANS.empty_table()
    if base**MAX_WORDS >= 2**63:
        raise ValueError(f"{len(vocabulary)} distinct theme words: at most 55,000 fit a key")
    index = {w: k + 1 for k, w in enumerate(vocabulary)}
    ids = word + 1  # 0: not a theme word
    candidates = np.flatnonzero(ids > 0)
    parts = []
    for n in range(1, MAX_WORDS + 1):
        wanted = [(m, t, x) for m, t, x in listed if len(t.words) == n]
        starts = candidates[candidates + n <= len(ids)]
        if not wanted or not len(starts):
            continue
        key = ids[starts]
        for k in range(1, n):  # n consecutive theme words of one post
            following = ids[starts + k]
            ok = (following > 0) & (post[starts + k] == post[starts])
            starts, key = starts[ok], key[ok] * base + following[ok]
        keys = np.array([_key(t.words, index, base) for _, t, _ in wanted], np.int64)
        order = np.argsort(keys, kind="stable")
        distinct, first, many = np.unique(keys[order], return_index=True, return_counts=True)
        place = np.minimum(np.searchsorted(distinct, key), len(distinct) - 1)
        found = np.flatnonzero(distinct[place] == key)
        count = many[place[found]]
        at = np.repeat(found, count)
        entry = order[np.repeat(first[place[found]], count) + _within(count)]
        number = np.array([m for m, _, _ in wanted], np.int64)[entry]
        parts.append(
            pa.table(
                {
                    "post_id": post[starts[at]],
                    "theme": _theme_of(terms, number),
                    "term": number,
                    "start": starts[at],
                    "end": starts[at] + n,
                    "exclude": np.array([x for _, _, x in wanted], bool)[entry],
                },
                schema=_SPANS,
            )
        )
    return pa.concat_tables([_SPANS.empty_table(), *parts])


def _theme_of(terms: _Terms, number: NDArray[np.int64]) -> NDArray[np.int64]:
    """The theme of each term number (an exclusion's number is -1 - its theme)."""
    inside = number >= 0
    return np.where(inside, terms.theme[np.where(inside, number, 0)], -1 - number)


def _within(counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """0, 1, ... counts[i] - 1 for each i, concatenated."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def _key(words: Sequence[str], index: Mapping[str, int], base: int) -> int:
    key = 0
    for word in words:
        key = key * base + index[word]
    return key


def _unvoided(phrases: pa.Table, exclusions: pa.Table) -> pa.Table:
    """The phrase matches that lie inside no exclusion match of their theme."""
    phrases = phrases.append_column("hit", pa.array(np.arange(len(phrases)), pa.int64()))
    if len(exclusions):
        pairs = phrases.join(
            exclusions.select(["post_id", "theme", "start", "end"]),
            ["post_id", "theme"],
            right_suffix="_x",
        )
        inside = pc.and_(
            pc.less_equal(pairs["start_x"], pairs["start"]),
            pc.less_equal(pairs["end"], pairs["end_x"]),
        )
        voided = pairs.filter(inside)["hit"]
        phrases = phrases.filter(pc.invert(pc.is_in(phrases["hit"], voided)))
    return phrases.select(["post_id", "term"])


def _hashtag_hits(
    post: NDArray[np.int64], tokens: pa.Array, terms: _Terms
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(post, term) of each hashtag token that is a theme's hashtag."""
    if not terms.hashtag or not len(post):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    tags = list(terms.hashtag)
    found = pc.index_in(pc.utf8_slice_codeunits(tokens, 1), value_set=pa.array(tags, pa.string()))
    tag = pc.fill_null(found, -1).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(tag >= 0)
    numbers = [terms.hashtag[t] for t in tags]
    many = np.array([len(n) for n in numbers], np.int64)[tag[rows]]
    first = np.cumsum([0, *(len(n) for n in numbers)])[tag[rows]]
    flat = np.array([m for n in numbers for m in n], np.int64)
    return post[np.repeat(rows, many)], flat[np.repeat(first, many) + _within(many)]


def _evidence(
    post: NDArray[np.int64], term: NDArray[np.int64], terms: _Terms, themes: Sequence[Theme]
) -> pa.Table:
    """The matches: per post and theme with at least ``min_matches`` distinct terms, the
    sorted terms; ordered by post and theme id (term numbers sort as (theme id, text))."""
    if not len(post):
        return MATCHES.empty_table()
    order = np.lexsort((term, post))
    post, term = post[order], term[order]
    distinct = np.r_[True, (post[1:] != post[:-1]) | (term[1:] != term[:-1])]
    post, term = post[distinct], term[distinct]
    theme = terms.theme[term]
    first = np.flatnonzero(np.r_[True, (post[1:] != post[:-1]) | (theme[1:] != theme[:-1])])
    count = np.diff(np.r_[first, len(post)])
    needed = np.array([t.min_matches for t in themes], np.int64)[theme[first]]
    kept = count >= needed
    rows = np.repeat(kept, count)
    offsets = np.r_[0, np.cumsum(count[kept])].astype(np.int32)
    evidence = pa.ListArray.from_arrays(
        pa.array(offsets), terms.text.take(pa.array(term[rows], pa.int64()))
    )
    ids = pa.array([t.id for t in themes], pa.string())
    return pa.table(
        [
            pa.array(post[first[kept]], pa.int64()),
            ids.take(pa.array(theme[first[kept]], pa.int64())),
            evidence,
        ],
        schema=MATCHES,
    )


# -- columns of a token table, plain or dictionary-encoded ---------------------------------------
def _numbers(column: pa.ChunkedArray) -> NDArray[np.int64]:
    return np.asarray(column.to_numpy(), np.int64)


def _plain_or_encoded(column: pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)


def _positions(column: pa.ChunkedArray, values: Sequence[str]) -> NDArray[np.int64]:
    """Per row, the place of its string among ``values`` (-1: not there); a dictionary-encoded
    column is looked up once per distinct string."""
    array = _plain_or_encoded(column)
    value_set = pa.array(values, pa.string())
    if isinstance(array, pa.DictionaryArray):
        per_string = pc.fill_null(pc.index_in(array.dictionary, value_set=value_set), -1)
        positions: NDArray[np.int64] = np.asarray(per_string.to_numpy(), np.int64)
        per_row: NDArray[np.int64] = positions[array.indices.to_numpy()]
        return per_row
    found = pc.fill_null(pc.index_in(array, value_set=value_set), -1)
    return np.asarray(found.to_numpy(zero_copy_only=False), np.int64)


def _strings(column: pa.ChunkedArray, rows: NDArray[np.int64]) -> pa.Array:
    """The strings of ``rows`` of a plain or dictionary-encoded string column."""
    taken = _plain_or_encoded(column).take(pa.array(rows, pa.int64()))
    return pc.cast(taken, pa.string()) if isinstance(taken, pa.DictionaryArray) else taken
