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

from govsocial.checking import Checker, Problem, Table, choices, report
from govsocial.errors import InputError, NotFoundError
from govsocial.registry.parse import _LineLoader, line_of
from govsocial.text.tokens import Lexicon, default_lexicon, tokenise

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
    the theme's id."""
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
    theme = _theme(check, raw, file_id, lexicon or default_lexicon())
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
    text order, as :func:`~govsocial.text.tokens.tokenise` gives them."""
    seq = tokens.filter(pc.is_in(tokens["kind"], pa.array(_WORDLIKE)))
    post = seq["post_id"].to_numpy()
    spans = pa.concat_tables([_spans(seq, post, themes, field) for field in ("token", "stem")])
    phrases = spans.filter(pc.invert(spans["exclude"]))
    found = pa.concat_tables(
        [_hashtag_hits(tokens, themes), _unvoided(phrases, spans.filter(spans["exclude"]))]
    )
    distinct = found.group_by(["post_id", "theme", "term"]).aggregate([])
    ordered = distinct.sort_by(
        [("post_id", "ascending"), ("theme", "ascending"), ("term", "ascending")]
    )
    grouped = ordered.group_by(["post_id", "theme"], use_threads=False).aggregate(
        [("term", "list"), ("term", "count")]
    )
    needed = pa.array([t.min_matches for t in themes], pa.int64()).take(grouped["theme"])
    kept = grouped.filter(pc.greater_equal(grouped["term_count"], needed))
    result = pa.table(
        [
            kept["post_id"],
            pa.array([t.id for t in themes], pa.string()).take(kept["theme"]),
            kept["term_list"].cast(pa.list_(pa.string())),
        ],
        schema=MATCHES,
    )
    return result.sort_by([("post_id", "ascending"), ("theme", "ascending")])


_HITS = pa.schema([("post_id", pa.int64()), ("theme", pa.int32()), ("term", pa.string())])
_SPANS = pa.schema(
    [
        ("post_id", pa.int64()),
        ("theme", pa.int32()),
        ("term", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("exclude", pa.bool_()),
    ]
)


def _hashtag_hits(tokens: pa.Table, themes: Sequence[Theme]) -> pa.Table:
    tags = tokens.filter(pc.equal(tokens["kind"], "hashtag"))
    wanted = [(tag, i, "#" + tag) for i, t in enumerate(themes) for tag in t.hashtags]
    if not wanted or not len(tags):
        return _HITS.empty_table()
    table = pa.table(
        {"tag": [w[0] for w in wanted], "theme": pa.array([w[1] for w in wanted], pa.int32())}
    ).append_column("term", pa.array([w[2] for w in wanted], pa.string()))
    seen = pa.table({"post_id": tags["post_id"], "tag": pc.utf8_slice_codeunits(tags["token"], 1)})
    return seen.join(table, "tag").select(["post_id", "theme", "term"]).cast(_HITS)


def _spans(seq: pa.Table, post: np.ndarray, themes: Sequence[Theme], field: str) -> pa.Table:
    """Where the phrases and exclusions compared on ``field`` (token or stem) occur: rows
    ``start`` to ``end`` (exclusive) of ``seq``. Each n-gram of consecutive rows of one post is
    encoded as one integer over the themes' words (0 = not a theme word) and looked up."""
    stem = field == "stem"
    terms = [
        (i, term, exclude)
        for i, theme in enumerate(themes)
        for exclude, listed in ((False, theme.phrases), (True, theme.exclude))
        for term in listed
        if term.stem == stem
    ]
    vocabulary = sorted({w for _, term, _ in terms for w in term.words})
    base = len(vocabulary) + 1
    if not terms or not len(seq):
        return _SPANS.empty_table()
    if base**MAX_WORDS >= 2**63:
        raise ValueError(f"{len(vocabulary)} distinct theme words: at most 55,000 fit a key")
    index = {w: k + 1 for k, w in enumerate(vocabulary)}
    found = pc.index_in(seq[field], value_set=pa.array(vocabulary, pa.string()))
    ids = pc.fill_null(found, -1).to_numpy().astype(np.int64) + 1
    parts = []
    for n in range(1, MAX_WORDS + 1):
        listed = [(i, t, x) for i, t, x in terms if len(t.words) == n]
        count = len(ids) - n + 1
        if not listed or count <= 0:
            continue
        key, ok = ids[:count].copy(), ids[:count] > 0
        for k in range(1, n):
            ok &= (ids[k : k + count] > 0) & (post[k : k + count] == post[:count])
            key = key * base + ids[k : k + count]
        keys = [_key(t.words, index, base) for _, t, _ in listed]
        starts = np.flatnonzero(ok & np.isin(key, keys))
        at = pa.table({"key": key[starts], "post_id": post[starts], "start": starts})
        wanted = pa.table(
            {
                "key": pa.array(keys, pa.int64()),
                "theme": pa.array([i for i, _, _ in listed], pa.int32()),
                "term": pa.array([t.text for _, t, _ in listed], pa.string()),
                "exclude": pa.array([x for _, _, x in listed], pa.bool_()),
            }
        )
        joined = at.join(wanted, "key")
        end = pc.add(joined["start"], n)
        parts.append(joined.append_column("end", end).select(_SPANS.names).cast(_SPANS))
    return pa.concat_tables([_SPANS.empty_table(), *parts])


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
    return phrases.select(["post_id", "theme", "term"]).cast(_HITS)
