"""CrowdTangle CSV exports (Facebook pages and groups, Instagram accounts): format
``crowdtangle`` (docs/import-crowdtangle.md)."""

from govsocial.sources.crowdtangle.files import FORMAT_NAME, sniff, stage
from govsocial.sources.staging import Format

FORMAT = Format(
    FORMAT_NAME,
    "CrowdTangle CSV export of Facebook pages/groups or Instagram accounts",
    sniff,
    stage,
)

__all__ = ["FORMAT", "sniff", "stage"]
