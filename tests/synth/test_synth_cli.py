from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rongxin.cli import app

runner = CliRunner()


def test_synth_json_summary(tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    args = ["synth", "-n", "300", "--seed", "5", "--out", str(out), "--json", "--months", "2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert summary["enterprises"] == 300
    assert summary["files"] == len(manifest["files"])
    assert summary["rows"] == sum(f["rows"] for f in manifest["files"])
    assert manifest["months"] == 2


def test_synth_text_summary_and_bad_date(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["synth", "-n", "50", "--out", str(tmp_path / "a"), "--months", "1"])
    assert ok.exit_code == 0
    assert "50 entities" in ok.stdout
    bad = runner.invoke(app, ["synth", "-n", "5", "--out", str(tmp_path / "b"), "--as-of", "x"])
    assert bad.exit_code == 2
    assert "--as-of" in bad.output
    assert not (tmp_path / "b").exists()
