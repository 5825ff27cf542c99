"""One collection run: every registered account in scope, through its platform's client.

Per account, in this order:

1. **followers**: one reading of its follower count (so the followers at posting time of the
   posts collected next are known);
2. **posts**: a walk over its posts published in ``[since, until)``: ``since`` is where its
   posts were last complete (the first run: ``until`` − :data:`HISTORY`), ``until`` now.
   Each page is loaded with its cursor in one transaction; a walk cut short (Ctrl-C, a crash,
   a kill, an error) continues from its last committed page on the next run;
3. **re-readings**: the counts of its posts that reached an age of :data:`RECOUNT_AGES` days
   since their last reading, so engagement is compared at like ages.

A terminal error (a revoked token, a deleted account, a missing permission) or a transient one
that outlasted the retries is kept for that account (``collect status``) and the run goes on
with the others; a used-up quota stops that platform's accounts for this run. Every response
goes through ``store.ingest.load_file``: the same readers, quarantine, raw keeping and loader
as ``govsocial import``, its origin the request URL without credentials and its page number.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from govsocial.collect.clients import CLIENTS, DAILY_QUOTAS, credentials_of, open_client
from govsocial.errors import (
    ConfigError,
    InputError,
    Interrupted,
    NotFoundError,
    QuotaExhausted,
    SourceError,
    UsageError,
)
from govsocial.sources.clients import AccountRef, Fetched, PlatformClient
from govsocial.sources.formats import stager
from govsocial.sources.http import QuotaBudget, Resume, Wait
from govsocial.sources.staging import ImportOptions
from govsocial.store import Warehouse
from govsocial.store import collecting as state
from govsocial.store.ingest import ImportSummary, load_file
from govsocial.words import count

HISTORY = timedelta(days=365)  # how far back the first run of an account reaches
RECOUNT_AGES = (1, 7, 30)  # days: a post's counts are read again at these ages


@dataclass
class AccountResult:
    account: state.RegisteredAccount
    pages: int = 0
    posts_new: int = 0
    snapshots_new: int = 0
    recounted: int = 0
    error: str | None = None


@dataclass
class CollectReport:
    run_id: int
    accounts: list[AccountResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # platform → why not collected
    usage: dict[str, dict[str, object]] = field(default_factory=dict)
    status: str = "finished"

    @property
    def pages(self) -> int:
        return sum(a.pages for a in self.accounts)

    @property
    def errors(self) -> list[AccountResult]:
        return [a for a in self.accounts if a.error]


Step = Callable[[state.RegisteredAccount, str], None]


def collect(
    wh: Warehouse,
    *,
    platforms: Sequence[str] = (),
    institutions: Sequence[str] = (),
    account_ids: Sequence[int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    api_root: str | None = None,
    clients: Mapping[str, PlatformClient] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    step: Step | None = None,
    on_wait: Callable[[Wait], None] | None = None,
) -> CollectReport:
    """Collect every registered account in scope (see the module docstring). ``clients``:
    ready clients per platform (tests); else each is opened from the settings."""
    unknown = [p for p in platforms if p not in CLIENTS]
    if unknown:
        raise UsageError(
            f"--platform: unknown platform {unknown[0]!r}. Choose from: {', '.join(CLIENTS)}."
        )
    if since is not None and until is not None and since >= until:
        raise UsageError(f"--since ({since:%Y-%m-%d}) must be before --until ({until:%Y-%m-%d}).")
    accounts = state.accounts_in_scope(wh, platforms, institutions, account_ids)
    if not accounts:
        raise NotFoundError(
            "no registered account matches: load a registry first (`govsocial registry load "
            "FILE`), or check --platform/--institution/--account (`govsocial registry list`)."
        )
    scope = _describe(platforms, institutions, account_ids)
    report = CollectReport(state.start_run(wh, scope, now()))
    opened: dict[str, PlatformClient] = dict(clients or {})
    work: list[tuple[PlatformClient, list[state.RegisteredAccount]]] = []
    run = _Run(wh, report, since, until, now, step)
    try:
        for platform, owned in _by_platform(accounts):
            client = opened.get(platform)
            if client is None:
                try:
                    credentials = credentials_of(platform)
                except ConfigError as exc:
                    if platforms:  # asked for by name: the user must act
                        raise
                    report.skipped[platform] = exc.message
                    continue
                client = opened[platform] = open_client(
                    platform,
                    api_root=api_root,
                    credentials=credentials,
                    on_wait=on_wait,
                    budget=_budget(wh, platform),
                )
            work.append((client, owned))
        run.platforms_at_once(work)
    except KeyboardInterrupt:
        report.status = "interrupted"
        raise Interrupted(
            f"Collection stopped: {count(report.pages, 'page')} of "
            f"{count(len(report.accounts), 'account')} kept, each with where its walk stopped. "
            "Run `govsocial collect` again to continue from there."
        ) from None
    finally:
        report.usage = {client.platform: _usage(client) for client, _ in work}
        for platform, client in opened.items():
            if clients is None or platform not in clients:
                client.close()
        order = {p: i for i, p in enumerate(CLIENTS)}
        report.accounts.sort(key=lambda a: (order[a.account.platform], a.account.account_id))
        state.finish_run(
            wh,
            report.run_id,
            report.status,
            now(),
            len(report.accounts),
            report.pages,
            len(report.errors),
            report.usage,
        )
    return report


class _Run:
    """The platforms are collected at the same time, one thread each (each client limits its
    own requests in flight): while one platform waits for its API, another's pages load.
    The warehouse is written by one thread at a time (``lock``); fetching needs no lock.
    Ctrl-C (or an error) in any thread stops the others after the page they are loading."""

    def __init__(
        self,
        wh: Warehouse,
        report: CollectReport,
        since: datetime | None,
        until: datetime | None,
        now: Callable[[], datetime],
        step: Step | None,
    ) -> None:
        self.wh, self.report, self.since, self.until = wh, report, since, until
        self.now, self.step = now, step
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def platforms_at_once(
        self, work: Sequence[tuple[PlatformClient, list[state.RegisteredAccount]]]
    ) -> None:
        if not work:
            return
        with ThreadPoolExecutor(max_workers=len(work), thread_name_prefix="collect") as pool:
            futures = [pool.submit(self.platform, client, owned) for client, owned in work]
            try:
                for future in futures:
                    while True:
                        try:
                            future.result(timeout=0.2)  # wakes up for Ctrl-C
                            break
                        except TimeoutError:
                            continue
            except BaseException:
                self.stop.set()
                raise

    def platform(self, client: PlatformClient, accounts: list[state.RegisteredAccount]) -> None:
        try:
            for i, account in enumerate(accounts):
                if self.stop.is_set():
                    return
                result = AccountResult(account)
                self.report.accounts.append(result)
                try:
                    self.account(client, account, result)
                except QuotaExhausted as exc:
                    result.error = exc.message
                    self.outcome(account, exc.message)
                    for later in accounts[i + 1 :]:
                        self.report.accounts.append(
                            AccountResult(later, error="not collected: " + exc.message)
                        )
                    self.report.skipped[account.platform] = exc.message
                    return
                except (SourceError, InputError) as exc:
                    result.error = exc.message
                self.outcome(account, result.error)
        except BaseException:
            self.stop.set()
            raise

    def outcome(self, account: state.RegisteredAccount, error: str | None) -> None:
        with self.lock:
            state.record_outcome(self.wh, account.account_id, self.report.run_id, self.now(), error)

    def account(
        self, client: PlatformClient, account: state.RegisteredAccount, result: AccountResult
    ) -> None:
        wh, now = self.wh, self.now
        ref = AccountRef(account.account_id, account.platform, account.platform_id, account.handle)
        loader = _Loader(wh, client.format, result, self.lock)
        self.say(account, "followers")
        loader.load(client.followers(ref))
        # The walk: continue the one in progress, else start after what is complete.
        with self.lock:
            kept = state.cursor(wh, account.account_id)
            complete = state.complete_until(wh, account.account_id)
        resume: Resume | None = None
        if kept is not None and kept.resume is not None:
            start, end = kept.since, kept.until
            resume = Resume.from_json(kept.resume)
        else:
            end = self.until or now()
            start = self.since or complete or end - HISTORY
        if start < end:
            self.say(account, "posts")
            for page in client.posts(ref, start, end, resume):
                loader.load(page, then=_keep_cursor(wh, account.account_id, start, end, page, now))
                if self.stop.is_set():
                    return
            with self.lock:
                state.finish_walk(wh, account.account_id, start, end, now())
        with self.lock:
            due = state.due_recounts(wh, account.account_id, RECOUNT_AGES, now())
        if due and not self.stop.is_set():
            self.say(account, "recount")
            for page in client.recount(ref, due):
                loader.load(page)
            result.recounted = len(due)

    def say(self, account: state.RegisteredAccount, what: str) -> None:
        if self.step is not None:
            self.step(account, what)


def _budget(wh: Warehouse, platform: str) -> QuotaBudget | None:
    """The platform's daily quota, with what earlier runs of the same quota day used."""
    make = DAILY_QUOTAS.get(platform)
    if make is None:
        return None
    earlier = state.quota_used(wh, platform)
    return make(used=earlier[0], as_of=earlier[1]) if earlier else make()


def _usage(client: PlatformClient) -> dict[str, object]:
    usage = client.usage
    return {
        "lines": usage.lines(),
        "quota_used": usage.quota_used,
        "as_of": usage.updated_at.isoformat() if usage.updated_at else None,
    }


def _keep_cursor(
    wh: Warehouse,
    account_id: int,
    start: datetime,
    end: datetime,
    page: Fetched,
    now: Callable[[], datetime],
) -> Callable[[ImportSummary], None]:
    """Keeps where the walk continues after ``page``, in the page's own transaction."""
    saved = page.resume.to_json() if page.resume else None

    def keep(_: ImportSummary) -> None:
        state.save_cursor(wh, account_id, start, end, saved, now())

    return keep


class _Loader:
    """Loads fetched responses like imported files: through a file in a private folder."""

    def __init__(
        self, wh: Warehouse, format_name: str, result: AccountResult, lock: threading.Lock
    ) -> None:
        self.wh = wh
        self.format = format_name
        self.result = result
        self.lock = lock

    def load(
        self, page: Fetched, then: Callable[[ImportSummary], None] | None = None
    ) -> ImportSummary:
        folder = self.wh.path.parent if self.wh.path else None
        with tempfile.TemporaryDirectory(prefix=".govsocial-page-", dir=folder) as tmp:
            path = Path(tmp) / "page.json"
            path.write_bytes(page.body)
            stage = stager(self.format, ImportOptions(captured_at=page.fetched_at))
            with self.lock:
                summary = load_file(
                    self.wh, path, stage, origin=f"{page.origin} (page {page.number})", then=then
                )
        self.result.pages += 1
        self.result.posts_new += summary.posts_new
        self.result.snapshots_new += summary.snapshots_new
        return summary


def _by_platform(
    accounts: Iterable[state.RegisteredAccount],
) -> list[tuple[str, list[state.RegisteredAccount]]]:
    grouped: dict[str, list[state.RegisteredAccount]] = {}
    for account in accounts:
        grouped.setdefault(account.platform, []).append(account)
    return [(p, grouped[p]) for p in CLIENTS if p in grouped]


def _describe(
    platforms: Sequence[str], institutions: Sequence[str], account_ids: Sequence[int]
) -> str:
    parts = [
        f"platform {', '.join(platforms)}" if platforms else "",
        f"institution {', '.join(institutions)}" if institutions else "",
        f"account {', '.join(str(a) for a in account_ids)}" if account_ids else "",
    ]
    return "; ".join(p for p in parts if p) or "every registered account"
