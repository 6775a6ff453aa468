"""Commands for accounts: ``watcher editors ...`` and ``watcher tokens ...``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from watcher.cli.app import app, call_watcher, fail, id_argument, out
from watcher.cli.output import JsonArray, print_listing, print_secret
from watcher.types import ApiToken, Editor, Role, TokenScope

editors_app = typer.Typer(help="Editor accounts (admins manage them).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for /api/v1.", no_args_is_help=True)
app.add_typer(editors_app, name="editors")
app.add_typer(tokens_app, name="tokens")


def read_password(from_stdin: bool) -> str:
    """From one line of stdin (scripts), or asked twice at the terminal (people)."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            fail("no password on standard input", 2)
        return line
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@editors_app.command("add")
def editors_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The editor's name (unique, any case).")],
    admin: Annotated[bool, typer.Option("--admin", help="May manage editors and tokens.")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create an editor account (asks for the password unless --password-stdin)."""
    password = read_password(password_stdin)
    role = Role.ADMIN if admin else Role.EDITOR
    editor = call_watcher(ctx, lambda watcher: watcher.add_editor(name, password, role))
    out.print(f"created {editor.role.value} {editor.name}")


@editors_app.command("list")
def editors_list(ctx: typer.Context, as_json: JsonArray = False) -> None:
    """Every editor account."""
    from watcher.views import EditorOut

    print_listing(
        call_watcher(ctx, lambda watcher: watcher.list_editors()),
        as_json=as_json,
        shape=EditorOut.of,
        columns=("name", "role", "status", "created", "last sign-in"),
        row=_editor_row,
    )


def _editor_row(editor: Editor) -> tuple[str, ...]:
    return (
        editor.name,
        editor.role.value,
        "disabled" if editor.disabled else "active",
        f"{editor.created_at:%Y-%m-%d}",
        f"{editor.last_login_at:%Y-%m-%d %H:%M}" if editor.last_login_at else "-",
    )


def _set_disabled(ctx: typer.Context, name: str, disabled: bool) -> None:
    editor = call_watcher(ctx, lambda watcher: watcher.set_editor_disabled(name, disabled))
    out.print(f"{editor.name} is {'disabled (signed out everywhere)' if disabled else 'active'}")


@editors_app.command("disable")
def editors_disable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The editor.")]
) -> None:
    """Disable an account: it can no longer sign in, and its sessions end now."""
    _set_disabled(ctx, name, True)


@editors_app.command("enable")
def editors_enable(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The editor.")]
) -> None:
    """Enable a disabled account again."""
    _set_disabled(ctx, name, False)


@editors_app.command("reset-password")
def editors_reset_password(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The editor.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Set a new password; the editor is signed out everywhere."""
    password = read_password(password_stdin)
    call_watcher(ctx, lambda watcher: watcher.reset_password(name, password))
    out.print(f"new password set for {name}; their sessions have ended")


@tokens_app.command("create")
def tokens_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    scope: Annotated[TokenScope, typer.Option("--scope", help="read or write.")] = TokenScope.READ,
) -> None:
    """Create an API token. Its secret is printed once: store it now."""
    token, secret = call_watcher(ctx, lambda watcher: watcher.create_api_token(name, scope))
    print_secret(
        f"token {token.id} ({token.scope.value}) for {token.name}; the secret, shown once:", secret
    )


@tokens_app.command("list")
def tokens_list(ctx: typer.Context, as_json: JsonArray = False) -> None:
    """Every API token (never their secrets)."""
    from watcher.views import TokenOut

    print_listing(
        call_watcher(ctx, lambda watcher: watcher.list_api_tokens()),
        as_json=as_json,
        shape=TokenOut.of,
        columns=("id", "name", "scope", "prefix", "created by", "last used", "revoked"),
        row=_token_row,
    )


def _token_row(token: ApiToken) -> tuple[str, ...]:
    return (
        str(token.id),
        token.name,
        token.scope.value,
        token.prefix + "...",
        token.created_by,
        f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "-",
        f"{token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "-",
    )


@tokens_app.command("revoke")
def tokens_revoke(
    ctx: typer.Context,
    token_id: Annotated[int, id_argument("The token's id.")],
) -> None:
    """Revoke an API token at once."""
    token = call_watcher(ctx, lambda watcher: watcher.revoke_api_token(token_id))
    out.print(f"revoked token {token.id} ({token.name})")
