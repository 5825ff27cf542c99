"""X (Twitter) API v2 responses and twarc2 JSONL: format ``x-v2`` (docs/import-x.md)."""

from govsocial.sources.staging import Format, ImportOptions
from govsocial.sources.x.files import FORMAT_NAME, sniff, stage

FORMAT = Format(
    FORMAT_NAME,
    "X API v2 responses: twarc2 JSONL (search, timeline, stream, users, flatten), saved "
    "JSON, academictwitteR data_/users_ files",
    sniff,
    stage,
)

__all__ = ["FORMAT", "ImportOptions", "sniff", "stage"]
