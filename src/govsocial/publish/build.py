"""Publish a kept award run: write its read model (docs/read-model.md).

The run is recomputed from the warehouse, read-only, which must still hold the data the run
read (the same data fingerprint): the rankings of every eligible unit, the cube and the top
posts are the run's own, and the recomputed nominees must equal the kept document's (a
reproduction check on every publication). The folder is written under a temporary name beside
its place and renamed into it, so it appears whole or not at all; publishing a run that is
published already changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from govsocial import __version__
from govsocial.awards.engine import AwardRun, Rankings, run_awards
from govsocial.awards.methodology import Methodology, parse_methodology
from govsocial.awards.results import HELD, NOMINATED
from govsocial.compute.backend import open_backend
from govsocial.errors import ConfigError, OutputError
from govsocial.metrics.evidence import top_posts
from govsocial.publish.model import MANIFEST, SCHEMA, ReadModel
from govsocial.store import Warehouse
from govsocial.store.published import coverage, registry_accounts
from govsocial.store.runs import data_fingerprint, get_run
from govsocial.store.summary import is_synthetic
from govsocial.vocabulary import WIB

TOP_POSTS = 3  # per institution, by overperformance


@dataclass(frozen=True)
class Published:
    folder: Path
    run_id: str
    created: bool  # False: it was published already, nothing was written


def default_root(db: Path) -> Path:
    """Where a warehouse's runs are published unless told: ``published/`` beside it."""
    return db.parent / "published"


def publish_run(
    db: Path,
    run_id: str,
    root: Path | None = None,
    *,
    engine: str = "duckdb",
    step: Callable[[str], None] | None = None,
) -> Published:
    """Publish the kept run ``run_id`` of the warehouse at ``db`` into ``root/<run_id>/``."""
    say = step or (lambda _: None)
    with Warehouse.open(db, read_only=True) as wh:
        record = get_run(wh, run_id)  # a unique prefix names a run too
        run_id = record.run_id
        target = (root or default_root(db)) / run_id
        if (target / MANIFEST).is_file():
            ReadModel.open(target)  # a damaged folder is named, not taken as published
            return Published(target, run_id, created=False)
        say("Recomputing the run")
        now = data_fingerprint(wh)
        if now != record.data_fingerprint:
            raise ConfigError(
                f"The warehouse has changed since run {run_id} was computed (data imported or "
                "collected since): publishing reads the data the run read. Run the methodology "
                f"again (govsocial awards run --methodology {record.methodology_id}) and publish "
                "the new run."
            )
        m = parse_methodology(record.methodology_text, f"run {run_id}")
        run = run_awards(wh, m, engine, replicates=0)
        if run.run_id != run_id:
            raise ConfigError(
                f"Run {run_id} recomputes as {run.run_id}: the code or the results schema of "
                f"govsocial {__version__} differs from those that kept it "
                f"({record.govsocial_version}). Run the methodology again and publish that run."
            )
        kept = json.loads(record.results)
        _check_reproduced(kept, run.document, run_id)
        say("Reading the data")
        tables = _tables(wh, m, run, engine)
        info = {
            "coverage": {
                "period": {"start": m.period_start.isoformat(), "end": m.period_end.isoformat()},
                "platforms": list(m.platforms),
                "clusters": list(m.clusters),
                **coverage(wh, m.period_start, m.period_end, m.platforms, m.clusters),
            },
            "synthetic": is_synthetic(wh),
        }
    say("Writing the read model")
    files = {
        "results.json": record.results.encode("utf-8"),
        "methodology.toml": record.methodology_text.encode("utf-8"),
        "coverage.json": _json(info["coverage"]),
    }
    manifest = {
        "schema": SCHEMA,
        "run_id": run_id,
        "methodology_id": m.id,
        "edition": m.edition,
        "methodology_sha256": record.methodology_sha256,
        "data_fingerprint": record.data_fingerprint,
        "govsocial_version": __version__,
        "synthetic": info["synthetic"],
        "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_folder(target, files, tables, manifest)
    return Published(target, run_id, created=True)


def _check_reproduced(kept: dict[str, Any], now: dict[str, Any], run_id: str) -> None:
    def nominees(document: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (c["id"], cl["cluster_id"], n["rank"], n["institution_id"], n.get("account_id"))
            for c in document["categories"]
            for cl in c["clusters"]
            for n in [*cl["nominees"], *cl.get("held", [])]
        ]

    if nominees(kept) != nominees(now):
        raise ConfigError(
            f"Run {run_id} did not reproduce: the recomputed nominees differ from the kept "
            "ones. Nothing was published. Run `govsocial awards run` again and publish that "
            "run; if it keeps happening, report it with the run id."
        )


# ---------------------------------------------------------------- tables


def _tables(wh: Warehouse, m: Methodology, run: AwardRun, engine: str) -> dict[str, pa.Table]:
    assert run.rankings is not None and run.cube is not None and run.selections is not None
    registry = registry_accounts(wh, m.period_end, m.clusters)
    cube = run.cube
    with open_backend(wh, engine) as backend:
        account_ids = sorted(set(registry.column("account_id").to_pylist()))
        evidence = top_posts(backend, m, account_ids, cube) if account_ids else None
    standings, components = _standings(run.rankings, run, registry)
    return {
        "standings": standings,
        "components": components,
        "accounts": _accounts(cube, registry),
        "weekly": _weekly(cube, m),
        "top_posts": _top_posts(evidence, registry),
    }


def _standings(rankings: Rankings, run: AwardRun, registry: pa.Table) -> tuple[pa.Table, pa.Table]:
    names = dict(
        zip(
            registry.column("institution_id").to_pylist(),
            registry.column("institution_name").to_pylist(),
            strict=True,
        )
    )
    handles = dict(
        zip(registry.column("account_id").to_pylist(), registry.column("handle").to_pylist(),
            strict=True)
    )  # fmt: skip
    status: dict[tuple[str, str, str], str] = {}
    for (category, cluster), chosen in (run.selections or {}).items():
        for unit in chosen.nominees:
            status[(category, cluster, unit.unit)] = NOMINATED
        for unit, _ in chosen.held:
            status[(category, cluster, unit.unit)] = HELD
    rows: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for category, (by_cluster, _) in rankings.items():
        for cluster, ranking in by_cluster.items():
            for u in ranking.eligible:
                account = u.account if u.account >= 0 else None
                platform = u.platforms[0]["platform"] if account is not None else None
                rows.append(
                    {
                        "category": category,
                        "cluster_id": cluster,
                        "rank": u.rank,
                        "unit": u.unit,
                        "institution_id": u.institution,
                        "institution_name": names.get(u.institution, u.institution),
                        "account_id": account,
                        "platform": platform,
                        "handle": handles.get(account) if account is not None else None,
                        "score": u.score,
                        "posts": int(u.posts),
                        "followers": int(u.followers),
                        "interactions": int(u.interactions),
                        "platforms": u.n_platforms,
                        "status": status.get((category, cluster, u.unit), ""),
                    }
                )
                for c in u.components:
                    parts.append(
                        {
                            "category": category,
                            "cluster_id": cluster,
                            "unit": u.unit,
                            "platform": "",
                            "metric": c["metric"],
                            "weight": c["weight"],
                            "value": None,
                            "percentile": c["percentile"],
                            "contribution": c["contribution"],
                            "rank": None,
                            "of": None,
                        }
                    )
                for p in u.platforms:
                    for metric, cell in p["components"].items():
                        parts.append(
                            {
                                "category": category,
                                "cluster_id": cluster,
                                "unit": u.unit,
                                "platform": p["platform"],
                                "metric": metric,
                                "weight": None,
                                "value": cell["value"],
                                "percentile": cell["percentile"],
                                "contribution": None,
                                "rank": p["rank"],
                                "of": p["of"],
                            }
                        )
    return (
        pa.Table.from_pylist(rows, schema=STANDINGS),
        pa.Table.from_pylist(parts, schema=COMPONENTS),
    )


STANDINGS = pa.schema(
    [
        ("category", pa.string()),
        ("cluster_id", pa.string()),
        ("rank", pa.int32()),
        ("unit", pa.string()),
        ("institution_id", pa.string()),
        ("institution_name", pa.string()),
        ("account_id", pa.int64()),
        ("platform", pa.string()),
        ("handle", pa.string()),
        ("score", pa.float64()),
        ("posts", pa.int64()),
        ("followers", pa.int64()),
        ("interactions", pa.int64()),
        ("platforms", pa.int32()),
        ("status", pa.string()),
    ]
)
COMPONENTS = pa.schema(
    [
        ("category", pa.string()),
        ("cluster_id", pa.string()),
        ("unit", pa.string()),
        ("platform", pa.string()),
        ("metric", pa.string()),
        ("weight", pa.float64()),
        ("value", pa.float64()),
        ("percentile", pa.float64()),
        ("contribution", pa.float64()),
        ("rank", pa.int32()),
        ("of", pa.int32()),
    ]
)
_SUMMED = ("n", "interactions", "likes", "comments", "shares", "sum_rate", "n_rated")


def _original(cube: pa.Table) -> pa.Table:
    return cube.filter(pc.invert(pc.fill_null(cube.column("is_repost"), False)))


def _accounts(cube: pa.Table, registry: pa.Table) -> pa.Table:
    """Per registered account: the period's original posts, reposts, interactions (and their
    parts), mean engagement rate per post, and followers at the period's end."""
    original = _original(cube)
    summed = original.group_by("account_id").aggregate([(c, "sum") for c in _SUMMED])
    reposts = (
        cube.filter(pc.fill_null(cube.column("is_repost"), False))
        .group_by("account_id")
        .aggregate([("n", "sum")])
        .rename_columns(["account_id", "reposts"])
    )
    joined = registry.join(summed, "account_id", join_type="left outer").join(
        reposts, "account_id", join_type="left outer"
    )

    def col(name: str) -> np.ndarray:
        values = joined.column(name).to_numpy(zero_copy_only=False).astype(float)
        return np.asarray(np.nan_to_num(values), dtype=float)

    rated = col("n_rated_sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(rated > 0, col("sum_rate_sum") / np.maximum(rated, 1), np.nan)
    out = joined.select(
        [
            "account_id",
            "institution_id",
            "institution_name",
            "cluster_id",
            "cluster_name",
            "region",
            "platform",
            "handle",
            "display_name",
            "followers",
        ]
    )
    for name, values in (
        ("posts", col("n_sum")),
        ("reposts", col("reposts")),
        ("interactions", col("interactions_sum")),
        ("likes", col("likes_sum")),
        ("comments", col("comments_sum")),
        ("shares", col("shares_sum")),
        ("rated_posts", rated),
    ):
        out = out.append_column(name, pa.array(values.astype(np.int64), pa.int64()))
    out = out.append_column("engagement_rate", pa.array(rate, pa.float64(), mask=np.isnan(rate)))
    return out.sort_by("account_id")


def _weekly(cube: pa.Table, m: Methodology) -> pa.Table:
    """Original posts and interactions per account, media type and week of the period (the
    week's Monday-based start date: the period's start + 7 × week)."""
    original = _original(cube)
    summed = original.group_by(["account_id", "media_type", "week"]).aggregate(
        [(c, "sum") for c in ("n", "interactions", "sum_rate", "n_rated")]
    )
    weeks = summed.column("week").to_numpy(zero_copy_only=False).astype(int)
    start = m.period_start.astimezone(WIB).date()  # the period's first day, as the award reads it
    dates = [start + timedelta(days=7 * int(w)) for w in weeks]
    table = pa.table(
        {
            "account_id": summed.column("account_id").cast(pa.int64()),
            "media_type": summed.column("media_type"),
            "week": pa.array(weeks, pa.int32()),
            "week_start": pa.array(dates, pa.date32()),
            "posts": summed.column("n_sum").cast(pa.int64()),
            "interactions": summed.column("interactions_sum").cast(pa.float64()),
            "sum_rate": summed.column("sum_rate_sum").cast(pa.float64()),
            "rated_posts": summed.column("n_rated_sum").cast(pa.int64()),
        }
    )
    return table.sort_by([("account_id", "ascending"), ("week", "ascending"),
                          ("media_type", "ascending")])  # fmt: skip


def _top_posts(evidence: pa.Table | None, registry: pa.Table) -> pa.Table:
    """Per institution, its posts with the highest overperformance (CrowdTangle's method;
    metrics/evidence.py), at most :data:`TOP_POSTS`."""
    owners = registry.select(["account_id", "institution_id", "handle"])
    if evidence is None or not len(evidence):
        empty = pa.table({"institution_id": pa.array([], pa.string())})
        return empty
    joined = evidence.join(owners, "account_id").to_pylist()
    joined.sort(key=lambda r: (r["institution_id"], -r["overperformance"], -r["interactions"],
                               r["post_id"]))  # fmt: skip
    kept: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for row in joined:
        n = seen.get(row["institution_id"], 0)
        if n < TOP_POSTS:
            seen[row["institution_id"]] = n + 1
            kept.append({"institution_id": row["institution_id"], "place": n + 1, **{
                k: v for k, v in row.items() if k != "institution_id"}})  # fmt: skip
    return pa.Table.from_pylist(kept)


# ---------------------------------------------------------------- writing


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()


def _write_folder(
    target: Path, files: dict[str, bytes], tables: dict[str, pa.Table], manifest: dict[str, Any]
) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"Cannot create {target.parent}: {exc.strerror}. Choose another folder with --root."
        ) from exc
    building = target.parent / f".{target.name}.{secrets.token_hex(4)}.building"
    try:
        building.mkdir()
        digests = {}
        for name, data in files.items():
            (building / name).write_bytes(data)
            digests[name] = hashlib.sha256(data).hexdigest()
        for name, table in tables.items():
            path = building / f"{name}.parquet"
            pq.write_table(table, path, compression="zstd")
            digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest = {**manifest, "files": dict(sorted(digests.items()))}
        (building / MANIFEST).write_bytes(_json(manifest))
        for path in building.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        try:
            os.rename(building, target)
        except OSError:
            if not (target / MANIFEST).is_file():  # not a concurrent publisher winning
                raise
    except OSError as exc:
        raise OutputError(
            f"Could not write the read model into {target.parent}: {exc.strerror or exc}. "
            "Nothing was published; free some space or choose another folder with --root."
        ) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(building)
