"""Period generation: a pure, deterministic function of a report type's rules.

No database access here, so the rules are easy to test and the job and the demo agree.
"""
from __future__ import annotations

import calendar as _cal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class PeriodSpec:
    seq: int
    start_on: date
    end_on: date
    open_on: date
    due_on: date
    lock_on: date


def _month_end(d: date) -> date:
    return d.replace(day=_cal.monthrange(d.year, d.month)[1])


def _half_year_end(d: date) -> date:
    return date(d.year, 6, 30) if d.month <= 6 else date(d.year, 12, 31)


def _natural_bounds(period_type: str, start_on: date, explicit_dates, semesters=()) -> Iterator[tuple[date, date]]:
    """Endless (or, for explicit dates and semesters, finite) sequence of (start, end) before clipping."""
    if period_type == "semester":
        # The district's academic calendar: one period per semester from start_on on; a
        # semester already under way on start_on is clipped to start there. Once stored, periods stay
        # put: periods_generate only adds semesters after the last stored period.
        for start, end in sorted(semesters):
            if end >= start_on:
                yield max(start, start_on), end
        return
    if period_type == "explicit":
        start = start_on
        for end in sorted(set(explicit_dates)):
            if end < start:
                continue
            yield start, end
            start = end + timedelta(days=1)
        return
    start = start_on
    while True:
        if period_type == "weekly":
            end = start + timedelta(days=6)
        elif period_type == "fortnightly":
            end = start + timedelta(days=13)
        elif period_type == "monthly":
            end = _month_end(start)
        elif period_type == "half_year":
            end = _half_year_end(start)
        else:
            raise ValueError(f"unknown period type {period_type!r}")
        yield start, end
        start = end + timedelta(days=1)


def period_specs(*, period_type: str, start_on: date, end_on: date | None, explicit_dates=(),
                 open_offset_days: int = 0, due_offset_days: int = 0, timely_within_days: int = 0,
                 lock_after_days: int = 0, until: date | None = None, semesters=()) -> list[PeriodSpec]:
    """The periods of a report type that start on or before `end_on` (and `until`, if given).

    The last period is clipped to end_on. `until` bounds open-ended types (end_on=None).
    `semesters`: (start, end) of the district's semesters, for the "semester" type.
    """
    if end_on is None and until is None and period_type not in ("explicit", "semester"):
        raise ValueError("an open-ended report type needs `until`")
    limit = min(d for d in (end_on, until) if d is not None) if (end_on or until) else None
    out = []
    for seq, (start, end) in enumerate(_natural_bounds(period_type, start_on, explicit_dates, semesters), start=1):
        if limit is not None and start > limit:
            break
        if end_on is not None and end > end_on:
            end = end_on
        out.append(PeriodSpec(
            seq=seq, start_on=start, end_on=end,
            open_on=start + timedelta(days=open_offset_days),
            due_on=end + timedelta(days=due_offset_days),
            lock_on=end + timedelta(days=lock_after_days + 1),
        ))
    return out


def specs_for(report_type, until: date | None = None, semesters=()) -> list[PeriodSpec]:
    return period_specs(
        period_type=report_type.period_type, start_on=report_type.start_on, end_on=report_type.end_on,
        explicit_dates=report_type.explicit_dates or (), open_offset_days=report_type.open_offset_days,
        due_offset_days=report_type.due_offset_days, timely_within_days=report_type.timely_within_days,
        lock_after_days=report_type.lock_after_days, until=until, semesters=semesters,
    )


def school_open_during(opened_on: date | None, closed_on: date | None, start_on: date, end_on: date) -> bool:
    """A school is expected to report for a period it was open for at least one day of (DHIS2)."""
    return (opened_on is None or opened_on <= end_on) and (closed_on is None or closed_on >= start_on)


def is_on_time(*, submitted_on: date, period_end_on: date, timely_within_days: int) -> bool:
    return submitted_on <= period_end_on + timedelta(days=timely_within_days)
