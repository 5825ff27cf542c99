"""Several jurors saving at once, from threads and from processes, lose nothing (WAL, a busy
timeout, BEGIN IMMEDIATE); a process killed in the middle of a save loses no submitted ballot
and leaves the audit chain valid. The ballots table is checked against a replay of the log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from govsocial.jury.audit import entries, verify
from govsocial.jury.ballots import read_ballots, save_draft
from govsocial.jury.juries import Jury
from govsocial.jury.store import StateStore
from jury.world import CATEGORIES, CLUSTERS, CRITERIA, Clock, People, panel

ROUNDS = 3


def replayed(store: StateStore) -> dict[str, dict[str, Any]]:
    """Every ballot's state rebuilt from the audit log alone."""
    state: dict[str, dict[str, Any]] = {}
    for e in entries(store):
        if e.action in ("ballot.draft", "ballot.recuse"):
            state[e.subject] = dict(e.after)
        elif e.action in ("panel.submit", "panel.reopen"):
            prefix = "ballot:" + e.subject.removeprefix("panel:") + "/"
            for subject in [s for s in state if s.startswith(prefix)]:
                state[subject]["status"] = e.after["status"]
    return state


def assert_log_matches_ballots(store: StateStore, organiser: int, jury: Jury) -> None:
    assert verify(store).ok
    stored = {b.subject: b.audited() for b in read_ballots(store, organiser, jury.id)}
    assert replayed(store) == stored


def value(juror: int, round_: int, place: int) -> float:
    return float((juror * 3 + round_ * 2 + place) % 11)


def test_jurors_saving_at_once_from_threads_lose_nothing(
    state_file: Path, store: StateStore, people: People, jury: Jury
) -> None:
    units = {
        (c, k): [n.unit for n in panel(store, jury.id, c, k)] for c in CATEGORIES for k in CLUSTERS
    }
    start = threading.Barrier(len(people.jurors))
    failures: list[BaseException] = []

    def juror_saves(juror: int) -> None:
        try:
            with StateStore.open(state_file, clock=Clock(store.clock())) as own:
                start.wait()
                for round_ in range(ROUNDS):
                    for (category, cluster), found in units.items():
                        for place, unit in enumerate(found):
                            scores = dict.fromkeys(CRITERIA, value(juror, round_, place))
                            save_draft(own, juror, jury.id, category, cluster, unit, scores)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=juror_saves, args=(j,)) for j in people.jurors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    ballots = read_ballots(store, people.organiser, jury.id)
    assert len(ballots) == len(people.jurors) * 20
    for b in ballots:
        place = units[(b.category, b.cluster_id)].index(b.unit)
        assert b.scores == dict.fromkeys(CRITERIA, value(b.juror_id, ROUNDS - 1, place))
    drafts = [e for e in entries(store) if e.action == "ballot.draft"]
    assert len(drafts) == len(people.jurors) * 20 * ROUNDS
    assert_log_matches_ballots(store, people.organiser, jury)


SAVER = """
import sys
from datetime import datetime
from pathlib import Path
from govsocial.jury.ballots import save_draft, submit
from govsocial.jury.juries import nominees
from govsocial.jury.store import StateStore

path, now = sys.argv[1], sys.argv[5]
jury, juror, rounds = map(int, sys.argv[2:5])
criteria = {criteria!r}
store = StateStore.open(Path(path), clock=lambda: datetime.fromisoformat(now))
found = nominees(store, jury)
print("ready", flush=True)
sys.stdin.readline()  # every process starts saving at once
panels = {{}}
for n in found:
    panels.setdefault((n.category, n.cluster_id), []).append(n.unit)
for round_ in range(rounds):
    for (category, cluster), units in panels.items():
        for place, unit in enumerate(units):
            v = float((juror * 3 + round_ * 2 + place) % 11)
            scores = dict.fromkeys(criteria, v)
            save_draft(store, juror, jury, category, cluster, unit, scores)
for category, cluster in sorted(panels):
    submit(store, juror, jury, category, cluster)
print("done", flush=True)
"""


def test_jurors_saving_at_once_from_processes_lose_nothing(
    state_file: Path, store: StateStore, people: People, jury: Jury
) -> None:
    script = SAVER.format(criteria=list(CRITERIA))
    now = store.clock().isoformat()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(state_file), str(jury.id), str(j), "2", now],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for j in people.jurors
    ]
    for p in processes:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in processes:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in processes:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0 and out.strip() == "done"
    ballots = read_ballots(store, people.organiser, jury.id)
    assert len(ballots) == 60 and {b.status for b in ballots} == {"submitted"}
    assert len([e for e in entries(store) if e.action == "ballot.draft"]) == 3 * 20 * 2
    assert len([e for e in entries(store) if e.action == "panel.submit"]) == 3 * 4
    assert_log_matches_ballots(store, people.organiser, jury)


KILLED = """
import sys, time
from datetime import datetime
from pathlib import Path
import govsocial.jury.audit as audit
from govsocial.jury.ballots import save_draft, submit
from govsocial.jury.juries import nominees
from govsocial.jury.store import StateStore

path, jury, juror, now = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
criteria = {criteria!r}
store = StateStore.open(Path(path), clock=lambda: datetime.fromisoformat(now))
found = nominees(store, jury)
first = [n for n in found if (n.category, n.cluster_id) == ("most_active", "pemda")]
for n in first:
    save_draft(store, juror, jury, n.category, n.cluster_id, n.unit, dict.fromkeys(criteria, 6.0))
submit(store, juror, jury, "most_active", "pemda")
original = audit.append
def paused(*args):
    seq = original(*args)  # the ballot and its entry are written, not yet committed
    print("inside", seq, flush=True)
    time.sleep(60)
    return seq
audit.append = paused
n = [n for n in found if (n.category, n.cluster_id) == ("best_account", "pemda")][0]
save_draft(store, juror, jury, n.category, n.cluster_id, n.unit, dict.fromkeys(criteria, 1.0))
print("not killed", flush=True)
"""


def test_a_process_killed_mid_save_loses_no_submitted_ballot(
    state_file: Path, store: StateStore, people: People, jury: Jury
) -> None:
    juror = people.jurors[1]
    before = verify(store).entries
    script = KILLED.format(criteria=list(CRITERIA))
    now = store.clock().isoformat()
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(state_file), str(jury.id), str(juror), now],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    with process.stdout:
        line = process.stdout.readline().split()
        assert line[0] == "inside"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    # Reopened afresh (as a restarted server would): the submitted panel is whole, the save
    # in flight left nothing, and the chain ends where the last commit left it.
    with StateStore.open(state_file, clock=Clock(store.clock())) as after:
        report = verify(after)
        assert report.ok and report.entries == before + 6 == int(line[1]) - 1
        ballots = read_ballots(after, people.organiser, jury.id)
        assert [(b.category, b.cluster_id, b.status, b.scores) for b in ballots] == [
            ("most_active", "pemda", "submitted", dict.fromkeys(CRITERIA, 6.0))
        ] * 5
        assert_log_matches_ballots(after, people.organiser, jury)
        unit = panel(after, jury.id, "best_account", "pemda")[0].unit
        again = save_draft(  # the killed writer's lock is gone
            after, juror, jury.id, "best_account", "pemda", unit, dict.fromkeys(CRITERIA, 2.0)
        )
        assert again.scores == dict.fromkeys(CRITERIA, 2.0)
        assert verify(after).entries == before + 7
