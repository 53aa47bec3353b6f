"""Event times and recurrence expansion (RRULE/EXRULE via dateutil, EXDATE/RDATE parsed here)."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rruleset, rrulestr

MAX_INSTANCES = 1000
HORIZON = dt.timedelta(days=730)


class TimeError(ValueError):
    """A malformed or missing time in an event body or a query parameter."""


def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    try:
        return ZoneInfo(name or default)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeError(f"Invalid time zone definition: {name}") from exc


def parse_rfc3339(value: str) -> dt.datetime:
    """An aware datetime from an RFC 3339 timestamp (offset required)."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError) as exc:
        raise TimeError(f"Invalid value: {value}") from exc
    if parsed.tzinfo is None:
        raise TimeError(f"Invalid value (no offset): {value}")
    return parsed


def parse_event_time(obj: dict | None, cal_tz: str, what: str) -> tuple[dt.datetime, bool]:
    """(aware datetime, all_day) for an EventDateTime. All-day dates are midnight in cal_tz."""
    if not obj or not (obj.get("date") or obj.get("dateTime")):
        raise TimeError(f"Missing {what} time.")
    if obj.get("date"):
        try:
            day = dt.date.fromisoformat(obj["date"])
        except ValueError as exc:
            raise TimeError(f"Invalid {what} date.") from exc
        return dt.datetime.combine(day, dt.time(), zone(cal_tz)), True
    try:
        value = dt.datetime.fromisoformat(obj["dateTime"])
    except ValueError as exc:
        raise TimeError(f"Invalid {what} time.") from exc
    if value.tzinfo is None:
        if not obj.get("timeZone"):
            raise TimeError(f"Missing time zone definition for {what} time.")
        value = value.replace(tzinfo=zone(obj["timeZone"]))
    return value, False


def normalize_event_time(obj: dict, cal_tz: str, what: str) -> dict:
    """The EventDateTime as Google returns it: dateTime with the offset of its zone."""
    value, all_day = parse_event_time(obj, cal_tz, what)
    if all_day:
        return {"date": value.date().isoformat()}
    tz_name = obj.get("timeZone")
    local = value.astimezone(zone(tz_name or cal_tz))
    out = {"dateTime": local.isoformat(timespec="seconds")}
    if tz_name:
        zone(tz_name)
        out["timeZone"] = tz_name
    return out


def event_bounds(ev: dict, cal_tz: str) -> tuple[dt.datetime, dt.datetime, bool]:
    start, all_day = parse_event_time(ev.get("start"), cal_tz, "start")
    end, _ = parse_event_time(ev.get("end"), cal_tz, "end")
    return start, end, all_day


def instance_stamp(start: dt.datetime, all_day: bool) -> str:
    if all_day:
        return start.strftime("%Y%m%d")
    return start.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def time_obj(value: dt.datetime, all_day: bool, tz_name: str | None) -> dict:
    if all_day:
        return {"date": value.date().isoformat()}
    out = {"dateTime": value.isoformat(timespec="seconds")}
    if tz_name:
        out["timeZone"] = tz_name
    return out


_UNTIL = re.compile(r"UNTIL=(\d{8})(T\d{6})?Z?", re.IGNORECASE)


def _parse_dates(line: str, tz: ZoneInfo, all_day: bool) -> list[dt.datetime]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    value_tz = zone(params["TZID"]) if "TZID" in params else tz
    out = []
    for raw in values.split(","):
        raw = raw.strip()
        if not raw:
            continue
        if len(raw) == 8:
            day = dt.datetime.strptime(raw, "%Y%m%d")  # noqa: DTZ007 - a floating date
            out.append(day if all_day else day.replace(tzinfo=value_tz))
            continue
        if raw.endswith("Z"):
            when = dt.datetime.strptime(raw[:-1], "%Y%m%dT%H%M%S").replace(tzinfo=dt.UTC)
        else:
            when = dt.datetime.strptime(raw, "%Y%m%dT%H%M%S").replace(  # noqa: DTZ007
                tzinfo=value_tz
            )
        if all_day:
            when = dt.datetime.combine(when.astimezone(tz).date(), dt.time())
        else:
            when = when.astimezone(tz)
        out.append(when)
    return out


def build_ruleset(recurrence: list[str], dtstart: dt.datetime, all_day: bool) -> rruleset:
    tz = dtstart.tzinfo if isinstance(dtstart.tzinfo, ZoneInfo) else ZoneInfo("UTC")
    rset = rruleset()
    rset.rdate(dtstart)
    for line in recurrence or []:
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        if name in ("RRULE", "EXRULE"):
            body = line.split(":", 1)[1]
            if all_day:
                body = _UNTIL.sub(lambda m: f"UNTIL={m.group(1)}T235959", body)
            elif "UNTIL=" in body.upper():
                body = _UNTIL.sub(
                    lambda m: (
                        "UNTIL="
                        + (
                            m.group(0)[6:]
                            if m.group(0).upper().endswith("Z")
                            else _until_utc(m.group(1), m.group(2), tz)
                        )
                    ),
                    body,
                )
            try:
                rule = rrulestr(body, dtstart=dtstart)
            except (ValueError, TypeError) as exc:
                raise TimeError(f"Invalid recurrence rule: {line}") from exc
            if name == "RRULE":
                rset.rrule(rule)
            else:
                rset.exrule(rule)
        elif name == "RDATE":
            for when in _parse_dates(line, tz, all_day):
                rset.rdate(when)
        elif name == "EXDATE":
            for when in _parse_dates(line, tz, all_day):
                rset.exdate(when)
        else:
            raise TimeError(f"Invalid recurrence rule: {line}")
    return rset


def _until_utc(day: str, time_part: str | None, tz: ZoneInfo) -> str:
    local = dt.datetime.strptime(day + (time_part or "T235959"), "%Y%m%dT%H%M%S").replace(tzinfo=tz)
    return local.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def occurrences(
    ev: dict,
    cal_tz: str,
    window_start: dt.datetime | None,
    window_end: dt.datetime | None,
    limit: int = MAX_INSTANCES,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Original (start, end) pairs of a recurring event's instances overlapping the window.

    Starts are aware datetimes in the event's zone (all-day: midnight in the calendar zone).
    """
    start, end, all_day = event_bounds(ev, cal_tz)
    duration = end - start
    tz_name = (ev.get("start") or {}).get("timeZone") or cal_tz
    tz = zone(tz_name if not all_day else cal_tz)
    if all_day:
        dtstart = dt.datetime.combine(start.date(), dt.time())
    else:
        dtstart = start.astimezone(tz)
    rset = build_ruleset(ev.get("recurrence") or [], dtstart, all_day)
    lo = window_start - duration if window_start else None
    hi = window_end or (max(dt.datetime.now(dt.UTC), start) + HORIZON)
    out = []
    for occ in itertools.islice(iter(rset), 100_000):
        occ_aware = occ.replace(tzinfo=tz) if all_day else occ
        if occ_aware >= hi:
            break
        if lo is not None and occ_aware <= lo:
            continue
        occ_end = occ_aware + duration
        if all_day:
            occ_end = dt.datetime.combine((occ + duration).date(), dt.time(), tz)
        out.append((occ_aware, occ_end))
        if len(out) >= limit:
            break
    return out
