"""Award runs kept in the warehouse, and the fingerprint of the data a run saw."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from govsocial.errors import NotFoundError
from govsocial.store.warehouse import Warehouse


@dataclass(frozen=True)
class RunExecution:
    """One computation of a run: which engine, when it was kept, how long it took."""

    engine: str
    created_at: datetime  # when it finished and was kept (UTC)
    seconds: float
    govsocial_version: str


@dataclass(frozen=True)
class RunRecord:
    """A run with its results. ``engine``, ``seconds`` and ``created_at`` are those of its
    first execution; ``executions`` (oldest first) holds every one, as the warehouse kept
    them (empty on a record about to be saved)."""

    run_id: str
    methodology_id: str
    methodology_sha256: str
    methodology_text: str
    data_fingerprint: str
    govsocial_version: str
    engine: str
    seconds: float
    results: str  # the results document
    created_at: datetime | None = None
    executions: tuple[RunExecution, ...] = ()


@dataclass(frozen=True)
class RunSummary:
    """A kept run as `awards list` shows it: its id, methodology and every execution.

    A run is keyed by its inputs (methodology file, data, code version), so the same run
    computed again, on another engine or later, is one run with several executions.
    """

    run_id: str
    methodology_id: str
    executions: tuple[RunExecution, ...]  # oldest first; at least one

    @property
    def first(self) -> RunExecution:
        return self.executions[0]

    @property
    def latest(self) -> RunExecution:
        return self.executions[-1]

    @property
    def engines(self) -> list[str]:
        """The engines that computed it, in the order they first did."""
        return list(dict.fromkeys(e.engine for e in self.executions))


def data_fingerprint(wh: Warehouse) -> str:
    """Hash of every loaded batch (id, kind and file hash): changes whenever data is loaded."""
    rows = wh.con.execute(
        "SELECT batch_id, kind, coalesce(file_sha256, '') FROM ingest_batches "
        "WHERE status = 'loaded' ORDER BY batch_id"
    ).fetchall()
    text = "\n".join(f"{b}:{k}:{s}" for b, k, s in rows)
    # Assignments made without a batch (--assign-to) change results too.
    owners = wh.con.execute(
        "SELECT account_id, coalesce(institution_id, '') FROM accounts ORDER BY 1"
    ).fetchall()
    text += "\n" + ",".join(f"{a}={i}" for a, i in owners)
    return hashlib.sha256(text.encode()).hexdigest()


def save_run(wh: Warehouse, run: RunRecord) -> RunSummary:
    """Keep a run and this execution of it. A run id already kept keeps its row (same inputs,
    same results) and gains an execution: the engine, time and duration of this one."""
    with wh.transaction(f"keeping award run {run.run_id}"):
        now = datetime.now(UTC)
        wh.con.execute(
            "INSERT INTO award_runs SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM award_runs WHERE run_id = ?)",
            [
                run.run_id,
                run.methodology_id,
                run.methodology_sha256,
                run.methodology_text,
                run.data_fingerprint,
                run.govsocial_version,
                run.engine,
                now,
                run.seconds,
                run.results,
                run.run_id,
            ],
        )
        wh.con.execute(
            "INSERT INTO award_run_executions VALUES (?, ?, ?, ?, ?)",
            [run.run_id, run.engine, now, run.seconds, run.govsocial_version],
        )
    [summary] = _summaries(wh, [run.run_id])
    return summary


def get_run(wh: Warehouse, run_id: str) -> RunRecord:
    """The run whose id is ``run_id`` or starts with it (like a short git hash); a
    NotFoundError lists the recent runs (or the several that match)."""
    rows = (
        wh.con.execute(
            "SELECT run_id, methodology_id, methodology_sha256, methodology_text,"
            " data_fingerprint, govsocial_version, engine, seconds, results::VARCHAR, created_at"
            " FROM award_runs WHERE starts_with(run_id, ?) ORDER BY run_id",
            [run_id.strip()],
        ).fetchall()
        if run_id.strip()
        else []
    )
    if not rows:
        known = [
            r[0]
            for r in wh.con.execute(
                "SELECT run_id FROM award_runs ORDER BY created_at DESC LIMIT 5"
            ).fetchall()
        ]
        hint = (
            f" Recent runs: {', '.join(known)} (all of them: `govsocial awards list`)."
            if known
            else " There are no runs in it yet."
        )
        raise NotFoundError(
            f"No award run '{run_id}' in {wh.path}.{hint} Make one with "
            "`govsocial awards run --methodology gsm2025`."
        )
    if len(rows) > 1:
        raise NotFoundError(
            f"'{run_id}' is the start of {len(rows)} run ids in {wh.path} "
            f"({', '.join(r[0] for r in rows)}); give more of the run id."
        )
    found, methodology, sha, text, fingerprint, version, engine, seconds, results, at = rows[0]
    [summary] = _summaries(wh, [found])
    return RunRecord(
        found,
        methodology,
        sha,
        text,
        fingerprint,
        version,
        engine,
        float(seconds),
        results,
        at,
        summary.executions,
    )


def list_runs(wh: Warehouse) -> list[RunSummary]:
    """Every kept run with all its executions, the most recently computed first."""
    return _summaries(wh, None)


def _summaries(wh: Warehouse, run_ids: list[str] | None) -> list[RunSummary]:
    where = "WHERE r.run_id IN (SELECT unnest(?))" if run_ids is not None else ""
    rows = wh.con.execute(
        f"""SELECT r.run_id, r.methodology_id,
                   list((e.engine, e.created_at, e.seconds, e.govsocial_version)
                        ORDER BY e.created_at, e.engine)
            FROM award_runs r JOIN award_run_executions e USING (run_id) {where}
            GROUP BY r.run_id, r.methodology_id
            ORDER BY max(e.created_at) DESC, r.run_id""",
        [run_ids] if run_ids is not None else [],
    ).fetchall()
    return [
        RunSummary(
            run_id,
            methodology_id,
            tuple(
                RunExecution(engine, created_at, float(seconds), version)
                for engine, created_at, seconds, version in executions
            ),
        )
        for run_id, methodology_id, executions in rows
    ]
