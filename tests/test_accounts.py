"""Editors, sign-in, throttling, sessions, the setup link and API tokens."""

from __future__ import annotations

from typing import Any

import pytest

from watcher.accounts.editors import CLI_ACTOR
from watcher.accounts.passwords import token_hash
from watcher.core import Watcher
from watcher.exceptions import AuthError, Conflict, InvalidInput, PermissionDenied
from watcher.types import Actor, Role, TokenScope

from .conftest import Clock

PASSWORD = "correct horse battery"


@pytest.fixture
def watcher(watcher_for: Any, database_url: str) -> Watcher:
    built: Watcher = watcher_for(
        [],
        database_url=database_url,
        editor={"login_max_failures": 3, "login_lockout": "15m", "session_idle": "1h",
                "session_max": "1d", "setup_link_ttl": "30m"},
    )  # fmt: skip
    return built


def test_names_are_unique_whatever_the_case(watcher: Watcher) -> None:
    watcher.add_editor("Alice", PASSWORD, Role.EDITOR)
    with pytest.raises(InvalidInput) as info:
        watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    assert "exists" in info.value.errors["name"]


@pytest.mark.parametrize(
    ("name", "password", "field"),
    [
        ("", PASSWORD, "name"),
        ("<script>", PASSWORD, "name"),
        ("x" * 70, PASSWORD, "name"),
        ("alice", "short", "password"),
        ("alice longname", "alice longname", "password"),
    ],
)
def test_bad_names_and_passwords_are_named(
    watcher: Watcher, name: str, password: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        watcher.add_editor(name, password, Role.EDITOR)
    assert list(info.value.errors) == [field]


def test_passwords_are_stored_as_argon2id_hashes(watcher: Watcher) -> None:
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    found = watcher.store.editor_credentials("alice")
    assert found is not None
    assert found[1].startswith("$argon2id$") and PASSWORD not in found[1]


def test_sign_in_gives_a_session_whose_token_is_stored_only_hashed(watcher: Watcher) -> None:
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    token, session = watcher.sign_in("ALICE", PASSWORD, client="10.0.0.1")
    assert session.editor.name == "alice" and session.id == token_hash(token)
    assert watcher.store.get_session(token) is None  # the token itself is not a key
    assert watcher.session(token) == session
    assert len(session.csrf_token) >= 32


def test_wrong_password_and_unknown_name_look_the_same(watcher: Watcher) -> None:
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    with pytest.raises(AuthError) as wrong:
        watcher.sign_in("alice", "nope nope nope", client="c")
    with pytest.raises(AuthError) as unknown:
        watcher.sign_in("mallory", "nope nope nope", client="c")
    assert str(wrong.value) == str(unknown.value) == "Wrong name or password."


def test_too_many_failures_lock_the_account_for_a_while(watcher: Watcher, clock: Clock) -> None:
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    for client in ("a", "b", "c"):  # from three addresses: the account counter locks
        with pytest.raises(AuthError, match="Wrong name"):
            watcher.sign_in("alice", "guess guess guess", client=client)
    with pytest.raises(AuthError, match="Try again in 15 minutes") as info:
        watcher.sign_in("alice", PASSWORD, client="d")
    assert info.value.retry_after == 900
    clock.advance(14 * 60)
    with pytest.raises(AuthError, match="Try again in 1 minute"):
        watcher.sign_in("alice", PASSWORD, client="d")
    clock.advance(61)
    assert watcher.sign_in("alice", PASSWORD, client="d")[1].editor.name == "alice"


def test_too_many_failures_from_one_address_lock_that_address(watcher: Watcher) -> None:
    for name in ("alice", "bob", "carol"):
        watcher.add_editor(name, PASSWORD, Role.EDITOR)
        with pytest.raises(AuthError):
            watcher.sign_in(name, "guess guess guess", client="203.0.113.9")
    with pytest.raises(AuthError, match="Too many failed sign-ins"):
        watcher.sign_in("alice", PASSWORD, client="203.0.113.9")
    assert watcher.sign_in("alice", PASSWORD, client="198.51.100.1")


def test_signing_in_again_replaces_the_browsers_session(watcher: Watcher) -> None:
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    old, _ = watcher.sign_in("alice", PASSWORD, client="c")
    new, _ = watcher.sign_in("alice", PASSWORD, client="c", replaces=old)
    assert new != old
    assert watcher.session(old) is None and watcher.session(new) is not None


def test_sessions_expire_when_idle_and_after_their_maximum(watcher: Watcher, clock: Clock) -> None:
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    idle, _ = watcher.sign_in("alice", PASSWORD, client="c")
    clock.advance(3601)
    assert watcher.session(idle) is None
    busy, _ = watcher.sign_in("alice", PASSWORD, client="c")
    for _ in range(30):  # active every 50 minutes, but a day is the maximum
        clock.advance(50 * 60)
        if watcher.session(busy) is None:
            break
    assert watcher.session(busy) is None
    assert clock.now.hour >= 12  # it lasted most of the day, not one idle hour


def test_disabling_or_a_new_password_ends_sessions(watcher: Watcher) -> None:
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    token, _ = watcher.sign_in("alice", PASSWORD, client="c")
    watcher.reset_password("alice", "another long password")
    assert watcher.session(token) is None
    with pytest.raises(AuthError):
        watcher.sign_in("alice", PASSWORD, client="c")
    token, _ = watcher.sign_in("alice", "another long password", client="c")
    watcher.set_editor_disabled("alice", True)
    assert watcher.session(token) is None
    with pytest.raises(AuthError, match="disabled"):
        watcher.sign_in("alice", "another long password", client="c")


def test_the_last_admin_cannot_be_disabled(watcher: Watcher) -> None:
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    with pytest.raises(InvalidInput, match="last admin"):
        watcher.set_editor_disabled("root", True)


def test_editors_cannot_manage_editors_but_may_change_their_own_password(watcher: Watcher) -> None:
    alice = Actor("alice", Role.EDITOR)
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    watcher.add_editor("bob", PASSWORD, Role.EDITOR)
    with pytest.raises(PermissionDenied):
        watcher.add_editor("carol", PASSWORD, Role.EDITOR, actor=alice)
    with pytest.raises(PermissionDenied):
        watcher.reset_password("bob", "a brand new password", actor=alice)
    watcher.reset_password("alice", "a brand new password", actor=alice)


def test_setup_link_creates_the_first_admin_once(watcher: Watcher, clock: Clock) -> None:
    assert watcher.setup_needed()
    token = watcher.create_setup_link()
    assert token is not None and watcher.setup_link_valid(token)
    admin = watcher.complete_setup(token, "root", PASSWORD)
    assert admin.role is Role.ADMIN and not watcher.setup_needed()
    assert watcher.create_setup_link() is None
    with pytest.raises(AuthError, match="used already or has expired"):
        watcher.complete_setup(token, "second", PASSWORD)


def test_setup_link_expires(watcher: Watcher, clock: Clock) -> None:
    token = watcher.create_setup_link()
    assert token is not None
    clock.advance(31 * 60)
    assert not watcher.setup_link_valid(token)
    with pytest.raises(AuthError):
        watcher.complete_setup(token, "root", PASSWORD)


def test_setup_link_after_an_admin_was_made_otherwise_is_refused(watcher: Watcher) -> None:
    token = watcher.create_setup_link()
    assert token is not None
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    with pytest.raises(Conflict, match="admin exists already"):
        watcher.complete_setup(token, "other", PASSWORD)


def test_api_tokens_are_hashed_scoped_and_revocable(watcher: Watcher) -> None:
    token, secret = watcher.create_api_token("dashboard", TokenScope.READ)
    assert secret.startswith("wt_") and token.prefix == secret[:10]
    with watcher.store.engine.connect() as connection:
        [row] = connection.exec_driver_sql("SELECT * FROM api_tokens").all()
    assert token_hash(secret) in row and secret not in row
    reader = watcher.token_actor(secret)
    assert reader is not None and not reader.can_write and reader.kind == "token"
    _, writer_secret = watcher.create_api_token("bot", TokenScope.WRITE)
    writer = watcher.token_actor(writer_secret)
    assert writer is not None and writer.can_write and not writer.is_admin
    assert watcher.token_actor("wt_not-a-token") is None
    assert watcher.token_actor(None) is None
    watcher.revoke_api_token(token.id)
    assert watcher.token_actor(secret) is None
    assert [t.revoked_at is not None for t in watcher.list_api_tokens()] == [True, False]
    with pytest.raises(PermissionDenied):
        watcher.create_api_token("x", TokenScope.WRITE, actor=Actor("alice", Role.EDITOR))


def test_account_changes_are_audited(watcher: Watcher) -> None:
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    watcher.create_api_token("bot", TokenScope.WRITE)
    actions = [e.action for e in watcher.audit_events(CLI_ACTOR)]
    assert actions == ["token.create", "editor.add"]


def test_changing_your_own_password_needs_the_current_one(watcher: Watcher) -> None:
    watcher.add_editor("alice", PASSWORD, Role.EDITOR)
    token, _ = watcher.sign_in("alice", PASSWORD, client="c")
    with pytest.raises(InvalidInput) as wrong:
        watcher.change_own_password("alice", "not it at all", "a new long password")
    assert list(wrong.value.errors) == ["current"]
    with pytest.raises(InvalidInput) as short:
        watcher.change_own_password("alice", PASSWORD, "short")
    assert list(short.value.errors) == ["password"]
    watcher.change_own_password("alice", PASSWORD, "a new long password")
    assert watcher.session(token) is None
    assert watcher.sign_in("alice", "a new long password", client="c")
