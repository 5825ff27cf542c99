"""When the counts of a file were read (``captured_at``), decided in one place for every reader.

Post counts and follower counts are snapshots: each needs the moment it was read. In order:

1. the record's own time, where the format records one (twarc2's ``__twarc.retrieved_at``;
   a collector's page is stamped when it is fetched); readers apply this themselves;
2. ``--captured-at`` (:attr:`ImportOptions.captured_at`), when the user knows better;
3. the export time in the file's **name**, as CrowdTangle names its exports
   (``2021-07-05-22-49-20-BRT-search-csv-export.csv``: 22:49:20 Brasília time), the zone
   being an abbreviation of ``govsocial.sources.timezones`` (or ``--tz`` when it is not);
4. the file's modification time (right if the file was not copied or edited since).

A time written without an offset is read in ``--tz`` when given, else as UTC (never the
machine's local time, which would make imports depend on where they run).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from govsocial.errors import ConfigError
from govsocial.sources.staging import ImportOptions
from govsocial.sources.timezones import resolve_tz

_NAME_TIME = re.compile(
    r"(?<!\d)(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})(?:-([A-Za-z]{1,5}))?(?![\d])"
)


def time_zone(options: ImportOptions, default: tzinfo | None = UTC) -> tzinfo | None:
    """The zone of times written without an offset: ``--tz``, else ``default``."""
    return default if options.tz is None else resolve_tz(options.tz)


def aware(moment: datetime, options: ImportOptions) -> datetime:
    """``moment`` in UTC; without an offset it is read in ``--tz``, else as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=time_zone(options))
    return moment.astimezone(UTC)


def time_in_name(name: str, options: ImportOptions) -> datetime | None:
    """The export time a file's name carries (CrowdTangle's ``YYYY-MM-DD-HH-MM-SS-ZONE``)."""
    match = _NAME_TIME.search(name)
    if match is None:
        return None
    *parts, zone_name = match.groups()
    zone: tzinfo | None = None
    if zone_name:
        try:
            zone = resolve_tz(zone_name.upper())
        except ConfigError:
            zone = None
    if zone is None:
        if options.tz is None:
            return None  # a time in an unknown zone is not a time: use the next rule
        zone = resolve_tz(options.tz)
    try:
        year, month, day, hour, minute, second = (int(p) for p in parts)
        return datetime(year, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)
    except ValueError:  # 2021-13-45-…: digits, not a date
        return None


def captured_at(path: Path, options: ImportOptions) -> datetime:
    """When the counts in ``path`` were read, for records that do not say (rules 2–4)."""
    if options.captured_at is not None:
        return aware(options.captured_at, options)
    named = time_in_name(path.name, options)
    if named is not None:
        return named
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)
