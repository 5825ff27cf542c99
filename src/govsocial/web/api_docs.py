"""The JSON API's endpoints and response schemas, read from its OpenAPI description for the page
/api/docs (no script: it works offline and under the CSP).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON = "application/json"
HIDDEN_SCHEMAS = {"HTTPValidationError", "ValidationError"}  # FastAPI's; our errors differ


def endpoints(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each method of each path under /api/: its summary, parameters and response's type."""
    found = []
    for path, methods in spec.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in methods.items():
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "in": p["in"],
                            "required": p.get("required", False),
                            "type": type_of(p.get("schema", {})),
                            "description": p.get("description", ""),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "response": type_of(
                        operation.get("responses", {})
                        .get("200", {})
                        .get("content", {})
                        .get(JSON, {})
                        .get("schema", {})
                    ),
                }
            )
    return found


def schemas(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each response schema (by name) with its fields' types and descriptions."""
    return [
        {
            "name": name,
            "description": schema.get("description", ""),
            "fields": [
                {
                    "name": field,
                    "type": type_of(value),
                    "required": field in schema.get("required", []),
                    "description": value.get("description", ""),
                }
                for field, value in schema.get("properties", {}).items()
            ],
        }
        for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items())
        if name not in HIDDEN_SCHEMAS
    ]


def type_of(schema: Mapping[str, Any]) -> str:
    """A JSON schema's type in a few characters: ``Nominee[]``, ``string or null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_of(s) for s in schema["anyOf"])
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        if "prefixItems" in schema:
            return "[" + ", ".join(type_of(s) for s in schema["prefixItems"]) + "]"
        return f"{type_of(items) if items else 'any'}[]"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return "{name: " + type_of(extra) + "}"
        return "object"
    if kind == "null":
        return "null"
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    return str(kind or "any")
