"""CRM → calendar: an appointment becomes (or updates) an event in its organizer's primary calendar.

Provider calls happen outside any transaction; the EventLink is written after. Writes are
idempotent: the draft carries a key stable per (appointment, connection), so a retry after a
crash between the provider write and our commit finds the event instead of creating another.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from appointments.calendar_changes import AppointmentUpdate, CalendarChanges
from appointments.models import Appointment, Source
from appointments.services import appointment_apply_calendar_changes
from contacts.selectors import users_by_emails

from ..models import CalendarConnection, ConnectionState, EventLink, ExportFailure, SyncRun
from ..providers.base import CalendarAdapter, EventDraft, ExternalEvent, PreconditionFailed
from ..selectors import first_activation
from . import fieldmap, mapping, rules
from .engine import (
    build_context,
    get_adapter,
    guarded,
    record_exports,
    request_sync,
    sync_window,
)

log = logging.getLogger(__name__)

# Appointment changes (as in ``appointment_changed``'s changed_fields) that the event carries:
# the field map's. Any other change (outcome, appointment type, company, follow-ups, notes)
# stays in the CRM.
PARTICIPANT_FIELDS = fieldmap.PARTICIPANT_CHANGES
EVENT_FIELDS = fieldmap.CRM_CHANGES


def organizer_connection(user_id: int) -> CalendarConnection | None:
    return CalendarConnection.objects.filter(
        user_id=user_id, state=ConnectionState.ACTIVE, appointment_type__isnull=False
    ).first()


def invited_from_another_calendar(appointment: Appointment, connection: CalendarConnection) -> bool:
    """The appointment's event lives in another calendar of its organizer (an account the rep
    has since left): its invitees were invited from there."""
    return (
        EventLink.objects.filter(
            appointment=appointment, connection__user_id=appointment.organizer_id
        )
        .exclude(connection=connection)
        .exists()
    )


def build_draft(appointment: Appointment, connection: CalendarConnection) -> EventDraft:
    """The event the CRM wants: its synced fields (``fieldmap``) and the ids that find it."""
    with_attendees = rules.writes_attendees(
        appointment,
        first_activated_at=first_activation(connection.user_id),
        invited_from_another_calendar=invited_from_another_calendar(appointment, connection),
    )
    return EventDraft(
        crm_id=str(appointment.pk),
        idempotency_key=mapping.idempotency_key(appointment.pk, connection.pk),
        **fieldmap.draft_values(appointment, fieldmap.Export(connection, with_attendees)),
    )


def participants(draft: EventDraft) -> list[str]:
    """The addresses the CRM puts on the event: its invitees and its room."""
    emails = {rules.normalize(e) for e in [*draft.attendee_emails, draft.room_email]}
    return sorted(emails - {""})


def touches_event(changed_fields: Iterable[str] | None, fields: frozenset[str]) -> bool:
    """Unknown changes (None: a sweep, a retry) may touch anything."""
    return changed_fields is None or bool(set(changed_fields) & fields)


def modelled_participants(event: ExternalEvent, connection: CalendarConnection) -> set[str]:
    """Who on the event the CRM stores as participants (what an import kept): users and
    externals, not the rep, colleagues or rooms, plus the room. Stands in for the CRM's set
    when a link has none recorded (an event that was imported, never exported)."""
    ctx = build_context(connection)
    people = [
        rules.normalize(a.email)
        for a in rules.participants(event)
        if not rules.is_rep(a, ctx.rep_addresses)
    ]
    users = users_by_emails(p for p in people if rules.has_user_domain(p, ctx.user_domains))
    modelled = {
        p
        for p in people
        if not rules.is_colleague(p, user_emails=users.keys(), user_domains=ctx.user_domains)
    }
    return modelled | {rules.normalize(r) for r in event.room_emails[:1]}


def plan_attendees(
    adapter: CalendarAdapter,
    connection: CalendarConnection,
    link: EventLink,
    draft: EventDraft,
    changed_fields: Iterable[str] | None,
) -> None:
    """Turn the draft's attendees into a difference against what the CRM had at the last
    sync: only what the CRM removed goes, only what it added is added, everyone else stays
    (colleagues are never stored on imported appointments; people may be added in the
    calendar; appointments pushed on activation went without attendees)."""
    wanted = set(participants(draft))
    if link.crm_attendees is not None:
        previous = set(link.crm_attendees)
    elif not touches_event(changed_fields, PARTICIPANT_FIELDS):
        previous = wanted
    else:
        previous = modelled_participants(adapter.get_event(link.provider_event_id), connection)
    room = rules.normalize(draft.room_email)
    draft.write_attendees = previous != wanted
    draft.attendee_emails = sorted(wanted - previous - {room})
    draft.attendees_removed = sorted(previous - wanted)


def _write(
    adapter: CalendarAdapter, appointment: Appointment, link: EventLink | None, draft: EventDraft
) -> ExternalEvent | None:
    """Create or update; on a stale etag the last writer wins (None: the provider won)."""
    if link is None:
        event = adapter.create_event(draft)
        if not rules.event_matches_draft(event, draft):
            # The create was a replay (its idempotency key had landed before, from a worker
            # that died before recording it): the provider answered with that first version.
            event = adapter.update_event(event.id, draft)
        return _with_video(adapter, event)
    try:
        event = adapter.update_event(link.provider_event_id, draft, etag=link.etag)
    except PreconditionFailed:
        current = adapter.get_event(link.provider_event_id)
        if rules.resolve_conflict(current.updated, appointment.updated_at) == "crm":
            return _with_video(adapter, adapter.update_event(link.provider_event_id, draft))
        return None
    return _with_video(adapter, event)


def _with_video(adapter: CalendarAdapter, event: ExternalEvent) -> ExternalEvent:
    """Google answers a Meet request with ``pending``: read the event once more for the link
    (a link still pending then arrives with the next import)."""
    if event.video_pending and not event.video_link:
        return adapter.get_event(event.id)
    return event


def save_link(
    connection: CalendarConnection,
    appointment: Appointment,
    crm_updated_at: dt.datetime,
    event: ExternalEvent,
    written: tuple[list[str], str] | None = None,
) -> EventLink:
    """What we wrote, hashed, so the event does not echo back on the next import."""
    with transaction.atomic():
        video_link = mapping.safe_video_link(event.video_link)
        if video_link and video_link != appointment.video_link:
            # The provider filled in the meeting the CRM asked for: not a change to push back.
            update = AppointmentUpdate(appointment, {"video_link": video_link}, touch=False)
            appointment_apply_calendar_changes(changes=CalendarChanges(update=[update]))
        link, _ = EventLink.objects.update_or_create(
            connection=connection,
            provider_event_id=event.id,
            defaults={
                "appointment": appointment,
                "ical_uid": event.ical_uid[:1024],
                "etag": event.etag[:255],
                "provider_updated": event.updated,
                "title": event.title[:255],
                "start": event.start,
                "skip_reason": "",
                "skip_detail": "",
                "synced_hash": fieldmap.event_hash(event),
                "crm_updated_at": crm_updated_at,
                # What the CRM wrote: its participants and the digest of the rest.
                **(
                    {"crm_attendees": written[0], "crm_fingerprint": written[1]}
                    if written is not None
                    else {}
                ),
                "web_link": mapping.safe_web_link(event.web_link),
            },
        )
        ExportFailure.objects.filter(appointment=appointment, connection=connection).delete()
    return link


def record_failure(
    appointment: Appointment,
    connection: CalendarConnection,
    crm_updated_at: dt.datetime,
    error: str,
) -> str:
    """Keep why this version of the appointment did not reach the calendar (its sync state
    reads "failed"); a sweep after a later sync tries again, backing off (rules.export_retry_delay)
    while it keeps failing."""
    now = timezone.now()
    with transaction.atomic():
        failure, created = ExportFailure.objects.select_for_update().get_or_create(
            appointment=appointment,
            connection=connection,
            defaults={"crm_updated_at": crm_updated_at, "error": error, "failed_at": now},
        )
        failure.attempts = 1 if created else failure.attempts + 1
        failure.crm_updated_at, failure.error, failure.failed_at = crm_updated_at, error, now
        failure.retry_at = now + rules.export_retry_delay(failure.attempts)
        failure.save()
    return error


def _nothing_to_push(
    link: EventLink, draft: EventDraft, changed_fields: Iterable[str] | None
) -> bool:
    """The event already has what the CRM would write (only CRM-side fields changed)."""
    if link.crm_fingerprint == fieldmap.fingerprint(draft) and link.crm_attendees == participants(
        draft
    ):
        return True
    return not touches_event(changed_fields, EVENT_FIELDS)


def export_to(
    appointment: Appointment,
    connection: CalendarConnection,
    *,
    adapter: CalendarAdapter | None = None,
    now: dt.datetime | None = None,
    changed_fields: Iterable[str] | None = None,
) -> str:
    """Push one appointment to its organizer's calendar. Returns what happened, in words.

    ``changed_fields`` (from ``appointment_changed``; None when unknown) lets an update that
    touches nothing on the event skip the provider entirely."""
    now = now or timezone.now()
    link = EventLink.objects.filter(connection=connection, appointment=appointment).first()
    reason = rules.export_skip_reason(
        appointment, connection, now, sync_window(now), linked=link is not None
    )
    if reason:
        return reason
    if appointment.cancelled_at is not None:
        return "cancelled in the calendar"
    if link is not None and link.crm_updated_at and appointment.updated_at <= link.crm_updated_at:
        return "unchanged"  # includes every appointment the import just wrote: no echo
    draft = build_draft(appointment, connection)
    crm_updated_at = appointment.updated_at
    written = (participants(draft), fieldmap.fingerprint(draft))
    if link is not None and _nothing_to_push(link, draft, changed_fields):
        if link.crm_fingerprint == written[1]:  # known in sync: nothing pending
            EventLink.objects.filter(pk=link.pk).update(
                crm_updated_at=crm_updated_at, updated_at=timezone.now()
            )
        return "nothing on the event changed"
    adapter = adapter or get_adapter(connection)
    if link is not None:
        _, error = guarded(
            connection,
            lambda: plan_attendees(adapter, connection, link, draft, changed_fields),
            parks=False,
        )
        if error:
            return record_failure(appointment, connection, crm_updated_at, error)
    event, error = guarded(
        connection, lambda: _write(adapter, appointment, link, draft), parks=False
    )
    if error:
        return record_failure(appointment, connection, crm_updated_at, error)
    if event is None:
        request_sync(connection.pk, trigger="conflict")
        return "provider won the conflict"
    save_link(connection, appointment, crm_updated_at, event, written)
    return "updated" if link else "created"


def _load(appointment_id: int) -> Appointment | None:
    return (
        Appointment.objects.filter(pk=appointment_id)
        .prefetch_related("attendees")
        .select_related("organizer")
        .first()
    )


def export_appointment(appointment_id: int, changed_fields: list[str] | None = None) -> str:
    """The task body. A deleted appointment leaves its calendar event alone (spec)."""
    appointment = _load(appointment_id)
    if appointment is None:
        return "deleted in the CRM: the calendar event stays"
    connection = organizer_connection(appointment.organizer_id)
    if connection is None:
        return "organizer has no active calendar connection"
    return export_to(appointment, connection, changed_fields=changed_fields)


def _upcoming(connection: CalendarConnection, now: dt.datetime):  # noqa: ANN202
    return Appointment.objects.filter(
        organizer_id=connection.user_id,
        start__gte=now,
        locked=False,
        details_hidden=False,
        cancelled_at__isnull=True,
    )


def _backing_off(connection: CalendarConnection, now: dt.datetime):  # noqa: ANN202
    """Appointments whose last push failed and whose next try is not due yet."""
    return ExportFailure.objects.filter(connection=connection, retry_at__gt=now).values(
        "appointment_id"
    )


def _unlinked_in_window(connection: CalendarConnection, now: dt.datetime):  # noqa: ANN202
    linked = EventLink.objects.filter(connection=connection, appointment__isnull=False)
    upcoming = _upcoming(connection, now).filter(start__lt=sync_window(now)[1])
    return upcoming.exclude(pk__in=linked.values("appointment_id"))


def appointments_pending(connection: CalendarConnection, now: dt.datetime):  # noqa: ANN201
    """What the sweep after every sync pushes: upcoming appointments with an event whose CRM
    changes have not reached it (wherever they are: the window does not limit updates), and
    appointments booked in the CRM, upcoming in the window, that have no event yet — a first
    push that failed, was interrupted or never ran. One whose last push failed waits for its
    retry time (rules.export_retry_delay)."""
    # A link the import made while the CRM's later change won (crm_updated_at unset: a killed
    # worker's event found again) still owes the calendar that change.
    changed = EventLink.objects.filter(connection=connection, appointment__isnull=False).filter(
        Q(crm_updated_at__isnull=True) | Q(appointment__updated_at__gt=F("crm_updated_at"))
    )
    first_push = _unlinked_in_window(connection, now).filter(source=Source.CRM)
    pending = _upcoming(connection, now).filter(pk__in=changed.values("appointment_id"))
    return (pending | first_push).exclude(pk__in=_backing_off(connection, now))


def appointments_to_push(connection: CalendarConnection, now: dt.datetime):  # noqa: ANN201
    """The organizer's upcoming appointments in the window that have no event yet (whatever
    their source: at activation and daily), and the pending ones."""
    new = _unlinked_in_window(connection, now)
    return (new | appointments_pending(connection, now)).prefetch_related("attendees")


def _export_all(connection: CalendarConnection, appointments, now: dt.datetime) -> dict:  # noqa: ANN001
    adapter: CalendarAdapter | None = None
    outcomes: dict[str, int] = {}
    for appointment in appointments:
        adapter = adapter or get_adapter(connection)
        outcome = export_to(appointment, connection, adapter=adapter, now=now)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if connection.state != ConnectionState.ACTIVE:
            break
    return outcomes


def export_window(connection: CalendarConnection, *, now: dt.datetime | None = None) -> dict:
    """Push every upcoming appointment of the window without an event (activation, and daily
    for appointments that have just entered the window), and re-push pending changes.
    Appointments created before the activation go without attendees (spec)."""
    now = now or timezone.now()
    return _export_all(connection, appointments_to_push(connection, now), now)


def export_pending_after(run: SyncRun | None, connection_id: int) -> dict[str, int]:
    """After a sync (the worker's, ``sync_calendars``): push the CRM changes still pending, so
    a push that failed heals; what was written is counted in the run."""
    if run is None:
        return {}
    # The connection as the run left it; re-read only when the run failed (it may be parked).
    connection = (
        CalendarConnection.objects.select_related("user").filter(pk=connection_id).first()
        if run.error
        else run.connection
    )
    if connection is None or not connection.is_active:
        return {}
    exported, _ = guarded(connection, lambda: export_pending(connection))
    record_exports(run, exported)
    return exported or {}


def export_pending(connection: CalendarConnection, *, now: dt.datetime | None = None) -> dict:
    """After every sync (the 10-minute poll, pushes): pushes that failed or never ran heal."""
    now = now or timezone.now()
    pending = appointments_pending(connection, now).prefetch_related("attendees")
    return _export_all(connection, pending, now)
