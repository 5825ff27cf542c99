"""Facebook Graph API JSON (``/{page-id}/feed`` pages, posts, Page objects): facebook-graph.

Its modules ``graph`` (JSON, errors, values) and ``rows`` (Arrow tables) also serve the
Instagram reader: both are the same Graph API. User guide: docs/import-facebook-instagram.md.
"""

from govsocial.sources.facebook.files import FORMAT_NAME, sniff, stage
from govsocial.sources.staging import Format

FORMAT = Format(
    FORMAT_NAME,
    "Facebook Graph API JSON: /{page-id}/feed pages, posts and Page objects, as received",
    sniff,
    stage,
)

__all__ = ["FORMAT", "sniff", "stage"]
