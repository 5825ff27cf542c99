"""Every message a report shows has its Indonesian translation, and numbers and dates follow
the language (reports/i18n.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

import govsocial.reports
import govsocial.web
from govsocial.errors import ConfigError
from govsocial.reports.i18n import DOMAINS, Language, catalogue

REPORTS = Path(govsocial.reports.__file__).parent
WEB = Path(govsocial.web.__file__).parent
# Which files speak for which domain: templates by folder, modules by name (the web app's
# files under web/, the others under reports/).
SOURCES = {
    "site": ["templates/site/**/*.html", "site*.py"],
    "scorecard": ["templates/scorecard/**/*.html", "scorecards.py", "charts.py"],
    "exports": ["exports*.py"],
    "web": ["templates/**/*.html", "*.py"],
}
KEYWORDS = {"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)}


def messages(domain: str) -> dict[str, str]:
    """msgid → where it is used, extracted as gettext tools do (Babel; Jinja2's extractor)."""
    found: dict[str, str] = {}
    base = WEB if domain == "web" else REPORTS
    for pattern in SOURCES[domain]:
        for path in sorted(base.glob(pattern)):
            method = "jinja2.ext:babel_extract" if path.suffix == ".html" else "python"
            for line, message, _, _ in extract_from_file(method, path, keywords=KEYWORDS):
                first = message[0] if isinstance(message, tuple) else message
                if first:
                    found.setdefault(first, f"{path.relative_to(base)}:{line}")
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_message_has_an_indonesian_translation(domain: str) -> None:
    used = messages(domain)
    translated = catalogue("id", domain)
    if domain == "web":  # the web shows the site's pages: their messages serve it too
        translated = {**catalogue("id", "site"), **translated}
    missing = {m: where for m, where in used.items() if m not in translated}
    assert not missing, f"untranslated in locales/id/{domain}.po: {missing}"


def test_numbers_and_dates_follow_the_language() -> None:
    indonesian, english = Language("id"), Language("en")
    assert indonesian.number(1234.5) == "1.234,5" and english.number(1234.5) == "1,234.5"
    assert indonesian.number(0.5, 2) == "0,50" and indonesian.number(None) == "–"
    assert indonesian.percent(0.1234) == "12,3%" and english.percent(0.1234) == "12.3%"
    moment = datetime(2026, 11, 22, 20, 5, tzinfo=UTC)  # 23 November, 03.05 in WIB
    assert indonesian.date(moment) == "23 November 2026"
    assert indonesian.date("2026-08-17") == "17 Agustus 2026"
    assert english.date("2026-08-17") == "17 August 2026"
    assert indonesian.datetime(moment) == "23 November 2026 03.05 WIB"
    assert english.ngettext("{n} post", "{n} posts", 1234) == "1,234 posts"
    with pytest.raises(ConfigError, match="id = Bahasa Indonesia"):
        Language("fr")
