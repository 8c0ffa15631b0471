from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from pydantic import ValidationError

from rongxin import __version__
from rongxin.app import SERVER_GC_THRESHOLD, server_app
from rongxin.config import Environment, Settings
from rongxin.db import migrate
from rongxin.db.session import build_engine, check_connection
from rongxin.errors import ServiceUnavailable


def test_healthz(client: TestClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "version": __version__, "node_id": "test-node"}
    assert resp.headers["x-request-id"]


def test_openapi_lists_the_api(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"].startswith("rongxin")
    assert "/api/v1/catalog/items" in spec["paths"]
    assert "/api/v1/entities/{uscc}" in spec["paths"]


def test_production_requires_a_secret() -> None:
    with pytest.raises(ValidationError, match="RONGXIN_SECRET_KEY"):
        Settings(environment=Environment.production)
    assert Settings(environment=Environment.production, secret_key="s" * 32).secret_key


def test_node_role_is_configuration() -> None:
    s = Settings(node_id="fujian", node_level="provincial", node_region="350000")
    assert (s.node_id, s.node_level.value, s.node_region) == ("fujian", "provincial", "350000")
    with pytest.raises(ValidationError):
        Settings(node_region="35")


def test_unreachable_database_is_a_clear_error() -> None:
    engine = build_engine(Settings(database_url="postgresql+psycopg://u:secret@127.0.0.1:1/x"))
    with pytest.raises(ServiceUnavailable) as err:
        check_connection(engine)
    assert "cannot connect to the database" in err.value.message
    assert "secret" not in err.value.message  # never print the password
    assert "RONGXIN_DATABASE_URL" in err.value.message


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", "from rongxin.cli import main; main()", *args],
        capture_output=True, text=True, env=full_env, timeout=120, check=False,
    )  # fmt: skip


def test_cli_errors_exit_2_with_a_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _cli("catalog", "show", "no_such_item")
    assert result.returncode == 2
    assert "unknown catalog item 'no_such_item'" in result.stderr
    assert "Traceback" not in result.stderr
    bad = _cli(
        "db", "upgrade", env={"RONGXIN_DATABASE_URL": "postgresql+psycopg://u:pw@127.0.0.1:1/x"}
    )
    assert bad.returncode == 2
    assert "cannot connect to the database" in bad.stderr
    assert "pw@" not in bad.stderr


def test_cli_on_a_database_without_the_schema_says_what_to_do(
    database_url: str, tmp_path: Path
) -> None:
    """A command run against a database whose schema was never created (the default SQLite
    file instead of the demo's, a fresh PostgreSQL schema) names the missing table and the fix,
    without a traceback."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:  # the same server and database, looking in a schema that does not exist
        url = f"{database_url}?options=-csearch_path%3Dno_rongxin_schema"
    result = _cli("report", "91350100M000100Y43", env={"RONGXIN_DATABASE_URL": url})
    assert result.returncode == 2
    assert "has no table " in result.stderr
    assert "rongxin db upgrade" in result.stderr
    assert "RONGXIN_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_db_upgrade_creates_the_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = _cli("db", "upgrade", env={"RONGXIN_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    current = _cli("db", "current", env={"RONGXIN_DATABASE_URL": url})
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    assert head.isdigit()
    assert current.stdout.strip() == head


def test_healthz_reports_an_unreachable_database(settings: Settings) -> None:
    from rongxin.app import create_app

    broken = settings.model_copy(update={"database_url": "postgresql+psycopg://u@127.0.0.1:1/x"})
    with TestClient(create_app(broken)) as c:
        resp = c.get("/healthz")
    assert resp.status_code == 503
    assert resp.json()["status"] == "database_unreachable"


def test_unknown_page_is_an_html_404_but_the_api_keeps_json(client: TestClient) -> None:
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "/no/such/page" in page.text
    api = client.get("/api/v1/no/such/route")
    assert api.status_code == 404
    assert api.json()["error"] == "http_error"


def test_sqlite_busy_is_a_503_with_retry_after(settings: Settings) -> None:
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from rongxin.app import create_app

    app = create_app(settings)

    @app.get("/busy")
    def busy() -> None:
        raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))

    @app.get("/broken")
    def broken() -> None:
        raise OperationalError("SELECT …", {}, sqlite3.OperationalError("no such table: x"))

    with TestClient(app, raise_server_exceptions=False) as c:
        resp = c.get("/busy")
        assert resp.status_code == 503
        assert resp.headers["retry-after"] == "1"
        assert resp.json()["error"] == "database_busy"
        assert c.get("/broken").status_code == 500  # other database errors stay bugs


def test_request_ids_are_echoed_only_when_safe(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "abc-123.x_y"})
    assert kept.headers["x-request-id"] == "abc-123.x_y"
    replaced = client.get("/healthz", headers={"X-Request-ID": "evil\r\ninjected: 1" * 3})
    assert replaced.headers["x-request-id"] != "evil"
    assert len(replaced.headers["x-request-id"]) == 32


def test_server_app_is_built_from_the_environment_and_tuned_for_serving(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """``rongxin serve`` (any number of workers) builds each process's app with server_app:
    settings from RONGXIN_* variables, and the collector tuned for serving."""
    url = f"sqlite:///{tmp_path / 'served.db'}"
    monkeypatch.setenv("RONGXIN_DATABASE_URL", url)
    monkeypatch.setenv("RONGXIN_NODE_ID", "served-node")
    threshold = gc.get_threshold()
    try:
        app = server_app()
        assert gc.get_threshold() == SERVER_GC_THRESHOLD != threshold
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    assert app.state.settings.database_url == url
    with TestClient(app) as served:
        assert served.get("/healthz").json()["node_id"] == "served-node"


def test_root_help_lists_each_lazy_command_by_its_own_help() -> None:
    """`rongxin --help` lists domain commands without importing them: the summary kept for
    each is its help's first paragraph, and the root's help reads the same either way."""
    import typer
    from typer.testing import CliRunner

    from rongxin import cli

    group = typer.main.get_command(cli.app)
    assert isinstance(group, cli._LazyGroup)
    ctx = group.make_context("rongxin", [], resilient_parsing=True)
    for name, lazy in cli.LAZY.items():
        command = group.get_command(ctx, name)  # imported: the real command
        assert command is not None, name
        assert (command.help or "").split("\n\n")[0] == lazy.summary, name

    listed = CliRunner().invoke(cli.app, ["--help"], prog_name="rongxin").output
    assert all(name in listed for name in cli.LAZY)
    assert "Write, per provider and catalog item" in listed


def test_root_help_imports_no_domain() -> None:
    code = (
        "import sys; from rongxin.cli import main, LAZY\n"
        "sys.argv = ['rongxin', '--help']\n"
        "try: main()\n"
        "except SystemExit: pass\n"
        "loaded = sorted({l.module for l in LAZY.values()} & set(sys.modules))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stderr
    assert "synth-access" in result.stdout


def test_api_docs_are_served_by_the_node_itself(client: TestClient) -> None:
    """Nodes run on networks without the internet: the docs page loads nothing from outside."""
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/api/v1/docs/assets/swagger-ui-bundle.js" in page.text
    assert "/api/v1/openapi.json" in page.text
    assert "cdn" not in page.text
    assert "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        served = client.get(f"/api/v1/docs/assets/{asset}")
        assert served.status_code == 200
        assert len(served.content) > 10_000
    assert "/api/v1/docs" not in client.get("/api/v1/openapi.json").json()["paths"]
