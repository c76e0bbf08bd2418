"""The one sane range for every date a person types: in forms, API fields and filters, and the
query strings of pages.

A date far outside the platform's life is a typo or a probe, never a record: 0001-01-01 or
9999-12-31 overflow the pages' week arithmetic (a 500). The range covers every real record and a
few years of planning. Applied through the validators below by the model fields (so full_clean,
ModelForms and ModelSerializers), the plain form and serializer fields, the API's date filters
and the pages' query strings (parse_query_date).
"""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

EARLIEST = dt.date(2000, 1, 1)
# How far ahead a plan may reach (semesters, report calendars, a planned activity).
PLANNING_YEARS = 5


def _years_after(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year without one
        return day.replace(year=day.year + years, day=28)


@deconstructible
class DateRangeValidator:
    """Refuses a date before EARLIEST or more than `future_years` after today (0: not after today)."""

    message = _("Enter a date between %(earliest)s and %(latest)s.")
    code = "date_out_of_range"

    def __init__(self, future_years: int = PLANNING_YEARS):
        self.future_years = future_years

    def bounds(self, today: dt.date | None = None) -> tuple[dt.date, dt.date]:
        return EARLIEST, _years_after(today or timezone.localdate(), self.future_years)

    def __call__(self, value) -> None:
        if value is None:
            return
        if isinstance(value, dt.datetime):
            value = value.date()
        earliest, latest = self.bounds()
        if not earliest <= value <= latest:
            raise ValidationError(self.message, code=self.code,
                                  params={"earliest": earliest.isoformat(), "latest": latest.isoformat()})

    def __eq__(self, other):
        return isinstance(other, DateRangeValidator) and other.future_years == self.future_years

    def __hash__(self):
        return hash(("DateRangeValidator", self.future_years))


# Records and plans: from 2000 to a few years ahead.
sane_date = DateRangeValidator()
# Facts that cannot lie ahead: a birth, a guardian's consent.
past_date = DateRangeValidator(future_years=0)


def in_range(value: dt.date, validator: DateRangeValidator = sane_date) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


def parse_query_date(text: str | None) -> dt.date | None:
    """A date (YYYY-MM-DD) read from a query string: None when empty, unreadable ("abc",
    2026-02-30) or outside the sane range, so the page shows its default instead of failing."""
    try:
        value = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return value if in_range(value) else None


def parse_query_week(text: str | None) -> dt.date | None:
    """The Monday of an ISO week read from a query string (2026-W11), like parse_query_date."""
    try:
        year, week = (text or "").strip().upper().split("-W")
        value = dt.date.fromisocalendar(int(year), int(week), 1)
    except (ValueError, TypeError):
        return None
    return value if in_range(value) else None
