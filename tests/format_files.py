"""One real file per import format, each staging posts and, where the format carries them,
follower counts: the files every format-wide contract test runs on."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATES = Path(__file__).parents[1] / "docs" / "templates"
FILES = {
    "generic": TEMPLATES / "generic_posts.csv",
    "crowdtangle": FIXTURES / "crowdtangle" / "facebook_wib.csv",
    "x-v2": FIXTURES / "x" / "noflat.jsonl",
    "facebook-graph": FIXTURES / "facebook" / "page_with_feed.json",
    "instagram-graph": FIXTURES / "instagram" / "business_discovery.json",
    "youtube": FIXTURES / "youtube" / "videos_info.json",
    "tiktok-research": FIXTURES / "tiktok" / "api_response.json",
}
# Formats that keep every good record's payload in raw_records (tabular files keep their bytes).
RECORD_FORMATS = ("x-v2", "facebook-graph", "instagram-graph", "youtube", "tiktok-research")
