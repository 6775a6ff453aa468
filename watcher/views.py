"""JSON shapes of watcher's values, shared by ``watcher ... --json`` and the HTTP API.

Pure functions; the field names are contracts (DESIGN.md's ``queue --json`` fields).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from watcher.markup import render_markdown
from watcher.types import (
    ApiToken,
    AuditEvent,
    Candidate,
    Delivery,
    Edition,
    Editor,
    Entry,
    SourceHealth,
    Subscriber,
    Webhook,
)


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def source_health_json(health: SourceHealth) -> dict[str, Any]:
    return {
        "name": health.name,
        "kind": health.kind,
        "url": health.url,
        "enabled": health.enabled,
        "interval_seconds": health.interval_seconds,
        "health": health.health.value,
        "last_attempt_at": iso(health.last_attempt_at),
        "last_success_at": iso(health.last_success_at),
        "last_error": health.last_error,
        "last_error_at": iso(health.last_error_at),
        "consecutive_failures": health.consecutive_failures,
        "next_poll_at": iso(health.next_poll_at),
        "cursor": health.cursor,
        "candidates": health.candidates,
    }


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    """The stable JSON shape of a candidate (``watcher queue --json``, the API)."""
    return {
        "id": candidate.id,
        "source": candidate.source,
        "external_id": candidate.external_id,
        "mission": candidate.mission,
        "title": candidate.title,
        "caption": candidate.caption,
        "credit": candidate.credit,
        "camera": candidate.camera,
        "sol": candidate.sol,
        "taken_at": iso(candidate.taken_at),
        "mars_local_time": candidate.mars_local_time,
        "received_at": iso(candidate.received_at),
        "first_seen_at": iso(candidate.first_seen_at),
        "status": candidate.status.value,
        "page_url": candidate.page_url,
        "image_url": candidate.image_url,
        "thumbnail_url": candidate.thumbnail_url,
        "medium_url": candidate.medium_url,
        "large_url": candidate.large_url,
        "full_url": candidate.full_url,
        "width": candidate.width,
        "height": candidate.height,
        "version": candidate.version,
        "decided_by": candidate.decided_by,
        "decided_at": iso(candidate.decided_at),
        "reject_reason": candidate.reject_reason,
        "tiles": [tile.to_json() for tile in candidate.tiles],
    }


def entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "heading": entry.heading,
        "body": entry.body,
        "body_html": render_markdown(entry.body),
        "alt_text": entry.alt_text,
        "credit": entry.credit,
        "rendition": entry.rendition,
        "position": entry.position,
        "status": entry.status.value,
        "version": entry.version,
        "candidate_ids": list(entry.candidate_ids),
        "created_by": entry.created_by,
        "created_at": iso(entry.created_at),
        "updated_by": entry.updated_by,
        "updated_at": iso(entry.updated_at),
    }


def editor_json(editor: Editor) -> dict[str, Any]:
    return {
        "name": editor.name,
        "role": editor.role.value,
        "disabled": editor.disabled,
        "created_at": iso(editor.created_at),
        "last_login_at": iso(editor.last_login_at),
    }


def token_json(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "scope": token.scope.value,
        "created_by": token.created_by,
        "created_at": iso(token.created_at),
        "last_used_at": iso(token.last_used_at),
        "revoked_at": iso(token.revoked_at),
    }


def audit_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": iso(event.at),
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
        "undone_by": event.undone_by,
    }


def candidate_brief_json(candidate: Candidate) -> dict[str, Any]:
    """A candidate in a strip of thumbnails (its sequence neighbours): a small shape."""
    return {
        "id": candidate.id,
        "title": candidate.title,
        "camera": candidate.camera,
        "sol": candidate.sol,
        "taken_at": iso(candidate.taken_at),
        "status": candidate.status.value,
        "thumbnail_url": candidate.thumbnail_url,
    }


def edition_json(edition: Edition) -> dict[str, Any]:
    return {
        "number": edition.number,
        "published_at": iso(edition.published_at),
        "added": list(edition.added),
        "changed": list(edition.changed),
        "removed": list(edition.removed),
        "reordered": edition.reordered,
        "site_changed": edition.site_changed,
        "entries": edition.entries,
    }


def subscriber_json(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "status": subscriber.status.value,
        "created_at": iso(subscriber.created_at),
        "confirmed_at": iso(subscriber.confirmed_at),
        "unsubscribed_at": iso(subscriber.unsubscribed_at),
    }


def webhook_json(webhook: Webhook) -> dict[str, Any]:
    return {
        "id": webhook.id,
        "url": webhook.url,
        "enabled": webhook.enabled,
        "created_by": webhook.created_by,
        "created_at": iso(webhook.created_at),
        "consecutive_failures": webhook.consecutive_failures,
        "disabled_reason": webhook.disabled_reason,
        "last_success_at": iso(webhook.last_success_at),
        "last_error": webhook.last_error,
        "last_error_at": iso(webhook.last_error_at),
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "edition": delivery.edition,
        "channel": delivery.channel.value,
        "target": delivery.target,
        "key": delivery.key,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "created_at": iso(delivery.created_at),
        "sent_at": iso(delivery.sent_at),
        "last_error": delivery.last_error,
    }
