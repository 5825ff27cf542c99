"""The one reader of saved API responses (``sources/responses.py``), through each format that
reads with it (YouTube, TikTok) into a real warehouse: a file of nothing but error responses
is refused naming the API's error and its fix, and a response cut off while it was saved is
refused as incomplete, not blamed on the request; nothing of either is kept."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import scalar
from govsocial.errors import InputError
from govsocial.sources.formats import detect, stager
from govsocial.sources.staging import ImportOptions
from govsocial.store import Warehouse, load_file

FIXTURES = Path(__file__).parent.parent / "fixtures"
OPTIONS = ImportOptions(captured_at=datetime(2025, 4, 1, 5, 0, tzinfo=UTC))
API = {"youtube": "YouTube Data API", "tiktok-research": "TikTok Research API"}
FOLDER = {"youtube": "youtube", "tiktok-research": "tiktok"}


@pytest.mark.parametrize(
    ("fmt", "name", "error", "fix"),
    [
        (
            "youtube",
            "error_response.json",
            "YouTube Data API error (keyInvalid, code 400): Bad Request.",
            "Fix: the API key is wrong",
        ),
        (
            "youtube",
            "quota_exceeded.json",
            "YouTube Data API error (quotaExceeded, code 403): The request cannot be completed "
            "because you have exceeded your quota.",
            "Fix: the project's daily quota is used up",
        ),
        (
            "tiktok-research",
            "access_token_invalid.json",
            "TikTok Research API error (access_token_invalid): Access token is invalid, please "
            "refresh token and retry (log_id 20220829194722CBE87ED59D524E727021).",
            "Fix: the client access token is invalid or expired (it lasts 2 hours)",
        ),
        (
            "tiktok-research",
            "daily_quota_limit_exceeded.jsonl",
            "TikTok Research API error (daily_quota_limit_exceeded): Daily quota limit exceeded "
            "(log_id 20250301000512A1B2C3D4E5F6A7B8C9D0) (and 1 more error response).",
            "fetch again after it resets at 00:00 UTC",
        ),
    ],
)
def test_a_file_of_error_responses_is_refused_naming_the_error_and_its_fix(
    warehouse: Warehouse, tmp_path: Path, fmt: str, name: str, error: str, fix: str
) -> None:
    path = Path(shutil.copy(FIXTURES / FOLDER[fmt] / name, tmp_path / name))
    assert detect(path) == fmt
    with pytest.raises(InputError) as refused:
        load_file(warehouse, path, stager(detect(path), OPTIONS))
    message = str(refused.value)
    assert message.startswith(f"{path}: is a {API[fmt]} error response, not data: {error}")
    assert fix in message and "Nothing was imported" in message
    for table in ("posts", "account_snapshots", "quarantine", "raw_files"):
        assert scalar(warehouse, f"SELECT count(*) FROM {table}") == 0


@pytest.mark.parametrize(
    ("fmt", "name", "before", "one_line", "blamed"),
    [
        ("youtube", "videos_info.json", '"commentCount": "2965"', False, ("key", "quota")),
        ("youtube", "videos_info.json", '"commentCount": "2965"', True, ("key", "quota")),
        ("tiktok-research", "api_response.json", '"username":"meowmeowmamma"', False, ("token",)),
    ],
)
def test_a_cut_off_response_is_refused_as_incomplete_not_blamed_on_the_request(
    warehouse: Warehouse,
    tmp_path: Path,
    fmt: str,
    name: str,
    before: str,
    one_line: bool,
    blamed: tuple[str, ...],
) -> None:
    text = (FIXTURES / FOLDER[fmt] / name).read_text(encoding="utf-8")
    if one_line:
        text = json.dumps(json.loads(text))
    path = tmp_path / ("page.jsonl" if one_line else "page.json")
    path.write_text(text[: text.index(before)], encoding="utf-8")  # a save interrupted there
    assert detect(path) == fmt
    with pytest.raises(InputError) as refused:
        load_file(warehouse, path, stager(fmt, OPTIONS))
    message = str(refused.value)
    assert message.startswith(f"{path}: is incomplete: the {API[fmt]} response that begins")
    assert "Save the response again, whole" in message
    assert not any(word in message for word in blamed)
    assert scalar(warehouse, "SELECT count(*) FROM raw_files") == 0
