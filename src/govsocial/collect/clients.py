"""The live-API client of each platform, built from the settings (credentials, api_root)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from govsocial.config import SETTINGS, resolve
from govsocial.errors import ConfigError
from govsocial.sources.clients import PlatformClient
from govsocial.sources.http import QuotaBudget, Wait


@dataclass(frozen=True)
class ClientSpec:
    module: str  # sources.<module>.client
    name: str  # the class
    prefix: str  # where the fake platform server mounts the API under api_root
    credentials: tuple[str, ...]  # settings the client needs
    doc: str  # docs page saying how to get them


CLIENTS: dict[str, ClientSpec] = {
    "youtube": ClientSpec(
        "youtube", "YouTubeClient", "youtube/v3", ("youtube_key",), "docs/collect-youtube.md"
    ),
    "facebook": ClientSpec(
        "facebook",
        "FacebookClient",
        "graph/v21.0",
        ("facebook_token",),
        "docs/collect-facebook-instagram.md",
    ),
    "instagram": ClientSpec(
        "instagram",
        "InstagramClient",
        "graph/v21.0",
        ("instagram_token", "instagram_user_id"),
        "docs/collect-facebook-instagram.md",
    ),
    "x": ClientSpec("x", "XClient", "x", ("x_bearer_token",), "docs/collect-x.md"),
    "tiktok": ClientSpec(
        "tiktok",
        "TikTokClient",
        "tiktok",
        ("tiktok_client_key", "tiktok_client_secret"),
        "docs/collect-tiktok.md",
    ),
}


# Platforms whose API counts a daily quota: the collector carries what a day's earlier runs
# used into the next run of the same quota day (YouTube: units, reset at midnight Pacific time;
# TikTok: requests, reset at midnight UTC).
DAILY_QUOTAS: dict[str, Callable[..., QuotaBudget]] = {
    "youtube": QuotaBudget.youtube,
    "tiktok": QuotaBudget.tiktok,
}


def credentials_of(platform: str) -> dict[str, str]:
    """The platform's credentials from the settings; a ConfigError names each missing one and
    every way to set it."""
    spec = CLIENTS[platform]
    values = {name: str(resolve(name).value) for name in spec.credentials}
    missing = [name for name, value in values.items() if not value]
    if missing:
        ways = "; ".join(f"{name}: {SETTINGS[name].ways_to_set()}" for name in missing)
        raise ConfigError(
            f"{platform}: no {' and no '.join(missing)} is set, so its accounts cannot be "
            f"collected. Set {ways} (or in govsocial.secrets.toml); {spec.doc} says how to get "
            "them."
        )
    return values


def open_client(
    platform: str,
    *,
    api_root: str | None = None,
    credentials: Mapping[str, str] | None = None,
    on_wait: Callable[[Wait], None] | None = None,
    budget: QuotaBudget | None = None,
) -> PlatformClient:
    """The platform's client: the real API, or ``api_root``/<prefix> (the fake server)."""
    spec = CLIENTS[platform]
    module = importlib.import_module(f"govsocial.sources.{spec.module}.client")
    base_url = f"{api_root.rstrip('/')}/{spec.prefix}" if api_root else None
    client: PlatformClient = getattr(module, spec.name)(
        credentials if credentials is not None else credentials_of(platform),
        base_url=base_url,
        on_wait=on_wait,
        **({"budget": budget} if budget is not None else {}),
    )
    return client
