"""YouTube Data API v3 responses (``videos.list``, ``channels.list``, …) saved as JSON/JSONL.

See docs/import-youtube.md for how to get such files and how each field is mapped.
"""

from govsocial.sources.staging import Format
from govsocial.sources.youtube.files import FORMAT_NAME, read_file, sniff, stage
from govsocial.sources.youtube.records import Channel, Page, PlaylistItem, SearchResult, Video

FORMAT = Format(
    FORMAT_NAME,
    "YouTube Data API v3 responses (videos.list, channels.list) as JSON or JSON Lines",
    sniff,
    stage,
)

__all__ = [
    "FORMAT",
    "Channel",
    "Page",
    "PlaylistItem",
    "SearchResult",
    "Video",
    "read_file",
    "sniff",
    "stage",
]
