"""Accounts: the Watcher's part for editors, sign-in, sessions, the setup link, API tokens.

There is no default account or password anywhere. The first admin comes from a one-time,
expiring setup link that ``watcher run`` prints while no admin exists, or from
``watcher editors add NAME --admin``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime, timedelta

from watcher.accounts import passwords as security
from watcher.accounts.store import AccountStore
from watcher.config import Settings
from watcher.exceptions import AuthError, InvalidInput
from watcher.permissions import require_admin
from watcher.text import clean_text, text_problem
from watcher.types import Actor, ApiToken, Editor, Role, Session, TokenScope, name_key

log = logging.getLogger("watcher.accounts.editors")

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._ -]{0,62}")
SESSION_TOUCH_SECONDS = 60.0
CLI_ACTOR = Actor("cli", Role.ADMIN, kind="cli")


def check_name(name: str) -> str:
    if (problem := text_problem(name)) is not None:  # before split() folds some into spaces
        raise InvalidInput({"name": problem})
    clean = " ".join(name.split())
    if not NAME_PATTERN.fullmatch(clean):
        raise InvalidInput(
            {
                "name": "use 1 to 63 letters, digits, spaces, '.', '_' or '-', starting with "
                "a letter or digit"
            }
        )
    return clean


def editor_actor(editor: Editor) -> Actor:
    return Actor(editor.name, editor.role)


@dataclass(eq=False, repr=False)
class Accounts:
    """Editors and how they (and API tokens) prove who they are."""

    settings: Settings
    store: AccountStore
    _: KW_ONLY
    clock: Callable[[], datetime]

    # -- editors ---------------------------------------------------------------------

    def add_editor(self, name: str, password: str, role: Role, actor: Actor = CLI_ACTOR) -> Editor:
        require_admin(actor)
        name = check_name(name)
        problem = security.password_problem(password, name)
        if problem:
            raise InvalidInput({"password": problem})
        editor = self.store.create_editor(
            name, security.hash_password(password), role, self.clock()
        )
        self.store.record_audit(
            actor.label,
            "editor.add",
            "editor",
            editor.name,
            None,
            {"role": role.value},
            self.clock(),
        )
        return editor

    def list_editors(self, actor: Actor = CLI_ACTOR) -> list[Editor]:
        require_admin(actor)
        return self.store.list_editors()

    def set_editor_disabled(self, name: str, disabled: bool, actor: Actor = CLI_ACTOR) -> Editor:
        require_admin(actor)
        editor = self.store.get_editor(name)
        if disabled and editor.is_admin and not editor.disabled and self.store.count_admins() <= 1:
            raise InvalidInput({"name": "this is the last admin: make another admin first"})
        changed = self.store.set_editor_disabled(name, disabled)
        self.store.record_audit(
            actor.label,
            "editor.disable" if disabled else "editor.enable",
            "editor",
            changed.name,
            {"disabled": editor.disabled},
            {"disabled": disabled},
            self.clock(),
        )
        return changed

    def reset_password(self, name: str, password: str, actor: Actor = CLI_ACTOR) -> None:
        """A new password; every session of that editor ends."""
        if actor.kind != "cli" and name_key(actor.name) != name_key(name):
            require_admin(actor)
        editor = self.store.get_editor(name)
        problem = security.password_problem(password, editor.name)
        if problem:
            raise InvalidInput({"password": problem})
        self.store.set_password(editor.name, security.hash_password(password), self.clock())
        self.store.record_audit(
            actor.label, "editor.password", "editor", editor.name, None, None, self.clock()
        )

    def change_own_password(self, name: str, current: str, new: str) -> None:
        """An editor's own change: the current password must be right (InvalidInput names the
        field otherwise); every session of the editor ends, the caller signs in again."""
        found = self.store.editor_credentials(name)
        ok, _ = security.verify_password(found[1] if found else None, current)
        if not ok or found is None:
            raise InvalidInput({"current": "this is not your current password"})
        problem = security.password_problem(new, found[0].name)
        if problem:
            raise InvalidInput({"password": problem})
        self.store.set_password(found[0].name, security.hash_password(new), self.clock())
        self.store.record_audit(
            found[0].name, "editor.password", "editor", found[0].name, None, None, self.clock()
        )

    # -- signing in ------------------------------------------------------------------

    def sign_in(
        self,
        name: str,
        password: str,
        *,
        client: str | None,
        user_agent: str | None = None,
        replaces: str | None = None,
    ) -> tuple[str, Session]:
        """A new session (its secret token, and the session) for a right name and password.

        ``replaces`` is the browser's previous session token, which is ended: every sign-in
        gets a new session id (no fixation). Failures are counted per account and per client
        address; too many lock sign-in for a while (AuthError with ``retry_after``).
        """
        now = self.clock()
        config = self.settings.editor
        # No editor's name holds a control character (``check_name``); such a name is
        # counted as a failure under its cleaned form, never sent to the database as typed
        # (PostgreSQL refuses NUL).
        usable = text_problem(name) is None
        account = name_key(name if usable else clean_text(name))
        keys = [f"account:{account}"] + ([f"client:{client}"] if client else [])
        throttles = self.store.throttles(keys)
        waits = [w for key in keys if (w := security.locked_for(throttles.get(key), now))]
        if waits:
            wait = max(waits)
            raise AuthError(
                f"Too many failed sign-ins. Try again in {security.minutes(wait)}.",
                retry_after=wait,
            )
        found = self.store.editor_credentials(name) if usable else None
        ok, rehashed = security.verify_password(found[1] if found else None, password)
        if not ok or found is None:
            self.store.save_throttles(
                [security.after_failure(throttles.get(key), key, now, config) for key in keys]
            )
            log.info("failed sign-in for %r from %s", name[:64], client or "?")
            raise AuthError("Wrong name or password.")
        editor = found[0]
        if editor.disabled:
            raise AuthError("This account is disabled. Ask an admin.")
        if rehashed:
            self.store.update_password_hash(editor.id, rehashed)
        self.store.clear_throttles(keys[:1])
        token = security.new_secret()
        self.store.create_session(
            security.token_hash(token),
            editor.id,
            security.new_secret(),
            now,
            now + timedelta(seconds=config.session_max),
            client=client,
            user_agent=user_agent,
            replaces=security.token_hash(replaces) if replaces else None,
        )
        session = self.store.get_session(security.token_hash(token))
        assert session is not None
        return token, session

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie's token; None when unknown, expired or disabled."""
        if not token:
            return None
        session = self.store.get_session(security.token_hash(token))
        if session is None:
            return None
        now = self.clock()
        expired = security.session_expired(
            session.created_at, session.last_seen_at, now, self.settings.editor
        )
        if expired or session.editor.disabled:
            self.store.delete_session(session.id)
            return None
        if (now - session.last_seen_at).total_seconds() > SESSION_TOUCH_SECONDS:
            self.store.touch_session(session.id, now)
        return session

    def sign_out(self, token: str | None) -> None:
        if token:
            self.store.delete_session(security.token_hash(token))

    # -- the first admin -------------------------------------------------------------

    def setup_needed(self) -> bool:
        return self.store.count_admins() == 0

    def create_setup_link(self) -> str | None:
        """A one-time token for creating the first admin in the browser, or None when an
        admin exists. It expires after ``editor.setup_link_ttl``."""
        if not self.setup_needed():
            return None
        token = security.new_secret()
        now = self.clock()
        ttl = timedelta(seconds=self.settings.editor.setup_link_ttl)
        self.store.create_setup_token(security.token_hash(token), now, now + ttl)
        return token

    def setup_link_valid(self, token: str) -> bool:
        return bool(token) and self.store.setup_token_valid(
            security.token_hash(token), self.clock()
        )

    def complete_setup(self, token: str, name: str, password: str) -> Editor:
        name = check_name(name)
        problem = security.password_problem(password, name)
        if problem:
            raise InvalidInput({"password": problem})
        editor = self.store.create_first_admin(
            security.token_hash(token), name, security.hash_password(password), self.clock()
        )
        self.store.record_audit(
            editor.name,
            "editor.add",
            "editor",
            editor.name,
            None,
            {"role": "admin", "via": "setup link"},
            self.clock(),
        )
        return editor

    # -- API tokens ------------------------------------------------------------------

    def create_api_token(
        self, name: str, scope: TokenScope, actor: Actor = CLI_ACTOR
    ) -> tuple[ApiToken, str]:
        """A new token and its secret (shown once; only its hash is kept)."""
        require_admin(actor)
        name = check_name(name)
        secret = security.new_api_token()
        token = self.store.create_api_token(
            name, security.token_hash(secret), secret[:10], scope, actor.label, self.clock()
        )
        self.store.record_audit(
            actor.label,
            "token.create",
            "token",
            token.id,
            None,
            {"name": name, "scope": scope.value},
            self.clock(),
        )
        return token, secret

    def list_api_tokens(self, actor: Actor = CLI_ACTOR) -> list[ApiToken]:
        require_admin(actor)
        return self.store.list_api_tokens()

    def revoke_api_token(self, token_id: int, actor: Actor = CLI_ACTOR) -> ApiToken:
        require_admin(actor)
        token = self.store.revoke_api_token(token_id, self.clock())
        self.store.record_audit(
            actor.label, "token.revoke", "token", token.id, None, None, self.clock()
        )
        return token

    def token_actor(self, secret: str | None) -> Actor | None:
        """Who an ``Authorization: Bearer`` secret speaks for; None when unknown or revoked."""
        if not secret or not secret.startswith(security.API_TOKEN_PREFIX):
            return None
        token = self.store.api_token_by_hash(security.token_hash(secret))
        if token is None:
            return None
        now = self.clock()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            self.store.touch_api_token(token.id, now)
        return Actor(
            token.name, Role.EDITOR, kind="token", can_write=token.scope is TokenScope.WRITE
        )

    def get_editor(self, name: str) -> Editor:
        return self.store.get_editor(name)
