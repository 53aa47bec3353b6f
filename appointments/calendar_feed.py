"""The calendar page's data: the people whose calendars a rep can show, and each appointment as
a FullCalendar event in the viewer's time zone.

Times go out as wall-clock strings without an offset in the viewer's zone (FullCalendar is told
that zone by name, so it shows them as they are); all-day appointments go out as dates, read in
the organisation's zone like every all-day appointment (``appointments.forms.local_bounds``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from django.utils import timezone
from django.utils.translation import gettext as _

from appointments import rules, selectors
from appointments.models import Appointment, AttendeeKind, Response, Source

# Dark enough for white text (WCAG AA 4.5:1); the viewer is always the first.
PALETTE = (
    "#1f5fa8",
    "#1e7146",
    "#8e3b9e",
    "#a3401f",
    "#2b6777",
    "#7a5a00",
    "#b0275c",
    "#4b5a6b",
)


# On the small event boxes; the full name is in the tooltip.
SHORT_SOURCE = {Source.CRM: "CRM", Source.GOOGLE: "Google", Source.MICROSOFT: "Office365"}


@dataclass(frozen=True)
class Person:
    pk: int
    name: str
    colour: str


def _name(user) -> str:
    return user.get_full_name() or user.email or user.get_username()


def calendar_people(*, user) -> list[Person]:
    """The viewer, then the colleagues whose calendars they may show, each with a colour."""
    colleagues = selectors.calendar_colleagues(user=user)
    return [
        Person(pk=u.pk, name=_name(u), colour=PALETTE[i % len(PALETTE)])
        for i, u in enumerate([user, *colleagues])
    ]


def wall_clock(value: datetime) -> str:
    """An aware datetime as the viewer's wall-clock time, without offset."""
    return timezone.localtime(value).replace(tzinfo=None).isoformat(timespec="seconds")


def all_day_dates(appointment: Appointment) -> tuple[str, str]:
    """(first day, day after the last) of an all-day appointment, in the organisation's zone."""
    zone = timezone.get_default_timezone()
    first = timezone.localtime(appointment.start, zone).date()
    after = max(timezone.localtime(appointment.end, zone).date(), first + timedelta(days=1))
    return first.isoformat(), after.isoformat()


def _sync_states(appointments: Sequence[Appointment]) -> dict[int, dict]:
    """Each appointment's sync state ("in the calendar", "waiting to be sent", "failed: why")
    from calendar_sync's selector; appointments that are not synced get none."""
    try:
        module = import_module("calendar_sync.selectors")
    except ImportError:
        return {}
    states = module.appointment_sync_states(appointments)
    return {
        pk: {"state": s.state, "label": s.label, "detail": s.error}
        for pk, s in states.items()
        if s.state != "not_synced"
    }


def _owner(appointment: Appointment, people: Sequence[Person]) -> Person:
    involved = {appointment.organizer_id} | {
        a.user_id for a in appointment.attendees.all() if a.kind == AttendeeKind.USER
    }
    return next((p for p in people if p.pk in involved), people[0])


def _declined(appointment: Appointment, user) -> bool:
    return any(
        a.user_id == user.pk and a.response == Response.DECLINED
        for a in appointment.attendees.all()
    )


def _move_refusal(appointment: Appointment, user, now: datetime) -> str:
    return rules.can_change_field(appointment, user, "start", now).reason


def event_json(
    appointment: Appointment, *, user, people: Sequence[Person], now: datetime, sync: dict | None
) -> dict:
    owner = _owner(appointment, people)
    cancelled = appointment.cancelled_at is not None
    declined = _declined(appointment, user)
    event: dict = {
        "id": str(appointment.pk),
        "title": appointment.title,
        "url": appointment.get_absolute_url(),
        "backgroundColor": owner.colour,
        "borderColor": owner.colour,
        "editable": not cancelled,
        "classNames": [
            c
            for c, on in (
                ("is-cancelled", cancelled),
                ("is-locked", appointment.locked),
                ("is-declined", declined),
                ("is-colleague", owner.pk != user.pk),
            )
            if on
        ],
        "extendedProps": {
            "person": owner.name,
            "source": str(Source(appointment.source).label),
            "sourceShort": SHORT_SOURCE.get(appointment.source, ""),
            "locked": appointment.locked,
            "lockReason": appointment.lock_reason_text,
            "cancelled": cancelled,
            "declined": declined,
            "video": bool(appointment.video_link or appointment.video_requested),
            "room": appointment.room_name,
            "place": appointment.location,
            "company": appointment.company.name if appointment.company else "",
            "moveRefusal": _move_refusal(appointment, user, now),
            "sync": sync,
        },
    }
    if appointment.all_day:
        event["start"], event["end"] = all_day_dates(appointment)
        event["allDay"] = True
    else:
        event["start"], event["end"] = wall_clock(appointment.start), wall_clock(appointment.end)
        event["allDay"] = False
    return event


def calendar_events(
    *, user, start: datetime, end: datetime, people_ids: Iterable[int] = ()
) -> list[dict]:
    """The viewer's appointments between start and end, plus those of the chosen colleagues
    (only people the viewer may see; others are ignored)."""
    people = calendar_people(user=user)
    wanted = set(people_ids)
    shown = [people[0], *(p for p in people[1:] if p.pk in wanted)]
    appointments = list(
        selectors.appointment_calendar(
            user=user, start=start, end=end, people=[p.pk for p in shown[1:]]
        )
    )
    states = _sync_states(appointments)
    now = timezone.now()
    return [
        event_json(a, user=user, people=shown, now=now, sync=states.get(a.pk)) for a in appointments
    ]


def labels() -> dict[str, str]:
    """The texts calendar.js shows, translated here so one catalogue holds them all."""
    return {
        "source": _("Source"),
        "locked": _("Locked"),
        "cancelled": _("Cancelled"),
        "declined": _("Declined"),
        "video": _("Video link"),
        "room": _("Room"),
        "place": _("Place"),
        "company": _("Company"),
        "calendarOf": _("Calendar"),
        "cannotMove": _("This appointment cannot be moved"),
        "moved": _("The appointment was moved."),
        "moveFailed": _("The appointment could not be moved"),
        "allDay": _("All day"),
        "loadFailed": _("The calendar could not be loaded."),
    }
