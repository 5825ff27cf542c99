"""The results document: deterministic JSON (docs/results-schema.md) and the run id."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from govsocial import __version__

SCHEMA = "govsocial.results/1"
SIGNIFICANT_DIGITS = 6  # floats are rounded so that backends' last-bit differences vanish


def run_id(methodology_sha256: str, data_fingerprint: str, code_version: str = __version__) -> str:
    """Same methodology file + same data loaded + same code = same run id."""
    text = f"{methodology_sha256}\n{data_fingerprint}\n{code_version}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def clean(value: Any) -> Any:
    """Round floats to SIGNIFICANT_DIGITS, NaN/inf to None, recursively."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def dumps(document: dict[str, Any]) -> str:
    """The canonical text: the same document always gives the same bytes."""
    return json.dumps(clean(document), ensure_ascii=False, indent=1, allow_nan=False) + "\n"


NOMINEE_COLUMNS = (
    "category",
    "cluster",
    "rank",
    "institution_id",
    "institution_name",
    "account_id",
    "platform",
    "handle",
    "score",
    "posts",
    "followers",
    "flags",
)


def nominee_rows(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One row per nominee, in :data:`NOMINEE_COLUMNS` order (for CSV and spreadsheets)."""
    rows = []
    for category in document["categories"]:
        for cluster in category["clusters"]:
            for n in cluster["nominees"]:
                rows.append(
                    (
                        category["id"],
                        cluster["cluster_id"],
                        n["rank"],
                        n["institution_id"],
                        n["institution_name"],
                        n.get("account_id"),
                        n.get("platform"),
                        n.get("handle"),
                        n["score"],
                        n["posts"],
                        n["followers"],
                        ";".join(sorted({f["flag"] for f in n["flags"]})),
                    )
                )
    return rows
