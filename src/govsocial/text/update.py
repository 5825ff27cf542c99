"""The text stage's services: tag posts with themes incrementally, keywords and trends of a
scope, and the evaluation of theme detection against the hand-labelled set.

`govsocial text update` reads only posts whose text is new or changed, or all of them when the
theme files change (their fingerprint is kept per post in ``post_text_state``), in batches: each
batch's tags and state are kept in one transaction, so an interrupted update loses nothing done.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from govsocial import __version__
from govsocial.store import Warehouse
from govsocial.store import text as store
from govsocial.text.keywords import keywords
from govsocial.text.themes import Theme, load_themes, match
from govsocial.text.tokens import Stats, tokenise
from govsocial.text.trends import trends

BATCH = 50_000  # posts per transaction of `text update`


def themes_fingerprint(themes: Sequence[Theme]) -> str:
    """One hash of the theme files (ids and contents) and of the code that reads them."""
    parts = sorted(f"{t.id}:{t.sha256}" for t in themes)
    return hashlib.sha256("\n".join([__version__, *parts]).encode()).hexdigest()[:16]


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
    progress: Callable[[int, int], None] | None = None,
) -> UpdateReport:
    """Tag every new or changed post (all posts, when the theme files changed) with themes."""
    chosen = tuple(themes) if themes is not None else load_themes()
    sha = themes_fingerprint(chosen)
    todo = store.posts_to_read(wh, sha)
    report = UpdateReport()
    for start in range(0, len(todo), batch):
        chunk = todo.slice(start, batch)
        texts = store.texts_of(wh, chunk)
        tokens = tokenise(texts["post_id"], texts["text"], stats=report.stats)
        matched = match(tokens, chosen)
        store.keep_themes(wh, chunk, matched, sha, datetime.now(UTC))
        report.read += len(chunk)
        report.tagged += len(pc.unique(matched["post_id"]))
        for theme, n in zip(*_value_counts(matched["theme"]), strict=True):
            report.themes[theme] = report.themes.get(theme, 0) + n
        if progress:
            progress(report.read, len(todo))
    return report


def _value_counts(column: pa.ChunkedArray) -> tuple[list[str], list[int]]:
    counted = pc.value_counts(column)
    return counted.field("values").to_pylist(), counted.field("counts").to_pylist()


GROUPS = ("account", "institution", "cluster", "platform", "month")


def scope_keywords(
    wh: Warehouse, scope: store.Scope, by: str, *, top: int = 10, min_count: int = 5
) -> pa.Table:
    """Keywords of each group (``by``: account, institution, cluster, platform or month) of
    the posts in ``scope`` against the rest of them (Dunning's G², docs/text-analysis.md)."""
    tokens, posts = _tokens(wh, scope)
    if by == "account":
        label = pc.binary_join_element_wise(
            posts["platform"], pc.fill_null(posts["handle"], "?"), " @"
        )
    elif by == "month":
        label = pc.strftime(posts["posted_at"], format="%Y-%m")
    else:
        column = {"institution": "institution_id", "cluster": "cluster_id"}.get(by, by)
        label = pc.fill_null(posts[column].cast(pa.string()), "-")
    groups = pa.table({"post_id": posts["post_id"], "group": label})
    return keywords(tokens, groups, top=top, min_count=min_count)


def scope_trends(wh: Warehouse, scope: store.Scope, *, min_count: int = 5) -> pa.Table:
    """Terms and hashtags bursting week over week in ``scope`` (docs/text-analysis.md)."""
    tokens, posts = _tokens(wh, scope)
    monday = pc.floor_temporal(posts["posted_at"], unit="week", week_starts_monday=True)
    weeks = pa.table({"post_id": posts["post_id"], "week": pc.cast(monday, pa.date32())})
    return trends(tokens, weeks, min_count=min_count)


def _tokens(wh: Warehouse, scope: store.Scope) -> tuple[pa.Table, pa.Table]:
    parts, infos = [], []
    for batch in store.scoped_texts(wh, scope):
        parts.append(tokenise(batch["post_id"], batch["text"]))
        infos.append(batch.drop_columns(["text"]))
    if not parts:
        empty = tokenise(pa.array([], pa.int64()), pa.array([], pa.string()))
        return empty, pa.table(
            {
                "post_id": pa.array([], pa.int64()),
                "posted_at": pa.array([], pa.timestamp("us", "UTC")),
                "platform": pa.array([], pa.string()),
                "handle": pa.array([], pa.string()),
                "institution_id": pa.array([], pa.string()),
                "cluster_id": pa.array([], pa.string()),
            }
        )
    return pa.concat_tables(parts), pa.concat_tables(infos)


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
