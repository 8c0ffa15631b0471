"""A status change is a new version of the record with its content copied exactly: a later
re-delivery of the same file is still all ``unchanged``, and a changed delivery keeps an open
objection's flag (sticky statuses)."""

from __future__ import annotations

import json
from pathlib import Path

from entity_factories import create_entity
from rights_factories import FIRM, KEY, penalty
from sqlalchemy.orm import Session

from rongxin.catalog import service as catalog_service
from rongxin.ingest import service as ingest_service
from rongxin.records import service as records_service
from rongxin.records.schemas import RecordStatus


def _deliver(session: Session, path: Path, **changes: object) -> ingest_service.BatchResult:
    row = {"uscc": FIRM, **penalty(), **changes}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    return ingest_service.ingest_file(
        session,
        catalog=catalog_service.load_catalog(),
        delivery=ingest_service.Delivery(
            path=path, provider_code="ndrc", item_code="admin_penalty"
        ),
        origin_node="test-node",
    )


def test_status_versions_keep_the_payload_text_and_stick(session: Session, tmp_path: Path) -> None:
    create_entity(session, uscc=FIRM)
    first = _deliver(session, tmp_path / "a.jsonl")
    assert first.inserted == 1
    flagged = records_service.change_status(
        session, uscc=FIRM, item_code="admin_penalty", record_key=KEY, status=RecordStatus.disputed
    )
    assert (flagged.version, flagged.status) == (2, RecordStatus.disputed)
    same = _deliver(session, tmp_path / "b.jsonl", violation_facts=None)  # same content
    assert (same.unchanged, same.updated) == (1, 0)
    changed = _deliver(session, tmp_path / "c.jsonl", fine_amount=4000)
    assert changed.updated == 1
    history = records_service.record_history(
        session, uscc=FIRM, item_code="admin_penalty", record_key=KEY
    )
    assert [(r.version, r.status, r.is_current) for r in history] == [
        (1, RecordStatus.published, False),
        (2, RecordStatus.disputed, False),
        (3, RecordStatus.disputed, True),  # the open objection's flag stays
    ]
    assert history[1].payload == history[0].payload
