"""Docs that cannot rot (STYLE.md rule 14)."""

from __future__ import annotations

from pathlib import Path

from rongxin import docs_gen
from rongxin.config import Settings


def test_every_setting_is_documented(repo_root: Path) -> None:
    text = (repo_root / "docs" / "operations.md").read_text("utf-8")
    for name in Settings.model_fields:
        assert f"`RONGXIN_{name.upper()}`" in text, f"RONGXIN_{name.upper()} is not documented"


def test_cli_reference_is_current(repo_root: Path) -> None:
    assert (repo_root / "docs" / "cli.md").read_text("utf-8") == docs_gen.render()


def test_glossary_names_the_core_terms(repo_root: Path) -> None:
    text = (repo_root / "docs" / "glossary.md").read_text("utf-8")
    for term in ("统一社会信用代码", "物理归集", "接口调用", "数据核验", "信用信息共享清单"):
        assert term in text
