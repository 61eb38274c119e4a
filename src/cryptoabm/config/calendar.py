"""Month arithmetic on the calendar: a run's months are numbered from 1 (its ``start_month``,
"YYYY-MM") and every date a model, a target or a report shows is a calendar month "YYYY-MM".

The one home of the conversions between the two, so no module re-derives them.
"""

from __future__ import annotations

import re

from cryptoabm.rules.units import MONTHS_PER_YEAR

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"  # a calendar month, "YYYY-MM"


def month_count(year_month: str) -> int:
    """Months since January of year 0 of a calendar month "YYYY-MM" (to subtract two dates)."""
    if not re.match(MONTH_PATTERN, year_month):
        raise ValueError(f"not a calendar month YYYY-MM: {year_month!r}")
    return int(year_month[:4]) * MONTHS_PER_YEAR + int(year_month[5:7]) - 1


def year_month(count: int) -> str:
    """The calendar month "YYYY-MM" ``count`` months after January of year 0."""
    year, month0 = divmod(count, MONTHS_PER_YEAR)
    return f"{year:04d}-{month0 + 1:02d}"


def calendar_month(year_month_text: str) -> int:
    """The month of the year (1-12) of a calendar month "YYYY-MM"."""
    return month_count(year_month_text) % MONTHS_PER_YEAR + 1


def date_of_month(start_month: str, month: int) -> str:
    """The calendar month "YYYY-MM" of a run's month ``month`` (1 = ``start_month``)."""
    return year_month(month_count(start_month) + month - 1)


def month_of_date(start_month: str, date: str) -> int:
    """A run's month number (1 = ``start_month``) of the calendar month ``date``."""
    return month_count(date) - month_count(start_month) + 1


def calendar_month_of(start_month: str, month: int) -> int:
    """The month of the year (1-12) of a run's month ``month`` (1 = ``start_month``)."""
    return (month_count(start_month) + month - 1) % MONTHS_PER_YEAR + 1
