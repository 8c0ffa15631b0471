"""Only the record store's own modules touch the record tables, and only the policy decision
point calls the record readers (STYLE.md rule 8).

Everything else reads credit records through ``rongxin.access.policy``, which decides per item
and viewer and masks what it returns — so no module can read around it. This test fails when
code elsewhere imports the record models, names the table in SQL, or calls a reader of
``rongxin.records.service`` (``current_records``, ``record_history``, ``changes_since``,
``evaluation_frame``).
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
READERS = {"current_records", "record_history", "changes_since", "evaluation_frame"}
READER_CALLERS = {"access/policy.py", "records/service.py"}


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
            if rel not in READER_CALLERS and (
                (isinstance(node, ast.Attribute) and node.attr in READERS)
                or (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "rongxin.records.service"
                    and any(a.name in READERS for a in node.names)
                )
            ):
                found.append(f"{rel}:{node.lineno} reads records around the policy")
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
        "from rongxin.records.models import CreditRecord\nSQL = 'SELECT * FROM credit_record'\n"
        "from rongxin.records import service as rs\nrows = rs.current_records(None, uscc='x')\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(rongxin, "__file__", str(fake / "__init__.py"))
    assert _offenders() == [
        "reports/sneaky.py:1 imports rongxin.records.models",
        "reports/sneaky.py:2 names the credit_record table",
        "reports/sneaky.py:4 reads records around the policy",
    ]
