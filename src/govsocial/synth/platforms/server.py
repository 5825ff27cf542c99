"""The fake platform server: :class:`FakePlatforms`, a real HTTP server on 127.0.0.1 that
answers as YouTube, Facebook, Instagram, X and TikTok do, from a :class:`FakeWorld`::

    world = FakeWorld(seed=3, clock=ManualClock(datetime(2025, 3, 1, tzinfo=UTC)))
    with FakePlatforms(world, faults=Faults(server_error=0.2), seed=1) as server:
        client = YouTubeClient(server.credentials.settings(), base_url=server.base_url("youtube"))
        ...
        assert [r.status for r in server.log]  # what was asked, and answered

Each request goes through, in order: the API's credentials check (and its own limits: quota,
rate window), the injected faults (expired token, deleted or forbidden account, rate limit,
server error), the answer, then the slow and truncated faults and the headers the API puts
on every response. :meth:`FakePlatforms.transport` serves the same answers in-process
(an ``httpx.MockTransport``), for tests and benchmarks that need no socket.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from govsocial.synth.platforms.base import (
    Context,
    Credentials,
    FakeApi,
    Faults,
    Limits,
    Reply,
    Request,
    json_reply,
)
from govsocial.synth.platforms.graph import Graph
from govsocial.synth.platforms.tiktok import TikTok
from govsocial.synth.platforms.world import FakeAccount, FakeWorld
from govsocial.synth.platforms.x import X
from govsocial.synth.platforms.youtube import YouTube

# Where each platform's API is mounted on the server (a client's base_url is root + this).
MOUNTS = {
    "youtube": YouTube.mount,
    "facebook": Graph.mount,
    "instagram": Graph.mount,
    "x": X.mount,
    "tiktok": TikTok.mount,
}
_SECRET_PARAMS = ("key", "access_token", "client_secret")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the server saw it: ``path`` with its query, credentials removed;
    ``fault`` names the injected fault that answered it (None: a normal answer)."""

    number: int
    method: str
    path: str
    status: int
    fault: str | None


class FakePlatforms:
    """The five APIs on one ``ThreadingHTTPServer`` (port 0: the system picks one), started
    and stopped as a context manager; :attr:`root` is ``http://127.0.0.1:<port>``."""

    def __init__(
        self,
        world: FakeWorld,
        *,
        faults: Faults | None = None,
        limits: Limits | None = None,
        credentials: Credentials | None = None,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world
        self.credentials = credentials or Credentials()
        self.context = Context(
            world, self.credentials, limits or Limits(), faults or Faults(), seed
        )
        self.apis: list[FakeApi] = [
            YouTube(self.context),
            Graph(self.context),
            X(self.context),
            TikTok(self.context),
        ]
        self.log: list[LoggedRequest] = []
        self._address = (host, port)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._numbers = 0
        self._asked: Counter[str] = Counter()  # request key -> times asked
        self._streak: Counter[str] = Counter()  # request key -> faults answered in a row

    # ---- lifecycle ----

    @property
    def faults(self) -> Faults:
        return self.context.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        """Change the faults of a running server (e.g. none, to finish a run cleanly)."""
        self.context.faults = faults

    @property
    def root(self) -> str:
        if not self.context.root:
            raise RuntimeError("the fake platform server is not started (use it as `with`)")
        return self.context.root

    def base_url(self, platform: str) -> str:
        """What a client of ``platform`` takes as ``base_url``: ``<root>/youtube/v3`` ..."""
        return self.root + MOUNTS[platform]

    def start(self) -> FakePlatforms:
        server = _Server(self._address, _handler(self))
        server.daemon_threads = True
        self._server = server
        host, port = server.server_address[:2]
        self.context.root = f"http://{host!s}:{port}"
        self._thread = threading.Thread(
            # A short poll: stopping waits for it, and tests start many servers.
            target=server.serve_forever,
            args=(0.05,),
            name="fake-platforms",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakePlatforms:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def transport(self) -> httpx.MockTransport:
        """The same answers without a socket (set :attr:`root` by starting the server, or
        the Graph API's ``paging.next`` links start ``http://fake``)."""
        if not self.context.root:
            self.context.root = "http://fake"

        def handler(request: httpx.Request) -> httpx.Response:
            url = request.url
            target = url.raw_path.decode("ascii")
            headers = {k.lower(): v for k, v in request.headers.items()}
            reply = self.handle(request.method, target, headers, request.content)
            return httpx.Response(reply.status, headers=reply.headers, content=reply.body)

        return httpx.MockTransport(handler)

    # ---- one request ----

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        """Answer one request (``target``: path and query as sent)."""
        parts = urlsplit(target)
        api = next((a for a in self.apis if parts.path.startswith(a.mount + "/")), None)
        with self.context.lock:
            self._numbers += 1
            number = self._numbers
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        shown = {k: v for k, v in query.items() if k not in _SECRET_PARAMS}
        logged_path = parts.path + (f"?{urlencode(shown)}" if shown else "")
        if api is None:
            reply = json_reply(404, {"error": f"nothing is mounted at {parts.path}"})
            self._log(number, method, logged_path, reply.status, None)
            return reply
        request = Request(method, parts.path[len(api.mount) :], query, headers, _body(headers, raw))
        reply, fault = self._answer(api, request, number, f"{method} {logged_path}")
        self._log(number, method, logged_path, reply.status, fault)
        if fault == "slow":
            self._stopping.wait(self.faults.slow_s)
        return reply

    def _answer(
        self, api: FakeApi, request: Request, number: int, key: str
    ) -> tuple[Reply, str | None]:
        if api.open_path(request):
            return api.serve(request), None
        refused = api.authorise(request)
        if refused is not None:
            api.decorate(request, refused)
            return refused, None
        reply, fault = self._fault(api, request, number, key)
        if reply is None:
            reply = api.serve(request)
            if fault == "truncated" and reply.status == 200:
                reply.body = reply.body[: max(len(reply.body) // 2, 1)]
        api.decorate(request, reply)
        return reply, fault

    def _fault(
        self, api: FakeApi, request: Request, number: int, key: str
    ) -> tuple[Reply | None, str | None]:
        faults = self.faults
        if faults.expired_token is not None and number in faults.expired_token:
            return api.expired(request), "expired_token"
        account = api.account_of(request)
        if account is not None and faults.hits(tuple(faults.deleted), account):
            return api.not_found(request, account), "deleted"
        if account is not None and faults.hits(tuple(faults.forbidden), account):
            return api.forbidden(request, account), "forbidden"
        with self.context.lock:
            asked = self._asked[key]
            self._asked[key] += 1
            transient = self._streak[key] < faults.in_a_row
        # Drawn from the request and its repeat count, not from a shared stream: the
        # same seed gives the same faults whatever order the client's threads ask in.
        rng = random.Random(f"{self.context.seed}|{key}|{asked}")
        fault = self._transient(api, request, account, rng) if transient else (None, None)
        with self.context.lock:
            self._streak[key] = self._streak[key] + 1 if fault[1] else 0
        return fault

    def _transient(
        self, api: FakeApi, request: Request, account: FakeAccount | None, rng: random.Random
    ) -> tuple[Reply | None, str | None]:
        faults = self.faults
        if faults.hits(faults.rate_limit, account, rng):
            reset = self.context.now() + timedelta(seconds=faults.reset_after_s)
            return api.rate_limited(request, reset), "rate_limit"
        if faults.hits(faults.server_error, account, rng):
            return api.server_error(request), "server_error"
        if faults.hits(faults.slow, account, rng):
            return None, "slow"
        if faults.hits(faults.truncated, account, rng):
            return None, "truncated"
        return None, None

    def _log(self, number: int, method: str, path: str, status: int, fault: str | None) -> None:
        with self.context.lock:
            self.log.append(LoggedRequest(number, method, path, status, fault))

    def faulted(self, fault: str) -> list[LoggedRequest]:
        """The logged requests that ``fault`` answered."""
        return [r for r in self.log if r.fault == fault]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up (its timeout, during a slow answer) is not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _body(headers: dict[str, str], raw: bytes) -> object:
    if not raw:
        return None
    kind = headers.get("content-type", "")
    text = raw.decode("utf-8", errors="replace")
    if "x-www-form-urlencoded" in kind:
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return dict(parse_qsl(text, keep_blank_values=True)) if "=" in text else None


def _handler(server: FakePlatforms) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = server.handle(self.command, self.path, headers, raw)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the server keeps its own log (``FakePlatforms.log``)."""

    return Handler
