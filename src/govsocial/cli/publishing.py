"""`govsocial publish` and `govsocial report`: a run's read model, and the pages people read
(docs/read-model.md, docs/reports.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from govsocial.cli.common import DbOption, db_path, err, progress, say, styled, warn

if TYPE_CHECKING:
    from govsocial.publish.build import Published
    from govsocial.publish.model import ReadModel
    from govsocial.reports.report import Report

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Folder of published runs (default: published/ beside the warehouse).",
        show_default=False,
    ),
]


def publish(
    run_id: Annotated[str, typer.Argument(help="The run id (or its first characters).")],
    root: RootOption = None,
    db: DbOption = None,
) -> None:
    """Publish a kept run: write its read model, the immutable folder the reports and the web
    app read. Publishing a run twice changes nothing."""
    published = publish_with_progress(run_id, root, db)
    if published.created:
        say("Published ", styled(published.run_id, "bold"), f" into {published.folder}")
    else:
        say(f"Run {published.run_id} is published already: {published.folder} (nothing changed)")


def publish_with_progress(run_id: str, root: Path | None, db: Path | None) -> Published:
    """Publish (publish.build.publish_run) with a status line."""
    from govsocial.publish.build import publish_run

    with err.status("Publishing ...") as status:
        return publish_run(
            db_path(db), run_id, root, step=lambda s: status.update(f"Publishing: {s} ...")
        )


def report(
    run: Annotated[
        str,
        typer.Argument(help="A run id (published first if it is not yet), or a published folder."),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder to write (default: report-<run id>-<lang> beside the warehouse).",
            show_default=False,
        ),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="id (Bahasa Indonesia) or en (English).")
    ] = "id",
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also write the A4 PDF scorecards.")
    ] = False,
    root: RootOption = None,
    db: DbOption = None,
) -> None:
    """Write a run's report: the results site (overview, categories, leaderboards,
    methodology), a scorecard per institution and the exports (CSV, XLSX, Parquet). It opens
    from disk: no network, no server."""
    from govsocial.errors import UsageError
    from govsocial.publish.model import ReadModel
    from govsocial.reports.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise UsageError(f"--lang must be one of {', '.join(LANGUAGES)} (got '{lang}').")
    given = Path(run)
    if given.is_dir():
        model = ReadModel.open(given)
        base = given.parent
    else:
        published = publish_with_progress(run, root, db)
        model = ReadModel.open(published.folder)
        base = db_path(db).parent
    target = out or base / f"report-{model.run_id}-{lang}"
    written = report_with_progress(model, target, lang, pdf)
    say(f"Scorecards: {len(written.scorecards)} files; exports: {len(written.exports)} files.")
    say("Open ", styled(str(written.index), "bold"), " in a browser.")


def report_with_progress(model: ReadModel, target: Path, lang: str, pdf: bool) -> Report:
    """Write the report (reports.report.write_report) with a progress bar per part."""
    from govsocial.reports.report import PARTS, write_report

    with progress() as bar:
        tasks = {name: bar.add_task(f"Writing the {name}", total=None) for name in PARTS}

        def step(name: str, done: int, total: int) -> None:
            bar.update(tasks[name], completed=done, total=total)

        written = write_report(model, target, lang, pdf=pdf, progress=step)
    if model.synthetic:
        warn(styled("SYNTHETIC DATA: the report says so on every page.", "bold"))
    return written
