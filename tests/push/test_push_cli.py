"""``rongxin push``: subscribe, list, run --once, deliveries, pause, resume, delete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from entity_factories import create_entity, make_uscc
from record_factories import create_record
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from rongxin.cli import app as root_app
from rongxin.config import Settings
from rongxin.db.models import metadata
from rongxin.db.session import build_engine
from rongxin.errors import InvalidInput
from rongxin.push.cli import app

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway SQLite database with two committed records, for commands that commit."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = build_engine(Settings(database_url=url))
    metadata.create_all(engine)
    with Session(engine) as session:
        firm = create_entity(session, uscc=make_uscc(seed=5), region_code="350102")
        create_record(session, uscc=firm.uscc)
        create_record(
            session, item_code="tax_payment", uscc=firm.uscc, payload={"period": "2025-12"}
        )
        create_record(session, uscc=firm.uscc)
        session.commit()
    engine.dispose()
    monkeypatch.setenv("RONGXIN_DATABASE_URL", url)
    monkeypatch.setenv("RONGXIN_DATA_DIR", str(tmp_path / "var"))
    return url


def _json(output: str) -> Any:
    return json.loads(output)


def test_subscribe_run_once_and_manage(cli_db: str, tmp_path: Path) -> None:
    made = runner.invoke(
        app,
        [
            "subscribe",
            "--institution",
            "bank_a",
            "--region",
            "35",
            "--industry",
            "F",
            "--category",
            "penalty",
            "--file-format",
            "csv",
            "--from-beginning",
        ],
    )
    assert made.exit_code == 0, made.output
    sub = _json(made.stdout)
    assert (sub["categories"], sub["industry_sections"], sub["cursor"]) == (["penalty"], ["F"], 0)

    ran = runner.invoke(root_app, ["push", "run", "--once", "--json"])
    assert ran.exit_code == 0, ran.output
    summary = _json(ran.stdout)
    assert (summary["subscriptions"], summary["delivered"], summary["records"]) == (1, 1, 2)
    (result,) = summary["results"]
    file = tmp_path / "var" / "push" / sub["id"] / f"{0:012d}-{result['to_seq']:012d}.csv"
    assert len(file.read_text("utf-8").splitlines()) == 3  # header + the two penalties

    again = runner.invoke(app, ["run", "--once"])
    assert again.exit_code == 0, again.output
    assert "0 delivered" in again.stdout

    log = runner.invoke(app, ["deliveries", sub["id"], "--json"])
    assert log.exit_code == 0, log.output
    assert [d["status"] for d in _json(log.stdout)["items"]] == ["delivered"]
    table = runner.invoke(app, ["deliveries", sub["id"]], env={"COLUMNS": "200"})
    assert file.name in table.stdout

    listed = runner.invoke(app, ["list", "--json"])
    assert [s["cursor"] for s in _json(listed.stdout)] == [result["to_seq"]]
    assert "bank_a" in runner.invoke(app, ["list"]).stdout

    paused = runner.invoke(app, ["pause", sub["id"], "--reason", "安全评估"])
    assert _json(paused.stdout)["status"] == "paused"
    assert _json(runner.invoke(app, ["run", "--once", "--json"]).stdout)["subscriptions"] == 0
    resumed = runner.invoke(app, ["resume", sub["id"]])
    assert _json(resumed.stdout)["status"] == "active"

    deleted = runner.invoke(app, ["delete", sub["id"]])
    assert deleted.exit_code == 0
    assert _json(runner.invoke(app, ["list", "--json"]).stdout) == []


def test_subscribe_needs_exactly_one_delivery(cli_db: str) -> None:
    both = runner.invoke(
        app,
        ["subscribe", "--institution", "b", "--file-format", "csv", "--webhook", "http://x"],
    )
    assert isinstance(both.exception, InvalidInput)
    neither = runner.invoke(app, ["subscribe", "--institution", "b"])
    assert isinstance(neither.exception, InvalidInput)
    bad = runner.invoke(
        app, ["subscribe", "--institution", "b", "--file-format", "csv", "--region", "x"]
    )
    assert isinstance(bad.exception, InvalidInput)
    assert "region_prefix" in str(bad.exception)


def test_webhook_subscription_prints_its_secret_once(cli_db: str) -> None:
    made = runner.invoke(
        app, ["subscribe", "--institution", "b", "--webhook", "http://127.0.0.1:9/hook"]
    )
    assert made.exit_code == 0, made.output
    secret = _json(made.stdout)["webhook_secret"]
    assert len(secret) == 64
    assert secret not in runner.invoke(app, ["list", "--json"]).stdout
