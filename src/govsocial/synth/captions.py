"""Indonesian captions, built without per-post Python string work.

Templates from ``data/captions.yaml`` are filled once per run into a pool of bodies (per
cluster: ordinary and climate/SDG-themed). Each post then only carries integer picks (body,
call to action, mention, link, hashtags), and :func:`compose` joins the picked pieces for a
whole batch of posts with ``pyarrow.compute``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from govsocial.synth.world import World, load_data
from govsocial.vocabulary import MEDIA_TYPES

MEDIA = MEDIA_TYPES  # the pools are written per media type
CLUSTER_ORDER = ("kementerian", "lembaga", "pemda", "perguruan_tinggi")
_GENERAL, _THEMED = 1500, 400  # pool entries per cluster
_SLOT = re.compile(r"\{(\w+)\}")
_DIGITS = b"0123456789"


def encode(values: NDArray[np.uint64], width: int, alphabet: bytes = _DIGITS) -> pa.Array:
    """Fixed-width strings of ``values`` written in ``alphabet`` (built from raw buffers)."""
    lut = np.frombuffer(alphabet, dtype=np.uint8)
    base = np.uint64(len(alphabet))
    v = values.astype(np.uint64, copy=True)
    out = np.empty((len(v), width), dtype=np.uint8)
    for col in range(width - 1, -1, -1):
        out[:, col] = lut[(v % base).astype(np.intp)]
        v //= base
    offsets = np.arange(len(v) + 1, dtype=np.int32) * width
    return pa.Array.from_buffers(
        pa.string(), len(v), [None, pa.py_buffer(offsets), pa.py_buffer(out)]
    )


def pick(pool: pa.Array, index: NDArray[np.int64]) -> pa.Array:
    """``pool[index]``, null where ``index < 0``."""
    missing = index < 0
    return pool.take(pa.array(np.where(missing, 0, index), mask=missing))


@dataclass(frozen=True)
class CaptionPools:
    bodies: pa.Array
    general: NDArray[np.int64]  # (cluster, 2): first index and count of ordinary bodies
    themed: NDArray[np.int64]  # (cluster, 2): same for climate/SDG bodies
    ctas: pa.Array
    cta_span: NDArray[np.int64]  # (media, 2)
    programme_tags: pa.Array
    theme_tags: pa.Array  # combinations of 1-3 theme hashtags
    mentions: pa.Array  # "@handle" of the main accounts
    retweets: pa.Array  # "RT @handle:" for reposts
    inst_tags: pa.Array  # per institution
    region_tags: pa.Array  # per institution
    domains: pa.Array  # per institution
    link_paths: pa.Array

    @property
    def mention_count(self) -> int:
        return len(self.mentions)


def build_pools(seed: int, world: World, places: list[str]) -> CaptionPools:
    data = load_data("captions.yaml")
    rng = np.random.default_rng([seed, 2])
    lists: dict[str, list[str]] = {k: v for k, v in data.items() if isinstance(v, list)}
    lists["place"] = data["venues"] + places
    plural = {
        "opener": "openers",
        "activity": "activities",
        "topic": "topics",
        "partner": "partners",
        "closing": "closings",
        "event": "events",
        "day": "days",
        "service": "services",
        "commitment": "commitments",
        "period": "periods",
        "celebration": "celebrations",
        "wish": "wishes",
        "hazard": "hazards",
        "count": "counts",
    }

    def fill(template: str, official: list[str]) -> str:
        def slot(m: re.Match[str]) -> str:
            name = m.group(1)
            options = official if name == "official" else lists[plural.get(name, name)]
            return str(options[rng.integers(len(options))])

        text = _SLOT.sub(slot, template)
        return " ".join(text.split())  # empty slots leave double spaces

    bodies: list[str] = []
    general: list[tuple[int, int]] = []
    themed: list[tuple[int, int]] = []
    for cluster in CLUSTER_ORDER:
        official = data["officials"][cluster]
        for templates, size, span in (
            (data["templates"], _GENERAL, general),
            (data["theme_templates"], _THEMED, themed),
        ):
            span.append((len(bodies), size))
            bodies += [fill(templates[rng.integers(len(templates))], official) for _ in range(size)]
    ctas: list[str] = []
    cta_span = []
    for media in MEDIA:
        cta_span.append((len(ctas), len(data["ctas"][media])))
        ctas += data["ctas"][media]
    tags = [f"#{t}" for t in data["theme_tags"]]
    combos = [
        " ".join(rng.choice(tags, size=rng.integers(1, 4), replace=False).tolist())
        for _ in range(300)
    ]
    main_handles = [h for h, m in zip(world.handles, world.is_main, strict=True) if m]
    main_handles = sorted(set(main_handles))
    return CaptionPools(
        bodies=pa.array(bodies),
        general=np.array(general),
        themed=np.array(themed),
        ctas=pa.array(ctas),
        cta_span=np.array(cta_span),
        programme_tags=pa.array([f"#{t}" for t in data["programme_tags"]]),
        theme_tags=pa.array(combos),
        mentions=pa.array([f"@{h}" for h in main_handles]),
        retweets=pa.array([f"RT @{h}:" for h in main_handles]),
        inst_tags=pa.array([f"#{i.tag}" for i in world.institutions]),
        region_tags=pa.array([f"#{i.region_tag}" for i in world.institutions]),
        domains=pa.array([i.domain for i in world.institutions]),
        link_paths=pa.array(data["link_paths"]),
    )


@dataclass
class CaptionPicks:
    """Per-post indices into the pools (-1: the piece is absent) or flags (bool arrays)."""

    inst: NDArray[Any]  # institution of the post's account
    body: NDArray[Any]
    cta: NDArray[Any]
    retweet: NDArray[Any]
    mention: NDArray[Any]
    link_path: NDArray[Any]  # -1: no link
    link_number: NDArray[Any]
    inst_tag: NDArray[Any]  # bool: add the institution's own hashtag
    region_tag: NDArray[Any]  # bool: add the region's hashtag
    programme: NDArray[Any]
    theme: NDArray[Any]


def compose(pools: CaptionPools, picks: CaptionPicks) -> pa.Array:
    """Caption text for every post: [RT] [CTA] body [link] [@mention] #tags."""
    inst = picks.inst
    has_link = picks.link_path >= 0
    link = pc.binary_join_element_wise(
        "https://",
        pick(pools.domains, np.where(has_link, inst, -1)),
        "/",
        pick(pools.link_paths, picks.link_path),
        "/",
        encode(picks.link_number.astype(np.uint64), 5),
        "",
    )
    parts = [
        pick(pools.retweets, picks.retweet),
        pick(pools.ctas, picks.cta),
        pick(pools.bodies, picks.body),
        link,
        pick(pools.mentions, picks.mention),
        pick(pools.inst_tags, np.where(picks.inst_tag, inst, -1)),
        pick(pools.region_tags, np.where(picks.region_tag, inst, -1)),
        pick(pools.programme_tags, picks.programme),
        pick(pools.theme_tags, picks.theme),
    ]
    return pc.binary_join_element_wise(*parts, " ", null_handling="skip")
