"""Masking conventions (DOMAIN.md §3)."""

from __future__ import annotations

import pytest

from rongxin.access import masking
from rongxin.catalog.schemas import MaskKind


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        (MaskKind.person_name, "段正淳", "段**"),
        (MaskKind.person_name, "欧阳克", "欧**"),
        (MaskKind.person_name, "王", "*"),
        (MaskKind.id_number, "11010519491231002X", "110105********002X"),
        (MaskKind.id_number, "110105491231002", "110105*****1002"),
        (MaskKind.id_number, "G12345678", "G******78"),
        (MaskKind.mobile, "18012341999", "180****1999"),
        (MaskKind.bank_card, "6222021234563256", "6222 **** **** 3256"),
        (MaskKind.bank_card, "6222 0212 3456 3256", "6222 **** **** 3256"),
        (MaskKind.address, "北京市海淀区马连洼北路100号", "北京市海淀区马********"),
        (MaskKind.address, "海淀区一号", "*****"),
    ],
)
def test_masking_follows_the_conventions(kind: MaskKind, value: str, masked: str) -> None:
    assert masking.mask(kind, value) == masked


def test_masked_values_keep_no_hidden_character() -> None:
    value = "11010519491231002X"
    out = masking.mask_id_number(value)
    assert out is not None
    assert value[6:14] not in out
    assert len(out) == len(value)


def test_none_stays_none_and_short_values_are_hidden_entirely() -> None:
    assert masking.mask(MaskKind.mobile, None) is None
    assert masking.mask(MaskKind.mobile, "1234") == "****"
    assert masking.mask(MaskKind.bank_card, "62220212") == "********"


def test_every_mask_kind_has_a_masker() -> None:
    assert set(masking.MASKERS) == set(MaskKind)


def test_account_numbers_keep_four_and_four() -> None:
    assert masking.mask(MaskKind.account_number, "3501000012347788") == "3501********7788"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (MaskKind.person_name, "段正淳"),
        (MaskKind.id_number, "11010519491231002X"),
        (MaskKind.mobile, "18012341999"),
        (MaskKind.bank_card, "6222021234563256"),
        (MaskKind.address, "北京市海淀区马连洼北路100号"),
        (MaskKind.account_number, "3501000012347788"),
    ],
)
def test_masking_twice_changes_nothing(kind: MaskKind, value: str) -> None:
    """Records an interface provider returns already masked pass the policy again unchanged."""
    once = masking.mask(kind, value)
    assert masking.mask(kind, once) == once
