"""Institutions, accounts, audiences and follower snapshots of the synthetic world.

Everything here is drawn from one RNG stream (``[seed, 0]``), so the world (who exists,
how big their audience is, how often they post) does not depend on how many posts are asked
for. Names come from ``data/institutions.yaml`` and ``data/units.yaml``; ids, handles and
platform ids are prefixed ``syn`` so synthetic rows can never be mistaken for real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import numpy as np
import pyarrow as pa
import yaml
from numpy.typing import NDArray

from govsocial.vocabulary import PLATFORMS
from govsocial.vocabulary import WIB as JAKARTA

PERIOD_START = datetime(2024, 8, 1, tzinfo=JAKARTA).astimezone(UTC)
PERIOD_END = datetime(2025, 8, 1, tzinfo=JAKARTA).astimezone(UTC)
COLLECTION_END = PERIOD_END + timedelta(days=30)  # metrics are read up to a month after the end
_PLATFORM_CODE = ("fb", "ig", "x", "yt", "tt")
_PAIR_WEIGHT = np.array([0.8, 1.0, 0.45, 0.32, 0.28])  # how often a unit runs each platform
_AUDIENCE = np.array([0.7, 1.0, 0.45, 0.15, 0.4])  # audience size relative to instagram
_POSTING = np.array([1.0, 0.9, 1.5, 0.25, 0.55])  # posting rate relative to facebook
_MEDIAN_FOLLOWERS = {
    "kementerian": 350e3,
    "lembaga": 120e3,
    "provinsi": 90e3,
    "kota": 40e3,
    "kabupaten": 20e3,
    "perguruan_tinggi": 50e3,
}
_CLUSTER_POSTING = {"kementerian": 1.1, "lembaga": 1.0, "pemda": 1.15, "perguruan_tinggi": 0.75}
TARGET_ACCOUNTS = 1000
CLUSTERS = [
    {"id": "kementerian", "name": "Kementerian", "name_en": "Ministries", "sub_clusters": []},
    {"id": "lembaga", "name": "Lembaga", "name_en": "Agencies", "sub_clusters": []},
    {
        "id": "pemda",
        "name": "Pemerintah Daerah",
        "name_en": "Local governments",
        "sub_clusters": ["provinsi", "kota", "kabupaten"],
    },
    {
        "id": "perguruan_tinggi",
        "name": "Perguruan Tinggi",
        "name_en": "Universities",
        "sub_clusters": [],
    },
]


def load_data(name: str) -> Any:
    """A YAML data file shipped in ``govsocial.synth/data``."""
    text = resources.files("govsocial.synth").joinpath(f"data/{name}").read_text("utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Unit:
    handle: str  # without the "syn_" prefix
    name: str
    focus: float = 0.0


@dataclass(frozen=True)
class Institution:
    id: str
    name: str
    cluster: str
    sub_cluster: str | None
    region: str
    tag: str  # own hashtag, without '#'
    region_tag: str
    domain: str
    fame: float
    focus: float | None  # climate/SDG leaning; None = ordinary (drawn)
    main: Unit
    units: tuple[Unit, ...]
    accounts: int | None = None  # fixed account count (the big province)


@dataclass(frozen=True)
class World:
    """The institutions and one row per account (arrays indexed by account)."""

    institutions: list[Institution]
    inst: NDArray[np.int64]  # institution index
    platform: NDArray[np.int64]  # index into PLATFORMS
    handles: list[str]
    platform_ids: list[str]
    names: list[str]
    is_main: NDArray[np.bool_]
    snapshot_us: NDArray[np.int64]  # month starts (Jakarta) + period end, microseconds UTC
    log_followers: NDArray[np.float64]  # (accounts, snapshots): the audience path
    following: NDArray[np.int64]
    prior_posts: NDArray[np.int64]  # posts published before the period
    rate: NDArray[np.float64]  # relative posting rate (0 = dormant)
    active: NDArray[np.float64]  # (accounts, 2): first and last active day in the period
    quality: NDArray[np.float64]  # engagement multiplier of the account's content
    theme_prob: NDArray[np.float64]  # share of climate/SDG posts
    inflated: NDArray[np.bool_]  # bought-likes accounts (ground truth)

    @property
    def size(self) -> int:
        return len(self.handles)


def to_us(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def _snapshot_times() -> NDArray[np.int64]:
    local = PERIOD_START.astimezone(JAKARTA)
    months = [
        local.replace(
            year=local.year + (local.month - 1 + k) // 12, month=(local.month - 1 + k) % 12 + 1
        )
        for k in range(12)
    ]
    return np.array([to_us(m) for m in months] + [to_us(PERIOD_END)], dtype=np.int64)


def _institutions() -> list[Institution]:
    """Institution records with their candidate sub-units, from the data files."""
    data, units = load_data("institutions.yaml"), load_data("units.yaml")
    provinces = {p["code"]: p for p in data["provinsi"]}
    by_fame = sorted(data["provinsi"], key=lambda p: -float(p.get("fame", 1)))
    out: list[Institution] = []

    def add(
        raw: dict[str, Any],
        iid: str,
        name: str,
        cluster: str,
        sub: str | None,
        region: str,
        handle: str,
        tag: str,
        domain: str,
        unit_list: list[Unit],
    ) -> None:
        prov_tag = region.replace(" ", "")
        out.append(
            Institution(
                iid,
                name,
                cluster,
                sub,
                region,
                tag,
                prov_tag,
                domain,
                float(raw.get("fame", 1)),
                raw.get("focus"),
                Unit(handle, name),
                tuple(unit_list),
                raw.get("accounts"),
            )
        )

    def generic(kind: str, code: str, suffix: str) -> list[Unit]:
        return [
            Unit(f"{u['code']}_{code}", f"{u['name']} {suffix}", float(u.get("focus", 0)))
            for u in units[kind]
        ]

    for cluster in ("kementerian", "lembaga"):
        for raw in data[cluster]:
            code, short = raw["code"], raw["short"]
            found = generic(cluster, code, short)
            if raw.get("regional"):  # one office per province, prominent provinces first
                found += [
                    Unit(f"kanwil{code}_{p['code']}", f"Kantor Wilayah {short} {p['name']}")
                    if cluster == "kementerian"
                    else Unit(f"{code}_{p['code']}", f"{short} Provinsi {p['name']}")
                    for p in by_fame
                ]
            add(
                raw,
                f"syn-{code}",
                raw["name"],
                cluster,
                None,
                "DKI Jakarta",
                raw["handle"],
                raw["tag"],
                f"{code}.go.id",
                found,
            )
    for raw in data["provinsi"]:
        code, place = raw["code"], f"Provinsi {raw['name']}"
        add(
            raw,
            f"syn-prov-{code}",
            f"Pemerintah {place}",
            "pemda",
            "provinsi",
            raw["name"],
            f"{code}prov",
            f"{code.capitalize()}Prov",
            f"{code}prov.go.id",
            generic("pemda", code, place),
        )
    for sub, word, abbr in (("kota", "Kota", "pemkot"), ("kabupaten", "Kabupaten", "pemkab")):
        for raw in data[sub]:
            slug = raw["name"].lower().replace(" ", "")
            prefix = "kota" if sub == "kota" else "kab"
            place = f"{word} {raw['name']}"
            add(
                raw,
                f"syn-{prefix}-{raw['name'].lower().replace(' ', '-')}",
                f"Pemerintah {place}",
                "pemda",
                sub,
                provinces[raw["province"]]["name"],
                f"{abbr}{slug}",
                f"{word[:4] if sub == 'kota' else 'Kab'}{raw['name'].replace(' ', '')}",
                f"{slug}{prefix}.go.id",
                generic("pemda", f"{prefix}{slug}", place),
            )
    for raw in data["perguruan_tinggi"]:
        code = raw["code"]
        add(
            raw,
            f"syn-{code}",
            raw["name"],
            "perguruan_tinggi",
            None,
            provinces[raw["province"]]["name"],
            f"{code}_official",
            raw["short"].replace(" ", ""),
            f"{code}.ac.id",
            generic("perguruan_tinggi", code, raw["name"]),
        )
    return out


def _account_counts(insts: list[Institution], rng: np.random.Generator) -> NDArray[np.int64]:
    """Heavy-tailed accounts per institution, summing to TARGET_ACCOUNTS."""
    fixed = np.array([i.accounts or 0 for i in insts], dtype=np.int64)
    free = fixed == 0
    cap = np.array([min(70, int(0.6 * 5 * (len(i.units) + 1))) for i in insts])
    weight = rng.lognormal(0.0, 1.2, len(insts)) * np.sqrt([i.fame for i in insts])
    counts = np.where(free, 1, fixed)
    extra = TARGET_ACCOUNTS - int(counts.sum())
    share = weight * free / (weight * free).sum() * extra
    counts += np.minimum(np.floor(share).astype(np.int64), np.where(free, cap - 1, 0))
    order = np.argsort(-(share - np.floor(share)) - weight * 1e-9, kind="stable")
    while (left := TARGET_ACCOUNTS - int(counts.sum())) > 0:  # hand out what flooring/caps left
        open_ = order[free[order] & (counts[order] < cap[order])]
        if not open_.size:
            raise ValueError("units.yaml lists too few units for TARGET_ACCOUNTS accounts")
        counts[open_[:left]] += 1
    return counts


def build_world(seed: int) -> World:
    rng = np.random.default_rng([seed, 0])
    insts = _institutions()
    counts = _account_counts(insts, rng)
    inst_idx: list[int] = []
    plat: list[int] = []
    unit_of: list[Unit] = []
    for i, (inst, n) in enumerate(zip(insts, counts, strict=True)):
        units = (inst.main, *inst.units)
        unit_w = np.r_[60.0, 1.0 / np.sqrt(np.arange(2, len(units) + 1))]
        w = (unit_w[:, None] * _PAIR_WEIGHT[None, :]).ravel()
        w[1] = 0.0  # the main instagram account always exists: it is taken first
        rest = rng.choice(w.size, size=int(n) - 1, replace=False, p=w / w.sum())
        for pair in sorted([1, *rest.tolist()]):
            inst_idx.append(i)
            plat.append(pair % 5)
            unit_of.append(units[pair // 5])
    inst_a = np.array(inst_idx, dtype=np.int64)
    plat_a = np.array(plat, dtype=np.int64)
    is_main = np.array([u is insts[i].main for u, i in zip(unit_of, inst_idx, strict=True)])
    n = len(inst_idx)
    handles = [f"syn_{u.handle}" for u in unit_of]
    pids = [f"syn-{_PLATFORM_CODE[p]}-{k:06d}" for k, p in enumerate(plat)]

    cluster = [insts[i].cluster for i in inst_idx]
    kind = [insts[i].sub_cluster or insts[i].cluster for i in inst_idx]
    inst_size = rng.lognormal(0.0, 0.7, len(insts)) * [x.fame for x in insts]
    unit_size = np.where(is_main, 1.0, 0.05 * rng.lognormal(0.0, 0.8, n))
    base = np.array([_MEDIAN_FOLLOWERS[k] for k in kind]) * inst_size[inst_a] * unit_size
    followers0 = 800 + base * _AUDIENCE[plat_a] * rng.lognormal(0.0, 0.5, n)
    followers0 = np.minimum(followers0, 2.2e7)
    # Yearly log-growth: most grow (TikTok fastest), ~10% shrink a little; monthly noise.
    growth = np.maximum(rng.normal(0.18, 0.15, n) + np.where(plat_a == 4, 0.2, 0.0), -0.06)
    steps = growth[:, None] / 12 * (1 + rng.normal(0, 0.4, (n, 12)))
    log_followers = np.log(followers0)[:, None] + np.c_[np.zeros(n), np.cumsum(steps, axis=1)]

    rate = rng.lognormal(0.0, 0.9, n) * _POSTING[plat_a] * np.where(is_main, 1.8, 1.0)
    rate *= [_CLUSTER_POSTING[c] for c in cluster]
    rate = np.minimum(rate, 10 * rate.mean())  # no single account swamps the year
    active = np.tile([0.0, 365.0], (n, 1))
    fate = rng.random(n)
    rate[fate < 0.05] = 0.0  # dormant all year
    stops = (fate >= 0.05) & (fate < 0.10)
    active[stops, 1] = rng.uniform(30, 300, stops.sum())  # went quiet part-way
    starts = (fate >= 0.10) & (fate < 0.13)
    active[starts, 0] = rng.uniform(30, 240, starts.sum())  # opened during the year

    focus = np.array([x.focus if x.focus is not None else rng.beta(1.2, 25) for x in insts])
    lean = np.maximum(focus[inst_a], [u.focus for u in unit_of])
    theme_prob = np.clip(0.012 + 0.6 * lean * rng.lognormal(0, 0.3, n), 0, 0.6)
    inflated = np.zeros(n, dtype=bool)
    eligible = np.flatnonzero((rate > 0) & (active[:, 1] - active[:, 0] > 120))
    inflated[rng.choice(eligible, size=round(0.015 * n), replace=False)] = True
    following = np.round(rng.lognormal(np.log(np.where(plat_a == 2, 600, 250)), 0.8)).astype(
        np.int64
    )
    return World(
        institutions=insts,
        inst=inst_a,
        platform=plat_a,
        handles=handles,
        platform_ids=pids,
        names=[u.name for u in unit_of],
        is_main=is_main,
        snapshot_us=_snapshot_times(),
        log_followers=log_followers,
        following=following,
        prior_posts=np.round(rng.lognormal(np.log(1500), 1.0, n)).astype(np.int64),
        rate=rate,
        active=active,
        quality=rng.lognormal(0.0, 0.5, n),
        theme_prob=theme_prob,
        inflated=inflated,
    )


def registry_document(world: World) -> dict[str, Any]:
    """The registry file's content (shape documented in docs/registry.md)."""
    accounts: list[list[dict[str, str]]] = [[] for _ in world.institutions]
    for a in range(world.size):
        accounts[int(world.inst[a])].append(
            {
                "platform": PLATFORMS[int(world.platform[a])],
                "handle": world.handles[a],
                "platform_id": world.platform_ids[a],
                "name": world.names[a],
            }
        )
    return {
        "synthetic": True,
        "clusters": CLUSTERS,
        "institutions": [
            {
                "id": x.id,
                "name": x.name,
                "cluster": x.cluster,
                "sub_cluster": x.sub_cluster,
                "region": x.region,
                "accounts": accs,
            }
            for x, accs in zip(world.institutions, accounts, strict=True)
        ],
    }


SNAPSHOT_SCHEMA = pa.schema(
    [
        ("platform", pa.string()),
        ("account_platform_id", pa.string()),
        ("account_handle", pa.string()),
        ("captured_at", pa.timestamp("us", tz="UTC")),
        ("followers", pa.int64()),
        ("following", pa.int64()),
        ("posts_count", pa.int64()),
    ]
)


def snapshot_table(world: World, posts_before: NDArray[np.int64]) -> pa.Table:
    """Follower snapshots; ``posts_before[a, k]``: posts of account a before snapshot k."""
    n, k = world.log_followers.shape
    acc = np.repeat(np.arange(n), k)
    creep = np.linspace(1.0, 1.05, k)  # accounts slowly follow more accounts
    return pa.table(
        {
            "platform": pa.array(PLATFORMS).take(pa.array(world.platform[acc])),
            "account_platform_id": pa.array(world.platform_ids).take(pa.array(acc)),
            "account_handle": pa.array(world.handles).take(pa.array(acc)),
            "captured_at": pa.array(np.tile(world.snapshot_us, n), pa.timestamp("us", tz="UTC")),
            "followers": np.round(np.exp(world.log_followers)).astype(np.int64).ravel(),
            "following": np.round(world.following[:, None] * creep).astype(np.int64).ravel(),
            "posts_count": (world.prior_posts[:, None] + posts_before).ravel(),
        },
        schema=SNAPSHOT_SCHEMA,
    )
