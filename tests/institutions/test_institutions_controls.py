"""The security-control file: the shipped set is sound; a bad file names file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from rongxin.institutions.controls import evaluate, load_controls, parse_controls
from rongxin.institutions.errors import ControlFileError

GOOD = """\
version: "t1"
effective_date: 2026-01-01
basis: [GB/T 22239-2019]
pass_threshold: 60
validity_days: 365
reassessment_lead_days: 30
groups:
  - code: management
    name: 管理制度
    basis: GB/T 22239-2019
    controls:
      - code: mgmt_policy
        name: 制度
        weight: 3
        mandatory: true
        basis: GB/T 22239-2019
        requirement: 有制度
        evidence: 制度文件
      - code: mgmt_training
        name: 培训
        weight: 1
        basis: GB/T 22239-2019
        requirement: 有培训
        evidence: 培训记录
"""


def test_shipped_controls_cover_the_groups_and_mandatory_items() -> None:
    controls = load_controls()
    assert [g.name for g in controls.groups] == [
        "管理制度",
        "人员安全",
        "网络安全",
        "数据安全",
        "应用安全",
        "应急响应",
    ]
    mandatory = {c.code for c in controls.controls().values() if c.mandatory}
    assert {"data_purpose_limitation", "app_audit_log", "net_transport_encryption"} <= mandatory
    assert controls.validity_days == 365
    # mandatory controls alone (others half met) do not reach the threshold
    half = {c.code: 100 if c.mandatory else 50 for c in controls.controls().values()}
    assert not evaluate(controls, half).passed
    assert evaluate(controls, dict.fromkeys(controls.controls(), 100)).passed


def test_weighted_total_and_mandatory_veto() -> None:
    controls = parse_controls(GOOD, source="t.yaml")
    assert evaluate(controls, {"mgmt_policy": 100, "mgmt_training": 0}).total_score == 75.0
    vetoed = evaluate(controls, {"mgmt_policy": 50, "mgmt_training": 100})
    assert vetoed.total_score == 62.5
    assert vetoed.failed_mandatory == ["mgmt_policy"]
    assert not vetoed.passed
    assert "mandatory control mgmt_policy (制度) scored 50, needs at least 100" in vetoed.problems


def test_bad_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "controls.yaml"
    path.write_text(GOOD.replace("weight: 1", "weight: 0"), encoding="utf-8")
    with pytest.raises(ControlFileError) as caught:
        load_controls(path)
    assert caught.value.message.startswith(f"{path}:21: groups.0.controls.1.weight:")
    assert "greater than or equal to 1" in caught.value.message
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("mgmt_training", "mgmt_policy"), "control codes must be unique: ['mgmt_policy']"),
        (
            ("reassessment_lead_days: 30", "reassessment_lead_days: 400"),
            ":6: reassessment_lead_days",
        ),
        (("        evidence: 培训记录\n", ""), "groups.0.controls.1.evidence: Field required"),
        (("weight: 3", "weight: 3\n        colour: red"), "controls.0.colour: Extra inputs"),
    ],
)
def test_invalid_control_files(change: tuple[str, str], expected: str) -> None:
    with pytest.raises(ControlFileError, match=None) as caught:
        parse_controls(GOOD.replace(*change), source="c.yaml")
    assert caught.value.message.startswith("c.yaml:")
    assert expected in caught.value.message


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ControlFileError, match="cannot read the control file"):
        load_controls(tmp_path / "missing.yaml")
    with pytest.raises(ControlFileError, match=r"c.yaml:3: not valid YAML"):
        parse_controls("version: 1\ngroups: [\n  - : :\n", source="c.yaml")
    with pytest.raises(ControlFileError, match=r"c\.yaml: the file must be a mapping"):
        parse_controls("- a\n", source="c.yaml")
