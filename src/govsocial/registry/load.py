"""Read and validate a registry file (YAML or CSV) into a :class:`Registry`.

Every problem in the file is collected (file, line, field, reason, fix) and reported together;
a file with any problem yields nothing, so a registry is never half-loaded.

YAML shape (see docs/registry.md)::

    synthetic: false            # optional
    clusters: [...]             # optional: clusters this file adds
    institutions:
      - id: jabarprov
        name: Pemerintah Provinsi Jawa Barat
        cluster: pemda
        sub_cluster: provinsi
        region: Jawa Barat
        accounts:
          - {platform: instagram, handle: jabarprovgov, platform_id: "1234"}

CSV shape: one row per account, institution columns repeated (an institution without
accounts is one row with an empty ``platform``): ``institution_id, institution_name, cluster,
sub_cluster, region, platform, handle, platform_id, account_name``.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import yaml

from govsocial.errors import InputError, Problem, RegistryError
from govsocial.registry.models import (
    PLATFORMS,
    Account,
    Cluster,
    Institution,
    Registry,
    normalise_handle,
)
from govsocial.registry.parse import (
    CSV_COLUMNS,
    LINE,
    LINES,
    Located,
    line_of,
    parse_csv,
    parse_yaml,
)

__all__ = ["CSV_COLUMNS", "default_clusters", "read_registry"]

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TOP_KEYS = {"synthetic", "clusters", "institutions"}
_INSTITUTION_KEYS = {"id", "name", "cluster", "sub_cluster", "region", "accounts"}
_ACCOUNT_KEYS = {"platform", "handle", "platform_id", "name"}
_CLUSTER_KEYS = {"id", "name", "name_en", "sub_clusters"}
_BOOKKEEPING = {LINE, LINES}


class _Report(Protocol):
    """Notes one problem at ``line``, else at the line of ``field`` in ``item``, else at the
    line of ``item``."""

    def __call__(
        self, item: Any, field: str, reason: str, fix: str, *, line: int | None = None
    ) -> None: ...


@functools.cache
def default_clusters() -> tuple[Cluster, ...]:
    """The built-in clusters (the 2025 edition's four, and 2020's bumn)."""
    text = resources.files("govsocial.registry").joinpath("data/clusters.yaml").read_text("utf-8")
    return tuple(_cluster(c) for c in yaml.safe_load(text)["clusters"])


def _cluster(raw: dict[str, Any]) -> Cluster:
    return Cluster(
        str(raw["id"]),
        str(raw["name"]),
        _text(raw.get("name_en")),
        tuple(str(s) for s in raw.get("sub_clusters") or ()),
    )


def read_registry(path: Path, known_clusters: tuple[Cluster, ...] = ()) -> Registry:
    """Parse and validate ``path``; needs no warehouse.

    The built-in clusters (:func:`default_clusters`) are always known; ``known_clusters`` adds
    the clusters a warehouse already holds (``store.known_clusters(wh)``), so a new warehouse
    needs nothing more than ``read_registry(path)``.
    """
    if not path.is_file():
        raise InputError("no such file. Check the path.", path=path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or exc}).", path=path) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte {exc.start}). Save the file as UTF-8.",
            path=path,
            place=f"line {line}",
        ) from exc
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        top, problems = parse_yaml(path, text)
    elif suffix == ".csv":
        top, problems = parse_csv(path, text)
    else:
        raise InputError(
            f"unknown registry file type '{suffix}'. Use a .yaml/.yml or .csv file "
            "(formats in docs/registry.md).",
            path=path,
        )
    return _validate(path, top, known_clusters, problems)


def _validate(
    path: Path, top: dict[str, Any], known: tuple[Cluster, ...], problems: list[Problem]
) -> Registry:
    problems = list(problems)

    def problem(item: Any, field: str, reason: str, fix: str, *, line: int | None = None) -> None:
        line = line or line_of(item, field)
        problems.append(Problem(f"line {line}" if line else "top level", field, reason, fix))

    for key in sorted(set(top) - _TOP_KEYS - _BOOKKEEPING):
        problem(top, key, "unknown key", f"use only {', '.join(sorted(_TOP_KEYS))}")
    synthetic = top.get("synthetic")
    if synthetic is not None and not isinstance(synthetic, bool):
        problem(top, "synthetic", f"{synthetic!r} is not true or false", "write true or false")
    clusters = {c.id: c for c in (*default_clusters(), *known)}
    file_clusters = _clusters(top, problem)
    clusters.update((c.id, c) for c in file_clusters)

    raw_institutions = top.get("institutions")
    if not isinstance(raw_institutions, list):
        problem(
            top, "institutions", "must be a list", "write `institutions:` then `- id: ...` items"
        )
        raw_institutions = []
    institutions: list[Institution] = []
    seen_ids: dict[str, int] = {}
    seen_accounts: dict[tuple[str, str, str], tuple[str, int]] = {}
    for index, raw in enumerate(raw_institutions):
        if not isinstance(raw, dict):
            problem(
                None,
                "institutions",
                f"expected a mapping, got {raw!r}",
                "write each institution as `- id: ...` with its fields",
                line=_item_line(raw_institutions, index),
            )
            continue
        for key in sorted(set(raw) - _INSTITUTION_KEYS - _BOOKKEEPING):
            problem(
                raw,
                key,
                "unknown institution field",
                f"valid fields are {', '.join(sorted(_INSTITUTION_KEYS))}",
            )
        inst_id, name, cluster_id, sub_cluster, region = (
            _field_text(raw, field, problem)
            for field in ("id", "name", "cluster", "sub_cluster", "region")
        )
        if _text(raw.get("id")) is None:
            problem(raw, "id", "missing", "give every institution a short id such as 'jabarprov'")
        elif inst_id is None:
            pass  # not text: reported by _field_text
        elif not _ID_RE.match(inst_id):
            problem(
                raw,
                "id",
                f"'{inst_id}' is not a valid id",
                "use lower-case letters, digits, '.', '_' or '-' (at most 64)",
            )
        elif inst_id in seen_ids:
            problem(
                raw,
                "id",
                f"duplicate institution id '{inst_id}' (first at line {seen_ids[inst_id]})",
                "give each institution its own id, or merge the two",
            )
        else:
            seen_ids[inst_id] = line_of(raw, "id") or 0
        if _text(raw.get("name")) is None:
            problem(raw, "name", "missing", "add the institution's official name")
        if _text(raw.get("cluster")) is None:
            problem(raw, "cluster", "missing", f"use one of: {', '.join(sorted(clusters))}")
        elif cluster_id is None:
            pass  # not text: reported by _field_text
        elif cluster_id not in clusters:
            problem(
                raw,
                "cluster",
                f"unknown cluster '{cluster_id}'",
                f"use one of: {', '.join(sorted(clusters))}, or declare it under `clusters:`",
            )
        elif sub_cluster and sub_cluster not in clusters[cluster_id].sub_clusters:
            valid = ", ".join(clusters[cluster_id].sub_clusters) or "none (leave it empty)"
            problem(
                raw,
                "sub_cluster",
                f"'{sub_cluster}' is not a sub-cluster of '{cluster_id}'",
                f"use one of: {valid}",
            )
        accounts = _accounts(raw, inst_id or "?", problem, seen_accounts)
        institutions.append(
            Institution(
                inst_id or "", name or "", cluster_id or "", sub_cluster, region, tuple(accounts)
            )
        )
    if problems:
        problems.sort(key=_line_number)  # in the order of the file
        raise RegistryError(path, problems)
    return Registry(tuple(institutions), tuple(file_clusters), synthetic is True)


def _clusters(top: dict[str, Any], problem: _Report) -> list[Cluster]:
    raw_clusters = top.get("clusters") or []
    if not isinstance(raw_clusters, list):
        problem(
            top, "clusters", "must be a list", "write `clusters:` then `- {id: ..., name: ...}`"
        )
        return []
    clusters: list[Cluster] = []
    for index, raw in enumerate(raw_clusters):
        if not isinstance(raw, dict) or not _text(raw.get("id")) or not _text(raw.get("name")):
            problem(
                raw,
                "clusters",
                "a cluster needs an id and a name",
                "write `- {id: ..., name: ...}`",
                line=_item_line(raw_clusters, index),
            )
            continue
        for key in sorted(set(raw) - _CLUSTER_KEYS - _BOOKKEEPING):
            problem(raw, key, "unknown cluster key", f"use {', '.join(sorted(_CLUSTER_KEYS))}")
        sub_clusters = raw.get("sub_clusters") or []
        if not isinstance(sub_clusters, list):
            problem(raw, "sub_clusters", "must be a list", "write `sub_clusters: [a, b]`")
            continue
        clusters.append(_cluster(raw))
    return clusters


def _accounts(
    raw: dict[str, Any],
    inst_id: str,
    problem: _Report,
    seen: dict[tuple[str, str, str], tuple[str, int]],
) -> list[Account]:
    """The institution's accounts. ``seen``: (platform, "handle" or "platform_id", value) →
    (institution id, line) of the accounts met so far in the file, to refuse a second listing."""
    accounts: list[Account] = []
    raw_accounts = raw.get("accounts") or []
    if not isinstance(raw_accounts, list):
        problem(
            raw,
            "accounts",
            "must be a list",
            "write `accounts:` then `- {platform: ..., handle: ...}`",
        )
        return accounts
    for index, acc in enumerate(raw_accounts):
        if not isinstance(acc, dict):
            problem(
                raw,
                "accounts",
                f"expected a mapping, got {acc!r}",
                "write each account as `- {platform: ..., handle: ...}`",
                line=_item_line(raw_accounts, index),
            )
            continue
        for key in sorted(set(acc) - _ACCOUNT_KEYS - _BOOKKEEPING):
            problem(
                acc,
                key,
                "unknown account field",
                f"valid fields are {', '.join(sorted(_ACCOUNT_KEYS))}",
            )
        platform_text, handle, platform_id, name = (
            _field_text(acc, field, problem)
            for field in ("platform", "handle", "platform_id", "name")
        )
        platform = (platform_text or "").lower()
        if platform not in PLATFORMS:
            problem(
                acc,
                "platform",
                f"unknown platform '{platform_text}'" if platform else "missing",
                f"use one of: {', '.join(PLATFORMS)}",
            )
        if not handle and not platform_id:
            problem(
                acc,
                "handle",
                "an account needs a handle or a platform_id",
                "add the account's handle (without @) or its numeric platform id",
            )
        for field, value, shown in (
            ("handle", normalise_handle(handle), f"handle '@{normalise_handle(handle)}'"),
            ("platform_id", platform_id, f"platform_id '{platform_id}'"),
        ):
            if not value or not platform:
                continue
            line = line_of(acc, field) or 0
            first = seen.setdefault((platform, field, value), (inst_id, line))
            if first != (inst_id, line):
                problem(
                    acc,
                    field,
                    f"duplicate {platform} {shown} (also listed for institution "
                    f"'{first[0]}' at line {first[1]})",
                    "list each account once, under the institution that runs it",
                )
        accounts.append(
            Account(platform, handle.lstrip("@") if handle else None, platform_id, name)
        )
    return accounts


def _line_number(problem: Problem) -> int:
    return int(problem.place.removeprefix("line ")) if problem.place.startswith("line ") else 0


def _item_line(items: list[Any], index: int) -> int | None:
    return items.line(index) if isinstance(items, Located) else None


def _field_text(item: dict[str, Any], field: str, problem: _Report) -> str | None:
    """``item[field]`` as text; a list or mapping where text belongs is a problem."""
    value = item.get(field)
    if isinstance(value, list | dict):
        kind = "a list" if isinstance(value, list) else "a mapping"
        problem(item, field, f"is {kind}, not text", f"write one value after `{field}:`")
        return None
    return _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
