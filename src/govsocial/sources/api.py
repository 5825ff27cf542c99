"""What every platform's API says when it fails: one :class:`ApiError` shape for all.

Files saved from an API (and, later, pages a collector fetches) carry error objects instead
of, or beside, their data: Graph API ``{"error": {"message", "type", "code", "fbtrace_id"}}``,
YouTube ``{"error": {"code": 403, "message", "errors": [{"reason": "quotaExceeded"}]}}``,
X v2 ``"errors": [{"title", "detail", "resource_type", "resource_id"}]``. Each platform's
``records.py`` reads its own shape into this one, so quarantine details and messages read
the same for every platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENVELOPE = re.compile(rb'"error"\s*:\s*\{')
# The Graph API's error envelope has a trace id or an ...Exception type; Google's has neither.
_GRAPH_MARK = re.compile(rb'"fbtrace_id"\s*:|"type"\s*:\s*"\w*Exception"')


def error_in_head(head: bytes, *, graph: bool) -> bool:
    """Whether a file's first bytes hold an error envelope ``{"error": {...}}`` of the Graph
    API (``graph``), or of another API (Google's), for the formats' ``sniff``."""
    return bool(_ENVELOPE.search(head)) and bool(_GRAPH_MARK.search(head)) == graph


@dataclass(frozen=True, slots=True)
class ApiError:
    """An error a platform's API returned instead of (or beside) data."""

    api: str  # "Graph API", "YouTube Data API", "X API"
    message: str
    code: str | None = None  # the API's code or status: "100", "403"
    kind: str | None = None  # its type or reasons: "OAuthException", "quotaExceeded"
    resource: str | None = None  # what it was about: "tweet 1380242611781386245"

    def describe(self) -> str:
        """One phrase: ``X API error (Not Found Error): Could not find tweet … (tweet 12)``."""
        labels = ", ".join(p for p in (self.kind, self.code and f"code {self.code}") if p)
        what = f"{self.api} error" + (f" ({labels})" if labels else "")
        about = f" ({self.resource})" if self.resource else ""
        return f"{what}: {self.message}{about}"
