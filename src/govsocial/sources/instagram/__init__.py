"""Instagram Graph API JSON (``/{ig-user-id}/media`` pages, media, the user): instagram-graph.

User guide: docs/import-facebook-instagram.md.
"""

from govsocial.sources.instagram.files import FORMAT_NAME, sniff, stage
from govsocial.sources.staging import Format

FORMAT = Format(
    FORMAT_NAME,
    "Instagram Graph API JSON: /{ig-user-id}/media pages, media (with insights) and users",
    sniff,
    stage,
)

__all__ = ["FORMAT", "sniff", "stage"]
