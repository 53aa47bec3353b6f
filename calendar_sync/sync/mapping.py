"""Converting between an appointment and a neutral event: what is not a rule.

Sanitising, clipping, composing the event body, zones of all-day events, hashing and the ids the
CRM makes. ``fieldmap`` says which field uses which of these; ``rules`` decides what happens.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from ..providers.base import ExternalEvent
from .rules import normalize

# The provider's answer -> ``appointments.models.Response``.
RESPONSES = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
    "needs_action": "no_answer",
}
VIDEO_LINK_MAX_LENGTH = 1000  # Appointment.video_link
WEB_LINK_MAX_LENGTH = 2048  # EventLink.web_link


def clip(value: str | None, size: int) -> str:
    return (value or "")[:size]


def response_for(provider_response: str) -> str:
    """The provider's answer as an ``appointments.models.Response`` value."""
    return RESPONSES.get(provider_response, "no_answer")


def invitation_text(agenda: str) -> str:
    """What the event's body says, so what every invitee reads: the agenda, and nothing else.
    The appointment's description is the CRM's internal note and never leaves the CRM."""
    return (agenda or "").strip()


def import_agenda(text: str) -> str:
    """The event's body is what its invitees read: it becomes the appointment's agenda (the
    description, the CRM's internal note, is never taken from the calendar nor written to it)."""
    return (text or "").strip()


def safe_video_link(url: str | None) -> str:
    """The provider's meeting link if it is a plain https:// URL (Meet and Teams links are),
    else "": the CRM renders it as a link, so ``javascript:``, ``data:`` and the like never get
    stored. A link too long for the field is dropped rather than cut into a broken one."""
    return _https_link(url, VIDEO_LINK_MAX_LENGTH)


def safe_web_link(url: str | None) -> str:
    """The event's page in the provider's web calendar (Google ``htmlLink``, Graph
    ``webLink``), kept only as a plain https:// URL that fits the column: the API hands it out
    as a link to follow, so nothing else is stored."""
    return _https_link(url, WEB_LINK_MAX_LENGTH)


_AFTER_HOST = re.compile(r"[/?#]")


def _https_link(url: str | None, max_length: int) -> str:
    link = (url or "").strip()
    if not link or len(link) > max_length:
        return ""
    if " " in link or not link.isprintable():  # any whitespace: only " " is printable
        return ""
    if link[:8].lower() != "https://":
        return ""
    # The host is all that is left to check: split the scheme and host part only (a long
    # path and query cost urlsplit most of an import's time spent on links).
    path = _AFTER_HOST.search(link, 8)
    try:
        host = urlsplit(link[: path.start()] if path else link).hostname
    except ValueError:  # e.g. "https://[::1"
        return ""
    return link if host else ""


def room_of(event: ExternalEvent) -> tuple[str, str]:
    """The event's room as (name, address): its first resource attendee, else its first room."""
    for a in event.attendees:
        if a.is_resource:
            return a.name[:255], normalize(a.email)
    if event.room_emails:
        return "", normalize(event.room_emails[0])
    return "", ""


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ValueError, ZoneInfoNotFoundError):
        return dt.UTC


def crm_all_day(event: ExternalEvent) -> None:
    """An all-day event's bounds as the CRM shows all-day appointments (``appointments.forms.
    local_bounds``): midnight in the CRM's zone of its calendar dates, the dates read in the
    event's own zone. The adapters give midnight in the event's zone, a day off in another."""
    if not event.all_day or event.start is None or event.end is None:
        return
    own, crm = _zone(event.timezone), timezone.get_default_timezone()
    first = event.start.astimezone(own).date()
    after = max(event.end.astimezone(own).date(), first + dt.timedelta(days=1))
    # In UTC, as the adapters give datetimes: the same instant hashes the same.
    event.start = dt.datetime.combine(first, dt.time.min, crm).astimezone(dt.UTC)
    event.end = dt.datetime.combine(after, dt.time.min, crm).astimezone(dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def digest(content: Any, *, sort_keys: bool = False) -> str:
    raw = json.dumps(content, sort_keys=sort_keys, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


def idempotency_key(appointment_id: Any, connection_id: Any) -> str:
    """Stable per (appointment, connection); valid as a Google event id (base32hex, a-v0-9).
    It names the appointment (``crm<id>v<digest>``), so an event we created comes back
    recognised even when our commit after the create never happened (a killed worker)."""
    return f"crm{appointment_id}v{_key_digest(appointment_id, connection_id)}"


def _key_digest(appointment_id: Any, connection_id: Any) -> str:
    return hashlib.sha256(f"crm:{appointment_id}:{connection_id}".encode()).hexdigest()[:32]


_IDEMPOTENCY_KEY = re.compile(r"crm([0-9]+)v([0-9a-f]{32})")


def crm_id_from_idempotency_key(key: str, connection_id: Any) -> str:
    """The appointment id an event's idempotency key names, if this connection made it ("" for
    a key of another connection, of someone else's system, or none)."""
    match = _IDEMPOTENCY_KEY.fullmatch(key or "")
    if match is None or match.group(2) != _key_digest(match.group(1), connection_id):
        return ""
    return match.group(1)


def video_request_id(appointment_id: Any, connection_id: Any) -> str:
    """Google's conferenceData.createRequest.requestId: stable per (appointment, connection),
    so a retried create or update never makes a second meeting."""
    return f"crm-video-{appointment_id}-{connection_id}"
