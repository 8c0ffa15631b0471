"""``rongxin uscc check`` and ``rongxin entities import|show|search``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from entity_factories import REGISTRATION_HEADER, make_uscc, registration_row, write_csv
from typer.testing import CliRunner

from rongxin.config import Settings
from rongxin.db.models import metadata
from rongxin.db.session import build_engine
from rongxin.entities.cli import app, uscc_app

runner = CliRunner()
GOOD = "91350100M000100Y43"


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_uscc_check_all_valid_exits_0() -> None:
    result = runner.invoke(uscc_app, ["check", GOOD, "９１３５０１００ｍ０００１００ｙ４３"])
    assert result.exit_code == 0, result.output
    lines = _lines(result.stdout)
    assert [(o["code"], o["valid"], o["reason"]) for o in lines] == [
        (GOOD, True, None),
        (GOOD, True, None),
    ]


def test_uscc_check_any_invalid_exits_1() -> None:
    result = runner.invoke(uscc_app, ["check", GOOD, "91350100M000100Y44", "9135"])
    assert result.exit_code == 1
    lines = _lines(result.stdout)
    assert [o["valid"] for o in lines] == [True, False, False]
    assert lines[1]["check"] == "check_character"
    assert "position 18" in str(lines[1]["reason"])
    assert lines[2]["check"] == "length"


def test_uscc_check_allow_list(tmp_path: Path) -> None:
    allow = tmp_path / "allow.txt"
    allow.write_text("91350100M000100Y44\n", encoding="utf-8")
    result = runner.invoke(uscc_app, ["check", "91350100M000100Y44", "--allow-list", str(allow)])
    assert result.exit_code == 0
    (line,) = _lines(result.stdout)
    assert line["valid"] is True
    assert line["notes"]


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway SQLite database for commands that commit."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = build_engine(Settings(database_url=url))
    metadata.create_all(engine)
    engine.dispose()
    monkeypatch.setenv("RONGXIN_DATABASE_URL", url)
    monkeypatch.setenv("RONGXIN_NODE_ID", "cli-node")
    return url


def test_entities_import_error_output(cli_db: str, tmp_path: Path) -> None:
    rows = [registration_row(uscc=make_uscc(seed=1)), registration_row(uscc="91350100M000100Y44")]
    path = write_csv(tmp_path / "reg.csv", REGISTRATION_HEADER, rows)
    result = runner.invoke(app, ["import", "--registration", str(path)])
    assert result.exit_code == 2
    assert f"{path}, line 3, field uscc" in result.stderr
    assert "Nothing was imported" in result.stderr
    assert result.stdout == ""
    search = runner.invoke(app, ["search", "榕城", "--json"])
    assert search.exit_code == 0, search.output
    assert json.loads(search.stdout)["total"] == 0


def test_entities_import_show_search(cli_db: str, tmp_path: Path) -> None:
    code = make_uscc(seed=1)
    path = write_csv(tmp_path / "reg.csv", REGISTRATION_HEADER, [registration_row(uscc=code)])
    result = runner.invoke(app, ["import", "--registration", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["inserted"], summary["origin_node"]) == (1, "cli-node")

    again = runner.invoke(app, ["import", "--registration", str(path)])
    assert again.exit_code == 0
    assert "0 new, 0 updated, 1 unchanged" in again.stdout

    shown = runner.invoke(app, ["show", code])
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["region_full_name"] == "福建省福州市鼓楼区"

    found = runner.invoke(app, ["search", "榕城软件", "--json"])
    assert [i["uscc"] for i in json.loads(found.stdout)["items"]] == [code]
    table = runner.invoke(app, ["search", "榕城软件"])
    assert table.exit_code == 0
    assert code in table.stdout
