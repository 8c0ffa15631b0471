"""``rongxin access``: API keys for provider, institution and operator systems."""

from __future__ import annotations

import typer

from rongxin.access import service
from rongxin.access.schemas import PrincipalKind
from rongxin.cli_support import cli_session, emit_json

app = typer.Typer(
    help="接入凭证 — API keys for systems that call the platform.", no_args_is_help=True
)
key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(key_app, name="key")


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
