"""Facebook Graph API JSON (``/{page-id}/feed`` pages, posts, Page objects): facebook-graph.

What it shares with the Instagram reader (the same Graph API) is in
:mod:`govsocial.sources.graph`. User guide: docs/import-facebook-instagram.md.
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
