"""One meeting, one appointment: the claim on a meeting's key when an import creates it.

Two reps' first imports of the same meeting can run at once; each reads the database before the
other has committed, so neither sees the other's appointment. Each new appointment therefore
claims its meeting key (iCalUID + original start) with an INSERT that ignores conflicts, inside
the page's transaction. On PostgreSQL the second INSERT waits for the first transaction and then
does nothing; reading the keys back tells each import whose appointment the meeting is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from appointments.models import Appointment
from upsales_crm.bulk import claim_rows

from ..models import MeetingKey
from ..providers.base import ExternalEvent
from .rows import MeetingKeyRow


def utc_key(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat() if value else ""


def meeting_key(ical_uid: str, original_start: dt.datetime | None) -> tuple[str, str]:
    """One meeting across calendars: the iCalUID, plus the original start for an instance."""
    return ical_uid, utc_key(original_start)


def claim(created: Iterable[tuple[ExternalEvent, Appointment]]) -> dict[str, int]:
    """Claim the meeting of every just-created appointment. Returns, for each event whose
    meeting was claimed first by another appointment, that appointment's id."""
    mine: dict[tuple[str, str], tuple[str, int]] = {}
    keys: list[MeetingKeyRow] = []
    for ev, appointment in created:
        if not ev.ical_uid:
            continue  # no iCalUID: nothing to meet again elsewhere
        key = meeting_key(ev.ical_uid[:1024], ev.original_start)
        mine[key] = (ev.id, appointment.pk)
        keys.append(MeetingKeyRow(key[0], key[1], appointment.pk))
    if not keys:
        return {}
    fields = ("ical_uid", "original_start_key", "appointment_id")
    won = claim_rows(MeetingKey, keys, fields)
    if won is not None:  # the claims that went in: only the others are read back
        inserted = {(uid, start_key): winner for uid, start_key, winner in won}
        mine = {key: ours for key, ours in mine.items() if inserted.get(key) != ours[1]}
        if not mine:
            return {}
    rows = MeetingKey.objects.filter(ical_uid__in={k[0] for k in mine}).values_list(*fields)
    lost: dict[str, int] = {}
    for uid, start_key, winner in rows:
        event_id, appointment_id = mine.get((uid, start_key), ("", winner))
        if winner != appointment_id:
            lost[event_id] = winner
    return lost
