"""The rights rules and calendar as data: the column-wise publicity end agrees with the
per-record rule, bad files are refused naming file, line and field, and the CLI answers."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from rongxin.rights.calendar import load_calendar
from rongxin.rights.cli import app
from rongxin.rights.errors import RightsDataError
from rongxin.rights.repair import publication_ends
from rongxin.rights.rules import load_rules

CASES = [
    ("2019-08-15", "一般", None),
    ("2019-08-15", "严重", None),
    ("2023-04-30", "一般", "消防"),
    ("2023-05-01", "一般", "消防"),
    ("2024-01-31", "严重", "安全生产"),
    ("2026-03-31", "轻微", None),
    ("2026-04-01", "轻微", None),
    ("2026-05-31", "一般", "无"),
    ("2026-08-31", "严重", None),
    ("2018-01-01", "一般", None),  # before any rule: the first rule
    ("2026-05-31", "未知", None),  # an unknown tier: no period
    ("not a date", "一般", None),
]


def test_column_wise_end_of_publication_equals_the_per_record_rule() -> None:
    rules = load_rules()
    frame = pl.DataFrame(
        {
            "f_decision_date": [c[0] for c in CASES],
            "f_severity": [c[1] for c in CASES],
            "f_special_domain": [c[2] for c in CASES],
        }
    )
    ends = publication_ends(rules, frame, "admin_penalty").to_list()
    expected = []
    for decided, tier, domain in CASES:
        payload = {"decision_date": decided, "severity": tier, "special_domain": domain}
        terms = rules.publicity("admin_penalty", payload)
        expected.append(terms.published_until if terms else None)
    assert ends == expected
    assert expected[7] == date(2027, 5, 31)
    assert expected[-2:] == [None, None]


def test_a_bad_rules_file_names_file_line_and_field(tmp_path: Path) -> None:
    text = (resources.files("rongxin") / "data" / "rights_rules.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "rules.yaml"
    bad.write_text(text.replace("max_months: 12}", "max_months: 1}", 1), encoding="utf-8")
    with pytest.raises(RightsDataError) as caught:
        load_rules(bad)
    message = caught.value.message
    assert message.startswith(f"{bad}:")
    assert "publicity_rules.0.tiers" in message
    assert "max_months must not be less than min_months" in message


def test_a_calendar_file_adds_days(tmp_path: Path) -> None:
    extra = tmp_path / "calendar.yaml"
    extra.write_text(
        'version: "2027.0"\nholidays: [2027-01-04]\nworkdays: [2027-01-09]\n', encoding="utf-8"
    )
    cal = load_calendar(extra)
    assert not cal.is_working_day(date(2027, 1, 4))  # a Monday made a day off
    assert cal.is_working_day(date(2027, 1, 9))  # a Saturday worked
    bad = tmp_path / "bad.yaml"
    bad.write_text('version: "x"\nworkdays: [2027-01-05]\n', encoding="utf-8")
    with pytest.raises(RightsDataError, match="workdays must be weekend days"):
        load_calendar(bad)


def test_cli_answers_deadline_and_publicity_questions() -> None:
    runner = CliRunner()
    days = runner.invoke(app, ["add-working-days", "2026-09-30", "2"])
    assert (days.exit_code, days.output.strip()) == (0, "2026-10-09")
    terms = runner.invoke(app, ["publicity", "2026-05-31", "一般"])
    assert terms.exit_code == 0, terms.output
    assert "repairable from: 2026-08-31" in terms.output
    assert "2027-05-31" in terms.output
    bad = runner.invoke(app, ["publicity", "2026-05-31", "未知"])
    assert bad.exit_code == 2
