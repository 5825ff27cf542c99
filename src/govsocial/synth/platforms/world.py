"""The accounts and posts the fake platform server serves: :class:`FakeWorld`.

Everything is drawn from one seeded RNG, so the same seed gives the same accounts, ids, texts
and counts. What the server shows depends on the world's clock (injectable, e.g. a
:class:`ManualClock`): a post exists from its ``posted_at`` on, its counts grow with its age
(a later reading gives higher counts, as a real post's do) and an account's followers grow
by the day. The totals tests compare with (:meth:`FakeWorld.posts_in`,
:meth:`FakeWorld.followers`) are read with the same clock.

:meth:`FakeWorld.registry_yaml` writes the registry (docs/registry.md) that registers the
same accounts, by platform id and handle, so a warehouse can assign what it collects.
"""

from __future__ import annotations

import bisect
import random
import string
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

PLATFORMS = ("youtube", "facebook", "instagram", "x", "tiktok")
# Half of a post's final counts arrive in its first GROWTH of life (value = final * a/(a+G)).
GROWTH = timedelta(days=2)
_X_EPOCH_MS = 1288834974657  # X's snowflake ids count milliseconds from this moment

Clock = Callable[[], datetime]


class ManualClock:
    """A clock that stands still until moved: ``clock.advance(timedelta(days=1))``."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Counts:
    views: int
    likes: int
    comments: int
    shares: int


@dataclass(frozen=True, slots=True)
class FakePost:
    """One post: ``media_type`` in govsocial's vocabulary (image, video, text, link,
    carousel, reel); ``final`` its counts once grown (``counts(now)`` at a moment)."""

    platform_id: str
    posted_at: datetime
    text: str
    media_type: str
    duration_s: int | None
    final: Counts

    @property
    def key(self) -> tuple[datetime, str]:
        """The order of a timeline (newest first is descending): time, then id."""
        return (self.posted_at, self.platform_id)

    def counts(self, now: datetime) -> Counts:
        age = (now - self.posted_at).total_seconds()
        if age <= 0:
            return Counts(0, 0, 0, 0)
        share = age / (age + GROWTH.total_seconds())
        f = self.final
        return Counts(*(int(v * share) for v in (f.views, f.likes, f.comments, f.shares)))

    @property
    def hashtags(self) -> list[str]:
        return [w[1:] for w in self.text.split() if w.startswith("#")]


@dataclass(slots=True)
class FakeAccount:
    """One account. ``posts`` are newest first (ties broken by id), including those the
    clock has not reached yet; ``platform_id`` is None for TikTok (its Research API knows
    accounts by username only)."""

    platform: str
    platform_id: str | None
    handle: str
    name: str
    institution_id: str
    followers_start: int
    followers_per_day: float
    created: datetime
    posts: list[FakePost] = field(default_factory=list)

    def followers(self, now: datetime) -> int:
        days = max((now - self.created).total_seconds(), 0.0) / 86400
        return self.followers_start + int(days * self.followers_per_day)

    def visible(self, now: datetime) -> list[FakePost]:
        """The posts published by ``now``, newest first."""
        keys = [-p.posted_at.timestamp() for p in self.posts]
        return self.posts[bisect.bisect_left(keys, -now.timestamp()) :]

    @property
    def uploads_playlist(self) -> str:
        """YouTube's uploads playlist of a channel: ``UC…`` → ``UU…``."""
        return "UU" + (self.platform_id or "")[2:]


_NAMES = [
    ("jabarprov", "Pemerintah Provinsi Jawa Barat", "pemda", "provinsi"),
    ("kotabandung", "Pemerintah Kota Bandung", "pemda", "kota"),
    ("kemenkes", "Kementerian Kesehatan", "kementerian", None),
    ("bogorkab", "Pemerintah Kabupaten Bogor", "pemda", "kabupaten"),
    ("bmkg", "Badan Meteorologi, Klimatologi, dan Geofisika", "lembaga", None),
    ("ugm", "Universitas Gadjah Mada", "perguruan_tinggi", None),
    ("kemendikbud", "Kementerian Pendidikan", "kementerian", None),
    ("surabaya", "Pemerintah Kota Surabaya", "pemda", "kota"),
]
_PHRASES = [
    "Layanan vaksinasi gratis dibuka hari ini",
    "Jadwal pelayanan publik pekan ini",
    "Selamat Hari Jadi, terima kasih warga",
    "Waspada cuaca ekstrem, simak informasinya",
    "Pendaftaran beasiswa sudah dibuka",
    "Rapat koordinasi penanganan banjir",
]
_TAGS = ["InfoPublik", "Vaksinasi", "JabarJuara", "LayananPublik", "CuacaEkstrem", "Beasiswa"]
# Which media types each platform's posts take, in govsocial's vocabulary.
_MEDIA = {
    "youtube": ("video", "reel"),
    "facebook": ("image", "video", "link", "text"),
    "instagram": ("image", "video", "carousel", "reel"),
    "x": ("text", "image", "video", "link"),
    "tiktok": ("reel",),
}
_ALNUM = string.ascii_letters + string.digits


class FakeWorld:
    """``institutions`` institutions, each with one account per platform (``platforms``),
    each with about ``posts_per_account`` posts spread over ``[start, end)``."""

    def __init__(
        self,
        *,
        seed: int = 11,
        institutions: int = 3,
        posts_per_account: int = 30,
        start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
        end: datetime = datetime(2025, 3, 1, tzinfo=UTC),
        platforms: Iterable[str] = PLATFORMS,
        clock: Clock | None = None,
    ) -> None:
        self.seed, self.start, self.end = seed, start, end
        self.clock: Clock = clock or _utc_now
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._accounts: list[FakeAccount] = []
        self._index: dict[tuple[str, str], FakeAccount] = {}
        self._institutions: list[tuple[str, str, str, str | None]] = []
        for number in range(institutions):
            base, name, cluster, sub = _NAMES[number % len(_NAMES)]
            if number >= len(_NAMES):
                base += str(number // len(_NAMES) + 1)
                name += f" {number // len(_NAMES) + 1}"
            institution = f"syn-fake-{base}"
            self._institutions.append((institution, name, cluster, sub))
            for platform in platforms:
                self._add_account(platform, base, name, institution, posts_per_account)

    # ---- building ----

    def _add_account(
        self, platform: str, base: str, name: str, institution: str, posts: int
    ) -> None:
        rng = self._rng
        # Labelled as synthetic as docs/synthetic.md says (Facebook usernames take no "_").
        handle = ("syn." if platform == "facebook" else "syn_") + base
        platform_id = {
            "youtube": "UC" + "".join(rng.choices(_ALNUM + "-_", k=22)),
            "facebook": str(rng.randrange(10**14, 10**15)),
            "instagram": "17841" + str(rng.randrange(10**11, 10**12)),
            "x": str(rng.randrange(10**9, 10**10)),
            "tiktok": None,
        }[platform]
        account = FakeAccount(
            platform=platform,
            platform_id=platform_id,
            handle=handle,
            name=name,
            institution_id=institution,
            followers_start=int(rng.lognormvariate(10, 1.2)),
            followers_per_day=round(rng.uniform(0, 200), 1),
            created=self.start,
        )
        span = (self.end - self.start).total_seconds()
        times = sorted(
            (self.start + timedelta(seconds=int(rng.random() * span)) for _ in range(posts)),
            reverse=True,
        )
        account.posts = [self._post(account, moment) for moment in times]
        account.posts.sort(key=lambda p: p.key, reverse=True)
        self._accounts.append(account)
        self._index[(platform, handle.lower())] = account
        if platform_id:
            self._index[(platform, platform_id)] = account

    def _post(self, account: FakeAccount, posted_at: datetime) -> FakePost:
        rng = self._rng
        platform = account.platform
        media = rng.choice(_MEDIA[platform])
        others = [a.handle for a in self._accounts if a.platform == platform] or [account.handle]
        tags = " ".join(f"#{t}" for t in rng.sample(_TAGS, rng.randint(1, 2)))
        text = f"{rng.choice(_PHRASES)} {tags} bersama @{rng.choice(others)}"
        if media == "link":
            text += " https://jabarprov.go.id/berita"
        duration = None
        if media in ("video", "reel"):
            duration = rng.randint(15, 60) if media == "reel" else rng.randint(61, 900)
        reach = account.followers_start * rng.uniform(0.01, 0.2) + 50
        final = Counts(
            views=int(reach * rng.uniform(2, 10)) if media in ("video", "reel") else 0,
            likes=int(reach * rng.uniform(0.3, 1)),
            comments=int(reach * rng.uniform(0, 0.1)),
            shares=int(reach * rng.uniform(0, 0.05)),
        )
        return FakePost(self._post_id(account, posted_at), posted_at, text, media, duration, final)

    def _post_id(self, account: FakeAccount, posted_at: datetime) -> str:
        rng = self._rng
        if account.platform == "youtube":
            return "".join(rng.choices(_ALNUM + "-_", k=11))
        if account.platform == "facebook":
            return f"{account.platform_id}_{rng.randrange(10**16, 10**17)}"
        if account.platform == "instagram":
            return "179" + str(rng.randrange(10**14, 10**15))
        if account.platform == "x":  # a snowflake: ids grow with time, as X's do
            millis = int(posted_at.timestamp() * 1000) - _X_EPOCH_MS
            return str((millis << 22) + rng.randrange(1 << 22))
        return str(rng.randrange(7 * 10**18, 8 * 10**18))  # TikTok: 19-digit integers

    def add_post(self, account: FakeAccount, posted_at: datetime | None = None) -> FakePost:
        """A new post at ``posted_at`` (default: now by the clock), at the top of its timeline
        (the "page that changes between two reads" fault adds one this way)."""
        with self._lock:
            post = self._post(account, (posted_at or self.clock()).replace(microsecond=0))
            account.posts.append(post)
            account.posts.sort(key=lambda p: p.key, reverse=True)
            return post

    # ---- reading ----

    def accounts(self, platform: str | None = None) -> list[FakeAccount]:
        return [a for a in self._accounts if platform is None or a.platform == platform]

    def account(self, platform: str, key: str) -> FakeAccount | None:
        """The account of ``platform`` with this platform id or handle (``@`` and case
        ignored), or None."""
        return self._index.get((platform, key)) or self._index.get(
            (platform, key.removeprefix("@").lower())
        )

    def now(self) -> datetime:
        return self.clock()

    def posts_in(
        self, account: FakeAccount, since: datetime | None = None, until: datetime | None = None
    ) -> list[FakePost]:
        """The account's posts visible now and published in ``[since, until)``, newest first."""
        return [
            p
            for p in account.visible(self.clock())
            if (since is None or p.posted_at >= since) and (until is None or p.posted_at < until)
        ]

    def total_posts(
        self,
        platform: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        return sum(len(self.posts_in(a, since, until)) for a in self.accounts(platform))

    def followers(self, account: FakeAccount) -> int:
        return account.followers(self.clock())

    # ---- the matching registry ----

    def registry(self) -> dict[str, object]:
        """The registry document (docs/registry.md) listing every account of the world."""
        institutions = []
        for institution, name, cluster, sub in self._institutions:
            entry: dict[str, object] = {"id": institution, "name": name, "cluster": cluster}
            if sub:
                entry["sub_cluster"] = sub
            accounts = []
            for account in self._accounts:
                if account.institution_id != institution:
                    continue
                row: dict[str, object] = {"platform": account.platform, "handle": account.handle}
                if account.platform_id:
                    row["platform_id"] = account.platform_id
                row["name"] = account.name
                accounts.append(row)
            entry["accounts"] = accounts
            institutions.append(entry)
        return {"synthetic": True, "institutions": institutions}

    def registry_yaml(self) -> str:
        return yaml.safe_dump(self.registry(), sort_keys=False, allow_unicode=True)

    def write_registry(self, path: Path) -> Path:
        path.write_text(self.registry_yaml(), encoding="utf-8")
        return path

    def __iter__(self) -> Iterator[FakeAccount]:
        return iter(self._accounts)
