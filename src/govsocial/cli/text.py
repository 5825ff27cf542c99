"""`govsocial text update|themes|keywords|trends|evaluate` (docs/text.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govsocial.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    emit,
    open_warehouse,
    progress,
    say,
    warn,
)

if TYPE_CHECKING:
    from govsocial.store.text import Scope
    from govsocial.text.update import UpdateReport

app = typer.Typer(help="Text analysis: themes, keywords and trends of posts.", no_args_is_help=True)

ClusterOption = Annotated[list[str] | None, typer.Option("--cluster", help="Only these clusters.")]
InstitutionOption = Annotated[
    list[str] | None, typer.Option("--institution", help="Only these institutions.")
]
PlatformOption = Annotated[
    list[str] | None, typer.Option("--platform", help="Only these platforms.")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Posts from this day (YYYY-MM-DD, WIB).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Posts before this day (YYYY-MM-DD, WIB).")
]


def _scope(
    cluster: list[str] | None,
    institution: list[str] | None,
    platform: list[str] | None,
    since: str | None,
    until: str | None,
) -> Scope:
    from govsocial.cli.collecting import moment
    from govsocial.store.text import Scope

    return Scope(
        tuple(cluster or ()),
        tuple(institution or ()),
        tuple(platform or ()),
        moment(since, "--since"),
        moment(until, "--until"),
    )


@app.command("update")
def update(db: DbOption = None) -> None:
    """Tag new or changed posts with the themes and count their terms (all posts when the
    theme files changed)."""
    report = _read_posts(db)
    stats = report.stats
    say(
        f"Read {report.read:,} new or changed posts: {report.tagged:,} tagged with a theme"
        + (f"; {stats.empty:,} without text" if stats.empty else "")
        + (f"; {stats.repaired:,} with a broken encoding repaired" if stats.repaired else "")
        + (
            f"; {stats.cut:,} very long captions read up to their first 65,536 characters"
            if stats.cut
            else ""
        )
        + "."
    )
    if report.read == 0:
        say("Every post was already read with these theme files.")


def _read_posts(db: Path | None) -> UpdateReport:
    from govsocial.text.update import update as run_update

    with open_warehouse(db) as wh, progress() as bar:
        task = bar.add_task("Reading post texts", total=None)
        return run_update(
            wh, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )


def _read_first(db: Path | None, scope: Scope) -> None:
    """Read the posts of ``scope`` that `text update` has not read yet (keywords and trends
    count what it kept), as award runs do."""
    from govsocial.text.update import unread_in_scope

    with open_warehouse(db, read_only=True) as wh:
        unread = unread_in_scope(wh, scope)
    if unread:
        warn(f"{unread:,} posts in scope are not read yet: reading them first (text update).")
        _read_posts(db)


@app.command("themes")
def themes(
    cluster: ClusterOption = None,
    institution: InstitutionOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """The theme files, and per theme the posts and institutions tagged in the scope."""
    from govsocial.store.text import theme_counts, unread_posts
    from govsocial.text.themes import load_themes
    from govsocial.text.update import themes_fingerprint

    known = load_themes()
    scope = _scope(cluster, institution, platform, since, until)
    with open_warehouse(db, read_only=True) as wh:
        counts = {t: (p, i) for t, p, i in theme_counts(wh, scope)}
        stale = unread_posts(wh, themes_fingerprint(known))
    rows = [
        (t.id, t.title_id, *counts.get(t.id, (0, 0)), len(t.phrases), len(t.hashtags))
        for t in known
    ]
    emit(
        ["theme", "judul", "posts", "institutions", "phrases", "hashtags"],
        rows,
        fmt,
        keep=("theme", "posts"),
    )
    if stale:
        warn(
            f"{stale:,} posts are not yet read with these theme files: run `govsocial text update`."
        )


@app.command("keywords")
def keywords(
    by: Annotated[
        str, typer.Option(help="Group posts by: account, institution, cluster, platform, month.")
    ] = "institution",
    top: Annotated[int, typer.Option(min=1, max=1000, help="Keywords per group.")] = 10,
    min_count: Annotated[
        int, typer.Option(min=1, help="A keyword's least count in its group.")
    ] = 5,
    cluster: ClusterOption = None,
    institution: InstitutionOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Each group's keywords against the rest of the posts in scope (Dunning's G²)."""
    from govsocial.errors import UsageError
    from govsocial.text.update import GROUPS, scope_keywords

    if by not in GROUPS:
        raise UsageError(f"--by: unknown grouping {by!r}. Choose one of: {', '.join(GROUPS)}.")
    scope = _scope(cluster, institution, platform, since, until)
    _read_first(db, scope)
    with open_warehouse(db, read_only=True) as wh:
        table = scope_keywords(wh, scope, by, top=top, min_count=min_count)
    rows = [
        (r["group"], r["rank"], r["term"], r["kind"], r["count"], r["rest_count"],
         round(r["g2"], 1), round(r["log_ratio"], 2))
        for r in table.to_pylist()
    ]  # fmt: skip
    if not rows and fmt is OutputFormat.table:
        warn(
            f"No keywords: no term of a {by} is used at least {min_count} times and "
            "significantly more (G² ≥ 3.84) than in the rest of the posts in scope. A wider "
            "scope, another --by or a lower --min-count may find some."
        )
        return
    emit(["group", "rank", "term", "kind", "count", "rest", "G2", "log ratio"], rows, fmt,
         keep=("group", "term"))  # fmt: skip


@app.command("trends")
def trends(
    min_count: Annotated[int, typer.Option(min=1, help="A trend's least count in its week.")] = 5,
    cluster: ClusterOption = None,
    institution: InstitutionOption = None,
    platform: PlatformOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Terms and hashtags bursting week over week (exact two-rate test, Benjamini–Hochberg)."""
    from govsocial.text.update import scope_trends

    scope = _scope(cluster, institution, platform, since, until)
    _read_first(db, scope)
    with open_warehouse(db, read_only=True) as wh:
        table = scope_trends(wh, scope, min_count=min_count)
    rows = [
        (str(r["week"]), r["term"], r["kind"], r["count"], round(r["expected"], 1),
         round(r["ratio"], 1), f"{r['q_value']:.2g}")
        for r in table.to_pylist()
    ]  # fmt: skip
    if not rows and fmt is OutputFormat.table:
        warn(
            f"No trends: no term or hashtag was used at least {min_count} times in a week and "
            "significantly more than in the 4 weeks before (Benjamini–Hochberg at 5%)."
        )
        return
    emit(["week", "term", "kind", "count", "expected", "ratio", "q"], rows, fmt,
         keep=("week", "term"))  # fmt: skip


@app.command("evaluate")
def evaluate(
    labelled: Annotated[
        list[Path] | None,
        typer.Argument(help="Labelled JSON Lines files (default: the project's evaluation set)."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Precision and recall of each theme against hand-labelled posts."""
    from govsocial.text.update import evaluate as run_evaluate

    files = labelled or _default_sets()
    rows = []
    for path in files:
        for s in run_evaluate(path):
            rows.append(
                (path.name, s.theme, s.positives, s.true_positives, s.false_positives,
                 s.false_negatives, _share(s.precision), _share(s.recall))
            )  # fmt: skip
    emit(["set", "theme", "labelled", "tp", "fp", "fn", "precision", "recall"], rows, fmt,
         keep=("set", "theme"))  # fmt: skip


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _default_sets() -> list[Path]:
    from govsocial.errors import NotFoundError

    here = Path.cwd() / "tests" / "fixtures" / "text"
    found = sorted(here.glob("eval_*.jsonl"))
    if not found:
        raise NotFoundError(
            "no labelled files given and no tests/fixtures/text/eval_*.jsonl here: give the "
            'files (JSON Lines of {"text", "themes"}) or run from the project\'s folder.'
        )
    return found
