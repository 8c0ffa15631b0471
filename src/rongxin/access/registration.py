"""Enterprise real-name registration (实名注册) by data verification (数据核验, M3).

A person claims to be the legal representative (法定代表人) of the enterprise with USCC X and
gives a name and resident ID number (GB 11643). The platform compares them, in constant time,
with the ``legal_rep_name`` / ``legal_rep_id_number`` of X's current ``registration`` record —
read through the policy decision point as a platform check (``policy.platform_check`` +
``policy.verification_records``), never the record tables — and answers *verified* or
*not verified*, never the recorded values. When verified it creates the enterprise's person
account (kind ``enterprise``, code = the USCC).

Failed checks are rate-limited per USCC and per client (a keyed hash of its address, so raw
addresses are not kept): ``login_max_failures`` failures lock further attempts for
``login_lockout_minutes``, like sign-in. The claimed name and ID number are never logged,
stored or echoed back; errors about them name the field, not the value.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from rongxin.access import policy, users
from rongxin.access.errors import TooManyAttempts
from rongxin.access.keys import KeyPurpose, derive_key
from rongxin.access.models import AccessThrottle
from rongxin.access.schemas import (
    PrincipalKind,
    RegistrationOutcome,
    RegistrationRequest,
    RegistrationResult,
    UserRead,
)
from rongxin.catalog.schemas import Catalog
from rongxin.config import Settings
from rongxin.db.base import utcnow
from rongxin.entities import service as entities_service
from rongxin.entities import uscc as uscc_rules
from rongxin.entities.errors import InvalidUscc
from rongxin.errors import Conflict, InvalidInput, NotFound
from rongxin.logging import get_logger

log = get_logger(__name__)

REGISTRATION_ITEM: Final = "registration"
NAME_FIELD: Final = "legal_rep_name"
ID_NUMBER_FIELD: Final = "legal_rep_id_number"
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK: Final = "10X98765432"
_MIDDLE_DOTS: Final = str.maketrans({"•": "·", "・": "·", "．": "·", ".": "·", "‧": "·"})

VERIFIED_MESSAGE: Final = (
    "verified: the details match the enterprise's registration record; its account was created"
)
NOT_VERIFIED_MESSAGE: Final = (
    "not verified: the name and ID number do not match the legal representative in the "
    "enterprise's registration record (the recorded values are never shown). Check them "
    "against the business licence and the ID card, then try again."
)


class RegistrationRecordMissing(NotFound):
    """No registration record with the legal representative's details for this USCC."""

    code = "registration_record_missing"


# ---- normalizing and checking the claim ---------------------------------------------------------


def normalize_id_number(value: str) -> str:
    """Full-width to half-width, blanks removed, ``x`` → ``X``."""
    return unicodedata.normalize("NFKC", value).replace(" ", "").strip().upper()


def id_number_problem(value: str) -> str | None:
    """Why ``value`` is not a GB 11643 resident ID number, or None when it is one.

    The same rule as ingestion's vectorized check (``ingest.validation.id_number_mask``): 17
    digits, a real birth date in positions 7–14, the right check character. The reason never
    repeats the value.
    """
    v = normalize_id_number(value)
    if len(v) != 18:
        return f"must be 18 characters, not {len(v)} (GB 11643)"
    if not (v[:17].isascii() and v[:17].isdigit() and (v[17].isdigit() or v[17] == "X")):
        return "the first 17 characters must be digits and the last a digit or X"
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "positions 7–14 are not a real birth date"
    expected = _ID_CHECK[sum(int(c) * w for c, w in zip(v[:17], _ID_WEIGHTS, strict=True)) % 11]
    if v[17] != expected:
        return "the check character (position 18) does not match the first 17 digits"
    return None


def normalize_person_name(value: str) -> str:
    """NFKC, no blanks, one kind of middle dot (names such as 阿依古丽·买买提)."""
    text = unicodedata.normalize("NFKC", value).translate(_MIDDLE_DOTS)
    return "".join(text.split())


def _same(claimed: str, recorded: str) -> bool:
    return hmac.compare_digest(claimed.encode(), recorded.encode())


# ---- rate limit ---------------------------------------------------------------------------------


def client_pseudonym(settings: Settings, client: str) -> str:
    """A keyed hash of the client's address: enough to count its attempts, not to identify it."""
    key = derive_key(settings, KeyPurpose.client_pseudonym)
    return hmac.new(key, client.encode(), hashlib.sha256).hexdigest()[:32]


def _subjects(settings: Settings, *, uscc: str, client: str) -> tuple[str, str]:
    return (
        f"registration:uscc:{uscc}",
        f"registration:client:{client_pseudonym(settings, client)}",
    )


def _locked_for(session: Session, subjects: Sequence[str], *, now: datetime) -> int:
    """Seconds until every subject may try again (0 when none is locked)."""
    stmt = select(AccessThrottle.locked_until).where(AccessThrottle.subject.in_(list(subjects)))
    waits = [(until - now).total_seconds() for until in session.scalars(stmt) if until is not None]
    return max([0, *[int(w) + 1 for w in waits if w > 0]])


def _count_failure(session: Session, subject: str, *, settings: Settings, now: datetime) -> None:
    """Add a failure atomically (an upsert; concurrent attempts all count); lock at the limit."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    upsert = (
        insert(AccessThrottle)
        .values(subject=subject, failures=1, updated_at=now)
        .on_conflict_do_update(
            index_elements=[AccessThrottle.subject],
            set_={"failures": AccessThrottle.failures + 1, "updated_at": now},
        )
        .returning(AccessThrottle.failures)
    )
    failures = int(session.execute(upsert).scalar_one())
    if failures >= settings.login_max_failures:
        session.execute(
            update(AccessThrottle)
            .where(AccessThrottle.subject == subject)
            .values(
                failures=0,
                locked_until=now + timedelta(minutes=settings.login_lockout_minutes),
            )
            .execution_options(synchronize_session=False)
        )
        log.warning("registration_locked", subject=subject.rsplit(":", 1)[0])


def _clear(session: Session, subjects: Sequence[str]) -> None:
    session.execute(
        delete(AccessThrottle)
        .where(AccessThrottle.subject.in_(list(subjects)))
        .execution_options(synchronize_session=False)
    )


# ---- the check ----------------------------------------------------------------------------------


def _recorded_representative(session: Session, *, catalog: Catalog, uscc: str) -> tuple[str, str]:
    """The recorded legal representative's (name, ID number), normalized like the claim.

    Read through the policy decision point as a platform check: the records only serve the
    comparison and nothing of them leaves this module."""
    item = catalog.item(REGISTRATION_ITEM)
    decision = policy.platform_check(item, "enterprise real-name registration (M3)")
    for record in policy.verification_records(session, uscc=uscc, item=item, decision=decision):
        name = record.payload.get(NAME_FIELD)
        number = record.payload.get(ID_NUMBER_FIELD)
        if isinstance(name, str) and name.strip() and isinstance(number, str) and number.strip():
            return normalize_person_name(name), normalize_id_number(number)
    raise RegistrationRecordMissing(
        f"no registration record with the legal representative's details for USCC {uscc} on "
        "this platform, so the claim cannot be verified here; registration data comes from the "
        "market regulator — try again after it has been delivered, or ask the platform operator",
        uscc=uscc,
    )


def _checked_uscc(settings: Settings, raw: str) -> str:
    allow_list = entities_service.load_allow_list(settings.uscc_allowlist_path)
    result = uscc_rules.validate(raw, allow_list=allow_list)
    if not result.valid:
        raise InvalidUscc(
            f"uscc: {result.reason}",
            field="uscc",
            check=result.check.value if result.check else None,
        )
    return result.code


def register_enterprise(
    session: Session,
    *,
    settings: Settings,
    catalog: Catalog,
    claim: RegistrationRequest,
    client: str,
    now: datetime | None = None,
) -> RegistrationOutcome:
    """Verify the claim and, when it matches, create the enterprise's account.

    Malformed input raises InvalidInput naming the field (and counts no attempt); a locked USCC
    or client raises TooManyAttempts (429); a USCC without a usable registration record raises
    RegistrationRecordMissing (404). A mismatch is *returned* (not raised) after the failure
    has been counted, so that the caller commits the count.
    """
    now = now or utcnow()
    uscc = _checked_uscc(settings, claim.uscc)
    name = normalize_person_name(claim.legal_rep_name)
    if not name or len(name) > 50:
        raise InvalidInput(
            f"{NAME_FIELD}: give the legal representative's name as registered (1–50 characters)",
            field=NAME_FIELD,
        )
    problem = id_number_problem(claim.legal_rep_id_number)
    if problem is not None:
        raise InvalidInput(
            f"{ID_NUMBER_FIELD}: not a valid resident ID number: {problem}",
            field=ID_NUMBER_FIELD,
        )
    id_number = normalize_id_number(claim.legal_rep_id_number)
    username = users.check_username(claim.username)
    users.check_password(claim.password, username=username)
    if users.username_taken(session, username=username):
        raise Conflict(f"username {username!r} is taken; choose another", field="username")
    subjects = _subjects(settings, uscc=uscc, client=client)
    wait = _locked_for(session, subjects, now=now)
    if wait:
        log.warning("enterprise_registration", uscc=uscc, result="locked")
        raise TooManyAttempts(
            f"too many failed attempts for this enterprise or from this client; try again in "
            f"{(wait + 59) // 60} minutes",
            retry_after=wait,
        )
    recorded_name, recorded_number = _recorded_representative(session, catalog=catalog, uscc=uscc)
    # both comparisons always run (no early exit), each in constant time
    matched = _same(name, recorded_name) & _same(id_number, recorded_number)
    if not matched:
        for subject in subjects:
            _count_failure(session, subject, settings=settings, now=now)
        session.flush()
        log.warning("enterprise_registration", uscc=uscc, result="not_verified")
        return RegistrationOutcome(
            result=RegistrationResult.not_verified, message=NOT_VERIFIED_MESSAGE
        )
    _clear(session, subjects)
    created = users.create_user(
        session,
        settings=settings,
        username=username,
        password=claim.password,
        kind=PrincipalKind.enterprise,
        code=uscc,
        display_name=claim.display_name,
    )
    log.info("enterprise_registration", uscc=uscc, result="verified", user_id=created.id)
    return RegistrationOutcome(
        result=RegistrationResult.verified,
        message=VERIFIED_MESSAGE,
        user=UserRead.model_validate(created.model_dump(exclude={"totp_provisioning_uri"})),
    )
