"""Which appointment fields sync with the calendar: the one declaration.

Each ``Synced`` entry says, for one field, which appointment attributes it reads (export) and
writes (import), which attributes of the neutral event (``ExternalEvent``) and of the draft
(``EventDraft``) carry it, how each direction converts, whether it is hashed for echo detection
and whether it is part of the export's fingerprint. The exporter (``build_draft``, what a CRM
change touches, the fingerprint), the importer (what an event writes on its appointment) and
the echo hash are derived from ``FIELDS``; nothing else lists the synced fields.

Adding a synced field: a model field (and its migration), the attribute on ``ExternalEvent`` /
``EventDraft`` and the adapters' wire mapping, and one entry here (see calendar_sync/README.md).
``tests/calendar_sync/test_fieldmap.py`` fails while an event or draft attribute is neither
mapped here nor listed in ``EXCLUDED``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings

from ..providers.base import EventDraft, ExternalEvent
from . import mapping, rules

if TYPE_CHECKING:
    from appointments.models import Appointment

    from ..models import CalendarConnection

Values = dict[str, Any]


@dataclass(frozen=True)
class Synced:
    name: str
    # Appointment changes (as ``appointment_changed`` names them) that the event carries.
    crm_changes: frozenset[str] = frozenset()
    # Appointment attributes an import writes (through ``to_crm``).
    crm_writes: tuple[str, ...] = ()
    event: tuple[str, ...] = ()  # ExternalEvent attributes it is read from
    draft: tuple[str, ...] = ()  # EventDraft attributes it is written to
    # Appointment (and what the export knows) -> draft attributes; None: import only.
    to_event: Callable[[Appointment, Export], Values] | None = None
    # Event (and the appointment as it was) -> appointment attributes; None: not a column.
    to_crm: Callable[[ExternalEvent, Appointment], Values] | None = None
    # Event -> its part of the echo hash; None: a change of it alone is not looked at.
    hashed: Callable[[ExternalEvent], Values] | None = None
    # Draft attributes in the export fingerprint (in this order): equal means nothing to push.
    fingerprint: tuple[str, ...] = ()
    # Draft attributes in the fingerprint only when set (a field added later leaves the
    # stored fingerprints of drafts without it as they were: no push of every appointment).
    fingerprint_if_set: tuple[str, ...] = ()
    # On the event as an attendee: pushed as a difference of addresses, not in the fingerprint.
    participant: bool = False
    # Imported only from the appointment organizer's own calendar (a colleague's copy of the
    # meeting answers for the colleague, not for the organizer).
    own_calendar_only: bool = False
    # A detail a private event logged as "Private appointment" does not keep: its
    # ``crm_writes`` are stored blank (``hidden_values``) and the appointment is never exported.
    private_detail: bool = False
    note: str = field(default="", compare=False)


@dataclass(frozen=True)
class Export:
    """What an export converter knows beside the appointment."""

    connection: CalendarConnection
    with_attendees: bool = True  # ``rules.writes_attendees``


def _crm_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _export_participants(appointment: Appointment, export: Export) -> Values:
    emails = rules.export_attendees(
        list(appointment.attendees.all()),
        organizer_id=appointment.organizer_id,
        with_attendees=export.with_attendees,
    )
    return {"attendee_emails": emails, "send_invitations": export.with_attendees}


def _hash_participants(ev: ExternalEvent) -> Values:
    people = sorted((rules.normalize(a.email), a.response, a.is_resource) for a in ev.attendees)
    return {"organizer": rules.normalize(ev.organizer_email), "attendees": people}


def _import_room(ev: ExternalEvent, appointment: Appointment) -> Values:
    name, email = mapping.room_of(ev)
    return {"room_name": name, "room_email": email}


def _import_invitation(ev: ExternalEvent, appointment: Appointment) -> Values:
    organizer = rules.normalize(ev.organizer_email)
    if ev.organizer_is_self or not organizer:
        return {"invited_by_email": "", "invited_by_name": "", "own_response": ""}
    name = ev.organizer_name or next(
        (a.name for a in ev.attendees if rules.normalize(a.email) == organizer), ""
    )
    return {
        "invited_by_email": mapping.clip(organizer, 254),
        "invited_by_name": mapping.clip(name, 200),
        "own_response": mapping.response_for(ev.own_response),
    }


def _hash_invitation(ev: ExternalEvent) -> Values:
    # Only for invitations, so the hashes of the rep's own events stay as they were.
    if ev.organizer_is_self:
        return {}
    return {"own_response": ev.own_response, "organizer_name": ev.organizer_name}


def _end(ev: ExternalEvent) -> dt.datetime:
    assert ev.start is not None and ev.end is not None  # the rules skip events without
    return max(ev.end, ev.start)


FIELDS: tuple[Synced, ...] = (
    Synced(
        "title",
        private_detail=True,
        crm_changes=frozenset({"title"}),
        crm_writes=("title",),
        event=("title",),
        draft=("title",),
        to_event=lambda a, c: {"title": a.title},
        to_crm=lambda ev, a: {"title": mapping.clip(ev.title, 255) or "(no title)"},
        hashed=lambda ev: {"title": ev.title},
        fingerprint=("title",),
    ),
    Synced(
        "start",
        crm_changes=frozenset({"start"}),
        crm_writes=("start",),
        event=("start",),
        draft=("start",),
        to_event=lambda a, c: {"start": a.start.astimezone(_crm_zone())},
        to_crm=lambda ev, a: {"start": ev.start},
        hashed=lambda ev: {"start": mapping.iso(ev.start)},
        fingerprint=("start",),
    ),
    Synced(
        "end",
        crm_changes=frozenset({"end"}),
        crm_writes=("end",),
        event=("end",),
        draft=("end",),
        to_event=lambda a, c: {"end": a.end.astimezone(_crm_zone())},
        to_crm=lambda ev, a: {"end": _end(ev)},
        hashed=lambda ev: {"end": mapping.iso(ev.end)},
        fingerprint=("end",),
    ),
    Synced(
        "all_day",
        crm_changes=frozenset({"all_day"}),
        crm_writes=("all_day",),
        event=("all_day",),
        draft=("all_day",),
        to_event=lambda a, c: {"all_day": a.all_day},
        to_crm=lambda ev, a: {"all_day": ev.all_day},
        hashed=lambda ev: {"all_day": ev.all_day},
        fingerprint=("all_day",),
    ),
    Synced(
        "timezone",
        event=("timezone",),
        draft=("timezone",),
        to_event=lambda a, c: {"timezone": settings.TIME_ZONE},
        fingerprint=("timezone",),
        note="The CRM writes in its own zone; an event's zone only places all-day dates "
        "(mapping.crm_all_day, before anything reads the event).",
    ),
    Synced(
        "agenda",
        private_detail=True,
        crm_changes=frozenset({"agenda"}),
        crm_writes=("agenda",),
        event=("description",),
        draft=("description",),
        to_event=lambda a, c: {"description": mapping.invitation_text(a.agenda)},
        to_crm=lambda ev, a: {"agenda": mapping.import_agenda(ev.description)},
        hashed=lambda ev: {"description": ev.description},
        fingerprint=("description",),
        note="The event's body is the agenda, what invitees read; the appointment's "
        "description is the CRM's internal note and never syncs.",
    ),
    Synced(
        "location",
        private_detail=True,
        crm_changes=frozenset({"location"}),
        crm_writes=("location",),
        event=("location",),
        draft=("location",),
        to_event=lambda a, c: {"location": a.location},
        to_crm=lambda ev, a: {"location": mapping.clip(ev.location, 255)},
        hashed=lambda ev: {"location": ev.location},
        fingerprint=("location",),
    ),
    Synced(
        "room",
        private_detail=True,
        crm_changes=frozenset({"room_name", "room_email"}),
        crm_writes=("room_name", "room_email"),
        event=("room_emails",),
        draft=("room_email", "room_name"),
        to_event=lambda a, c: {"room_email": a.room_email, "room_name": a.room_name},
        to_crm=_import_room,
        hashed=lambda ev: {"rooms": sorted(rules.normalize(r) for r in ev.room_emails)},
        fingerprint=("room_name",),
        participant=True,
        note="Also read from a resource attendee (participants' hash covers those).",
    ),
    Synced(
        "video",
        private_detail=True,
        crm_changes=frozenset({"video_requested"}),
        crm_writes=("video_link",),
        event=("video_link", "video_pending"),
        draft=("add_video", "video_request_id"),
        to_event=lambda a, c: {
            "add_video": a.video_requested,
            "video_request_id": mapping.video_request_id(a.pk, c.connection.pk),
        },
        to_crm=lambda ev, a: {"video_link": mapping.safe_video_link(ev.video_link)},
        hashed=lambda ev: {"video": ev.video_link},
        fingerprint=("add_video",),
        note="The CRM asks for a meeting; the provider's link comes back (https only).",
    ),
    Synced(
        "participants",
        crm_changes=frozenset({"contacts", "users", "external_emails"}),
        event=("attendees", "organizer_email", "organizer_is_self"),
        draft=("attendee_emails", "send_invitations", "write_attendees", "attendees_removed"),
        to_event=_export_participants,
        hashed=_hash_participants,
        participant=True,
        note="Attendee rows, not columns: planning.desired_attendees on import, the exporter "
        "sends them as a difference (write_attendees, attendees_removed).",
    ),
    Synced(
        "invitation",
        crm_writes=("invited_by_email", "invited_by_name", "own_response"),
        event=("organizer_name", "own_response"),
        to_crm=_import_invitation,
        hashed=_hash_invitation,
        own_calendar_only=True,
        note="Who organised a meeting the rep was invited to, and the rep's own answer (the "
        "adapters read it per provider). Hashed for invitations only.",
    ),
    Synced(
        "private",
        crm_changes=frozenset({"private"}),
        crm_writes=("private",),
        event=("private",),
        draft=("private",),
        to_event=lambda a, c: {"private": a.private},
        to_crm=lambda ev, a: {"private": ev.private},
        # Only when set, so the hashes of events that are not private stay as they were.
        hashed=lambda ev: {"private": True} if ev.private else {},
        fingerprint_if_set=("private",),
        note="Google visibility private/confidential, Graph sensitivity private/confidential; "
        "what the import then keeps is rules.private_event_treatment's.",
    ),
    Synced(
        "cancelled",
        crm_writes=("cancelled_at",),
        event=("cancelled",),
        to_crm=lambda ev, a: {"cancelled_at": None},
        hashed=lambda ev: {"cancelled": ev.cancelled},
        note="A live event un-cancels its appointment; a cancelled one is the planner's "
        "cancel / delete / decline outcome.",
    ),
)

# Attributes of the neutral types that are not synced fields, and why.
EXCLUDED: Mapping[type, Mapping[str, str]] = {
    ExternalEvent: {
        "id": "identity: the event link's key",
        "ical_uid": "identity: one meeting across calendars",
        "series_id": "identity: the recurring series (deletes, rules)",
        "original_start": "identity: the instance within its series",
        "is_recurring": "read by the rules (all-day recurring, deletes), not stored",
        "updated": "version: conflicts are resolved on it",
        "etag": "version: sent back as If-Match",
        "crm_id": "identity: the appointment id the CRM wrote",
        "unreadable": "the adapter could not map the item",
        "web_link": "kept on the event link (EventLink.web_link), not on the appointment",
        "idempotency_key": "identity: recognises our own create (engine.recognise_own_events)",
        "kind": "read by the rules (a status event is not logged), not stored",
        "free": "read by the rules (an event marked free is not logged), not stored",
    },
    EventDraft: {
        "crm_id": "identity: the appointment id, written to the event",
        "idempotency_key": "identity: makes a retried create find its event",
    },
}

CRM_WRITES: tuple[str, ...] = tuple(a for f in FIELDS for a in f.crm_writes)
CRM_CHANGES: frozenset[str] = frozenset().union(*(f.crm_changes for f in FIELDS if f.to_event))
PARTICIPANT_CHANGES: frozenset[str] = frozenset().union(
    *(f.crm_changes for f in FIELDS if f.participant)
)
_FINGERPRINT: tuple[str, ...] = tuple(a for f in FIELDS for a in f.fingerprint)
_FINGERPRINT_IF_SET: tuple[str, ...] = tuple(a for f in FIELDS for a in f.fingerprint_if_set)


def _base(kind: type) -> type:
    return ExternalEvent if issubclass(kind, ExternalEvent) else EventDraft


def mapped(kind: type) -> set[str]:
    """The attributes of ``ExternalEvent`` / ``EventDraft`` some entry maps."""
    attr = "event" if _base(kind) is ExternalEvent else "draft"
    return {name for f in FIELDS for name in getattr(f, attr)}


def unmapped(kind: type) -> set[str]:
    """Attributes of ``kind`` (``ExternalEvent``, ``EventDraft`` or a subclass) that no entry
    maps and ``EXCLUDED`` does not list: each one a change that would be dropped silently."""
    return {f.name for f in fields(kind)} - mapped(kind) - set(EXCLUDED[_base(kind)])


def hidden_values() -> Values:
    """What a private event logged without its details stores for them: blank."""
    return {a: "" for f in FIELDS if f.private_detail for a in f.crm_writes}


def draft_values(appointment: Appointment, export: Export) -> Values:
    """The draft's synced attributes for the appointment."""
    values: Values = {}
    for f in FIELDS:
        if f.to_event is not None:
            values.update(f.to_event(appointment, export))
    return values


def crm_values(ev: ExternalEvent, appointment: Appointment, *, own_calendar: bool = True) -> Values:
    """The appointment attributes an import of the event writes (``CRM_WRITES``);
    ``own_calendar``: the event is the appointment organizer's own copy."""
    values: Values = {}
    for f in FIELDS:
        if f.to_crm is not None and (own_calendar or not f.own_calendar_only):
            values.update(f.to_crm(ev, appointment))
    return values


def event_hash(ev: ExternalEvent) -> str:
    """A digest of everything we read from an event; equal digests mean "nothing new"."""
    content: Values = {}
    for f in FIELDS:
        if f.hashed is not None:
            content.update(f.hashed(ev))
    return mapping.digest(content, sort_keys=True)


def fingerprint(draft: EventDraft) -> str:
    """A digest of everything but the participants the CRM writes: equal means nothing to push."""
    content = []
    for name in _FINGERPRINT:
        value = getattr(draft, name)
        content.append(value.isoformat() if isinstance(value, dt.datetime) else value)
    content += [[name, value] for name in _FINGERPRINT_IF_SET if (value := getattr(draft, name))]
    return mapping.digest(content)
