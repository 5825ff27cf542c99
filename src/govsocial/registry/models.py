"""Typed registry records: clusters, institutions and their accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from govsocial.vocabulary import PLATFORMS

__all__ = ["PLATFORMS", "Account", "Cluster", "Institution", "Registry", "normalise_handle"]


@dataclass(frozen=True)
class Cluster:
    """A group of comparable institutions (ministries, local governments, ...)."""

    id: str
    name: str
    name_en: str | None = None
    sub_clusters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Account:
    """One official account of an institution on one platform."""

    platform: str
    handle: str | None
    platform_id: str | None
    name: str | None = None

    @property
    def handle_key(self) -> str | None:
        """The handle as platforms compare it: without '@', case-insensitive."""
        return normalise_handle(self.handle)


@dataclass(frozen=True)
class Institution:
    id: str
    name: str
    cluster: str
    sub_cluster: str | None = None
    region: str | None = None
    accounts: tuple[Account, ...] = ()


@dataclass(frozen=True)
class Registry:
    """What one registry file declares."""

    institutions: tuple[Institution, ...]
    clusters: tuple[Cluster, ...] = ()
    synthetic: bool = False
    accounts_count: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "accounts_count", sum(len(i.accounts) for i in self.institutions))


def normalise_handle(handle: str | None) -> str | None:
    if handle is None:
        return None
    key = handle.strip().lstrip("@").lower()
    return key or None
