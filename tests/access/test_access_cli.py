"""``rongxin access user …`` and ``rongxin access token`` against a throwaway database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from access_helpers import PASSWORD, secret_of
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from rongxin.access import service as access_service
from rongxin.access import tokens, totp, users
from rongxin.access.cli import app
from rongxin.access.errors import LoginFailed
from rongxin.access.schemas import PrincipalKind
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.db.models import metadata
from rongxin.db.session import build_engine

runner = CliRunner()


@pytest.fixture
def cli_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A throwaway SQLite database and data folder, as the CLI sees them."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    settings = Settings(database_url=url, data_dir=tmp_path / "var")
    engine = build_engine(settings)
    metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("RONGXIN_DATABASE_URL", url)
    monkeypatch.setenv("RONGXIN_DATA_DIR", str(tmp_path / "var"))
    return settings


def _lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _create(*args: str, password: str = PASSWORD) -> Any:
    return runner.invoke(
        app, ["user", "create", *args], input=f"{password}\n{password}\n", catch_exceptions=False
    )


def test_first_operator_user_and_its_lifecycle(cli_settings: Settings) -> None:
    made = _create("--username", "ops.admin", "--kind", "operator", "--code", "ops")
    assert made.exit_code == 0, made.output
    created = _lines(made.output)[-1]
    assert created["principal_kind"] == "operator"
    assert created["totp_enrolled"] is True
    assert created["totp_provisioning_uri"].startswith("otpauth://totp/")
    assert PASSWORD not in made.output
    secret = secret_of(created["totp_provisioning_uri"])
    assert secret is not None

    listed = runner.invoke(app, ["user", "list", "--kind", "operator"])
    assert listed.exit_code == 0
    rows = _lines(listed.output)
    assert [r["username"] for r in rows] == ["ops.admin"]
    assert "totp_provisioning_uri" not in rows[0]
    assert secret not in listed.output

    engine = build_engine(cli_settings)
    with Session(engine) as session:
        principal = users.login(
            session,
            settings=cli_settings,
            username="ops.admin",
            password=PASSWORD,
            totp=totp.code_at(secret, at=utcnow()),
        )
        assert principal.kind is PrincipalKind.operator

    reset = runner.invoke(app, ["user", "reset-totp", "ops.admin"])
    assert reset.exit_code == 0
    new_uri = _lines(reset.output)[-1]["provisioning_uri"]
    assert secret_of(new_uri) != secret

    disabled = runner.invoke(app, ["user", "disable", "ops.admin"])
    assert _lines(disabled.output)[-1]["status"] == "disabled"
    with Session(engine) as session, pytest.raises(LoginFailed):
        users.login(
            session,
            settings=cli_settings,
            username="ops.admin",
            password=PASSWORD,
            totp=totp.code_at(secret_of(new_uri) or "", at=utcnow()),
        )
    enabled = runner.invoke(app, ["user", "enable", "ops.admin"])
    assert _lines(enabled.output)[-1]["status"] == "active"
    engine.dispose()


def test_create_refuses_a_weak_password_naming_the_rule(cli_settings: Settings) -> None:
    from rongxin.errors import InvalidInput

    with pytest.raises(InvalidInput, match="at least 12 characters"):
        _create(
            "--username", "weak.user", "--kind", "institution", "--code", "bank-a", password="short"
        )
    mismatch = runner.invoke(
        app,
        ["user", "create", "--username", "u.one", "--kind", "institution", "--code", "bank-a"],
        input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n",
    )
    assert mismatch.exit_code == 0  # the confirmation prompt asked again
    assert "do not match" in mismatch.output.lower()


def test_unknown_user_is_a_clear_error(cli_settings: Settings) -> None:
    from rongxin.errors import NotFound

    with pytest.raises(NotFound, match="no user 'ghost'"):
        runner.invoke(app, ["user", "disable", "ghost"], catch_exceptions=False)


def test_token_command_issues_a_token_the_server_accepts(cli_settings: Settings) -> None:
    engine = build_engine(cli_settings)
    with Session(engine) as session:
        key = access_service.create_api_key(session, kind=PrincipalKind.provider, code="samr")
        operator = access_service.create_api_key(session, kind=PrincipalKind.operator, code="o")
        session.commit()
    engine.dispose()
    r = runner.invoke(app, ["token", key.key_id])
    assert r.exit_code == 0, r.output
    issued = _lines(r.output)[-1]
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 15 * 60
    principal = tokens.verify_access_token(settings=cli_settings, token=issued["access_token"])
    assert (principal.kind, principal.code, principal.key_id) == (
        PrincipalKind.provider,
        "samr",
        key.key_id,
    )
    refused = runner.invoke(app, ["token", operator.key_id])
    assert refused.exit_code != 0
    assert "institution and provider keys" in str(refused.exception)
