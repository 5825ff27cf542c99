"""A local fake of the five platform APIs govsocial collects from, for tests and the demo.

:class:`FakeWorld` holds seeded accounts and posts (and writes the registry that lists them);
:class:`FakePlatforms` serves them on 127.0.0.1 in each API's real shapes, with faults
injected on demand (:class:`Faults`). docs/fake-platforms.md says what is served and how.

    world.py      accounts, posts, counts growing with age, the matching registry
    base.py       request/reply, settings (Credentials, Limits, Faults), keyed cursors, FakeApi
    server.py     FakePlatforms: the HTTP server, the request log, faults applied in order
    youtube.py    YouTube Data API v3          graph.py   Graph API (Facebook, Instagram)
    x.py          X API v2                     tiktok.py  TikTok Research API
    fields.py     the Graph API's `fields` field-expansion syntax
"""

from govsocial.synth.platforms.base import Credentials, Faults, Limits
from govsocial.synth.platforms.server import MOUNTS, FakePlatforms, LoggedRequest
from govsocial.synth.platforms.world import PLATFORMS, FakeAccount, FakePost, FakeWorld, ManualClock

__all__ = [
    "MOUNTS",
    "PLATFORMS",
    "Credentials",
    "FakeAccount",
    "FakePlatforms",
    "FakePost",
    "FakeWorld",
    "Faults",
    "Limits",
    "LoggedRequest",
    "ManualClock",
]
