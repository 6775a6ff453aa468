"""Who acts on watcher, and the trail of what they did.

Editors, their sessions, API tokens and sign-in throttles are what the accounts store keeps.
An ``Actor`` is whoever an action is taken as (an editor, a token or the CLI); an
``AuditEvent`` records what one did: admins read the trail, and an editor's latest decision
is undone from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from watcher.types.candidates import JSONObject


def name_key(name: str) -> str:
    """Editors' names are unique regardless of case: "Alice" and "alice" are one editor."""
    return name.strip().casefold()


class Role(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"


@dataclass(frozen=True, slots=True, kw_only=True)
class Editor:
    id: int
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    last_login_at: datetime | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A signed-in browser. ``id`` is the hash of the cookie's token, never the token."""

    id: str
    editor: Editor
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Throttle:
    """Failed sign-ins counted under one key (an account, or a client address). The store
    keeps it and ``accounts.passwords`` decides on it, so it lives with the other values
    passed between the two."""

    key: str
    failures: int
    window_started_at: datetime
    locked_until: datetime | None


class TokenScope(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """An API token as listed to admins; the secret itself is shown once, at creation."""

    id: int
    name: str
    prefix: str
    scope: TokenScope
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: an editor (by browser or CLI) or an API token."""

    name: str
    role: Role
    kind: str = "editor"  # editor | token | cli
    can_write: bool = True

    @property
    def label(self) -> str:
        return self.name if self.kind == "editor" else f"{self.kind}:{self.name}"

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: JSONObject | None
    after: JSONObject | None
    undone_by: int | None = None
