from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rongxin.cli import app
from rongxin.errors import RongxinError

runner = CliRunner()


def test_list_json() -> None:
    result = runner.invoke(app, ["catalog", "list", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"] >= 30


def test_show_and_export(tmp_path: Path) -> None:
    shown = runner.invoke(app, ["catalog", "show", "tax_payment"])
    assert json.loads(shown.stdout)["authorization_required"] is True
    out = tmp_path / "catalog.json"
    exported = runner.invoke(app, ["catalog", "export", "-o", str(out)])
    assert exported.exit_code == 0
    assert len(json.loads(out.read_text("utf-8"))["items"]) >= 30


def test_show_unknown_item_is_an_error() -> None:
    result = runner.invoke(app, ["catalog", "show", "nope"])
    assert result.exit_code != 0
    assert isinstance(result.exception, RongxinError)
    assert "unknown catalog item" in result.exception.message


def test_validate_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\n", encoding="utf-8")
    result = runner.invoke(app, ["catalog", "validate", str(bad)])
    assert isinstance(result.exception, RongxinError)
    assert str(bad) in result.exception.message
