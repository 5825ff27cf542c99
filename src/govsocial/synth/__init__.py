"""A realistic synthetic world: 211 institutions, ~1,000 accounts and a year of posts.

``generate(out_dir)`` writes what an organiser would have after a year of collection, in the
project's own import formats (docs/formats.md): ``registry.yaml``,
``account_snapshots.parquet``, ``posts-NNNN.parquet`` (about a million posts each) and
``synth_truth.json`` (what later stages should find: inflated accounts, viral posts).
The same seed and post count give byte-identical files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml

from govsocial.synth import posts as _posts
from govsocial.synth.captions import build_pools
from govsocial.synth.world import (
    COLLECTION_END,
    PERIOD_END,
    PERIOD_START,
    build_world,
    registry_document,
    snapshot_table,
)
from govsocial.vocabulary import PLATFORMS

__all__ = ["SynthResult", "generate"]


@dataclass(frozen=True)
class SynthResult:
    registry_path: Path
    account_snapshot_files: list[Path]
    post_files: list[Path]
    truth_path: Path
    institutions: int
    accounts: int
    posts: int
    period_start: datetime
    period_end: datetime
    seed: int


def generate(
    out_dir: Path,
    *,
    seed: int = 2025,
    posts: int = 500_000,
    on_progress: Callable[[int], None] | None = None,
) -> SynthResult:
    """Write a synthetic world of about ``posts`` posts into ``out_dir``.

    ``on_progress(n)`` is called with each increment of posts generated (they sum to the
    returned ``posts``), for a progress bar with ``total=posts``.
    """
    if not 0 <= posts < 10**8:  # post ids hold the post's sequence number in 8 digits
        raise ValueError(f"posts must be between 0 and 99,999,999, got {posts}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("posts-[0-9][0-9][0-9][0-9].parquet"):
        stale.unlink()  # a previous, larger run must not leave extra files behind
    world = build_world(seed)
    registry_path = out_dir / "registry.yaml"
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # the C dumper is much faster
    registry_path.write_text(
        yaml.dump(
            registry_document(world), Dumper=dumper, sort_keys=False, allow_unicode=True, width=120
        ),
        encoding="utf-8",
    )
    places = [
        i.name.removeprefix("Pemerintah ")
        for i in world.institutions
        if i.sub_cluster in ("kota", "kabupaten")
    ]
    pools = build_pools(seed, world, places)
    outcome = _posts.write_posts(
        world, pools, out_dir, seed=seed, total=posts, on_progress=on_progress
    )
    snapshots = out_dir / "account_snapshots.parquet"
    pq.write_table(snapshot_table(world, outcome.posts_before), snapshots, compression="zstd")

    def accounts_where(mask: np.ndarray) -> list[dict[str, str]]:
        return [
            {
                "platform": PLATFORMS[int(world.platform[a])],
                "account_platform_id": world.platform_ids[a],
                "account_handle": world.handles[a],
            }
            for a in np.flatnonzero(mask).tolist()
        ]

    inflated = accounts_where(world.inflated)
    truth = {
        "synthetic": True,
        "seed": seed,
        "requested_posts": posts,
        "posts": outcome.posts,
        "period_start": PERIOD_START.isoformat(),
        "period_end": PERIOD_END.isoformat(),
        "collection_end": COLLECTION_END.isoformat(),
        "institutions": len(world.institutions),
        "accounts": world.size,
        "inflated_accounts": inflated,
        "inflated_account_platform_ids": [x["account_platform_id"] for x in inflated],
        "dormant_account_platform_ids": [
            x["account_platform_id"] for x in accounts_where(world.rate == 0)
        ],
        "viral_post_count": len(outcome.viral_ids),
        "viral_post_ids": outcome.viral_ids,
        "parameters": {
            "engagement_exponent": _posts.EXPONENT,
            "viral_rate": _posts.VIRAL_RATE,
            "viral_multiplier": [20, 200],
            "inflated_like_multiplier": [5, 20],
            "inflated_post_share": _posts.INFLATED_SHARE,
            "observation_lag_days": [1, 7, 30],
            "accrual": [[0.45, 0.75], "+60-90% of rest", 1.0],
        },
    }
    truth_path = out_dir / "synth_truth.json"
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return SynthResult(
        registry_path=registry_path,
        account_snapshot_files=[snapshots],
        post_files=outcome.files,
        truth_path=truth_path,
        institutions=len(world.institutions),
        accounts=world.size,
        posts=outcome.posts,
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        seed=seed,
    )
