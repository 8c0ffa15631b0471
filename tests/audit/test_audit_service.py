"""Appending to the chain, verifying it, and what verify names after every kind of tampering."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from audit_factories import T0, USCC_A, USCC_B, append_events, make_event
from pydantic import ValidationError
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from rongxin.audit import chain, service
from rongxin.audit.models import AuditCheckpoint, AuditEntry, AuditEntryItem, AuditHead
from rongxin.audit.schemas import ProblemKind, VerifyResult
from rongxin.config import Settings

ENTRY = AuditEntry.__table__


def _verify(session: Session, settings: Settings, **kw: Any) -> VerifyResult:
    session.expire_all()
    return service.verify(session, settings=settings, **kw)


def _problem(session: Session, settings: Settings) -> tuple[int, ProblemKind]:
    result = _verify(session, settings)
    assert not result.intact
    assert result.problem is not None
    return result.problem.seq, result.problem.kind


def _row(session: Session, seq: int) -> dict[str, Any]:
    return dict(session.execute(select(ENTRY).where(ENTRY.c.seq == seq)).mappings().one())


def _rehash(session: Session, seq: int, **changes: Any) -> str:
    """Change an entry and recompute its hash, as a careful forger would."""
    row = _row(session, seq) | changes
    fields = chain.EntryFields(**{k: row[k] for k in chain.EntryFields.__slots__})
    new_hash = chain.entry_hash(fields)
    session.execute(update(ENTRY).where(ENTRY.c.seq == seq).values(**changes, entry_hash=new_hash))
    return new_hash


# ---- appending ----------------------------------------------------------------------------


def test_append_links_entries_and_verify_is_intact(
    session: Session, audit_settings: Settings
) -> None:
    assert _verify(session, audit_settings).intact  # an empty log is intact
    seqs = service.append(
        session, [make_event(), make_event(outcome="denied")], settings=audit_settings
    )
    seqs += service.append(session, [make_event(uscc=USCC_B)], settings=audit_settings)
    assert seqs == [1, 2, 3]
    rows = [_row(session, s) for s in seqs]
    assert rows[0]["prev_hash"] == chain.GENESIS_HASH
    assert rows[1]["prev_hash"] == rows[0]["entry_hash"]
    assert rows[2]["prev_hash"] == rows[1]["entry_hash"]
    assert rows[0]["items"] == '["registration","tax_payment"]'  # sorted, compact JSON
    assert rows[0]["node_id"] == "test-node"
    result = _verify(session, audit_settings)
    assert result.intact, result.problem
    assert (result.entries_checked, result.last_seq, result.last_hash) == (
        3,
        3,
        rows[2]["entry_hash"],
    )
    # one checkpoint after the first call (2 entries ≥ every 2), none yet for the third
    assert (result.checkpoints_checked, result.last_checkpoint_seq, result.unsigned_entries) == (
        1,
        2,
        1,
    )
    assert result.development_key is False
    index = session.execute(select(AuditEntryItem.seq, AuditEntryItem.item_code)).all()
    assert sorted(index) == [(s, c) for s in seqs for c in ("registration", "tax_payment")]


def test_append_nothing_writes_nothing(session: Session, audit_settings: Settings) -> None:
    assert service.append(session, [], settings=audit_settings) == []
    assert session.get(AuditHead, 1) is None


def test_checkpoints_every_n_entries_and_on_demand(
    session: Session, audit_settings: Settings
) -> None:
    append_events(session, 5, settings=audit_settings)
    cps = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).all()
    assert [(c.seq, c.prev_seq) for c in cps] == [(2, 0), (4, 2)]
    written = service.write_checkpoint(session, settings=audit_settings)
    assert written is not None
    assert (written.seq, written.prev_seq) == (5, 4)
    assert written.entry_hash == _row(session, 5)["entry_hash"]
    assert service.write_checkpoint(session, settings=audit_settings) is None  # tail signed
    result = _verify(session, audit_settings)
    assert result.intact
    assert (result.checkpoints_checked, result.unsigned_entries) == (3, 0)


def test_verify_in_small_batches_checks_everything(
    session: Session, audit_settings: Settings
) -> None:
    append_events(session, 7, settings=audit_settings)
    result = _verify(session, audit_settings, batch_size=2)
    assert result.intact
    assert (result.entries_checked, result.checkpoints_checked) == (7, 3)
    session.execute(update(ENTRY).where(ENTRY.c.seq == 6).values(detail="changed"))
    result = _verify(session, audit_settings, batch_size=2)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (6, ProblemKind.altered)


def test_request_id_comes_from_the_request_context(
    session: Session, audit_settings: Settings
) -> None:
    import structlog

    with structlog.contextvars.bound_contextvars(request_id="ctx-42"):
        (seq,) = service.append(session, [make_event(request_id=None)], settings=audit_settings)
    assert _row(session, seq)["request_id"] == "ctx-42"


# ---- tampering: every field, deletion, reordering, rewriting ---------------------------------

CHANGES: dict[str, Any] = {
    "hash_version": 2,
    "occurred_at": T0 + timedelta(seconds=1),
    "action": "report.download",
    "actor_kind": "operator",
    "actor_code": "bank_fz_002",
    "user_id": "u-9999",
    "uscc": USCC_B,
    "items": '["registration"]',
    "purpose": "post_loan",
    "authorization_id": "auth-0002",
    "outcome": "denied",
    "detail": "nothing to see",
    "request_id": "req-forged",
    "node_id": "other-node",
    "prev_hash": "f" * 64,
    "entry_hash": "e" * 64,
}


@pytest.mark.parametrize("column", sorted(CHANGES))
@pytest.mark.parametrize("seq", [1, 3, 5])
def test_editing_any_field_of_any_entry_is_named(
    session: Session, audit_settings: Settings, column: str, seq: int
) -> None:
    append_events(session, 5, settings=audit_settings)
    assert _verify(session, audit_settings).intact
    session.execute(update(ENTRY).where(ENTRY.c.seq == seq).values({column: CHANGES[column]}))
    assert _problem(session, audit_settings) == (seq, ProblemKind.altered)


def test_editing_to_null_with_plain_sql_is_named(
    session: Session, audit_settings: Settings
) -> None:
    append_events(session, 4, settings=audit_settings)
    session.execute(text("UPDATE audit_entry SET user_id = NULL WHERE seq = 2"))
    assert _problem(session, audit_settings) == (2, ProblemKind.altered)


def test_deleting_an_entry_is_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 5, settings=audit_settings)
    session.execute(text("DELETE FROM audit_entry_item WHERE seq = 3"))
    session.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
    result = _verify(session, audit_settings)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (3, ProblemKind.deleted)
    assert "seq 3 missing" in result.problem.message


def test_deleting_the_first_entries_is_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 4, settings=audit_settings)
    session.execute(text("DELETE FROM audit_entry WHERE seq <= 2"))
    assert _problem(session, audit_settings) == (1, ProblemKind.deleted)


def test_deleting_and_renumbering_is_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 5, settings=audit_settings)
    session.execute(text("DELETE FROM audit_entry_item WHERE seq = 3"))
    session.execute(text("DELETE FROM audit_entry WHERE seq = 3"))
    for seq in (4, 5):
        for table in ("audit_entry", "audit_entry_item"):
            session.execute(text(f"UPDATE {table} SET seq = {seq - 1} WHERE seq = {seq}"))  # noqa: S608
    # seq 3 (formerly 4) links to the deleted entry's hash
    assert _problem(session, audit_settings) == (2, ProblemKind.rewritten)


@pytest.mark.parametrize(("a", "b"), [(2, 4), (2, 3), (1, 5)])
def test_swapping_two_entries_is_named(
    session: Session, audit_settings: Settings, a: int, b: int
) -> None:
    append_events(session, 5, settings=audit_settings)
    session.execute(text(f"UPDATE audit_entry SET seq = -1 WHERE seq = {a}"))  # noqa: S608
    session.execute(text(f"UPDATE audit_entry SET seq = {a} WHERE seq = {b}"))  # noqa: S608
    session.execute(text(f"UPDATE audit_entry SET seq = {b} WHERE seq = -1"))  # noqa: S608
    result = _verify(session, audit_settings)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (a, ProblemKind.reordered)


def test_rewriting_an_entry_with_its_hash_is_named(
    session: Session, audit_settings: Settings
) -> None:
    append_events(session, 5, settings=audit_settings)
    _rehash(session, 3, outcome="denied")
    # entry 3 is self-consistent, but entry 4 still links to its original hash
    assert _problem(session, audit_settings) == (3, ProblemKind.rewritten)


def test_rewriting_the_last_entry_with_its_hash_is_caught_by_the_head(
    session: Session, audit_settings: Settings
) -> None:
    append_events(session, 5, settings=audit_settings)
    _rehash(session, 5, outcome="denied")
    assert _problem(session, audit_settings) == (5, ProblemKind.altered)


def test_rewriting_the_chain_is_caught_by_the_signed_checkpoint(
    session: Session, audit_settings: Settings
) -> None:
    append_events(session, 5, settings=audit_settings)  # checkpoints at 2 and 4
    prev = _rehash(session, 3, outcome="denied")
    for seq in (4, 5):
        prev = _rehash(session, seq, prev_hash=prev)
    session.execute(update(AuditHead).values(entry_hash=prev))
    result = _verify(session, audit_settings)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (3, ProblemKind.rewritten)
    assert "from seq 3 to 4" in result.problem.message


def test_a_broken_item_index_is_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 4, settings=audit_settings)
    session.execute(
        text("DELETE FROM audit_entry_item WHERE seq = 3 AND item_code = 'tax_payment'")
    )
    assert _problem(session, audit_settings) == (3, ProblemKind.item_index)


# ---- checkpoints and truncation ------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"entry_hash": "a" * 64},
        {"signature": "00" * 64},
        {"signature": "not hex"},
        {"prev_seq": 1},
        {"created_at": T0},
    ],
)
def test_tampering_with_a_checkpoint_is_named(
    session: Session, audit_settings: Settings, change: dict[str, Any]
) -> None:
    append_events(session, 5, settings=audit_settings)
    session.execute(update(AuditCheckpoint).where(AuditCheckpoint.seq == 4).values(**change))
    assert _problem(session, audit_settings) == (4, ProblemKind.bad_checkpoint)


def test_a_checkpoint_of_another_key_is_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 3, settings=audit_settings)
    other = audit_settings.model_copy(update={"secret_key": "another-secret"})
    result = _verify(session, other)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (2, ProblemKind.bad_checkpoint)
    assert "RONGXIN_SECRET_KEY" in result.problem.message


def test_removing_a_checkpoint_is_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 7, settings=audit_settings)  # checkpoints at 2, 4, 6
    session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq == 4))
    assert _problem(session, audit_settings) == (4, ProblemKind.missing_checkpoint)


def test_removing_the_last_checkpoint_is_caught_by_the_head(
    session: Session, audit_settings: Settings
) -> None:
    append_events(session, 5, settings=audit_settings)
    session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.seq == 4))
    assert _problem(session, audit_settings) == (4, ProblemKind.missing_checkpoint)


def test_truncation_after_a_checkpoint_is_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 5, settings=audit_settings)  # checkpoint at 4
    session.execute(text("DELETE FROM audit_entry WHERE seq >= 4"))
    session.execute(update(AuditHead).values(seq=3, entry_hash=_row(session, 3)["entry_hash"]))
    result = _verify(session, audit_settings)
    assert result.problem is not None
    assert (result.problem.seq, result.problem.kind) == (4, ProblemKind.truncated)
    assert "checkpoint signed seq 4" in result.problem.message


def test_truncation_is_caught_by_the_head(session: Session, audit_settings: Settings) -> None:
    append_events(session, 5, settings=audit_settings)
    session.execute(text("DELETE FROM audit_entry WHERE seq = 5"))
    assert _problem(session, audit_settings) == (5, ProblemKind.truncated)


def test_entries_added_around_the_log_are_named(session: Session, audit_settings: Settings) -> None:
    append_events(session, 3, settings=audit_settings)
    session.execute(update(AuditHead).values(seq=2, entry_hash=_row(session, 2)["entry_hash"]))
    assert _problem(session, audit_settings) == (3, ProblemKind.altered)


def test_what_verify_cannot_see_unsigned_tail_cut_with_the_head(
    session: Session, audit_settings: Settings
) -> None:
    """The documented limit: entries after the last checkpoint, removed together with a
    matching rewrite of the head row, leave no trace."""
    append_events(session, 5, settings=audit_settings)  # checkpoint at 4; entry 5 unsigned
    session.execute(text("DELETE FROM audit_entry WHERE seq = 5"))
    session.execute(update(AuditHead).values(seq=4, entry_hash=_row(session, 4)["entry_hash"]))
    result = _verify(session, audit_settings)
    assert result.intact
    assert result.unsigned_entries == 0


def test_development_key_is_reported(session: Session, settings: Settings) -> None:
    dev = settings.model_copy(update={"secret_key": None, "audit_checkpoint_every": 1})
    append_events(session, 2, settings=dev)
    result = _verify(session, dev)
    assert result.intact
    assert result.development_key
    assert "development key" in result.summary()


def test_the_key_is_derived_from_the_secret(audit_settings: Settings) -> None:
    one = chain.checkpoint_key(audit_settings)
    again = chain.checkpoint_key(audit_settings.model_copy())
    other = chain.checkpoint_key(audit_settings.model_copy(update={"secret_key": "x"}))
    assert one.key_id == again.key_id != other.key_id
    message = chain.checkpoint_message(seq=1, entry_hash="0" * 64, prev_seq=0, created_at=T0)
    signature = one.sign(message)
    assert again.verify(signature, message)
    assert not other.verify(signature, message)
    assert not one.verify(signature, message + b"x")


# ---- input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"detail": "legal rep 11010519491231002X"}, "detail"),
        ({"detail": "call 18012341999"}, "detail"),
        ({"detail": "two\nlines"}, "detail"),
        ({"items": ["Tax Payment"]}, "items"),
        ({"uscc": "not-a-uscc"}, "uscc"),
        ({"occurred_at": T0.replace(tzinfo=None)}, "occurred_at"),
        ({"actor_kind": "bank"}, "actor_kind"),
        ({"outcome": "maybe"}, "outcome"),
        ({"action": ""}, "action"),
        ({"purpose": "curiosity"}, "purpose"),
    ],
)
def test_bad_events_are_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_event(**overrides)
    assert [e["loc"][0] for e in caught.value.errors()] == [field]


def test_a_uscc_in_detail_is_not_mistaken_for_personal_data() -> None:
    assert make_event(detail=f"entity {USCC_A}").detail == f"entity {USCC_A}"


def test_hex_ids_in_detail_are_not_mistaken_for_mobile_numbers() -> None:
    report_id = "a13812345678b" + "0" * 19  # a report id whose digits look like a mobile number
    assert make_event(detail=f"report {report_id}").detail == f"report {report_id}"
    with pytest.raises(ValidationError):
        make_event(detail="联系电话13812345678")


# ---- queries ------------------------------------------------------------------------------


def _seed_history(session: Session, settings: Settings) -> None:
    service.append(
        session,
        [
            make_event(occurred_at=T0),
            make_event(actor_code="bank_x", occurred_at=T0 + timedelta(hours=1), outcome="denied"),
            make_event(uscc=USCC_B, items=["court_judgment"], occurred_at=T0 + timedelta(hours=2)),
            make_event(
                action="verify.claim",
                items=["social_insurance"],
                occurred_at=T0 + timedelta(hours=3),
            ),
        ],
        settings=settings,
    )


def test_access_history_of_an_enterprise(session: Session, audit_settings: Settings) -> None:
    _seed_history(session, audit_settings)
    page = service.entries(session, uscc=USCC_A, limit=10)
    assert [e.seq for e in page.items] == [4, 2, 1]  # newest first, only USCC_A
    first = page.items[-1]
    assert (first.actor_code, first.purpose, first.purpose_name, first.authorization_id) == (
        "bank_fz_001",
        "pre_loan",
        "贷前审查",
        "auth-0001",
    )
    assert page.next_cursor is None
    assert [e.seq for e in service.entries(session, actor_code="bank_x").items] == [2]
    assert [e.seq for e in service.entries(session, action="verify.claim").items] == [4]
    window = service.entries(session, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert [e.seq for e in window.items] == [3, 2]
    assert service.entries(session, uscc=USCC_A, hide_user=True).items[0].user_id is None


def test_keyset_pages(session: Session, audit_settings: Settings) -> None:
    append_events(session, 5, settings=audit_settings)
    seen: list[int] = []
    cursor = None
    while True:
        page = service.entries(session, limit=2, cursor=cursor)
        seen += [e.seq for e in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [5, 4, 3, 2, 1]


def test_provider_usage_shows_only_the_providers_items(
    session: Session, audit_settings: Settings, catalog: Any
) -> None:
    _seed_history(session, audit_settings)
    sat = service.entries(session, provider_code="sat", catalog=catalog)
    assert [e.seq for e in sat.items] == [2, 1]
    assert all(e.items == ["tax_payment"] for e in sat.items)
    spc = service.entries(session, provider_code="spc", catalog=catalog)
    assert [(e.seq, e.items) for e in spc.items] == [(3, ["court_judgment"])]
    both = service.entries(session, provider_code="sat", catalog=catalog, uscc=USCC_B)
    assert both.items == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"cursor": 0}, "cursor"),
        ({"since": T0.replace(tzinfo=None)}, "since"),
        ({"provider_code": "sat"}, "provider"),
    ],
)
def test_bad_queries_name_the_field(session: Session, kwargs: dict[str, Any], field: str) -> None:
    from rongxin.audit.errors import InvalidAuditQuery

    with pytest.raises(InvalidAuditQuery) as caught:
        service.entries(session, **kwargs)
    assert caught.value.details["field"] == field


def test_unknown_provider(session: Session, catalog: Any) -> None:
    from rongxin.audit.errors import UnknownProvider

    with pytest.raises(UnknownProvider, match="nobody"):
        service.entries(session, provider_code="nobody", catalog=catalog)
