"""Graph's date/time shapes: dateTimeTimeZone, Windows time zone names, 7-digit fractions."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:  # tzlocal ships the CLDR Windows <-> IANA table (it is a dependency of O365)
    from tzlocal.windows_tz import tz_win, win_tz
except ImportError:  # pragma: no cover - minimal fallback
    win_tz = {"UTC": "Etc/UTC", "W. Europe Standard Time": "Europe/Berlin"}
    tz_win = {"Etc/UTC": "UTC", "UTC": "UTC", "Europe/Berlin": "W. Europe Standard Time"}

UTC = dt.UTC
_FRACTION = re.compile(r"\.(\d+)")


class BadTimeZone(ValueError):
    pass


def zone(name: str | None) -> dt.tzinfo:
    """A tzinfo for a Windows ("W. Europe Standard Time") or IANA ("Europe/Stockholm") name."""
    if not name or name.upper() in ("UTC", "ETC/UTC", "Z", "GMT"):
        return UTC
    if name in win_tz:
        return ZoneInfo(win_tz[name])
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadTimeZone(name) from exc


def parse_local(value: str) -> dt.datetime:
    """Parse Graph's dateTime ("2026-11-25T10:00:00.0000000", maybe with Z or an offset)."""
    value = value.strip()
    m = _FRACTION.search(value)
    if m:
        value = value[: m.start()] + "." + m.group(1)[:6].ljust(6, "0") + value[m.end() :]
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    return dt.datetime.fromisoformat(value)


def parse_dtz(obj: dict | None) -> tuple[dt.datetime, str]:
    """A dateTimeTimeZone object -> (aware UTC datetime, time zone name as given)."""
    if not isinstance(obj, dict) or not obj.get("dateTime"):
        raise ValueError("dateTimeTimeZone needs dateTime")
    tz_name = obj.get("timeZone") or "UTC"
    value = parse_local(str(obj["dateTime"]))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz_name))
    return value.astimezone(UTC), tz_name


def parse_query_datetime(value: str) -> dt.datetime:
    """startDateTime/endDateTime query values: ISO 8601, naive means UTC."""
    parsed = parse_local(value.replace(" ", "+"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def fmt_local(value: dt.datetime, tz_name: str) -> dict:
    """Aware datetime -> {"dateTime": "2026-11-25T10:00:00.0000000", "timeZone": tz_name}."""
    local = value.astimezone(zone(tz_name))
    return {
        "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond:06d}0",
        "timeZone": tz_name,
    }


def fmt_utc(value: dt.datetime) -> str:
    """Graph's DateTimeOffset: 2026-11-24T10:00:00.1234567Z."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0Z"


def fmt_utc_short(value: dt.datetime) -> str:
    """Subscription expirationDateTime style: 2026-11-24T10:00:00Z."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def windows_name(tz_name: str) -> str:
    if tz_name in win_tz or tz_name == "UTC":
        return tz_name
    return tz_win.get(tz_name, tz_name)
