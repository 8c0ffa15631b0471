"""The daily read quota of an institution, counted per China-time (UTC+8) calendar day."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from rongxin.db.base import utcnow
from rongxin.errors import InvalidInput
from rongxin.institutions.errors import QuotaExceeded
from rongxin.institutions.models import InstitutionQuotaUsage
from rongxin.institutions.schemas import QuotaRead
from rongxin.institutions.service import CHINA_TIME, active_quota, china_day, institution_row


def _seconds_to_china_midnight(at: datetime) -> int:
    local = at.astimezone(CHINA_TIME)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=CHINA_TIME)
    return int((midnight - local).total_seconds()) + 1


def consume_quota(
    session: Session, *, institution_code: str, n: int = 1, at: datetime | None = None
) -> int:
    """Count ``n`` reads against today's quota (China time); the reads used today afterwards.

    Atomic on both engines (one ``INSERT … ON CONFLICT DO UPDATE … WHERE used + n <= quota``):
    concurrent requests never overshoot, and a refused request counts nothing. Raises
    :class:`QuotaExceeded` (429, Retry-After: seconds to China midnight) when the reads would
    exceed the quota, :class:`InstitutionNotActive` when the institution has no access.
    """
    if n < 1:
        raise InvalidInput("n must be at least 1", field="n")
    at = at or utcnow()
    quota = active_quota(session, institution_code, at=at)
    day = china_day(at)
    used: int | None = None
    if quota is not None and n <= quota:
        upsert = _UPSERTS.get(session.get_bind().dialect.name, _UPSERTS["sqlite"])
        params = {"code": institution_code, "day": day, "n": n, "quota": quota}
        used = session.connection().execute(upsert, params).scalar_one_or_none()
    if used is None:
        already = quota_usage(session, institution_code=institution_code, at=at).used
        raise QuotaExceeded(
            f"institution {institution_code} has used {already} of its {quota} reads for "
            f"{day.isoformat()} (China time); {n} more would exceed the daily quota. "
            "The count starts again at midnight China time",
            retry_after=_seconds_to_china_midnight(at),
            institution_code=institution_code,
            day=day.isoformat(),
            used=already,
            daily_quota=quota,
        )
    return used


def _upsert(insert: Any) -> Any:
    """``INSERT … ON CONFLICT DO UPDATE SET used = used + n WHERE used + n <= quota RETURNING
    used`` in a dialect's flavour: no row back when the reads would exceed the quota."""
    n, usage = bindparam("n", type_=Integer), InstitutionQuotaUsage
    return (
        insert(usage)
        .values(institution_code=bindparam("code"), day=bindparam("day"), used=n)
        .on_conflict_do_update(
            index_elements=["institution_code", "day"],
            set_={"used": usage.used + n},
            where=usage.used + n <= bindparam("quota", type_=Integer),
        )
        .returning(usage.used)
    )


# built once per dialect (every report batch runs one)
_UPSERTS: Final = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}


def consume_up_to(
    session: Session, *, institution_code: str, n: int, at: datetime | None = None
) -> tuple[int, QuotaExceeded | None]:
    """Count up to ``n`` reads (a batch of requests): all of them when today's quota allows,
    else as many as it leaves, one by one. Returns how many were counted and, when that is
    fewer than ``n``, the refusal for the rest. Raises :class:`InstitutionNotActive` as
    :func:`consume_quota` does."""
    try:
        consume_quota(session, institution_code=institution_code, n=n, at=at)
    except QuotaExceeded as exc:
        refusal = exc
    else:
        return n, None
    counted = 0
    while counted < n - 1:  # the edge of the quota: rare, so one statement per read is fine
        try:
            consume_quota(session, institution_code=institution_code, n=1, at=at)
        except QuotaExceeded as exc:
            return counted, exc
        counted += 1
    return counted, refusal


def quota_usage(
    session: Session, *, institution_code: str, at: datetime | None = None
) -> QuotaRead:
    """Reads used on ``at``'s China-time day and what remains."""
    day = china_day(at or utcnow())
    inst = institution_row(session, institution_code)
    used = session.scalar(
        select(InstitutionQuotaUsage.used).where(
            InstitutionQuotaUsage.institution_code == institution_code,
            InstitutionQuotaUsage.day == day,
        )
    )
    used = used or 0
    quota = inst.daily_quota
    return QuotaRead(
        institution_code=institution_code,
        day=day,
        used=used,
        daily_quota=quota,
        remaining=None if quota is None else max(0, quota - used),
    )
