"""The text stage's services: read posts incrementally (theme tags and term counts), keywords
and trends of a scope from the kept term counts, and the evaluation of theme detection against
the hand-labelled set.

`govsocial text update` reads only posts whose text is new or changed, or all of them when the
theme files or the normalisation change (their fingerprint is kept per post in
``post_text_state``), in batches: each batch's tags, term counts and state are kept in one
transaction, so an interrupted update loses nothing done. Keywords and trends then sum the
kept counts of their scope (no text is read again), and refuse a scope with posts not yet read.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govsocial import __version__
from govsocial.errors import StoreError
from govsocial.store import Warehouse
from govsocial.store import text as store
from govsocial.text.keywords import (
    KINDS,
    GroupCounts,
    most_frequent_form,
    post_forms,
    rank_keywords,
)
from govsocial.text.themes import Theme, load_themes, match
from govsocial.text.tokens import (
    Lexicon,
    Reading,
    Stats,
    lexicon_fingerprint,
    read_texts,
    tokenise,
)
from govsocial.text.trends import WeekCounts, rank_trends

BATCH = 50_000  # posts per transaction of `text update` (arrays under glibc's mmap threshold)
GROUPS = ("account", "institution", "cluster", "platform", "month")


def themes_fingerprint(themes: Sequence[Theme]) -> str:
    """One hash of the theme files (ids and contents), of the normalisation (slang, stopwords,
    stemmer: the terms kept depend on it) and of the code that reads them."""
    parts = sorted(f"{t.id}:{t.sha256}" for t in themes)
    text = "\n".join([__version__, lexicon_fingerprint(), *parts])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class UpdateReport:
    read: int = 0  # posts read this time
    tagged: int = 0  # of those, posts with at least one theme
    stats: Stats = field(default_factory=Stats)
    themes: dict[str, int] = field(default_factory=dict)  # theme → posts tagged this time


def update(
    wh: Warehouse,
    themes: Sequence[Theme] | None = None,
    *,
    batch: int = BATCH,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UpdateReport:
    """Read every new or changed post (all posts, when the theme files or the normalisation
    changed): tag it with themes and keep its term counts. ``workers``: processes that stem
    a batch's new words (the CPUs by default)."""
    chosen = tuple(themes) if themes is not None else load_themes()
    sha = themes_fingerprint(chosen)
    lexicon_sha = lexicon_fingerprint()
    todo = store.posts_to_read(wh, sha)
    report = UpdateReport()
    if not len(todo):
        return report
    _reuse_freed_memory()
    lexicon = Lexicon(
        known_stems=lambda words: store.known_terms(wh, words, lexicon_sha),
        workers=workers if workers is not None else (os.cpu_count() or 1),
    )

    def prepare(chunk: pa.Table, reading: Reading) -> tuple[store.ReadText, pa.Table]:
        tokens = reading.tokens()
        matched = match(tokens.table(encoded=True), chosen)
        forms = post_forms(tokens)
        return store.ReadText(chunk, matched, forms.counts, forms.forms, forms.post_tokens), matched

    def counted(chunk: pa.Table, matched: pa.Table) -> None:
        report.read += len(chunk)
        report.tagged += len(pc.unique(matched["post_id"]))
        for theme, n in zip(*_value_counts(matched["theme"]), strict=True):
            report.themes[theme] = report.themes.get(theme, 0) + n
        if progress:
            progress(report.read, len(todo))

    # Three stages at once: this thread reads batch n+1 (its new words sent to the stemming
    # processes) while a writer thread keeps batch n-1 in DuckDB on its own connection (DuckDB
    # works without the GIL); batch n's tokens, themes and counts are made in between. One
    # batch is written at a time, in order, each in its own transaction.
    writer = wh.sibling()
    pool = ThreadPoolExecutor(1, thread_name_prefix="text-writer")
    writing: Future[None] | None = None
    try:
        waiting: tuple[pa.Table, Reading] | None = None
        for start in [*range(0, len(todo), batch), None]:
            reading_next = None
            if start is not None:
                chunk = todo.slice(start, batch)
                texts = store.texts_of(wh, chunk)
                reading_next = (
                    chunk,
                    read_texts(
                        texts["post_id"], texts["text"], lexicon=lexicon, stats=report.stats
                    ),
                )
            if waiting is not None:
                kept, matched = prepare(*waiting)
                if writing is not None:
                    writing.result()  # the batch before is kept (or its error raised here)
                now = datetime.now(UTC)
                writing = pool.submit(store.keep_text, writer, kept, sha, lexicon_sha, now)
                counted(waiting[0], matched)
            waiting = reading_next
        if writing is not None:
            writing.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        writer.close()
        lexicon.close()
    return report


@functools.cache
def _reuse_freed_memory() -> None:
    """Ask glibc to keep the memory a batch frees for the next one.

    Every batch allocates arrays of about the same sizes (a few MB to 30 MB); by default glibc
    maps each large one fresh from the system and unmaps it when freed, so the next batch
    faults every page in again. On the benchmark machine that was most of tokenising
    (100k posts twice: 6.3 s; with this, 1.2 s). Peak memory stays the batch's: the memory is
    reused, not added to. Elsewhere (not glibc) this does nothing."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 2**20)  # glibc's largest on 64-bit systems
    mallopt(m_trim_threshold, 2**30)


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counted = pc.value_counts(column)
    return counted.field("values").to_pylist(), counted.field("counts").to_pylist()


def unread_in_scope(wh: Warehouse, scope: store.Scope) -> int:
    """Posts of ``scope`` not yet read by `govsocial text update` with the shipped theme files
    (or read with older ones, or changed since)."""
    return store.unread_posts(wh, themes_fingerprint(load_themes()), scope)


def _require_read(wh: Warehouse, scope: store.Scope) -> None:
    unread = unread_in_scope(wh, scope)
    if unread:
        raise StoreError(
            f"{unread:,} posts in scope are not yet read by `govsocial text update` (new, "
            "changed, or read with other theme files), so their terms are not counted: run "
            "`govsocial text update`, then ask again."
        )


def scope_keywords(
    wh: Warehouse, scope: store.Scope, by: str, *, top: int = 10, min_count: int = 5
) -> pa.Table:
    """Keywords of each group (``by``: account, institution, cluster, platform or month) of
    the posts in ``scope`` against the rest of them (Dunning's G², docs/text-analysis.md),
    from the term counts kept by :func:`update`."""
    if by not in GROUPS:
        raise ValueError(f"by must be one of {', '.join(GROUPS)}, not {by!r}")
    _require_read(wh, scope)
    # Only terms used min_count times by a group can be its keywords: the others are not
    # fetched (their totals, which the G² of the others needs, come with the rest).
    counted = store.term_counts(wh, scope, by, range(len(KINDS)), min_count, per_label=True)
    tokens = store.token_counts(wh, scope, by)
    labels = [t["label"].combine_chunks().cast(pa.string()) for t in (counted, tokens)]
    groups = pc.unique(pa.concat_arrays(labels))
    terms = _terms(wh, scope, counted)
    group_tokens = np.zeros(len(groups), np.int64)
    group_tokens[_index(tokens["label"], groups)] = tokens["tokens"].to_numpy()
    return rank_keywords(
        GroupCounts(
            groups=groups,
            group=_index(counted["label"], groups),
            term=terms.term,
            count=counted["n"].to_numpy(),
            group_tokens=group_tokens,
            term_total=terms.total,
            tokens=int(group_tokens.sum()),
            kind=terms.kind,
            text=terms.text,
        ),
        min_count=min_count,
        top=top,
    )


def scope_trends(wh: Warehouse, scope: store.Scope, *, min_count: int = 5) -> pa.Table:
    """Terms and hashtags bursting week over week in ``scope`` (docs/text-analysis.md), from
    the term counts kept by :func:`update`."""
    _require_read(wh, scope)
    kinds = [KINDS.index("unigram"), KINDS.index("hashtag")]
    # A term used fewer than min_count times in all is tested in no week: not fetched.
    counted = store.term_counts(wh, scope, "week", kinds, min_count, per_label=False)
    terms = _terms(wh, scope, counted)
    tokens = store.token_counts(wh, scope, "week")
    return rank_trends(
        WeekCounts(
            week=_weeks(counted["label"]),
            term=terms.term,
            count=counted["n"].to_numpy(),
            token_week=_weeks(tokens["label"]),
            tokens=tokens["tokens"].to_numpy(),
            kind=terms.kind,
            text=terms.text,
        ),
        min_count=min_count,
    )


@dataclass(frozen=True)
class _Terms:
    term: np.ndarray  # per row of the counts: its term's number here
    total: np.ndarray  # per term: occurrences in the scope
    kind: np.ndarray  # per term
    text: pa.Array  # per term: its most frequent form in the scope


def _terms(wh: Warehouse, scope: store.Scope, counted: pa.Table) -> _Terms:
    """The terms of kept counts (label, kind, term, next_term, n, total), numbered, each shown
    as its most frequent form in the scope (ties: the first in sort order)."""
    key = _term_key(counted)
    distinct, first, term = np.unique(key, return_index=True, return_inverse=True)
    wanted = counted.take(pa.array(first, pa.int64()))
    forms = store.term_forms(wh, scope, wanted)
    texts = pc.dictionary_encode(forms["form"].combine_chunks())
    text = most_frequent_form(
        np.searchsorted(distinct, _term_key(forms)),
        texts.indices.to_numpy().astype(np.int64),
        forms["n"].to_numpy(),
        pc.cast(texts.dictionary, pa.string()),
        len(distinct),
    )
    return _Terms(
        term=term.astype(np.int64).reshape(-1),
        total=wanted["total"].to_numpy(),
        kind=wanted["kind"].to_numpy().astype(np.int8),
        text=text,
    )


def _term_key(table: pa.Table) -> np.ndarray:
    """One number per term: (term, next_term) of the kept counts (a term's number tells its
    kind; a bigram is two)."""
    term = np.asarray(table["term"].to_numpy(), np.int64)
    key: np.ndarray = term * 2**32 + np.asarray(table["next_term"].to_numpy(), np.int64) + 1
    return key


def _index(labels: pa.ChunkedArray, values: pa.Array) -> np.ndarray:
    found = pc.index_in(labels.combine_chunks().cast(pa.string()), value_set=values)
    return np.asarray(found.to_numpy(zero_copy_only=False), np.int64)


def _weeks(mondays: pa.ChunkedArray) -> np.ndarray:
    """Weeks as numbers since 1970-01-05 (a Monday) from the dates of their Mondays."""
    days = pc.cast(mondays.combine_chunks(), pa.int32()).to_numpy(zero_copy_only=False)
    weeks: np.ndarray = (np.asarray(days, np.int64) - 4) // 7
    return weeks


# -- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeScore:
    theme: str
    positives: int  # posts labelled with it
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.positives if self.positives else None


def evaluate(path: Path, themes: Sequence[Theme] | None = None) -> list[ThemeScore]:
    """Precision and recall per theme of the themes against a labelled file (JSON Lines of
    ``{"id", "text", "themes": [...]}``, as tests/fixtures/text/eval_*.jsonl)."""
    chosen = tuple(themes) if themes is not None else load_themes()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    ids = pa.array(range(len(rows)), pa.int64())
    tokens = tokenise(ids, pa.array([str(r.get("text") or "") for r in rows], pa.string()))
    found: dict[int, set[str]] = {}
    for hit in match(tokens, chosen).select(["post_id", "theme"]).to_pylist():
        found.setdefault(int(hit["post_id"]), set()).add(str(hit["theme"]))
    scores = []
    for theme in sorted(t.id for t in chosen):
        labelled = [theme in (r.get("themes") or []) for r in rows]
        tagged = [theme in found.get(i, set()) for i in range(len(rows))]
        pairs = list(zip(labelled, tagged, strict=True))
        scores.append(
            ThemeScore(
                theme,
                sum(labelled),
                sum(1 for a, b in pairs if a and b),
                sum(1 for a, b in pairs if b and not a),
                sum(1 for a, b in pairs if a and not b),
            )
        )
    return scores
