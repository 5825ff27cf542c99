"""`govsocial collect` and `govsocial collect status` (docs/collect.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from govsocial.cli.common import (
    DbOption,
    FormatOption,
    OutputFormat,
    emit,
    open_warehouse,
    progress,
    say,
    styled,
    warn,
)
from govsocial.config import SETTINGS

app = typer.Typer(
    help="Collect posts and follower counts from the platforms' APIs.",
    invoke_without_command=True,
)

PLATFORMS = "youtube, facebook, instagram, x, tiktok"


def moment(value: str | None, option: str) -> datetime | None:
    """A day (YYYY-MM-DD, 00:00 WIB) or an ISO 8601 time, in UTC."""
    from govsocial.errors import UsageError
    from govsocial.vocabulary import WIB

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"{option}: {value!r} is not a date. Write e.g. 2025-08-01 (00:00 WIB) or "
            "2025-08-01T12:00:00+07:00."
        ) from None
    if len(value.strip()) == 10:
        parsed = datetime.combine(date.fromisoformat(value.strip()), time(), WIB)
    elif parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=WIB)
    return parsed.astimezone(UTC)


@app.callback()
def collect(
    ctx: typer.Context,
    platform: Annotated[
        list[str] | None, typer.Option(help=f"Only these platforms ({PLATFORMS}); repeatable.")
    ] = None,
    institution: Annotated[
        list[str] | None, typer.Option(help="Only these institutions (ids); repeatable.")
    ] = None,
    account: Annotated[
        list[int] | None, typer.Option(help="Only these accounts (account ids); repeatable.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Posts published from this day (YYYY-MM-DD, WIB); default: where "
            "each account's posts were last complete, or a year back."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Posts published before this day; default: now.")
    ] = None,
    api_root: Annotated[
        str | None, typer.Option("--api-root", help=SETTINGS["api_root"].option_help())
    ] = None,
    db: DbOption = None,
) -> None:
    """Collect every registered account in scope: a follower reading, its new posts, and new
    readings of the counts of posts 1, 7 and 30 days old. Resumes where a stopped run ended.
    """
    if ctx.invoked_subcommand is not None:
        return
    from govsocial.collect.runs import collect as run_collect
    from govsocial.config import resolve
    from govsocial.sources.http import Wait

    root = str(resolve("api_root", api_root).value) or None
    start, end = moment(since, "--since"), moment(until, "--until")
    with open_warehouse(db, create=False) as wh, progress() as bar:
        task = bar.add_task("Collecting", total=None)
        seen: dict[int, int] = {}

        def step(acc: object, what: str) -> None:
            account_id = getattr(acc, "account_id", 0)
            seen.setdefault(account_id, len(seen) + 1)
            name = getattr(acc, "handle", None) or account_id
            bar.update(
                task,
                completed=len(seen) - 1,
                description=f"{getattr(acc, 'platform', '')} @{name}: {what}",
            )

        def waiting(wait: Wait) -> None:
            bar.console.print(str(wait), markup=False, highlight=False)

        report = run_collect(
            wh,
            platforms=platform or (),
            institutions=institution or (),
            account_ids=account or (),
            since=start,
            until=end,
            api_root=root,
            step=step,
            on_wait=waiting,
        )
        bar.update(task, completed=len(seen), total=len(seen), description="Collected")
    posts = sum(a.posts_new for a in report.accounts)
    snapshots = sum(a.snapshots_new for a in report.accounts)
    say(
        f"Collection run {report.run_id}: {len(report.accounts):,} accounts, "
        f"{report.pages:,} pages, {posts:,} new posts, {snapshots:,} new readings."
    )
    for platform_name, why in report.skipped.items():
        warn(styled(f"{platform_name} not collected: ", "bold yellow"), why)
    for result in report.errors:
        name = result.account.handle or result.account.platform_id or result.account.account_id
        warn(styled(f"{result.account.platform} @{name}: ", "bold red"), result.error or "")
    if report.errors:
        warn(
            f"{len(report.errors):,} of {len(report.accounts):,} accounts had errors; the others "
            "were collected. `govsocial collect status` lists them."
        )
        raise typer.Exit(1)


@app.command("status")
def status(
    platform: Annotated[list[str] | None, typer.Option(help="Only these platforms.")] = None,
    institution: Annotated[list[str] | None, typer.Option(help="Only these institutions.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Per account: last collection, posts, readings, pages, a walk in progress, last error;
    then the last runs with the quota and rate limits they used."""
    from govsocial.store import collecting as state
    from govsocial.words import when

    with open_warehouse(db, read_only=True) as wh:
        accounts = state.accounts_in_scope(wh, platform or (), institution or ())
        rows = [
            (
                s.platform,
                s.account_id,
                s.handle or "",
                s.institution_id or "",
                when(s.last_attempt_at) if s.last_attempt_at else "never",
                when(s.complete_until) if s.complete_until else "-",
                s.posts,
                s.snapshots,
                s.pages,
                "yes" if s.walking else "",
                s.last_error or "",
            )
            for s in state.account_status(wh, accounts)
        ]
        runs = state.last_runs(wh)
    emit(
        [
            "platform",
            "account",
            "handle",
            "institution",
            "last run",
            "posts complete until",
            "posts",
            "readings",
            "pages",
            "walk in progress",
            "last error",
        ],
        rows,
        fmt,
        keep=("platform", "account", "handle"),
    )
    if fmt is OutputFormat.table and runs:
        import json

        for i, run in enumerate(runs):
            say(
                f"Run {run[0]} ({run[3]}, {run[4]}): {run[5]:,} accounts, {run[6]:,} pages, "
                f"{run[7]:,} with errors; started {when(run[1])}"  # type: ignore[arg-type]
            )
            if i == 0 and run[8]:  # the last run: what each API's quota and limits said
                for platform_name, used in json.loads(str(run[8])).items():
                    lines = used.get("lines", []) if isinstance(used, dict) else used
                    for line in lines:
                        say(f"  {platform_name}: {line}")
