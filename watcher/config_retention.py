"""Reading the ``[retention]`` table: how long each kind of growing data is kept, and how
often the service prunes. Apart from ``watcher.config_reader`` (which calls
``read_retention``), like ``config_curate``, so that module stays about the service's own
tables.

An age is a duration (``30d``, ``12h``) or ``"never"`` (kept for ever). Two ages have a
floor, because pruning sooner would break something that still counts on the rows:
sign-up attempts are the rate limit's memory of the last hour, and a pending subscriber's
row is what its confirmation link confirms until ``[email] confirm_ttl`` runs out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from watcher.config import RetentionConfig
from watcher.config_checks import boolean, int_range, parse_duration

if TYPE_CHECKING:
    from watcher.config_reader import Section

KEYS = tuple(field.name for field in fields(RetentionConfig))
NEVER = "never"
# The sign-up rate limit counts the attempts of the last hour (db.subscribers.ATTEMPT_WINDOW).
SUBSCRIBE_WINDOW = 3600.0


def age(value: object) -> float | None:
    """A duration in seconds, or None for ``"never"`` (kept for ever)."""
    if isinstance(value, str) and value.strip().lower() == NEVER:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ValueError(f'{exc}, or "{NEVER}" to keep for ever') from None


CHECKS: dict[str, Callable[[object], object]] = {
    "enabled": boolean,
    "interval": parse_duration,
    "batch": int_range(10, 100_000),
    **{key: age for key in KEYS if key not in ("enabled", "interval", "batch")},
}


def read_retention(section: Section, confirm_ttl: float) -> RetentionConfig:
    """[retention]: every key optional; the two floors above checked (``confirm_ttl`` is
    ``[email] confirm_ttl``)."""
    default = RetentionConfig()
    retention = replace(
        default,
        **{key: section.get(key, check, getattr(default, key)) for key, check in CHECKS.items()},
    )
    attempts = retention.subscribe_attempts
    if attempts is not None and attempts < SUBSCRIBE_WINDOW:
        raise section.error(
            "subscribe_attempts", "must be at least 1h: the sign-up limit counts the last hour"
        )
    unconfirmed = retention.unconfirmed_subscribers
    if unconfirmed is not None and unconfirmed < confirm_ttl:
        raise section.error(
            "unconfirmed_subscribers",
            "must not be shorter than email.confirm_ttl: a confirmation link would find "
            "no subscription",
        )
    return retention
