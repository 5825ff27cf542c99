"""Posts, media mix, engagement and metric snapshots, written as generic posts files.

Each post is drawn from its account's own RNG stream (``[seed, 1, account]``), so a post
never depends on how accounts are grouped into files. Engagement: expected interactions
grow as ``followers ** 0.7`` (so the *rate* falls as audiences grow), times a media-type
factor, the account's content quality, lognormal post-to-post noise and rare viral
multipliers (x20-x200). Bought-likes accounts get likes (and Facebook reactions) x5-x20 on
most posts, comments untouched. X reposts carry the original post's counts, as X shows them.

Counts that a platform does not publish are NULL, consistently:

platform   views              likes  reactions  comments  shares  quotes  saves
---------  -----------------  -----  ---------  --------  ------  ------  -----
facebook   video, reel only   yes    yes        yes       yes     NULL    NULL
instagram  video, reel only   yes    NULL       yes       NULL    NULL    NULL
x          yes                yes    NULL       yes       yes     yes     yes
youtube    yes                yes    NULL       yes       NULL    NULL    NULL
tiktok     yes                yes    NULL       yes       yes     NULL    yes

Facebook ``likes`` is the Like reaction only (<= ``reactions``); X ``shares`` are reposts and
``saves`` bookmarks. Each post is observed 1-3 times (about +1, +7 and +30 days), with counts
non-decreasing; no observation falls after the collection date (period end + 30 days).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from govsocial.synth.captions import (
    CLUSTER_ORDER,
    MEDIA,
    CaptionPicks,
    CaptionPools,
    compose,
    encode,
)
from govsocial.synth.world import COLLECTION_END, PERIOD_START, World, to_us
from govsocial.vocabulary import COUNT_COLUMNS, PLATFORMS

POSTS_PER_FILE = 1_000_000
_BATCH = 100_000  # posts expanded to observation rows at a time (bounds memory)
_DAY_US = 86_400_000_000
_START_US, _COLLECT_US = to_us(PERIOD_START), to_us(COLLECTION_END)
COUNTS = COUNT_COLUMNS
_MIX = np.array(
    [  # media mix per platform, columns in MEDIA order
        [0.45, 0.12, 0.08, 0.15, 0.12, 0.08],  # facebook
        [0.40, 0.05, 0.00, 0.00, 0.30, 0.25],  # instagram
        [0.40, 0.12, 0.33, 0.15, 0.00, 0.00],  # x
        [0.00, 0.65, 0.00, 0.00, 0.00, 0.35],  # youtube
        [0.00, 0.00, 0.00, 0.00, 0.12, 0.88],
    ]
)  # tiktok
_MEDIA_FACTOR = np.array([1.0, 1.35, 0.45, 0.35, 1.2, 1.8])
_SCALE = np.array([0.06, 0.35, 0.025, 0.12, 0.45])  # interactions per followers**EXPONENT
EXPONENT = 0.7
VIRAL_RATE, INFLATED_SHARE = 0.001, 0.7
_VIEWS = np.array([30.0, 25.0, 120.0, 35.0, 25.0])  # views per interaction
_SPLIT = np.array(
    [  # interactions into likes, reactions, comments, shares, quotes, saves
        [0.00, 0.78, 0.12, 0.10, 0.00, 0.00],  # facebook (likes derived from reactions)
        [0.95, 0.00, 0.05, 0.00, 0.00, 0.00],
        [0.65, 0.00, 0.08, 0.20, 0.03, 0.04],
        [0.93, 0.00, 0.07, 0.00, 0.00, 0.00],
        [0.85, 0.00, 0.05, 0.05, 0.00, 0.05],
    ]
)
_KNOWN = np.array(
    [  # which of COUNTS[1:] each platform publishes
        [1, 1, 1, 1, 0, 0],
        [1, 0, 1, 0, 0, 0],
        [1, 0, 1, 1, 1, 1],
        [1, 0, 1, 0, 0, 0],
        [1, 0, 1, 1, 0, 1],
    ],
    dtype=bool,
)
_LINK_RATE = np.array([0.06, 0.01, 0.08, 0.10, 0.01])
_HOUR = np.array(
    [
        0.2,
        0.1,
        0.05,
        0.05,
        0.1,
        0.4,
        1.2,
        2.5,
        4.0,
        4.2,
        3.5,
        3.0,
        3.6,
        3.0,
        2.6,
        2.4,
        2.4,
        2.2,
        2.4,
        3.6,
        3.8,
        3.0,
        1.5,
        0.6,
    ]
)  # Jakarta hours
_HOUR /= _HOUR.sum()
_DAY = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.55, 0.45])[(3 + np.arange(365)) % 7]  # 1 Aug = Thu
_DAY[16] *= 1.6  # Independence Day (17 August)
_DAY[[146, 153]] *= 0.6  # Christmas, New Year
_DAY[[242, 243]] *= 0.35  # Idulfitri
_B62 = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_URL = {  # per platform: prefix, handle in URL?, middle per media (default, overrides), suffix
    0: ("https://www.facebook.com/", True, "/posts/", {1: "/videos/", 5: "/reel/"}, ""),
    1: ("https://www.instagram.com/", False, "p/", {5: "reel/"}, "/"),
    2: ("https://x.com/", True, "/status/", {}, ""),
    3: ("https://www.youtube.com/", False, "watch?v=", {5: "shorts/"}, ""),
    4: ("https://www.tiktok.com/@", True, "/video/", {4: "/photo/"}, ""),
}
_URL_PREFIX = pa.array([_URL[p][0] for p in range(5) for _ in MEDIA])
_URL_HANDLE = np.array([_URL[p][1] for p in range(5) for _ in MEDIA])
_URL_MIDDLE = pa.array([_URL[p][3].get(m, _URL[p][2]) for p in range(5) for m in range(6)])
_URL_SUFFIX = pa.array([_URL[p][4] for p in range(5) for _ in MEDIA])
_TS = pa.timestamp("us", tz="UTC")
# dictionary-encode only the low-cardinality columns: on texts and ids it is wasted work
_DICTIONARY_COLUMNS = ["platform", "account_platform_id", "account_handle", "media_type"]
POST_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("account_platform_id", pa.string()),
        ("account_handle", pa.string()),
        ("post_id", pa.string()),
        ("posted_at", _TS),
        ("captured_at", _TS),
        ("media_type", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("is_repost", pa.bool_()),
        ("video_duration_s", pa.float64()),
    ]
    + [(c, pa.int64()) for c in COUNTS]
)

Arrays = dict[str, NDArray[Any]]


@dataclass
class PostsOutcome:
    files: list[Path] = field(default_factory=list)
    posts: int = 0
    viral_ids: list[str] = field(default_factory=list)
    posts_before: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))


def allocate(world: World, total: int) -> NDArray[np.int64]:
    """Posts per account: proportional to rate x active days, summing exactly to ``total``."""
    weight = world.rate * (world.active[:, 1] - world.active[:, 0])
    share = weight / weight.sum() * total
    counts: NDArray[np.int64] = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - counts), kind="stable")  # largest remainders get the rest
    counts[order[: total - int(counts.sum())]] += 1
    return counts


def _simulate(world: World, pools: CaptionPools, a: int, n: int, seq0: int, seed: int) -> Arrays:
    """All numbers of account ``a``'s ``n`` posts (vectorised over its posts)."""
    rng = np.random.default_rng([seed, 1, a])
    p = int(world.platform[a])
    first, last = int(world.active[a, 0]), int(np.ceil(world.active[a, 1]))
    day_w = _DAY[first:last]
    day = first + rng.choice(last - first, size=n, p=day_w / day_w.sum())
    secs = day * 86_400 + rng.choice(24, size=n, p=_HOUR) * 3600 + rng.integers(0, 3600, n)
    posted = np.sort(_START_US + secs * 1_000_000)
    alpha = _MIX[p] * 15
    mix = np.zeros(6)
    mix[alpha > 0] = rng.gamma(alpha[alpha > 0])  # each account has its own media habits
    media = rng.choice(6, size=n, p=mix / mix.sum())
    repost = rng.random(n) < (rng.beta(4, 16) if p == 2 else 0.0)
    moving = (media == 1) | (media == 5)
    duration = np.where(
        media == 1,
        rng.lognormal(np.log(420 if p == 3 else 75), 0.8, n),
        np.clip(rng.lognormal(np.log(30), 0.5, n), 5, 60 if p == 3 else 180),
    )

    followers = np.exp(np.interp(posted, world.snapshot_us, world.log_followers[a]))
    followers = np.where(repost, rng.lognormal(np.log(3e5), 1.2, n), followers)
    viral = (rng.random(n) < VIRAL_RATE) & ~repost
    boost = np.where(viral, np.exp(rng.uniform(np.log(20), np.log(200), n)), 1.0)
    quality = np.where(repost, 1.0, world.quality[a])
    inter = (
        _SCALE[p]
        * followers**EXPONENT
        * _MEDIA_FACTOR[media]
        * quality
        * boost
        * rng.lognormal(0.0, 0.85, n)
    )
    final = np.empty((n, 7))
    final[:, 1:] = inter[:, None] * _SPLIT[p] * rng.lognormal(0.0, 0.25, (n, 6))
    final[:, 0] = inter * _VIEWS[p] * np.where(moving, 1.5, 1.0) * rng.lognormal(0, 0.5, n)
    if world.inflated[a]:  # bought likes: spiky, and comments stay where they were
        hit = (rng.random(n) < INFLATED_SHARE) & ~repost
        final[:, 1:3] *= np.where(hit, np.exp(rng.uniform(np.log(5), np.log(20), n)), 1.0)[:, None]
    if p == 0:
        final[:, 1] = final[:, 2] * rng.uniform(0.6, 0.85, n)  # the Like share of reactions

    lag = (np.array([1.0, 7.0, 30.0]) + rng.uniform(0, 0.25, (n, 3))) * _DAY_US
    captured = posted[:, None] + lag.astype(np.int64)
    within = captured <= _COLLECT_US
    keep = (rng.random((n, 3)) < [0.4, 0.5, 0.9]) & within
    lonely = np.flatnonzero(~keep.any(axis=1))
    keep[lonely, within[lonely].sum(axis=1) - 1] = True  # lags ascend: the last one in time
    f1 = rng.uniform(0.45, 0.75, n)
    frac = np.stack([f1, f1 + (1 - f1) * rng.uniform(0.6, 0.9, n), np.ones(n)], axis=1)

    inst = int(world.inst[a])
    cluster = CLUSTER_ORDER.index(world.institutions[inst].cluster)
    themed = rng.random(n) < world.theme_prob[a]
    (g0, gn), (t0, tn) = pools.general[cluster], pools.themed[cluster]
    m = pools.mention_count
    big = rng.integers(0, 1 << 30, (n, 8))
    u = rng.random((n, 7))
    span = pools.cta_span[media]
    picks = {
        "inst": np.full(n, inst, dtype=np.int64),
        "body": np.where(themed, t0 + big[:, 0] % tn, g0 + big[:, 0] % gn),
        "cta": np.where(u[:, 0] < 0.35, span[:, 0] + big[:, 1] % span[:, 1], -1),
        "retweet": np.where(repost, big[:, 2] % m, -1),
        "mention": np.where(u[:, 1] < 0.12, big[:, 3] % m, -1),
        "link_path": np.where(
            (media == 3) | (u[:, 2] < _LINK_RATE[p]), big[:, 4] % len(pools.link_paths), -1
        ),
        "link_number": 10_000 + big[:, 5] % 90_000,
        "inst_tag": u[:, 3] < 0.8,
        "region_tag": u[:, 4] < (0.45 if cluster == 2 else 0.1),
        "programme": np.where(u[:, 5] < 0.3, big[:, 6] % len(pools.programme_tags), -1),
        "theme": np.where(
            u[:, 6] < np.where(themed, 0.9, 0.01), big[:, 7] % len(pools.theme_tags), -1
        ),
    }
    return {
        "account": np.full(n, a),
        "seq": seq0 + np.arange(n),
        "posted": posted,
        "media": media,
        "repost": repost,
        "duration": np.where(moving, np.round(duration), np.nan),
        "viral": viral,
        "final": final,
        "captured": captured,
        "keep": keep,
        "frac": frac,
        **{f"pick_{k}": v for k, v in picks.items()},
    }


def _post_strings(world: World, pools: CaptionPools, c: Arrays) -> dict[str, pa.Array]:
    """String columns for a batch of posts (one per post, not yet per observation)."""
    acc = pa.array(c["account"])
    plat = world.platform[c["account"]]
    handle = pa.array(world.handles).take(acc)
    seq = c["seq"].astype(np.uint64)
    ms = ((c["posted"] - _START_US) // 1000).astype(np.uint64)  # uint64 throughout: no floats
    numeric = encode(ms * np.uint64(10**8) + np.uint64(10**18) + seq, 19)  # snowflake-like
    shortcode = encode(
        (seq * np.uint64(2654435761) + np.uint64(98765432101)) % np.uint64(62**8), 8, _B62
    )  # bijective scramble (odd, not a multiple of 31): unique
    post_id = pc.binary_join_element_wise(
        "syn", pc.if_else(pa.array(np.isin(plat, (0, 2, 4))), numeric, shortcode), ""
    )
    kind = plat * 6 + c["media"]
    url = pc.binary_join_element_wise(
        _URL_PREFIX.take(pa.array(kind)),
        pc.if_else(pa.array(_URL_HANDLE[kind]), handle, ""),
        _URL_MIDDLE.take(pa.array(kind)),
        post_id,
        _URL_SUFFIX.take(pa.array(kind)),
        "",
    )
    picks = CaptionPicks(**{k[5:]: v for k, v in c.items() if k.startswith("pick_")})
    return {
        "platform": pa.array(PLATFORMS).take(pa.array(plat)),
        "account_platform_id": pa.array(world.platform_ids).take(acc),
        "account_handle": handle,
        "post_id": post_id,
        "media_type": pa.array(MEDIA).take(pa.array(c["media"])),
        "text": compose(pools, picks),
        "url": url,
    }


def _tables(
    world: World, pools: CaptionPools, parts: list[Arrays]
) -> Iterator[tuple[pa.Table, list[str]]]:
    """Observation rows of a group of whole accounts in batches of posts, + viral post ids."""
    # pop as we go: each account's arrays are freed once copied into the file's columns
    c = {k: np.concatenate([part.pop(k) for part in parts]) for k in list(parts[0])}
    for lo in range(0, len(c["seq"]), _BATCH):
        batch = {k: v[lo : lo + _BATCH] for k, v in c.items()}
        text = _post_strings(world, pools, batch)
        post, obs = np.nonzero(batch["keep"])  # row-major: a post's observations together
        rows = pa.array(post)
        plat = world.platform[batch["account"][post]]
        media = batch["media"][post]
        counts = np.floor(batch["final"][post] * batch["frac"][post, obs][:, None])
        known = np.c_[np.isin(plat, (2, 3, 4)) | (media == 1) | (media == 5), _KNOWN[plat]]
        table = pa.table(
            {
                **{
                    k: text[k].take(rows)
                    for k in ("platform", "account_platform_id", "account_handle", "post_id")
                },
                "posted_at": pa.array(batch["posted"][post], _TS),
                "captured_at": pa.array(batch["captured"][post, obs], _TS),
                **{k: text[k].take(rows) for k in ("media_type", "text", "url")},
                "is_repost": pa.array(batch["repost"][post]),
                "video_duration_s": pa.array(batch["duration"][post], from_pandas=True),
                **{
                    k: pa.array(counts[:, i].astype(np.int64), mask=~known[:, i])
                    for i, k in enumerate(COUNTS)
                },
            },
            schema=POST_SCHEMA,
        )
        yield table, pc.filter(text["post_id"], pa.array(batch["viral"])).to_pylist()


class _Writer:
    """Writes tables on a background thread: Parquet encoding overlaps generation."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Path, pa.Table] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="synth-writer", daemon=True)
        self._thread.start()

    def put(self, path: Path, table: pa.Table) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((path, table))

    def _run(self) -> None:
        current: Path | None = None
        writer: Any = None  # pq.ParquetWriter once the first table arrives
        try:
            while (item := self._queue.get()) is not None:
                path, table = item
                if path != current:
                    if writer is not None:
                        writer.close()
                    writer = pq.ParquetWriter(
                        path, POST_SCHEMA, compression="zstd", use_dictionary=_DICTIONARY_COLUMNS
                    )
                    current = path
                writer.write_table(table)
        except BaseException as exc:  # handed to the producer, which re-raises it
            self._error = exc
            while self._queue.get() is not None:  # keep draining so the producer never blocks
                pass
        finally:
            if writer is not None:
                writer.close()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def write_posts(
    world: World,
    pools: CaptionPools,
    out_dir: Path,
    *,
    seed: int,
    total: int,
    on_progress: Callable[[int], None] | None = None,
) -> PostsOutcome:
    counts = allocate(world, total)
    seq0 = np.concatenate([[0], np.cumsum(counts)[:-1]])
    outcome = PostsOutcome(posts_before=np.zeros((world.size, len(world.snapshot_us)), np.int64))
    parts: list[Arrays] = []
    pending = 0
    writer = _Writer()

    def flush() -> None:
        nonlocal parts, pending
        path = out_dir / f"posts-{len(outcome.files):04d}.parquet"
        tables = _tables(world, pools, parts) if parts else iter([(POST_SCHEMA.empty_table(), [])])
        for table, viral in tables:
            outcome.viral_ids.extend(viral)
            writer.put(path, table)
        outcome.files.append(path)
        parts, pending = [], 0

    try:
        for a, n in enumerate(counts.tolist()):
            if n:
                part = _simulate(world, pools, a, n, int(seq0[a]), seed)
                outcome.posts_before[a] = np.searchsorted(part["posted"], world.snapshot_us)
                parts.append(part)
                pending += n
                outcome.posts += n
                if on_progress is not None:
                    on_progress(n)
            if pending >= POSTS_PER_FILE:
                flush()
        if pending or not outcome.files:
            flush()
    finally:
        writer.close()
    return outcome
