"""Only the record store's own modules touch the record tables (STYLE.md rule 8).

Everything else reads credit records through ``rongxin.records.service`` — the functions the
access policy (a later issue) wraps — so no module can read around it. This test fails when
code elsewhere imports the record models or names the table in SQL.
"""

from __future__ import annotations

import ast
from pathlib import Path

import rongxin

ALLOWED = {
    "records/models.py",
    "records/service.py",  # the readers (the policy's choke point)
    "ingest/service.py",  # the one writer
    "db/models.py",  # imports every model for Alembic
}
ALLOWED_DIRS = ("migrations/",)


def _offenders() -> list[str]:
    root = Path(rongxin.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in ALLOWED or rel.startswith(ALLOWED_DIRS):
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                node.module == "rongxin.records.models"
                or (
                    node.module == "rongxin.records" and any(a.name == "models" for a in node.names)
                )
            ):
                found.append(f"{rel}:{node.lineno} imports rongxin.records.models")
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and "credit_record" in text.lower():
                found.append(f"{rel}:{node.lineno} names the credit_record table")
    return found


def test_no_module_reads_records_around_the_store() -> None:
    assert _offenders() == []


def test_the_check_would_catch_an_offender(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The scanner itself works: a module that selects the table directly is reported."""
    fake = tmp_path / "rongxin"
    (fake / "reports").mkdir(parents=True)
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "reports" / "sneaky.py").write_text(
        "from rongxin.records.models import CreditRecord\nSQL = 'SELECT * FROM credit_record'\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(rongxin, "__file__", str(fake / "__init__.py"))
    assert _offenders() == [
        "reports/sneaky.py:1 imports rongxin.records.models",
        "reports/sneaky.py:2 names the credit_record table",
    ]
