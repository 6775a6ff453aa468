"""Passwords, tokens and the rules of sign-in: pure functions, ``now`` passed in.

Passwords are hashed with argon2id (argon2-cffi's defaults, which follow RFC 9106's
recommendations). Session, setup and API tokens are random 256-bit secrets; only their
SHA-256 is stored, so a copy of the database does not let anyone sign in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from watcher.config import EditorConfig
from watcher.types import Throttle

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
API_TOKEN_PREFIX = "wt_"  # noqa: S105 (a label, not a secret)

_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps the timing the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, a fresh hash when the stored one uses outdated parameters)."""
    try:
        _hasher.verify(stored_hash or _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    return True, hash_password(password) if _hasher.check_needs_rehash(stored_hash) else None


def password_problem(password: str, name: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return f"use at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"use at most {MAX_PASSWORD} characters"
    if password.strip().lower() == name.strip().lower():
        return "must not be the name"
    return None


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(a: str | None, b: str | None) -> bool:
    """Constant-time comparison (for CSRF tokens)."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def locked_for(throttle: Throttle | None, now: datetime) -> float | None:
    """Seconds until sign-in is allowed again under this key, or None if it is allowed."""
    if throttle is None or throttle.locked_until is None or throttle.locked_until <= now:
        return None
    return (throttle.locked_until - now).total_seconds()


def after_failure(
    throttle: Throttle | None, key: str, now: datetime, config: EditorConfig
) -> Throttle:
    """Count one more failure. ``login_max_failures`` within ``login_lockout`` locks the key
    for ``login_lockout``; a failure after a quiet window starts a new count."""
    window = timedelta(seconds=config.login_lockout)
    if throttle is None or now - throttle.window_started_at > window:
        throttle = Throttle(key, 0, now, None)
    failures = throttle.failures + 1
    locked = now + window if failures >= config.login_max_failures else throttle.locked_until
    return Throttle(key, failures, throttle.window_started_at, locked)


def session_expired(
    created_at: datetime, last_seen_at: datetime, now: datetime, config: EditorConfig
) -> bool:
    """Idle for longer than ``session_idle``, or older than ``session_max``."""
    return (now - last_seen_at).total_seconds() > config.session_idle or (
        now - created_at
    ).total_seconds() > config.session_max


def minutes(seconds: float) -> str:
    """ "14 minutes", "1 minute", "less than a minute" for messages."""
    whole = int(seconds // 60) + (1 if seconds % 60 else 0)
    if seconds < 60:
        return "less than a minute"
    return f"{whole} minute" + ("" if whole == 1 else "s")
