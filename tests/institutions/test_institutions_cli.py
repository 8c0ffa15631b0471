"""``rongxin institutions``: apply, assess, approve (four-eyes), suspend, reinstate, expiry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from institution_factories import application
from typer.testing import CliRunner

from rongxin.config import Settings
from rongxin.db.models import metadata
from rongxin.db.session import build_engine
from rongxin.errors import InvalidInput
from rongxin.institutions.cli import app
from rongxin.institutions.controls import load_controls
from rongxin.institutions.errors import AssessmentNotPassed, FourEyesViolation, InvalidTransition

runner = CliRunner()


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway SQLite database, for commands that commit."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = build_engine(Settings(database_url=url))
    metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("RONGXIN_DATABASE_URL", url)
    monkeypatch.setenv("RONGXIN_DATA_DIR", str(tmp_path / "var"))
    return url


def _ok(args: list[str]) -> Any:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.stdout) if result.stdout.lstrip().startswith(("{", "[")) else None


def _apply_args(code: str = "bank-fz", seed: int = 11) -> list[str]:
    spec = application(code, seed=seed)
    return [
        "apply",
        "--code",
        code,
        "--name",
        spec.name,
        "--uscc",
        spec.uscc,
        "--kind",
        "bank",
        "--license-number",
        spec.license_number,
        "--contact-department",
        spec.contact_department,
        "--contact-phone",
        spec.contact_phone,
        "--contact-email",
        spec.contact_email,
        "--purpose",
        "pre_loan",
        "--purpose",
        "in_loan",
        "--region",
        "350100",
    ]


def _scores_file(tmp_path: Path, **overrides: int) -> Path:
    scores = {
        code: {"score": overrides.get(code, 100), "evidence_ref": f"EV-{code}"}
        for code in load_controls().controls()
    }
    path = tmp_path / "scores.yaml"
    path.write_text(yaml.safe_dump(scores, allow_unicode=True), encoding="utf-8")
    return path


def test_onboarding_from_the_console(cli_db: str, tmp_path: Path) -> None:
    applied = _ok(_apply_args())
    assert applied["status"] == "applied"
    failing = _scores_file(tmp_path, ir_reporting=0)
    assessed = _ok(["assess", "bank-fz", "--assessor", "li", "--scores", str(failing)])
    assessment_id = assessed["id"]
    assert assessed["evaluation"]["failed_mandatory"] == ["ir_reporting"]

    refused = runner.invoke(
        app, ["approve", assessment_id, "--approver", "wang", "--purpose", "pre_loan"]
    )
    assert isinstance(refused.exception, AssessmentNotPassed)
    assert "ir_reporting" in str(refused.exception)

    rescored = _ok(
        ["assess", "bank-fz", "--assessor", "li", "--scores", str(_scores_file(tmp_path))]
    )
    assert rescored["id"] == assessment_id  # the assessment in progress continues
    assert rescored["evaluation"]["passed"] is True
    same = runner.invoke(
        app, ["approve", assessment_id, "--approver", "li", "--purpose", "pre_loan"]
    )
    assert isinstance(same.exception, FourEyesViolation)

    approved = _ok(
        [
            "approve",
            assessment_id,
            "--approver",
            "wang",
            "--purpose",
            "pre_loan",
            "--daily-quota",
            "500",
        ]
    )
    assert approved["institution"]["status"] == "active"
    assert approved["institution"]["daily_quota"] == 500
    assert approved["api_key"]["token"].startswith("rx_")
    assert approved["assessment"]["approver"] == "console:wang"

    listed = _ok(["list", "--json"])
    assert [(i["code"], i["status"]) for i in listed] == [("bank-fz", "active")]
    table = runner.invoke(app, ["list"])
    assert "bank-fz" in table.output
    assert "active" in table.output

    suspended = _ok(["suspend", "bank-fz", "--reason", "abuse alert", "--actor", "zhao"])
    assert suspended["status"] == "suspended"
    reinstated = _ok(["reinstate", "bank-fz", "--reason", "cleared"])
    assert reinstated["status"] == "active"
    shown = _ok(["show", "bank-fz"])
    assert [e["to_status"] for e in shown["events"]][-2:] == ["suspended", "active"]
    assert shown["events"][-2]["actor"] == "console:zhao"
    assert shown["quota"]["daily_quota"] == 500

    assert _ok(["enforce-expiry"])["suspended"] == []
    later = "2099-01-01T00:00:00+08:00"
    assert [d["code"] for d in _ok(["due", "--at", later])] == ["bank-fz"]
    assert _ok(["enforce-expiry", "--at", later])["suspended"] == ["bank-fz"]
    expired = _ok(["show", "bank-fz"])
    assert expired["institution"]["status"] == "suspended"
    assert expired["events"][-1]["actor"] == "system"
    assert "security assessment expired" in expired["events"][-1]["reason"]
    again = runner.invoke(app, ["suspend", "bank-fz", "--reason", "again"])
    assert isinstance(again.exception, InvalidTransition)


def test_reject_withdraw_and_bad_input(cli_db: str, tmp_path: Path) -> None:
    _ok(_apply_args())
    rejected = _ok(["reject", "bank-fz", "--reason", "licence not verified"])
    assert rejected["status"] == "rejected"
    reopened = _ok(_apply_args())
    assert reopened["status"] == "applied"
    withdrawn = _ok(["withdraw", "bank-fz", "--reason", "no longer needed"])
    assert withdrawn["status"] == "withdrawn"

    bad = runner.invoke(app, [*_apply_args("bank-xm", seed=12)[:-2], "--region", "12"])
    assert isinstance(bad.exception, InvalidInput)
    assert "regions" in str(bad.exception)
    bad_scores = tmp_path / "bad.yaml"
    bad_scores.write_text("mgmt_policy: {score: 120, evidence_ref: EV-1}\n", encoding="utf-8")
    _ok(_apply_args("bank-xm2", seed=13))
    wrong = runner.invoke(
        app, ["assess", "bank-xm2", "--assessor", "li", "--scores", str(bad_scores)]
    )
    assert isinstance(wrong.exception, InvalidInput)
    assert "scores.0.score" in str(wrong.exception)
    blank = runner.invoke(app, ["suspend", "bank-xm2", "--reason", "x", "--actor", " "])
    assert isinstance(blank.exception, InvalidInput)


def test_controls_listing(cli_db: str) -> None:
    table = runner.invoke(app, ["controls"])
    assert table.exit_code == 0
    assert "通信传输加密" in table.output
    as_json = _ok(["controls", "--json"])
    assert as_json["version"] == load_controls().version
