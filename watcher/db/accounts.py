"""Editors, their sessions, sign-in throttling, setup links and API tokens."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from watcher.db.rows import from_row, upsert
from watcher.db.schema import api_tokens, editors, login_throttle, sessions, setup_tokens
from watcher.db.store_base import StoreBase
from watcher.exceptions import AuthError, Conflict, InvalidInput, NotFound
from watcher.limits import MAX_CLIENT, MAX_USER_AGENT
from watcher.types import ApiToken, Editor, Role, Session, Throttle, TokenScope, name_key


def _editor(row: Mapping[Any, Any]) -> Editor:
    return from_row(Editor, row, role=Role(row["role"]), disabled=bool(row["disabled"]))


def _token(row: RowMapping) -> ApiToken:
    return from_row(ApiToken, row, scope=TokenScope(row["scope"]))


# Admins who can sign in: the last one may not be disabled, and the setup link works only
# while there is none.
_ACTIVE_ADMINS = (
    select(func.count())
    .select_from(editors)
    .where(editors.c.role == Role.ADMIN.value, editors.c.disabled.is_(False))
)


@contextmanager
def _name_must_be_free(name: str) -> Iterator[None]:
    """A taken name (the unique name key refused the row) is the caller's to fix: say so."""
    try:
        yield
    except IntegrityError:
        raise InvalidInput({"name": f"an editor named {name.strip()!r} exists"}) from None


class AccountStore(StoreBase):
    # -- editors ---------------------------------------------------------------------

    def create_editor(self, name: str, password_hash: str, role: Role, now: datetime) -> Editor:
        with _name_must_be_free(name), self.write() as connection:
            return self._insert_editor(connection, name, password_hash, role, now)

    def create_first_admin(
        self, setup_token_id: str, name: str, password_hash: str, now: datetime
    ) -> Editor:
        """Spend the setup link and create the first admin, as one transaction."""
        with _name_must_be_free(name), self.write() as connection:
            if not self.use_setup_token(connection, setup_token_id, now):
                raise AuthError("this setup link was used already or has expired")
            if connection.execute(_ACTIVE_ADMINS).scalar_one():
                raise Conflict("an admin exists already: sign in instead")
            return self._insert_editor(connection, name, password_hash, Role.ADMIN, now)

    def _insert_editor(
        self, connection: Connection, name: str, password_hash: str, role: Role, now: datetime
    ) -> Editor:
        clean = name.strip()
        new_id = connection.execute(
            editors.insert()
            .values(
                name=clean,
                name_key=name_key(clean),
                password_hash=password_hash,
                role=role.value,
                disabled=False,
                created_at=now,
                password_changed_at=now,
            )
            .returning(editors.c.id)
        ).scalar_one()
        return Editor(id=new_id, name=clean, role=role, disabled=False, created_at=now)

    def editor_credentials(self, name: str) -> tuple[Editor, str] | None:
        query = select(editors).where(editors.c.name_key == name_key(name))
        with self.read() as connection:
            row = connection.execute(query).mappings().first()
        return (_editor(row), row["password_hash"]) if row else None

    def get_editor(self, name: str) -> Editor:
        found = self.editor_credentials(name)
        if found is None:
            raise NotFound(f"no editor named {name!r}")
        return found[0]

    def list_editors(self) -> list[Editor]:
        with self.read() as connection:
            rows = connection.execute(select(editors).order_by(editors.c.name_key)).mappings()
            return [_editor(row) for row in rows]

    def count_admins(self) -> int:
        with self.read() as connection:
            return int(connection.execute(_ACTIVE_ADMINS).scalar_one())

    def set_editor_disabled(self, name: str, disabled: bool) -> Editor:
        """Disabling also ends every session of the editor."""
        editor = self.get_editor(name)
        with self.write() as connection:
            connection.execute(
                update(editors).where(editors.c.id == editor.id).values(disabled=disabled)
            )
            if disabled:
                connection.execute(delete(sessions).where(sessions.c.editor_id == editor.id))
        return self.get_editor(name)

    def set_password(self, name: str, password_hash: str, now: datetime) -> None:
        """A new password ends every session of the editor."""
        editor = self.get_editor(name)
        with self.write() as connection:
            connection.execute(
                update(editors)
                .where(editors.c.id == editor.id)
                .values(password_hash=password_hash, password_changed_at=now)
            )
            connection.execute(delete(sessions).where(sessions.c.editor_id == editor.id))

    def update_password_hash(self, editor_id: int, password_hash: str) -> None:
        """Store a re-hash made with stronger parameters (sessions are kept)."""
        with self.write() as connection:
            connection.execute(
                update(editors).where(editors.c.id == editor_id).values(password_hash=password_hash)
            )

    # -- sessions --------------------------------------------------------------------

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
    ) -> None:
        """A new session at sign-in (and the old one of that browser, if any, removed)."""
        with self.write() as connection:
            if replaces:
                connection.execute(delete(sessions).where(sessions.c.id == replaces))
            connection.execute(
                sessions.insert().values(
                    id=session_id,
                    editor_id=editor_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires_at,
                    client=(client or "")[:MAX_CLIENT] or None,
                    user_agent=(user_agent or "")[:MAX_USER_AGENT] or None,
                )
            )
            connection.execute(
                update(editors).where(editors.c.id == editor_id).values(last_login_at=now)
            )

    def get_session(self, session_id: str) -> Session | None:
        query = (
            select(
                sessions.c.id,
                sessions.c.csrf_token,
                sessions.c.created_at,
                sessions.c.last_seen_at,
                sessions.c.expires_at,
                editors.c.id.label("editor_id"),
                editors.c.name,
                editors.c.role,
                editors.c.disabled,
                editors.c.created_at.label("editor_created_at"),
                editors.c.last_login_at,
            )
            .join_from(sessions, editors, editors.c.id == sessions.c.editor_id)
            .where(sessions.c.id == session_id)
        )
        with self.read() as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        editor = _editor({**row, "id": row["editor_id"], "created_at": row["editor_created_at"]})
        return Session(
            id=row["id"],
            editor=editor,
            csrf_token=row["csrf_token"],
            created_at=row["created_at"],
            last_seen_at=row["last_seen_at"],
            expires_at=row["expires_at"],
        )

    def touch_session(self, session_id: str, now: datetime) -> None:
        with self.write() as connection:
            connection.execute(
                update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now)
            )

    def delete_session(self, session_id: str) -> None:
        with self.write() as connection:
            connection.execute(delete(sessions).where(sessions.c.id == session_id))

    def purge_sessions(self, now: datetime) -> int:
        with self.write() as connection:
            return int(
                connection.execute(delete(sessions).where(sessions.c.expires_at < now)).rowcount
            )

    # -- sign-in throttling ----------------------------------------------------------

    def throttles(self, keys: list[str]) -> dict[str, Throttle]:
        query = select(login_throttle).where(login_throttle.c.key.in_(keys))
        with self.read() as connection:
            rows = connection.execute(query).mappings().all()
        return {row["key"]: from_row(Throttle, row) for row in rows}

    def save_throttles(self, throttles: list[Throttle]) -> None:
        with self.write() as connection:
            for throttle in throttles:
                values = {
                    "key": throttle.key,
                    "failures": throttle.failures,
                    "window_started_at": throttle.window_started_at,
                    "locked_until": throttle.locked_until,
                }
                upsert(connection, login_throttle, values, ("key",))

    def clear_throttles(self, keys: list[str]) -> None:
        with self.write() as connection:
            connection.execute(delete(login_throttle).where(login_throttle.c.key.in_(keys)))

    # -- setup links -----------------------------------------------------------------

    def create_setup_token(self, token_id: str, now: datetime, expires_at: datetime) -> None:
        with self.write() as connection:
            connection.execute(
                setup_tokens.insert().values(id=token_id, created_at=now, expires_at=expires_at)
            )

    def setup_token_valid(self, token_id: str, now: datetime) -> bool:
        query = select(setup_tokens.c.id).where(
            setup_tokens.c.id == token_id,
            setup_tokens.c.used_at.is_(None),
            setup_tokens.c.expires_at > now,
        )
        with self.read() as connection:
            return connection.execute(query).first() is not None

    def use_setup_token(self, connection: Connection, token_id: str, now: datetime) -> bool:
        """Spend a setup token inside the caller's transaction; False if spent or expired."""
        result = connection.execute(
            update(setup_tokens)
            .where(
                setup_tokens.c.id == token_id,
                setup_tokens.c.used_at.is_(None),
                setup_tokens.c.expires_at > now,
            )
            .values(used_at=now)
        )
        return bool(result.rowcount == 1)

    # -- API tokens ------------------------------------------------------------------

    def create_api_token(
        self,
        name: str,
        token_hash: str,
        prefix: str,
        scope: TokenScope,
        created_by: str,
        now: datetime,
    ) -> ApiToken:
        with self.write() as connection:
            new_id = connection.execute(
                api_tokens.insert()
                .values(
                    name=name,
                    token_hash=token_hash,
                    prefix=prefix,
                    scope=scope.value,
                    created_by=created_by,
                    created_at=now,
                )
                .returning(api_tokens.c.id)
            ).scalar_one()
        return ApiToken(
            id=new_id, name=name, prefix=prefix, scope=scope, created_by=created_by, created_at=now
        )

    def list_api_tokens(self) -> list[ApiToken]:
        with self.read() as connection:
            rows = connection.execute(select(api_tokens).order_by(api_tokens.c.id)).mappings()
            return [_token(row) for row in rows]

    def api_token_by_hash(self, token_hash: str) -> ApiToken | None:
        query = select(api_tokens).where(
            api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
        )
        with self.read() as connection:
            row = connection.execute(query).mappings().first()
        return _token(row) if row else None

    def touch_api_token(self, token_id: int, now: datetime) -> None:
        with self.write() as connection:
            connection.execute(
                update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
            )

    def revoke_api_token(self, token_id: int, now: datetime) -> ApiToken:
        with self.write() as connection:
            result = connection.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if result.rowcount != 1:
                raise NotFound(f"no active API token with id {token_id}")
            row = (
                connection.execute(select(api_tokens).where(api_tokens.c.id == token_id))
                .mappings()
                .one()
            )
        return _token(row)
