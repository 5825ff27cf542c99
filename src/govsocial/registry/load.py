"""Read and validate a registry file (YAML or CSV) into a :class:`Registry`.

Every problem in the file is collected (file, line, field, bad value, reason, fix) by the one
:class:`govsocial.checking.Checker` and reported together in a :class:`RegistryError`; a file
with any problem yields nothing, so a registry is never half-loaded.

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
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import yaml

from govsocial import errors
from govsocial.checking import Checker, Problem, Table
from govsocial.errors import InputError, RegistryError
from govsocial.registry.models import (
    PLATFORMS,
    Account,
    Cluster,
    Institution,
    Registry,
    normalise_handle,
)
from govsocial.registry.parse import CSV_COLUMNS, line_of, parse_csv, parse_yaml

__all__ = ["CSV_COLUMNS", "check_registry", "default_clusters", "read_registry"]

DOCS = "docs/registry.md"
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TOP_KEYS = ("synthetic", "clusters", "institutions")
_INSTITUTION_KEYS = ("id", "name", "cluster", "sub_cluster", "region", "accounts")
_ACCOUNT_KEYS = ("platform", "handle", "platform_id", "name")
_CLUSTER_KEYS = ("id", "name", "name_en", "sub_clusters")


@functools.cache
def default_clusters() -> tuple[Cluster, ...]:
    """The built-in clusters (the 2025 edition's four, and 2020's bumn)."""
    text = resources.files("govsocial.registry").joinpath("data/clusters.yaml").read_text("utf-8")
    return tuple(_cluster(c) for c in yaml.safe_load(text)["clusters"])


def _cluster(raw: Table) -> Cluster:
    subs = raw.get("sub_clusters") or ()
    return Cluster(
        str(raw["id"]),
        str(raw["name"]),
        _text(raw.get("name_en")),
        tuple(str(s) for s in subs) if isinstance(subs, list | tuple) else (),
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
            f"(formats in {DOCS}).",
            path=path,
        )
    return _validate(path, top, known_clusters, problems)


def check_registry(
    table: Mapping[str, object], known_clusters: tuple[Cluster, ...] = (), source: str = "registry"
) -> Registry:
    """Validate a registry held in memory (the YAML file's shape: ``{"institutions": [...]}``)
    exactly as :func:`read_registry` validates a file: it is written as that YAML and read back
    through the same parser and checks, so nothing is accepted here that `registry load` would
    refuse. ``source`` names it in a :class:`RegistryError` (whose lines are those of the YAML
    text)."""
    path = Path(source)
    text = yaml.safe_dump(dict(table), sort_keys=False, allow_unicode=True)
    top, problems = parse_yaml(path, text)
    return _validate(path, top, known_clusters, problems)


def _validate(
    path: Path, top: Table, known: tuple[Cluster, ...], problems: list[Problem]
) -> Registry:
    # Problems are named by field and line (the line says which record): RegistryError shows
    # "line 12, field 'cluster': ...".
    c = Checker(DOCS, line_of)
    c.extend(problems)
    c.table(top, "", (), _TOP_KEYS)
    synthetic = c.boolean(top, "synthetic", "", False)
    clusters = {x.id: x for x in (*default_clusters(), *known)}
    file_clusters = _clusters(c, top)
    clusters.update((x.id, x) for x in file_clusters)

    raw_institutions = top.get("institutions")
    if not isinstance(raw_institutions, list):
        c.problem_at(
            top, "institutions", "must be a list", "write `institutions:` then `- id: ...` items"
        )
        raw_institutions = []
    institutions: list[Institution] = []
    seen_ids: dict[str, int] = {}
    seen_accounts: dict[tuple[str, str, str], tuple[str, int]] = {}
    for index, raw in enumerate(raw_institutions):
        if not isinstance(raw, Mapping):
            c.problem(
                "institutions",
                f"expected a mapping, got {raw!r}",
                "write each institution as `- id: ...` with its fields",
                value=raw,
                line=c.line(raw_institutions, index),
            )
            continue
        institutions.append(_institution(c, raw, clusters, seen_ids, seen_accounts))

    def error(found: list[Problem]) -> RegistryError:
        return RegistryError(
            path,
            [
                errors.Problem(f"line {p.line}" if p.line else "top level", p.key, p.reason, p.fix)
                for p in found
            ],
        )

    c.raise_if_any(error)
    return Registry(tuple(institutions), tuple(file_clusters), synthetic)


def _institution(
    c: Checker,
    raw: Table,
    clusters: dict[str, Cluster],
    seen_ids: dict[str, int],
    seen_accounts: dict[tuple[str, str, str], tuple[str, int]],
) -> Institution:
    c.table(raw, "", (), _INSTITUTION_KEYS, noun="institution field")
    inst_id = _required(c, raw, "id", "give every institution a short id such as 'jabarprov'")
    name = _required(c, raw, "name", "add the institution's official name")
    cluster_id = _required(c, raw, "cluster", f"use one of: {', '.join(sorted(clusters))}")
    sub_cluster, region = c.text(raw, "sub_cluster", ""), c.text(raw, "region", "")
    if inst_id is None:
        pass  # missing, or not text: reported
    elif not _ID_RE.match(inst_id):
        c.problem_at(
            raw,
            "id",
            f"'{inst_id}' is not a valid id",
            "use lower-case letters, digits, '.', '_' or '-' (at most 64)",
        )
    elif inst_id in seen_ids:
        c.problem_at(
            raw,
            "id",
            f"duplicate institution id '{inst_id}' (first at line {seen_ids[inst_id]})",
            "give each institution its own id, or merge the two",
        )
    else:
        seen_ids[inst_id] = c.line(raw, "id") or 0
    if cluster_id is None:
        pass  # missing, or not text: reported
    elif cluster_id not in clusters:
        c.problem_at(
            raw,
            "cluster",
            f"unknown cluster '{cluster_id}'",
            f"use one of: {', '.join(sorted(clusters))}, or declare it under `clusters:`",
        )
    elif sub_cluster and sub_cluster not in clusters[cluster_id].sub_clusters:
        valid = ", ".join(clusters[cluster_id].sub_clusters) or "none (leave it empty)"
        c.problem_at(
            raw,
            "sub_cluster",
            f"'{sub_cluster}' is not a sub-cluster of '{cluster_id}'",
            f"use one of: {valid}",
        )
    accounts = _accounts(c, raw, inst_id or "?", seen_accounts)
    return Institution(
        inst_id or "", name or "", cluster_id or "", sub_cluster, region, tuple(accounts)
    )


def _required(c: Checker, raw: Table, field: str, fix: str) -> str | None:
    """``raw[field]`` as text; missing or empty is a problem, as is a list or mapping."""
    value = c.text(raw, field, "")
    if value is None and not isinstance(raw.get(field), list | Mapping):
        c.problem(field, "missing", fix, line=c.line(raw, field))
    return value


def _clusters(c: Checker, top: Table) -> list[Cluster]:
    raw_clusters = top.get("clusters") or []
    if not isinstance(raw_clusters, list):
        c.problem_at(
            top, "clusters", "must be a list", "write `clusters:` then `- {id: ..., name: ...}`"
        )
        return []
    clusters: list[Cluster] = []
    for index, raw in enumerate(raw_clusters):
        if not isinstance(raw, Mapping) or not _text(raw.get("id")) or not _text(raw.get("name")):
            c.problem(
                "clusters",
                "a cluster needs an id and a name",
                "write `- {id: ..., name: ...}`",
                value=raw,
                line=c.line(raw_clusters, index),
            )
            continue
        c.table(raw, "", (), _CLUSTER_KEYS, noun="cluster key")
        if not isinstance(raw.get("sub_clusters") or [], list):
            c.problem_at(raw, "sub_clusters", "must be a list", "write `sub_clusters: [a, b]`")
            continue
        clusters.append(_cluster(raw))
    return clusters


def _accounts(
    c: Checker,
    raw: Table,
    inst_id: str,
    seen: dict[tuple[str, str, str], tuple[str, int]],
) -> list[Account]:
    """The institution's accounts. ``seen``: (platform, "handle" or "platform_id", value) →
    (institution id, line) of the accounts met so far in the file, to refuse a second listing."""
    accounts: list[Account] = []
    raw_accounts = raw.get("accounts") or []
    if not isinstance(raw_accounts, list):
        c.problem_at(
            raw,
            "accounts",
            "must be a list",
            "write `accounts:` then `- {platform: ..., handle: ...}`",
        )
        return accounts
    for index, acc in enumerate(raw_accounts):
        if not isinstance(acc, Mapping):
            c.problem(
                "accounts",
                f"expected a mapping, got {acc!r}",
                "write each account as `- {platform: ..., handle: ...}`",
                value=acc,
                line=c.line(raw_accounts, index),
            )
            continue
        c.table(acc, "", (), _ACCOUNT_KEYS, noun="account field")
        platform_text, handle, platform_id, name = (
            c.text(acc, field, "") for field in _ACCOUNT_KEYS
        )
        platform = (platform_text or "").lower()
        if platform not in PLATFORMS:
            c.problem_at(
                acc,
                "platform",
                f"unknown platform '{platform_text}'" if platform else "missing",
                f"use one of: {', '.join(PLATFORMS)}",
            )
        if not handle and not platform_id:
            c.problem_at(
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
            line = c.line(acc, field) or 0
            first = seen.setdefault((platform, field, value), (inst_id, line))
            if first != (inst_id, line):
                c.problem_at(
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


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
