"""统一社会信用代码 checks (GB 32100-2015, GB 11714) and entity types."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from entity_factories import make_uscc

from rongxin.entities import reference, uscc
from rongxin.entities.uscc import Check

REAL_SHAPED = [
    "91350100M000100Y43",  # the standard's worked example
    make_uscc("91", "110105", "MA01ABCD"),
    make_uscc("92", "350102", "L1234567"),
    make_uscc("93", "440305", "MA5GXXXX"),
    make_uscc("12", "100000", "40000119"),
    make_uscc("52", "310115", "50123456"),
    make_uscc("N2", "350181", "MB1234XY"),
]


@pytest.mark.parametrize("code", REAL_SHAPED)
def test_valid_codes(code: str) -> None:
    result = uscc.validate(code)
    assert result.valid, result.reason
    assert result.check is None
    assert result.reason is None


def test_example_check_characters() -> None:
    assert uscc.organization_check_character("M000100Y") == "4"
    assert uscc.check_character("91350100M000100Y4") == "3"


def _with(code: str, pos: int, char: str) -> str:
    return code[: pos - 1] + char + code[pos:]


GOOD = "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "check", "fragment"),
    [
        (GOOD[:17], Check.length, "length"),
        (GOOD + "1", Check.length, "length"),
        ("", Check.length, "实为0位"),
        *[(_with(GOOD, 10, c), Check.alphabet, "position 10") for c in "IOZSV"],
        (_with(GOOD, 3, "-"), Check.alphabet, "position 3"),
        (_with(GOOD, 1, "B"), Check.registration_authority, "position 1"),
        (_with(GOOD, 2, "4"), Check.entity_category, "position 2"),
        (_with(GOOD, 5, "A"), Check.region, "positions 3-8"),
        (_with(GOOD, 17, "5"), Check.organization_code, "position 17"),
        (_with(GOOD, 18, "4"), Check.check_character, "position 18"),
    ],
)
def test_each_failing_check_is_named(code: str, check: Check, fragment: str) -> None:
    result = uscc.validate(code)
    assert not result.valid
    assert result.check is check
    assert result.reason is not None
    assert fragment in result.reason
    assert result.to_dict()["check"] == check.value


def test_position_18_reason_gives_expected_character() -> None:
    result = uscc.validate(_with(GOOD, 18, "4"))
    assert result.reason is not None
    assert "should be 3" in result.reason


def test_allow_list_admits_legacy_code_with_a_note() -> None:
    legacy = _with(GOOD, 18, "4")
    result = uscc.validate(legacy, allow_list={legacy})
    assert result.valid
    assert any("allow-listed" in n for n in result.notes)
    # the allow-list only forgives position 18
    bad_org = _with(GOOD, 17, "5")
    assert uscc.validate(bad_org, allow_list={bad_org}).check is Check.organization_code


def test_allow_list_file(tmp_path: Path) -> None:
    path = tmp_path / "allow.txt"
    path.write_text("# legacy\n91350100m000100y44\n\n", encoding="utf-8")
    assert reference.load_allow_list(path) == frozenset({"91350100M000100Y44"})
    assert reference.load_allow_list() == frozenset()  # the shipped list is empty


def test_normalization_full_width_lower_case_and_blanks() -> None:
    full_width = "９１３５０１００ｍ０００１００ｙ４３"
    result = uscc.validate(full_width)
    assert result.valid
    assert result.code == GOOD
    assert uscc.validate(" 9135 0100m000100y43 ").code == GOOD


def test_unknown_region_is_valid_with_a_note() -> None:
    code = make_uscc("91", "359999", "M0001000")
    result = uscc.validate(code)
    assert result.valid
    assert any("region" in n for n in result.notes)


def _random_codes(rng: random.Random, n: int) -> list[str]:
    chars = uscc.ALPHABET + "IOZSV-中"
    out: list[str] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            code = make_uscc(
                rng.choice(["91", "92", "93", "12", "51", "N2", "Y1"]),
                f"{rng.randrange(1_000_000):06d}",
                seed=rng.randrange(10**9),
            )
        elif kind == 1:  # valid then one character changed
            code = make_uscc(seed=rng.randrange(10**9))
            pos = rng.randrange(18)
            code = code[:pos] + rng.choice(chars) + code[pos + 1 :]
        elif kind == 2:
            code = "".join(rng.choice(chars) for _ in range(18))
        else:
            code = "".join(rng.choice(chars) for _ in range(rng.randrange(0, 22)))
        out.append(code)
    return out


def test_vectorized_mask_agrees_with_scalar_validate() -> None:
    rng = random.Random(20240630)
    codes = _random_codes(rng, 4000)
    allow = {c for c in codes[1::40] if len(c) == 18}
    mask = uscc.valid_mask(codes, allow_list=allow)
    expected = np.array([uscc.validate(c, allow_list=allow).valid for c in codes])
    assert mask.dtype == np.bool_
    assert expected.sum() > 1000  # the sample holds plenty of both kinds
    assert (~expected).sum() > 1000
    assert (mask == expected).all()
    assert uscc.valid_mask([]).shape == (0,)


def test_vectorized_check_characters_agree() -> None:
    rng = random.Random(7)
    firsts = ["".join(rng.choice(uscc.ALPHABET) for _ in range(17)) for _ in range(500)]
    values = np.array([[uscc.VALUE[c] for c in f] for f in firsts], dtype=np.int64)
    assert list(uscc.check_characters(values)) == [uscc.check_character(f) for f in firsts]
    bodies = [f[:8] for f in firsts]
    org_values = np.array([[uscc.ORG_VALUE[c] for c in b] for b in bodies], dtype=np.int64)
    assert list(uscc.organization_check_values(org_values)) == [
        uscc.organization_check_character(b) for b in bodies
    ]


@pytest.mark.parametrize(
    ("prefix", "type_code", "name"),
    [
        ("91", "enterprise", "企业"),
        ("92", "individual_business", "个体工商户"),
        ("93", "farmer_cooperative", "农民专业合作社"),
        ("N2", "rural_collective", "农村集体经济组织"),
        ("51", "social_organization", "社会组织"),
        ("Y1", "other", "其他主体"),
    ],
)
def test_entity_types_from_prefix(prefix: str, type_code: str, name: str) -> None:
    kind = reference.entity_type_of(make_uscc(prefix))
    assert (kind.code, kind.name) == (type_code, name)
