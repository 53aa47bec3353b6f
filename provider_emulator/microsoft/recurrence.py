"""Expands a Graph patternedRecurrence into occurrence dates."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
INDEX = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}
PATTERNS = {
    "daily",
    "weekly",
    "absoluteMonthly",
    "relativeMonthly",
    "absoluteYearly",
    "relativeYearly",
}
RANGES = {"endDate", "noEnd", "numbered"}
MAX_OCCURRENCES = 5000


def validate(recurrence: dict) -> str | None:
    """An error message for an invalid recurrence, or None."""
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    if pattern.get("type") not in PATTERNS:
        return "Recurrence pattern type is missing or not valid."
    if int(pattern.get("interval") or 0) < 1:
        return "Recurrence pattern interval must be at least 1."
    if rng.get("type") not in RANGES:
        return "Recurrence range type is missing or not valid."
    if not rng.get("startDate"):
        return "Recurrence range startDate is required."
    if rng["type"] == "endDate" and not rng.get("endDate"):
        return "Recurrence range endDate is required for an endDate range."
    if rng["type"] == "numbered" and int(rng.get("numberOfOccurrences") or 0) < 1:
        return "Recurrence range numberOfOccurrences must be at least 1."
    if pattern["type"] in ("weekly", "relativeMonthly", "relativeYearly") and not pattern.get(
        "daysOfWeek"
    ):
        return "Recurrence pattern daysOfWeek is required."
    return None


def _nth_weekday(year: int, month: int, weekdays: list[int], index: str) -> list[dt.date]:
    days = [
        dt.date(year, month, d)
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if dt.date(year, month, d).weekday() in weekdays
    ]
    if not days:
        return []
    pos = INDEX.get(index or "first", 0)
    if pos == -1:
        return [days[-1]]
    return [days[pos]] if pos < len(days) else []


def _candidates(pattern: dict, start: dt.date) -> Iterator[dt.date]:
    kind = pattern["type"]
    interval = max(1, int(pattern.get("interval") or 1))
    weekdays = sorted(DAYS.index(d.lower()) for d in pattern.get("daysOfWeek") or [])
    if kind == "daily":
        day = start
        while True:
            yield day
            day += dt.timedelta(days=interval)
    elif kind == "weekly":
        first = DAYS.index((pattern.get("firstDayOfWeek") or "sunday").lower())
        week_start = start - dt.timedelta(days=(start.weekday() - first) % 7)
        order = sorted(weekdays, key=lambda w: (w - first) % 7)
        while True:
            for w in order:
                day = week_start + dt.timedelta(days=(w - first) % 7)
                if day >= start:
                    yield day
            week_start += dt.timedelta(weeks=interval)
    elif kind in ("absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"):
        yearly = kind.endswith("Yearly")
        step = interval * 12 if yearly else interval
        year, month = start.year, start.month
        if yearly:
            month = int(pattern.get("month") or start.month)
            if month < start.month:
                year += 1
        while True:
            if kind.startswith("absolute"):
                dom = int(pattern.get("dayOfMonth") or start.day)
                days = (
                    [dt.date(year, month, dom)]
                    if dom <= calendar.monthrange(year, month)[1]
                    else []
                )
            else:
                days = _nth_weekday(year, month, weekdays, pattern.get("index"))
            for day in days:
                if day >= start:
                    yield day
            month += step
            year += (month - 1) // 12
            month = (month - 1) % 12 + 1


def occurrence_dates(recurrence: dict, until: dt.date) -> Iterator[dt.date]:
    """Occurrence dates in order, from the range start up to ``until`` (inclusive)."""
    pattern = recurrence.get("pattern") or {}
    rng = recurrence.get("range") or {}
    start = dt.date.fromisoformat(str(rng["startDate"])[:10])
    end = dt.date.fromisoformat(str(rng["endDate"])[:10]) if rng.get("type") == "endDate" else None
    count = int(rng.get("numberOfOccurrences") or 0) if rng.get("type") == "numbered" else 0
    n = 0
    for day in _candidates(pattern, start):
        if day > until or (end and day > end) or (count and n >= count) or n >= MAX_OCCURRENCES:
            return
        n += 1
        yield day


def last_date(recurrence: dict) -> dt.date | None:
    """The last occurrence date of a bounded series (None for noEnd)."""
    rng = recurrence.get("range") or {}
    if rng.get("type") == "endDate":
        return dt.date.fromisoformat(str(rng["endDate"])[:10])
    if rng.get("type") == "numbered":
        days = list(occurrence_dates(recurrence, dt.date(9999, 12, 31)))
        return days[-1] if days else None
    return None
