"""What people read, in their language: message catalogues and locale formats (Babel).

Every sentence, label and chart title a report shows is written in English in the code or a
template (``_("Posts")``) and translated by a gettext catalogue per language and *domain*
(``reports/locales/<lang>/<domain>.po``; a domain per kind of output: ``site``,
``scorecard``, ``exports``), read with Babel (no compiled ``.mo`` files to keep in step).
English needs no catalogue. Indonesian is the default: the people the award is for work in it.

Numbers, percentages and dates follow the language's locale (CLDR data via Babel):
``1.234,5`` and ``22 November 2026`` in Indonesian, ``1,234.5`` and ``22 November 2026`` in
English. Times are shown in WIB (UTC+7), the award's zone, and say so.

``tests/reports/test_i18n.py`` checks that every message the templates and code use has an
Indonesian translation, so a missing one fails the tests instead of showing English.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from typing import Any

import jinja2
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from govsocial.errors import ConfigError
from govsocial.vocabulary import WIB

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
DOMAINS = ("site", "scorecard", "exports", "web")  # web: the web app's own pages (web/)
_LOCALES = {"id": "id_ID", "en": "en_GB"}  # en_GB: "22 November 2026", day first


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue where it is defined (a table of labels, say); it is
    translated where it is shown."""
    return message


def template_environment(folder: str) -> jinja2.Environment:
    """The Jinja2 environment of the report's templates in ``templates/<folder>``: escaping
    on, an undefined name an error, blocks trimmed. Callers add their globals (``_``)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("govsocial.reports", f"templates/{folder}".rstrip("/")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def check_language(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`, else a :class:`ConfigError` naming them."""
    if lang not in LANGUAGES:
        raise ConfigError(
            f"There is no language '{lang}' for reports. Choose one of: "
            f"{', '.join(LANGUAGES)} (id = Bahasa Indonesia, the default; en = English)."
        )
    return lang


@functools.cache
def catalogue(lang: str, domain: str) -> Mapping[str, str | tuple[str, ...]]:
    """The translations of ``domain`` into ``lang``: msgid → msgstr (a tuple for plurals),
    from ``locales/<lang>/<domain>.po`` and any ``<domain>.<part>.po`` beside it (a large
    domain kept in parts: ``web.jury.po``). Empty for English; untranslated (empty or fuzzy)
    entries are left out."""
    check_language(lang)
    if lang == "en":
        return {}
    folder = resources.files("govsocial.reports") / "locales" / lang
    found: dict[str, str | tuple[str, ...]] = {}
    names = sorted(
        entry.name
        for entry in folder.iterdir()
        if entry.name == f"{domain}.po"
        or (entry.name.startswith(f"{domain}.") and entry.name.endswith(".po"))
    )
    for name in names:
        with (folder / name).open("rb") as handle:
            po = read_po(handle, locale=_LOCALES[lang])
        for message in po:
            if not message.id or message.fuzzy:
                continue
            key = message.id[0] if isinstance(message.id, tuple | list) else message.id
            if isinstance(message.string, tuple | list):
                if all(message.string):
                    found[key] = tuple(message.string)
            elif message.string:
                found[key] = message.string
    return found


@dataclass(frozen=True)
class Language:
    """The messages and formats of one language for one domain of output."""

    lang: str = DEFAULT_LANGUAGE
    domain: str = "site"

    def __post_init__(self) -> None:
        check_language(self.lang)

    @functools.cached_property
    def locale(self) -> Locale:
        return Locale.parse(_LOCALES[self.lang])

    def gettext(self, message: str, **values: Any) -> str:
        """``message`` translated, then ``{name}`` fields filled from ``values``."""
        found = catalogue(self.lang, self.domain).get(message, message)
        text = found[0] if isinstance(found, tuple) else found
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        """The form for ``n`` (Indonesian has one form); ``{n}`` is the formatted count."""
        found = catalogue(self.lang, self.domain).get(singular)
        if isinstance(found, tuple):
            text = found[0] if len(found) == 1 else found[0 if n == 1 else 1]
        elif isinstance(found, str):
            text = found
        else:
            text = singular if n == 1 else plural
        return text.format(n=self.number(n), **values)

    def number(self, value: float | int | None, decimals: int | None = None) -> str:
        """1234.5 → '1.234,5' (id) or '1,234.5' (en); ``decimals`` fixes the digits after the
        separator; None → '–'."""
        if value is None or (isinstance(value, float) and value != value):
            return "–"
        if decimals is None:
            return format_decimal(value, locale=self.locale)
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, fraction: float | None, decimals: int = 1) -> str:
        """0.1234 → '12,3%' (id) or '12.3%' (en); None → '–'."""
        if fraction is None or fraction != fraction:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
        return format_percent(fraction, format=pattern, locale=self.locale)

    def date(self, value: date | datetime | str | None) -> str:
        """'22 November 2026' (id and en); an ISO string is read first; None → '–'."""
        if value is None:
            return "–"
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, datetime):
            value = value.astimezone(WIB).date() if value.tzinfo else value.date()
        return format_date(value, format="long", locale=self.locale)

    def datetime(self, value: datetime | str | None) -> str:
        """'22 November 2026 14.05 WIB' (id) or '22 November 2026, 14:05 WIB' (en)."""
        if value is None:
            return "–"
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = value.astimezone(WIB)
        shown = format_datetime(moment, format="d MMMM y HH.mm" if self.lang == "id"
                                else "d MMMM y, HH:mm", locale=self.locale)  # fmt: skip
        return f"{shown} WIB"
