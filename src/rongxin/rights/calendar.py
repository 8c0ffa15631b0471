"""Working days in China, for deadlines counted in working days (工作日).

The State Council's holiday schedule — public holidays, the days off around them and the weekend
days worked instead (调休) — comes from the ``holidays`` package (``holidays.China``). An operator
adds what the package does not know yet (next year's schedule before a package release, a local
holiday) in a small versioned file (``data/holiday_calendar.yaml`` or
``RONGXIN_HOLIDAY_CALENDAR_PATH``): ``holidays`` are days off, ``workdays`` weekend days worked.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Final

import holidays
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rongxin.kit import data_files
from rongxin.rights.errors import RightsDataError

SHIPPED: Final = "holiday_calendar.yaml"


class CalendarAdjustments(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str = Field(min_length=1, max_length=32)
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarAdjustments:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            raise ValueError(f"days listed both as holiday and workday: {both}")
        weekdays = sorted(d for d in self.workdays if d.weekday() < 5)
        if weekdays:
            raise ValueError(f"workdays must be weekend days (a weekday is one anyway): {weekdays}")
        return self


class WorkingCalendar:
    """Which days are working days; adds and counts them."""

    def __init__(self, adjustments: CalendarAdjustments) -> None:
        self.version = adjustments.version
        self._china = holidays.country_holidays("CN")
        self._extra_off = frozenset(adjustments.holidays)
        self._extra_on = frozenset(adjustments.workdays)

    def is_working_day(self, day: date) -> bool:
        if day in self._extra_on:
            return True
        if day in self._extra_off:
            return False
        return bool(self._china.is_working_day(day))

    def holiday_name(self, day: date) -> str | None:
        """The schedule's name for a day off, if it is one."""
        if day in self._extra_off:
            return "holiday"
        name = self._china.get(day)
        return str(name) if name else None

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself does not count: a
        2-working-day deadline for something filed on a Friday ends on Tuesday)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, left = start, days
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when ``end <= start``)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


@cache
def _cached(path: Path | None) -> WorkingCalendar:
    adjustments = data_files.shipped_or_file(
        CalendarAdjustments,
        shipped=SHIPPED,
        path=path,
        what="the holiday calendar",
        error=RightsDataError,
    )
    return WorkingCalendar(adjustments)


def load_calendar(path: Path | None = None) -> WorkingCalendar:
    """The calendar with the operator's adjustments (or the shipped file), built once per path."""
    return _cached(path)
