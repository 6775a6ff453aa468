"""``/api/v1/docs``: the API's reference as a plain server-rendered page.

Built from the app's own OpenAPI document, so it cannot drift from the routes. FastAPI's
interactive pages load their assets from a CDN, which the Content-Security-Policy (rightly)
forbids; this page needs nothing but our stylesheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
UNSAFE = {"post", "put", "patch", "delete"}


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    type: str
    required: bool
    description: str
    where: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    status: str
    description: str
    media: str
    schema: str


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    auth: str
    parameters: list[Row]
    request: str | None
    replies: list[Reply]


@dataclass(frozen=True, slots=True)
class Schema:
    name: str
    description: str
    fields: list[Row] = field(default_factory=list)


def type_of(schema: dict[str, Any]) -> str:
    """A short human name for a JSON schema: ``int``, ``list of Entry``, ``str or null``."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(type_of(part) for part in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return str(schema["const"])
    kind = schema.get("type")
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    if kind == "object":
        if "title" in schema and "properties" in schema:
            return str(schema["title"])
        values = schema.get("additionalProperties")
        return f"map to {type_of(values)}" if isinstance(values, dict) else "object"
    if kind is None:
        return str(schema.get("title", "any"))
    named = {"integer": "int", "string": "str", "boolean": "bool", "number": "number"}
    text = named.get(str(kind), str(kind))
    return f"{text} ({schema['format']})" if "format" in schema else text


def anchor(method: str, path: str) -> str:
    """``get-api-v1-entries-entry_id`` for ``GET /api/v1/entries/{entry_id}``."""
    cleaned = "".join(c for c in path.strip("/") if c not in "{}")
    return f"{method}-{cleaned.replace('/', '-')}"


def auth_note(method: str, tags: list[str], secured: bool) -> str:
    if not secured:
        return "Public."
    if "admin" in tags:
        return "A signed-in admin's session (API tokens are refused)."
    if method in UNSAFE:
        return "A write-scoped token, or a session with its X-CSRF-Token header."
    return "Any token (read or write), or a signed-in session."


def _parameters(operation: dict[str, Any]) -> list[Row]:
    return [
        Row(
            name=str(p["name"]),
            type=type_of(p.get("schema", {})),
            required=bool(p.get("required")),
            description=str(p.get("description") or p.get("schema", {}).get("description", "")),
            where=str(p["in"]),
        )
        for p in operation.get("parameters", [])
    ]


def _request(operation: dict[str, Any]) -> str | None:
    body = operation.get("requestBody")
    if not body:
        return None
    content = body.get("content", {})
    for media, spec in content.items():
        optional = "" if body.get("required") else " (optional)"
        return f"{type_of(spec.get('schema', {}))} as {media}{optional}"
    return None


def _replies(operation: dict[str, Any]) -> list[Reply]:
    replies = []
    for status, spec in sorted(operation.get("responses", {}).items()):
        content: dict[str, dict[str, Any]] = spec.get("content") or {}
        media, body = next(iter(content.items()), ("", {}))
        replies.append(
            Reply(
                status=str(status),
                description=str(spec.get("description", "")),
                media=str(media),
                schema=type_of(body.get("schema", {})) if media else "(no body)",
            )
        )
    return replies


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every path and method of the document, in its order."""
    found = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            found.append(
                Operation(
                    method=method.upper(),
                    path=str(path),
                    anchor=anchor(method, path),
                    summary=str(operation.get("summary", "")),
                    description=str(operation.get("description", "")),
                    auth=auth_note(method, operation.get("tags", []), "security" in operation),
                    parameters=_parameters(operation),
                    request=_request(operation),
                    replies=_replies(operation),
                )
            )
    return found


def schemas(document: dict[str, Any]) -> list[Schema]:
    found = []
    for name, schema in sorted(document.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        found.append(
            Schema(
                name=str(name),
                description=str(schema.get("description", "")),
                fields=[
                    Row(
                        name=str(prop),
                        type=type_of(spec),
                        required=prop in required,
                        description=str(spec.get("description", "")),
                    )
                    for prop, spec in schema.get("properties", {}).items()
                ],
            )
        )
    return found


def docs_context(document: dict[str, Any]) -> dict[str, Any]:
    info = document.get("info", {})
    return {
        "title": str(info.get("title", "API")),
        "api_version": str(info.get("version", "")),
        "description": str(info.get("description", "")),
        "operations": [op for op in operations(document) if op.path.startswith("/api/v1/")],
        "schemas": schemas(document),
        "security": [
            (str(name), str(spec.get("description", "")))
            for name, spec in document.get("components", {}).get("securitySchemes", {}).items()
        ],
    }
