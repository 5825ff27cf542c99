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

import csv
import io
import re
from importlib import resources
from pathlib import Path
from typing import Any

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

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_LINE = "__line__"
_TOP_KEYS = {"synthetic", "clusters", "institutions"}
_INSTITUTION_KEYS = {"id", "name", "cluster", "sub_cluster", "region", "accounts"}
_ACCOUNT_KEYS = {"platform", "handle", "platform_id", "name"}
_CLUSTER_KEYS = {"id", "name", "name_en", "sub_clusters"}
CSV_COLUMNS = [
    "institution_id",
    "institution_name",
    "cluster",
    "sub_cluster",
    "region",
    "platform",
    "handle",
    "platform_id",
    "account_name",
]


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of each mapping, for error messages."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)  # type: ignore[assignment]
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def default_clusters() -> tuple[Cluster, ...]:
    """The built-in clusters (the 2025 edition's four)."""
    text = resources.files("govsocial.registry").joinpath("data/clusters.yaml").read_text("utf-8")
    return tuple(_cluster(c) for c in yaml.safe_load(text)["clusters"])


def _cluster(raw: dict[str, Any]) -> Cluster:
    return Cluster(
        str(raw["id"]),
        str(raw["name"]),
        raw.get("name_en"),
        tuple(str(s) for s in raw.get("sub_clusters") or ()),
    )


def read_registry(path: Path, known_clusters: tuple[Cluster, ...] = ()) -> Registry:
    """Parse and validate ``path``. ``known_clusters``: clusters already in the warehouse."""
    if not path.is_file():
        raise InputError("no such file. Check the path.", path=path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not UTF-8 text (byte {exc.start}). Save the file as UTF-8.", path=path
        ) from exc
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        top = _parse_yaml(path, text)
    elif suffix == ".csv":
        top = _parse_csv(path, text)
    else:
        raise InputError(
            f"unknown registry file type '{suffix}'. Use a .yaml/.yml or .csv file "
            "(formats in docs/registry.md).",
            path=path,
        )
    return _validate(path, top, known_clusters)


def _parse_yaml(path: Path, text: str) -> dict[str, Any]:
    try:
        top = yaml.load(text, Loader=_LineLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1}" if mark is not None else None
        raise InputError(
            f"not valid YAML ({getattr(exc, 'problem', exc)}). Fix the syntax.",
            path=path,
            place=place,
        ) from exc
    if not isinstance(top, dict) or "institutions" not in top:
        raise InputError(
            "expected a mapping with an 'institutions:' list (see docs/registry.md).", path=path
        )
    return top


def _parse_csv(path: Path, text: str) -> dict[str, Any]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in ("institution_id", "institution_name", "cluster") if c not in columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the header must contain "
            f"{', '.join(CSV_COLUMNS)}.",
            path=path,
            place="line 1",
        )
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column(s) {', '.join(unknown)}; valid columns are {', '.join(CSV_COLUMNS)}.",
            path=path,
            place="line 1",
        )
    institutions: dict[str, dict[str, Any]] = {}
    for row in reader:
        line = reader.line_num
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}

        def get(key: str, cells: dict[str, str] = cells) -> str | None:
            return cells.get(key) or None

        key = cells.get("institution_id") or f"__row{line}"
        inst = institutions.setdefault(
            key,
            {
                _LINE: line,
                "id": get("institution_id"),
                "name": get("institution_name"),
                "cluster": get("cluster"),
                "sub_cluster": get("sub_cluster"),
                "region": get("region"),
                "accounts": [],
            },
        )
        if get("platform") or get("handle") or get("platform_id"):
            inst["accounts"].append(
                {
                    _LINE: line,
                    "platform": get("platform"),
                    "handle": get("handle"),
                    "platform_id": get("platform_id"),
                    "name": get("account_name"),
                }
            )
    return {"institutions": list(institutions.values())}


def _validate(path: Path, top: dict[str, Any], known: tuple[Cluster, ...]) -> Registry:
    problems: list[Problem] = []

    def problem(item: dict[str, Any] | None, field: str, reason: str, fix: str) -> None:
        line = item.get(_LINE) if isinstance(item, dict) else None
        problems.append(Problem(f"line {line}" if line else "top level", field, reason, fix))

    for key in sorted(set(top) - _TOP_KEYS - {_LINE}):
        problem(top, key, "unknown key", f"use only {', '.join(sorted(_TOP_KEYS))}")
    clusters = {c.id: c for c in (*default_clusters(), *known)}
    file_clusters: list[Cluster] = []
    for raw in top.get("clusters") or []:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("name"):
            problem(
                raw if isinstance(raw, dict) else None,
                "clusters",
                "a cluster needs an id and a name",
                "write `- {id: ..., name: ...}`",
            )
            continue
        for key in sorted(set(raw) - _CLUSTER_KEYS - {_LINE}):
            problem(raw, key, "unknown cluster key", f"use {', '.join(sorted(_CLUSTER_KEYS))}")
        cluster = _cluster(raw)
        clusters[cluster.id] = cluster
        file_clusters.append(cluster)

    raw_institutions = top.get("institutions")
    if not isinstance(raw_institutions, list):
        problem(
            top, "institutions", "must be a list", "write `institutions:` then `- id: ...` items"
        )
        raw_institutions = []
    institutions: list[Institution] = []
    seen_ids: dict[str, int] = {}
    seen_handles: dict[tuple[str, str], str] = {}
    seen_platform_ids: dict[tuple[str, str], str] = {}
    for raw in raw_institutions:
        if not isinstance(raw, dict):
            problem(
                None,
                "institutions",
                f"expected a mapping, got {raw!r}",
                "write each institution as `- id: ...` with its fields",
            )
            continue
        for key in sorted(set(raw) - _INSTITUTION_KEYS - {_LINE}):
            problem(
                raw,
                key,
                "unknown institution field",
                f"valid fields are {', '.join(sorted(_INSTITUTION_KEYS))}",
            )
        inst_id = _text(raw.get("id"))
        name = _text(raw.get("name"))
        cluster_id = _text(raw.get("cluster"))
        sub_cluster = _text(raw.get("sub_cluster"))
        if not inst_id:
            problem(raw, "id", "missing", "give every institution a short id such as 'jabarprov'")
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
            seen_ids[inst_id] = int(raw.get(_LINE) or 0)
        if not name:
            problem(raw, "name", "missing", "add the institution's official name")
        if not cluster_id:
            problem(raw, "cluster", "missing", f"use one of: {', '.join(sorted(clusters))}")
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
        accounts = _accounts(raw, inst_id or "?", problem, seen_handles, seen_platform_ids)
        institutions.append(
            Institution(
                inst_id or "",
                name or "",
                cluster_id or "",
                sub_cluster,
                _text(raw.get("region")),
                tuple(accounts),
            )
        )
    if problems:
        raise RegistryError(path, problems)
    return Registry(tuple(institutions), tuple(file_clusters), bool(top.get("synthetic", False)))


def _accounts(
    raw: dict[str, Any],
    inst_id: str,
    problem: Any,
    seen_handles: dict[tuple[str, str], str],
    seen_platform_ids: dict[tuple[str, str], str],
) -> list[Account]:
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
    for acc in raw_accounts:
        if not isinstance(acc, dict):
            problem(
                raw,
                "accounts",
                f"expected a mapping, got {acc!r}",
                "write each account as `- {platform: ..., handle: ...}`",
            )
            continue
        for key in sorted(set(acc) - _ACCOUNT_KEYS - {_LINE}):
            problem(
                acc,
                key,
                "unknown account field",
                f"valid fields are {', '.join(sorted(_ACCOUNT_KEYS))}",
            )
        platform = (_text(acc.get("platform")) or "").lower()
        handle = _text(acc.get("handle"))
        platform_id = _text(acc.get("platform_id"))
        if platform not in PLATFORMS:
            problem(
                acc,
                "platform",
                f"unknown platform '{platform}'" if platform else "missing",
                f"use one of: {', '.join(PLATFORMS)}",
            )
        if not handle and not platform_id:
            problem(
                acc,
                "handle",
                "an account needs a handle or a platform_id",
                "add the account's handle (without @) or its numeric platform id",
            )
        key = normalise_handle(handle)
        if key and platform:
            owner = seen_handles.get((platform, key))
            if owner is not None:
                problem(
                    acc,
                    "handle",
                    f"duplicate {platform} handle '@{key}' (also listed for institution '{owner}')",
                    "list each account once, under the institution that runs it",
                )
            seen_handles[(platform, key)] = inst_id
        if platform_id and platform:
            owner = seen_platform_ids.get((platform, platform_id))
            if owner is not None:
                problem(
                    acc,
                    "platform_id",
                    f"duplicate {platform} platform_id '{platform_id}' "
                    f"(also listed for institution '{owner}')",
                    "list each account once",
                )
            seen_platform_ids[(platform, platform_id)] = inst_id
        accounts.append(
            Account(
                platform,
                handle.lstrip("@") if handle else None,
                platform_id,
                _text(acc.get("name")),
            )
        )
    return accounts


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
