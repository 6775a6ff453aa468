"""Who may do what: one rule for the CLI, the web pages and the JSON API alike."""

from __future__ import annotations

from watcher.exceptions import PermissionDenied
from watcher.types import Actor


def require_write(actor: Actor) -> None:
    if not actor.can_write:
        raise PermissionDenied(f"{actor.label} may only read (a read-scoped token)")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("only an admin may do that")
