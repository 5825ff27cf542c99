"""How numbers, counts and times are written for people: one format everywhere.

Counts use thousands separators and agree in number ("1 post", "2 posts"); a time shown to a
person always names its zone.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from govsocial.vocabulary import WIB

# Nouns whose plural is not noun + "s".
_PLURALS = {"entry": "entries", "batch": "batches", "category": "categories", "reply": "replies"}


def number(n: int | float) -> str:
    """1234567 → '1,234,567'; a float keeps one decimal ('12.5')."""
    if isinstance(n, float) and not n.is_integer():
        return f"{n:,.1f}"
    return f"{int(n):,}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """count(1, 'post') → '1 post'; count(2, 'post') → '2 posts'; count(3, 'batch') →
    '3 batches'."""
    if n == 1:
        return f"1 {noun}"
    return f"{number(n)} {plural or _PLURALS.get(noun) or noun + 's'}"


def of(shown: int, total: int, noun: str) -> str:
    """'2 of 47 records' (or 'all 3 records', '1 record')."""
    if shown >= total:
        return count(total, noun) if total < 2 else f"all {count(total, noun)}"
    return f"{number(shown)} of {count(total, noun)}"


def when(moment: datetime | None, zone: tzinfo = WIB, *, seconds: bool = False) -> str:
    """A time with its zone named: '2025-03-01 08:00 WIB'; a naive time is taken as UTC."""
    if moment is None:
        return "-"
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    name = local.tzname() or ""
    if zone is WIB:
        name = "WIB"
    return f"{local:%Y-%m-%d %H:%M{':%S' if seconds else ''}} {name}".rstrip()


def day(moment: datetime | None, zone: tzinfo = WIB) -> str:
    """A date in ``zone``: '2025-03-01'."""
    if moment is None:
        return "-"
    return f"{moment.astimezone(zone):%Y-%m-%d}"
