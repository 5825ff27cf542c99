"""TikTok Research API responses (video query pages, user info) saved as JSON/JSONL.

See docs/import-tiktok.md for how to get such files and how each field is mapped.
"""

from govsocial.sources.staging import Format
from govsocial.sources.tiktok.files import FORMAT_NAME, read_file, sniff, stage
from govsocial.sources.tiktok.records import Response, UserInfo, Video, saved_response

FORMAT = Format(
    FORMAT_NAME,
    "TikTok Research API responses (/v2/research/video/query/, /v2/research/user/info/ "
    "saved with its username) as JSON or JSON Lines",
    sniff,
    stage,
)

__all__ = [
    "FORMAT",
    "Response",
    "UserInfo",
    "Video",
    "read_file",
    "saved_response",
    "sniff",
    "stage",
]
