"""The seam between accounts and the database: the store methods it calls, so it depends
on this Protocol, not on SQLAlchemy. ``watcher.db.Store`` implements it (checked where
``make_watcher`` builds the part)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from watcher.types import (
    ApiToken,
    Editor,
    Role,
    Session,
    Throttle,
    TokenScope,
)


class AccountStore(Protocol):
    """What accounts needs of the database."""

    def api_token_by_hash(self, token_hash: str) -> ApiToken | None: ...

    def clear_throttles(self, keys: list[str]) -> None: ...

    def count_admins(self) -> int: ...

    def create_api_token(
        self,
        name: str,
        token_hash: str,
        prefix: str,
        scope: TokenScope,
        created_by: str,
        now: datetime,
    ) -> ApiToken: ...

    def create_editor(self, name: str, password_hash: str, role: Role, now: datetime) -> Editor: ...

    def create_first_admin(
        self, setup_token_id: str, name: str, password_hash: str, now: datetime
    ) -> Editor: ...

    def create_session(
        self,
        session_id: str,
        editor_id: int,
        csrf_token: str,
        now: datetime,
        expires_at: datetime,
        *,
        client: str | None,
        user_agent: str | None,
        replaces: str | None = None,
    ) -> None: ...

    def create_setup_token(self, token_id: str, now: datetime, expires_at: datetime) -> None: ...

    def delete_session(self, session_id: str) -> None: ...

    def editor_credentials(self, name: str) -> tuple[Editor, str] | None: ...

    def get_editor(self, name: str) -> Editor: ...

    def get_session(self, session_id: str) -> Session | None: ...

    def list_api_tokens(self) -> list[ApiToken]: ...

    def list_editors(self) -> list[Editor]: ...

    def record_audit(
        self,
        actor: str,
        action: str,
        subject_type: str,
        subject_id: object,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        now: datetime,
    ) -> None: ...

    def revoke_api_token(self, token_id: int, now: datetime) -> ApiToken: ...

    def save_throttles(self, throttles: list[Throttle]) -> None: ...

    def set_editor_disabled(self, name: str, disabled: bool) -> Editor: ...

    def set_password(self, name: str, password_hash: str, now: datetime) -> None: ...

    def setup_token_valid(self, token_id: str, now: datetime) -> bool: ...

    def throttles(self, keys: list[str]) -> dict[str, Throttle]: ...

    def touch_api_token(self, token_id: int, now: datetime) -> None: ...

    def touch_session(self, session_id: str, now: datetime) -> None: ...

    def update_password_hash(self, editor_id: int, password_hash: str) -> None: ...
