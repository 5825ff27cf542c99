"""Time-zone abbreviations found in export files, and resolving the ``--tz`` option.

Some exports write local times with an *abbreviation* instead of an offset: CrowdTangle's CSV
writes ``Post Created`` as ``2021-07-05 18:02:45 BRT`` or ``2024-02-14 09:00:00 WIB``, in the
time zone of the user who exported it. Where the tz database has no letters for a zone it
writes the offset itself (``-03`` for America/Sao_Paulo since 2017, ``+07``), so bare offsets
are accepted too. An abbreviation names a *fixed* offset: summer time is a different
abbreviation (``EST`` −05:00 in winter, ``EDT`` −04:00 in summer), so the table below needs no
dates.

Abbreviations are not unique worldwide. Where one is ambiguous the table takes the reading an
export most likely means and says so; ``--tz`` with an IANA name (``Asia/Shanghai``) overrides
it. Reference: the IANA tz database (https://www.iana.org/time-zones) and
https://en.wikipedia.org/wiki/List_of_time_zone_abbreviations.
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from govsocial.errors import UsageError

# abbreviation -> UTC offset ("+HH:MM"). Keys are upper case; lookups ignore case.
ABBREVIATIONS: dict[str, str] = {
    # Indonesia (Waktu Indonesia Barat / Tengah / Timur): no summer time.
    "WIB": "+07:00",  # western: Sumatra, Java, West & Central Kalimantan (Asia/Jakarta)
    "WITA": "+08:00",  # central: Bali, Nusa Tenggara, Sulawesi (Asia/Makassar)
    "WIT": "+09:00",  # eastern: Maluku, Papua (Asia/Jayapura)
    # Universal
    "UTC": "+00:00",
    "GMT": "+00:00",
    "Z": "+00:00",
    # Americas
    "BRT": "-03:00",  # Brasília time (America/Sao_Paulo)
    "BRST": "-02:00",  # Brasília summer time (until 2019)
    "ART": "-03:00",  # Argentina
    "AST": "-04:00",  # Atlantic standard (not Arabia standard)
    "ADT": "-03:00",
    "EST": "-05:00",  # US/Canada eastern
    "EDT": "-04:00",
    "CST": "-06:00",  # US/Canada central (China standard is +08:00: use --tz Asia/Shanghai)
    "CDT": "-05:00",
    "MST": "-07:00",  # US/Canada mountain
    "MDT": "-06:00",
    "PST": "-08:00",  # US/Canada pacific (not Philippine: that is PHT)
    "PDT": "-07:00",
    "AKST": "-09:00",
    "AKDT": "-08:00",
    "HST": "-10:00",
    # Europe and Africa
    "WET": "+00:00",
    "WEST": "+01:00",
    "BST": "+01:00",  # British summer time (not Bangladesh: use --tz Asia/Dhaka)
    "IST": "+05:30",  # India (not Irish or Israel standard time: use --tz with an IANA name)
    "CET": "+01:00",
    "CEST": "+02:00",
    "EET": "+02:00",
    "EEST": "+03:00",
    "MSK": "+03:00",
    "SAST": "+02:00",
    "WAT": "+01:00",
    "EAT": "+03:00",
    # Asia and Oceania
    "PKT": "+05:00",
    "ICT": "+07:00",  # Indochina: Thailand, Vietnam, Cambodia, Laos
    "SGT": "+08:00",
    "MYT": "+08:00",
    "PHT": "+08:00",
    "HKT": "+08:00",
    "AWST": "+08:00",
    "JST": "+09:00",
    "KST": "+09:00",
    "ACST": "+09:30",
    "ACDT": "+10:30",
    "AEST": "+10:00",
    "AEDT": "+11:00",
    "NZST": "+12:00",
    "NZDT": "+13:00",
}

# "+07", "-03", "+0530", "+05:30", "UTC+7", "GMT-03:00"
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


def fixed_offset(name: str) -> timezone | None:
    """The fixed offset an abbreviation or a written offset stands for; None if unknown."""
    text = name.strip()
    offset = ABBREVIATIONS.get(text.upper())
    if offset is not None:
        text = offset
    match = _OFFSET.match(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if delta > timedelta(hours=14):
        return None
    if not delta:
        return UTC
    return timezone(-delta if sign == "-" else delta, name.strip().upper())


def resolve_tz(name: str) -> tzinfo:
    """``--tz``: an abbreviation from :data:`ABBREVIATIONS`, an offset, or an IANA name.

    >>> resolve_tz("WIB").utcoffset(None)
    datetime.timedelta(seconds=25200)
    """
    fixed = fixed_offset(name)
    if fixed is not None:
        return fixed
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a valid key ("", "../x")
        pass
    known = ", ".join(ABBREVIATIONS)
    raise UsageError(
        f"--tz: unknown time zone '{name}'. Give an IANA name such as Asia/Jakarta, an offset "
        f"such as +07:00, or one of the abbreviations: {known}."
    )


def arrow_timezone(zone: tzinfo) -> str:
    """The name pyarrow (and DuckDB) understand for ``zone``: an IANA key or ``+HH:MM``."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = zone.utcoffset(None)
    if offset is None:
        raise ValueError(f"time zone {zone!r} has no fixed offset and no IANA name")
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, minute = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{minute:02d}"
