"""``rongxin access``: API keys and access tokens for systems, person accounts for people."""

from __future__ import annotations

import typer

from rongxin.access import service, tokens, users
from rongxin.access.schemas import PrincipalKind, UserStatus
from rongxin.cli_support import cli_session, emit_json, settings_or_exit

app = typer.Typer(
    help="接入凭证 — API keys for systems that call the platform.", no_args_is_help=True
)
key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(key_app, name="key")
user_app = typer.Typer(
    help="Person accounts (password + TOTP) for the web pages.", no_args_is_help=True
)
app.add_typer(user_app, name="user")


@key_app.command("create")
def create(
    kind: PrincipalKind = typer.Option(..., help="provider, institution, operator or regulator."),
    code: str = typer.Option(..., help="The party's code, e.g. a catalog provider code (samr)."),
    label: str = typer.Option("", help="What the key is for."),
) -> None:
    """Create a key; the token is printed once and cannot be shown again."""
    with cli_session() as session:
        created = service.create_api_key(session, kind=kind, code=code, label=label)
    emit_json(created.model_dump(mode="json"))


@key_app.command("list")
def list_() -> None:
    """List keys (never their secrets)."""
    with cli_session() as session:
        for key in service.list_api_keys(session):
            emit_json(key.model_dump(mode="json"))


@key_app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key id (the part after rx_).")) -> None:
    """Revoke a key at once."""
    with cli_session() as session:
        emit_json(service.revoke_api_key(session, key_id=key_id).model_dump(mode="json"))


# ---- access tokens ------------------------------------------------------------------------------


@app.command("token")
def token(key_id: str = typer.Argument(..., help="The key id (the part after rx_).")) -> None:
    """Issue an OAuth2 access token for an institution or provider key (for scripts).

    The same token as POST /api/v1/oauth/token gives; it lives RONGXIN_ACCESS_TOKEN_MINUTES.
    The server must share this command's RONGXIN_SECRET_KEY.
    """
    settings = settings_or_exit()
    with cli_session(settings) as session:
        issued = tokens.issue_for_key(session, settings=settings, key_id=key_id)
    emit_json(issued.model_dump(mode="json"))


# ---- person accounts ----------------------------------------------------------------------------


@user_app.command("create")
def user_create(
    username: str = typer.Option(..., help="Sign-in name: 3–64 lower-case letters, digits, ._-@"),
    kind: PrincipalKind = typer.Option(
        ..., help="operator, regulator, institution, provider or enterprise."
    ),
    code: str = typer.Option(
        ..., help="The organisation's code (institution/provider code; USCC for an enterprise)."
    ),
    display_name: str = typer.Option("", help="The name shown in the page header."),
    totp: bool = typer.Option(
        False, "--totp", help="Enrol a one-time code (always done for operators and regulators)."
    ),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 12 characters, not the username (prompted; never echoed).",
    ),
) -> None:
    """Create a person account; a TOTP provisioning URI, when made, is printed once."""
    settings = settings_or_exit()
    with cli_session(settings) as session:
        created = users.create_user(
            session,
            settings=settings,
            username=username,
            password=password,
            kind=kind,
            code=code,
            display_name=display_name,
            enrol_totp=True if totp else None,
        )
    emit_json(created.model_dump(mode="json"))


@user_app.command("list")
def user_list(
    kind: PrincipalKind | None = typer.Option(None, help="Only accounts of this kind."),
) -> None:
    """List accounts (never their passwords or TOTP secrets)."""
    with cli_session() as session:
        for user in users.list_users(session, kind=kind):
            emit_json(user.model_dump(mode="json"))


@user_app.command("disable")
def user_disable(username: str = typer.Argument(..., help="The account's username.")) -> None:
    """Disable an account: it cannot sign in, and a signed-in browser is signed out at once."""
    with cli_session() as session:
        emit_json(
            users.set_status(session, username=username, status=UserStatus.disabled).model_dump(
                mode="json"
            )
        )


@user_app.command("enable")
def user_enable(username: str = typer.Argument(..., help="The account's username.")) -> None:
    """Enable a disabled account again (also lifts a lockout)."""
    with cli_session() as session:
        emit_json(
            users.set_status(session, username=username, status=UserStatus.active).model_dump(
                mode="json"
            )
        )


@user_app.command("reset-totp")
def user_reset_totp(username: str = typer.Argument(..., help="The account's username.")) -> None:
    """Give the account a new TOTP secret (the old codes stop working); the URI is printed once."""
    settings = settings_or_exit()
    with cli_session(settings) as session:
        enrolment = users.reset_totp(session, settings=settings, username=username)
    emit_json(enrolment.model_dump(mode="json"))
