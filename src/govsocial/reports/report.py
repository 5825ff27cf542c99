"""The report of a published run: the results site, the institution scorecards (HTML, and A4
PDF when asked) and the exports, in one folder that opens from disk (docs/reports.md).

Each part is written by its module (``site``, ``scorecards``, ``exports``); this service runs
them in order, the site first (it replaces the folder whole), and reports progress per part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from govsocial.publish.model import ReadModel
from govsocial.reports.i18n import DEFAULT_LANGUAGE, check_language

# (part, done, total): the part being written and how far it is
ReportProgress = Callable[[str, int, int], None]
PARTS = ("site", "scorecards", "exports")


@dataclass
class Report:
    index: Path  # the overview page to open
    scorecards: list[Path] = field(default_factory=list)
    exports: list[Path] = field(default_factory=list)


def write_report(
    model: ReadModel,
    out: Path,
    lang: str = DEFAULT_LANGUAGE,
    *,
    pdf: bool = False,
    progress: ReportProgress | None = None,
) -> Report:
    """Write the report of ``model`` into ``out`` in ``lang`` (``id`` or ``en``)."""
    from govsocial.reports.exports import write_exports
    from govsocial.reports.scorecards import write_scorecards
    from govsocial.reports.site import write_site

    check_language(lang)

    def part(name: str) -> Callable[[int, int], None] | None:
        return (lambda done, total: progress(name, done, total)) if progress else None

    index = write_site(model, out, lang, progress=part("site"))
    cards = write_scorecards(model, out, lang, pdf=pdf, progress=part("scorecards"))
    exports = write_exports(model, out, lang)
    if progress:
        progress("exports", 1, 1)
    return Report(index, cards, exports)
