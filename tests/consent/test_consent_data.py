"""Purpose templates and risk notices are versioned data with clear file:line errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from rongxin.access.schemas import Purpose
from rongxin.consent import notice, purposes
from rongxin.consent.errors import ConsentDataError
from rongxin.consent.schemas import AuthorizationMode

GOOD_SET = """\
template_sets:
  - version: "1"
    effective_date: 2026-01-01
    purposes:
      - purpose: pre_loan
        name: 贷前审查
        name_en: Pre-loan review
        max_validity_days: 30
        access_modes: [view]
        max_retention_days: 10
        max_data_range_days: 100
"""


def test_shipped_templates_cap_each_financing_purpose() -> None:
    shipped = purposes.load_templates()
    in_force = shipped.in_force(date(2026, 3, 1))
    pre = in_force.template(Purpose.pre_loan)
    mid = in_force.template(Purpose.in_loan)
    post = in_force.template(Purpose.post_loan)
    assert pre is not None
    assert mid is not None
    assert post is not None
    assert pre.max_validity_days <= 30
    assert mid.max_validity_days <= 90
    assert post.max_validity_days <= 3 * 366
    assert AuthorizationMode.periodic in post.access_modes
    assert AuthorizationMode.periodic not in pre.access_modes
    assert post.reconfirm_days == 90
    assert in_force.template(Purpose.self_query) is None


def test_later_set_takes_over_on_its_effective_date() -> None:
    later = GOOD_SET + GOOD_SET.split("\n", 1)[1].replace('"1"', '"2"').replace(
        "2026-01-01", "2027-01-01"
    )
    loaded = purposes.parse_templates(later, source="t.yaml")
    assert loaded.in_force(date(2026, 12, 31)).version == "1"
    assert loaded.in_force(date(2027, 1, 1)).version == "2"
    with pytest.raises(ConsentDataError, match="no purpose-template set is in force"):
        loaded.in_force(date(2025, 1, 1))


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("max_validity_days: 30", "max_validity_days: 0"), 8, "greater than or equal to 1"),
        (("purpose: pre_loan", "purpose: self_query"), 5, "not a financing purpose"),
        (("access_modes: [view]", "access_modes: [periodic]"), 5, "needs fetch_frequencies"),
        (("access_modes: [view]", "access_modes: [stream]"), 9, "access_modes.0"),
        (("max_retention_days: 10", "max_retention_days: 10\n        colour: red"), 11, "colour"),
    ],
)
def test_template_errors_name_file_line_and_field(
    change: tuple[str, str], line: int, words: str
) -> None:
    text = GOOD_SET.replace(*change)
    with pytest.raises(ConsentDataError) as caught:
        purposes.parse_templates(text, source="ops/purposes.yaml")
    assert caught.value.message.startswith(f"ops/purposes.yaml:{line}: ")
    assert words in caught.value.message


def test_template_file_must_be_a_mapping_and_readable(tmp_path: Path) -> None:
    with pytest.raises(ConsentDataError, match="mapping at the top"):
        purposes.parse_templates("- 1\n", source="x.yaml")
    with pytest.raises(ConsentDataError, match="cannot read purpose templates"):
        purposes.load_templates(tmp_path / "missing.yaml")
    path = tmp_path / "p.yaml"
    path.write_text(GOOD_SET, encoding="utf-8")
    assert purposes.load_templates(path).template_sets[0].version == "1"


NOTICE = """---
version: "9"
effective_date: 2026-02-01
title: 测试提示 / Test notice
---
# 风险提示\r\n
请阅读。   \n
# Risk notice

Please read.
"""


def test_shipped_notice_is_bilingual_and_hashed() -> None:
    current = notice.load_notices().in_force(date(2026, 3, 1))
    assert current.text.startswith("# 企业授权风险提示")
    assert "# Risk notice before you authorize" in current.text
    assert "撤销" in current.text
    assert "revoke" in current.text
    assert current.sha256 == notice.sha256_of(current.text)
    assert len(current.sha256) == 64


def test_notice_text_is_normalized_before_hashing(tmp_path: Path) -> None:
    (tmp_path / "risk_notice_9.md").write_text(NOTICE, encoding="utf-8")
    loaded = notice.load_notices(tmp_path)
    shown = loaded.in_force(date(2026, 2, 1))
    assert shown.version == "9"
    assert "\r" not in shown.text
    assert "请阅读。\n" in shown.text
    assert shown.text.endswith("Please read.\n")
    assert shown.sha256 == notice.sha256_of(shown.text.replace("\n", "\r\n"))
    with pytest.raises(ConsentDataError, match="no risk notice is in force"):
        loaded.in_force(date(2026, 1, 31))
    assert loaded.version("9") == shown
    assert loaded.version("nope") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("no front matter\n", ":1: a risk notice starts"),
        ("---\nversion: 1\n", "not closed"),
        ("---\nversion: '1'\ntitle: t\n---\ntext\n", "effective_date"),
        ("---\nversion: '1'\neffective_date: 2026-01-01\ntitle: t\n---\n\n", "no text"),
    ],
)
def test_bad_notice_files_say_what_is_wrong(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "risk_notice_bad.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConsentDataError) as caught:
        notice.load_notices(tmp_path)
    assert str(path) in caught.value.message
    assert words in caught.value.message


def test_notice_dir_must_hold_notices(tmp_path: Path) -> None:
    with pytest.raises(ConsentDataError, match="no risk notice found"):
        notice.load_notices(tmp_path)
    with pytest.raises(ConsentDataError, match="not a directory"):
        notice.load_notices(tmp_path / "missing")
