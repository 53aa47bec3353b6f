"""Import, step 2 of 3 (``reading`` → plan → apply in ``importer``): what each event of a page
means for the CRM, decided without a query.

Each event gets exactly one ``Outcome``: create, update, cancel, delete, decline, or a skip
(unchanged, the CRM's later change kept, or a ``SkipReason``). What the appointments get is
planned as ``appointments.calendar_changes`` data; every event leaves an ``EventLinkRow``, so the
status page can count skips by reason and the next sync knows the event.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from appointments.calendar_changes import (
    AppointmentUpdate,
    AttendeeRow,
    CalendarChanges,
    NewAppointment,
)
from appointments.models import Appointment, Attendee, AttendeeKind, Response, Source
from upsales_crm.bulk import build

from ..models import EventLink
from ..providers.base import ChangePage, ExternalEvent
from . import fieldmap, mapping, rules
from .context import SyncContext
from .meetings import meeting_key
from .reading import PageData
from .rows import EventLinkRow
from .rules import SkipReason

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    CANCEL = "cancel"
    DELETE = "delete"
    DECLINE = "decline"
    UNCHANGED = "unchanged"  # an echo: what the sync last wrote or read
    CRM_WON = "crm_won"  # the CRM's later change is being exported over it
    SKIP = "skip"  # with a SkipReason on its link


@dataclass
class PagePlan:
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # event id -> its one outcome
    links: dict[str, EventLinkRow] = field(default_factory=dict)
    new: list[tuple[ExternalEvent, NewAppointment]] = field(default_factory=list)
    updated: dict[int, AppointmentUpdate] = field(default_factory=dict)
    desired_attendees: dict[int, list[AttendeeRow]] = field(default_factory=dict)
    cancel: set[int] = field(default_factory=set)
    delete: set[int] = field(default_factory=set)
    responses: dict[int, str] = field(default_factory=dict)  # attendee id -> answer (declines)
    detach: set[int] = field(default_factory=set)  # pks of stored links let go of their meeting
    stats: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


def _pk(obj: Any) -> Any:
    return None if obj is None else obj.pk


def _attendee_key(row: Attendee | AttendeeRow) -> tuple[str, Any]:
    if row.kind == AttendeeKind.USER:
        return ("user", row.user_id)
    if row.kind == AttendeeKind.CONTACT:
        return ("contact", row.contact_id)
    return ("external", row.email)


def _attendee_row(ctx: SyncContext, data: PageData, cls: rules.Classification, email: str) -> Any:
    """The row a participant becomes (None: a colleague or an excluded external, never
    stored)."""
    user = data.users.get(email)
    if user is not None:
        return AttendeeRow(AttendeeKind.USER, email, "", "", user_id=user.pk)
    if email in cls.colleagues or email in cls.excluded:
        return None
    contact = data.contacts.get(email)
    if contact is not None:
        return AttendeeRow(AttendeeKind.CONTACT, email, "", "", contact_id=contact.pk)
    return AttendeeRow(AttendeeKind.EXTERNAL, email, "", "")


def desired_attendees(
    ctx: SyncContext,
    ev: ExternalEvent,
    cls: rules.Classification,
    data: PageData,
    organizer_id: int,
) -> tuple[list[AttendeeRow], dict[str, Any]]:
    """Attendee rows for the event (organizer left out, colleagues not shown), and the matched
    contacts by address in attendee order."""
    rows: list[AttendeeRow] = []
    seen: set[tuple[str, Any]] = set()
    matched: dict[str, Any] = {}
    for person in cls.participants:
        email = rules.normalize(person.email)
        if rules.is_rep(person, ctx.rep_addresses):
            row = AttendeeRow(AttendeeKind.USER, email, "", "", user_id=ctx.connection.user_id)
        else:
            row = _attendee_row(ctx, data, cls, email)
        if row is None or (row.user_id is not None and row.user_id == organizer_id):
            continue
        key = _attendee_key(row)
        if row.contact_id is not None:
            matched.setdefault(email, data.contacts[email])
        if key in seen:
            continue
        seen.add(key)
        row.name, row.response = (
            mapping.clip(person.name, 200),
            mapping.response_for(person.response),
        )
        rows.append(row)
    return rows, matched


def _hide_details(values: dict[str, Any]) -> dict[str, Any]:
    """A private event's appointment without its details (``fieldmap.hidden_values``)."""
    return {**values, **fieldmap.hidden_values(), "details_hidden": True}


def _contacts_and_users(rows: list[AttendeeRow]) -> list[AttendeeRow]:
    """A private appointment keeps the contacts and users it matched, no other addresses."""
    return [r for r in rows if r.kind != AttendeeKind.EXTERNAL]


def _new_appointment(
    ctx: SyncContext, ev: ExternalEvent, cls: rules.Classification, *, hidden: bool = False
) -> Appointment:
    conn = ctx.connection
    locked, invited_by = rules.is_locked_invitation(cls)
    appointment = build(
        Appointment,
        appointment_type_id=conn.appointment_type_id or 0,  # active connections have one
        organizer_id=conn.user_id,
        source=conn.provider,
        locked=locked,
        lock_invited_by=mapping.clip(invited_by, 254),
    )
    values = hide_excluded_organizer(fieldmap.crm_values(ev, appointment), cls)
    for name, value in (_hide_details(values) if hidden else values).items():
        setattr(appointment, name, value)
    return appointment


def hide_excluded_organizer(values: dict[str, Any], cls: rules.Classification) -> dict[str, Any]:
    """An organizer on an exclusion list is not shown as who invited the rep either (the
    appointment stays an invitation from outside: locked)."""
    if cls.organizer_email in cls.excluded and "invited_by_email" in values:
        values["invited_by_email"], values["invited_by_name"] = "", ""
    return values


def _link(ctx: SyncContext, ev: ExternalEvent, existing: EventLink | None) -> EventLinkRow:
    """The event's link as the page leaves it (upserted, so a stored one is overwritten)."""
    return EventLinkRow(
        connection_id=ctx.connection.pk,
        provider_event_id=ev.id,
        ical_uid=mapping.clip(ev.ical_uid, 1024),
        series_id=mapping.clip(ev.series_id, 1024),
        original_start=ev.original_start,
        etag=mapping.clip(ev.etag, 255),
        provider_updated=ev.updated,
        title=mapping.clip(ev.title, 255),
        start=ev.start,
        synced_hash=_hash_or_blank(ev),
        web_link=mapping.safe_web_link(ev.web_link),
        crm_updated_at=existing.crm_updated_at if existing is not None else None,
        appointment_id=existing.appointment_id if existing is not None else None,
    )


def _hash_or_blank(ev: ExternalEvent) -> str:
    try:
        return fieldmap.event_hash(ev)
    except (AttributeError, TypeError):  # malformed: no hash, so it is looked at again
        return ""


def removed_stub(event_id: str, link: EventLink) -> ExternalEvent:
    """A deletion without a body (Graph ``@removed``): what we know comes from the link."""
    return ExternalEvent(
        id=event_id,
        ical_uid=link.ical_uid,
        title=link.title,
        start=link.start,
        end=link.start,
        cancelled=True,
        series_id=link.series_id,
        original_start=link.original_start,
    )


class PagePlanner:
    def __init__(self, ctx: SyncContext, data: PageData) -> None:
        self.ctx, self.data, self.plan = ctx, data, PagePlan()

    # --- what the page has made of an appointment so far ---------------------------------------
    def current(self, appointment: Appointment, attname: str) -> Any:
        """An attribute of the appointment as the page leaves it (planned, not written yet)."""
        update = self.plan.updated.get(appointment.pk)
        if update is not None and attname in update.values:
            return update.values[attname]
        return getattr(appointment, attname)

    def target(self, ev: ExternalEvent, link: EventLink | None) -> Appointment | None:
        """The appointment this event already is: its link, the CRM id we wrote, or the same
        meeting imported through another rep's calendar."""
        appts = self.data.appointments
        if link is not None and link.appointment_id in appts:
            return appts[link.appointment_id]
        if ev.crm_id.isdigit() and int(ev.crm_id) in appts:
            return appts[int(ev.crm_id)]
        appt_id = self.data.merge.get(meeting_key(ev.ical_uid, ev.original_start))
        return appts.get(appt_id) if appt_id else None

    def classify(self, ev: ExternalEvent) -> rules.Classification:
        return rules.classify_event(
            ev,
            rep_addresses=self.ctx.rep_addresses,
            user_emails=self.data.users.keys(),
            user_domains=self.ctx.user_domains,
            exclusions=self.ctx.exclusions,
        )

    # --- outcomes --------------------------------------------------------------------------------
    def keep_link(
        self, ev: ExternalEvent, link: EventLink | None, appointment: Appointment | None
    ) -> EventLinkRow:
        row = _link(self.ctx, ev, link)
        row.appointment_id = _pk(appointment)
        self.plan.links[ev.id] = row
        return row

    def skip(
        self,
        ev: ExternalEvent,
        link: EventLink | None,
        reason: SkipReason,
        detail: str = "",
        appointment: Appointment | None = None,
    ) -> None:
        row = self.keep_link(ev, link, appointment)
        row.skip_reason, row.skip_detail = reason.value, mapping.clip(detail, 255)
        self.plan.skipped[reason.value] += 1
        self.plan.outcomes[ev.id] = Outcome.SKIP

    def event(self, ev: ExternalEvent) -> None:
        link = self.data.links.get(ev.id)
        if ev.unreadable:  # the adapter could not map it: record why, keep a known appointment
            return self.skip(ev, link, SkipReason.MALFORMED, ev.unreadable, self.target(ev, link))
        mapping.crm_all_day(ev)  # before anything reads its bounds: the window, the hash, the apply
        # Skipped events are always looked at again: the window moves and people change.
        if link is not None and link.appointment_id:
            if rules.is_echo(link, fieldmap.event_hash(ev)):
                self.plan.stats["unchanged"] += 1
                self.plan.outcomes[ev.id] = Outcome.UNCHANGED
                return None
        if link is not None and link.skip_reason == SkipReason.DELETED_IN_CRM:
            # Deleted in the CRM: stays deleted, whatever the calendar does with the event.
            return self.skip(ev, link, SkipReason.DELETED_IN_CRM)
        if rules.made_for_a_deleted_appointment(ev, link, self.data.appointments):
            # Ours, but its link was never saved (a worker killed) and the CRM deleted it since.
            return self.skip(ev, link, SkipReason.DELETED_IN_CRM)
        appointment = self.target(ev, link)
        if ev.cancelled:
            return self.cancelled(ev, link, appointment)
        return self.live(ev, link, appointment)

    def live(
        self, ev: ExternalEvent, link: EventLink | None, appointment: Appointment | None
    ) -> None:
        cls = self.classify(ev)
        reason = rules.skip_reason(
            ev,
            cls,
            window=self.ctx.window,
            known=appointment is not None,
            all_day_recurring_supported=self.ctx.all_day_recurring_supported,
        )
        if reason is not None:
            return self.skip(ev, link, reason, appointment=appointment)
        if appointment is None:
            treatment = rules.private_event_treatment(ev.private, self.ctx.private_events)
            if treatment is rules.PrivateTreatment.SKIP:
                self.skip(ev, link, SkipReason.PRIVATE)
                self.plan.links[ev.id].title = ""  # what it is called stays in the calendar
                return None
            return self.create(ev, link, cls, hidden=treatment is not rules.PrivateTreatment.LOG)
        return self.update(ev, link, cls, appointment)

    def hides_details(self, ev: ExternalEvent, appointment: Appointment, own: bool) -> bool:
        """Whether an update keeps the appointment without its details: by the rep's setting
        for their own appointment; as it is for one another calendar's copy updates."""
        if not own:
            return bool(self.current(appointment, "details_hidden"))
        treatment = rules.private_event_treatment(
            ev.private,
            self.ctx.private_events,
            known=True,
            crm_booked=appointment.source == Source.CRM,
        )
        return treatment is rules.PrivateTreatment.HIDE_DETAILS

    def create(
        self,
        ev: ExternalEvent,
        link: EventLink | None,
        cls: rules.Classification,
        *,
        hidden: bool = False,
    ) -> None:
        logged = self.data.series_logged
        if rules.series_capped(ev.series_id, logged.get(ev.series_id, 0), self.ctx.series_cap):
            return self.skip(ev, link, SkipReason.SERIES_CAPPED)
        if ev.series_id:
            logged[ev.series_id] = logged.get(ev.series_id, 0) + 1
        appointment = _new_appointment(self.ctx, ev, cls, hidden=hidden)
        rows, matched = desired_attendees(self.ctx, ev, cls, self.data, self.ctx.connection.user_id)
        appointment.company_id = rules.choose_company(matched, cls.organizer_email)
        self.plan.links[ev.id] = _link(self.ctx, ev, link)
        if hidden:
            rows = _contacts_and_users(rows)
            self.plan.links[ev.id].title = ""
        self.plan.new.append((ev, NewAppointment(appointment, rows)))
        self.plan.stats["created"] += 1
        self.plan.outcomes[ev.id] = Outcome.CREATE

    def crm_wins(self, ev: ExternalEvent, link: EventLink | None, appointment: Appointment) -> bool:
        """The CRM changed the appointment after the event, and that change is exported."""
        crm_changed_since = link is None or (
            link.crm_updated_at is None or appointment.updated_at > link.crm_updated_at
        )
        return (
            crm_changed_since
            and rules.resolve_conflict(ev.updated, appointment.updated_at) == "crm"
            and rules.crm_version_is_exported(appointment, self.ctx.now, self.ctx.window)
        )

    def update(
        self,
        ev: ExternalEvent,
        link: EventLink | None,
        cls: rules.Classification,
        appointment: Appointment,
    ) -> None:
        row = self.keep_link(ev, link, appointment)
        if self.crm_wins(ev, link, appointment):
            # The CRM's later change wins; its export (already queued) overwrites the event.
            # The previous hash stays, so this version is looked at again until that lands.
            row.synced_hash = link.synced_hash if link is not None else ""
            self.plan.stats["conflicts_crm_won"] += 1
            self.plan.outcomes[ev.id] = Outcome.CRM_WON
            return
        rows, matched = desired_attendees(self.ctx, ev, cls, self.data, appointment.organizer_id)
        own_calendar = appointment.organizer_id == self.ctx.connection.user_id
        values = fieldmap.crm_values(ev, appointment, own_calendar=own_calendar)
        if self.hides_details(ev, appointment, own_calendar):
            values, rows = _hide_details(values), _contacts_and_users(rows)
            row.title = ""
        elif own_calendar:
            values["details_hidden"] = False  # back in full: the setting or the event changed
        values = hide_excluded_organizer(values, cls)
        if self.current(appointment, "company_id") is None:
            values["company_id"] = rules.choose_company(matched, cls.organizer_email)
        previous = self.plan.updated.get(appointment.pk)
        values = {**previous.values, **values} if previous is not None else values
        self.plan.updated[appointment.pk] = AppointmentUpdate(appointment, values)
        self.plan.desired_attendees[appointment.pk] = rows
        self.plan.stats["updated"] += 1
        self.plan.outcomes[ev.id] = Outcome.UPDATE

    def owns(self, appointment_id: int) -> bool:
        """Whether this calendar's copy going away may cancel the appointment: it is the
        organizer's, or no other calendar's link still holds the meeting."""
        appointment = self.data.appointments.get(appointment_id)
        if appointment is None or appointment.organizer_id == self.ctx.connection.user_id:
            return True
        return appointment_id not in self.data.shared

    def decline(self, appointment_id: int) -> None:
        """An invited user's copy went away: they declined (or were removed). They stay a
        participant (spec: "the person will not disappear"), answering "declined"."""
        user_id = self.ctx.connection.user_id
        for row in self.data.attendees.get(appointment_id, []):
            if row.kind == AttendeeKind.USER and row.user_id == user_id:
                if row.response != Response.DECLINED:
                    self.plan.responses[row.pk] = Response.DECLINED
        self.plan.stats["declined"] += 1

    def series_left(self, ev: ExternalEvent) -> list[EventLink]:
        """The deleted series' instances that may go with it; the others are declined (an
        invited user's copies) and their links let go of the meeting."""
        series = self.data.series_links.get(ev.id, [])
        for lk in series:
            if lk.appointment_id and not self.owns(lk.appointment_id):
                self.decline(lk.appointment_id)
                self.plan.detach.add(lk.pk)
        return [lk for lk in series if lk.pk not in self.plan.detach]

    def cancelled(
        self, ev: ExternalEvent, link: EventLink | None, appointment: Appointment | None
    ) -> None:
        if appointment is None and not self.data.series_links.get(ev.id):
            return self.skip(ev, link, SkipReason.CANCELLED_UNKNOWN)
        series = self.series_left(ev)
        if appointment is not None and not self.owns(appointment.pk):
            self.decline(appointment.pk)
            return self.declined(ev, link)
        if appointment is None and not series:
            return self.declined(ev, link)
        ids = {lk.appointment_id for lk in series if lk.appointment_id}
        ids |= {appointment.pk} if appointment else set()
        if self.deletes(ev, series):
            return self.deleted(ev, link, ids)
        self.keep_link(ev, link, appointment)
        self.cancel(ids)  # a deleted series' instances stay too, cancelled
        self.plan.outcomes[ev.id] = Outcome.CANCEL
        return None

    def declined(self, ev: ExternalEvent, link: EventLink | None) -> None:
        self.skip(ev, link, SkipReason.DECLINED)
        self.plan.outcomes[ev.id] = Outcome.DECLINE

    def deletes(self, ev: ExternalEvent, series: list[EventLink]) -> bool:
        removes = self.ctx.recurring_delete_removes
        return (bool(series) and removes) or rules.should_delete_on_provider_delete(
            ev, recurring_delete_removes=removes
        )

    def deleted(self, ev: ExternalEvent, link: EventLink | None, ids: set[int]) -> None:
        self.plan.delete |= ids
        self.plan.stats["deleted"] += len(ids)
        self.skip(ev, link, SkipReason.DELETED)
        self.plan.outcomes[ev.id] = Outcome.DELETE

    def cancel(self, ids: set[int]) -> None:
        for appt_id in ids:
            appt = self.data.appointments.get(appt_id)
            if appt is None or appt_id in self.plan.cancel:
                continue
            if self.current(appt, "cancelled_at") is None:
                self.plan.cancel.add(appt_id)
                self.plan.stats["cancelled"] += 1

    def removed(self, event_id: str) -> None:
        """A deletion without a body (Graph ``@removed``, a CalDAV resource gone): what we know
        comes from the link, or, for a whole series reported by its id, from its instances'."""
        link = self.data.links.get(event_id)
        if link is None or not link.appointment_id:
            if self.data.series_links.get(event_id):
                stub = ExternalEvent(
                    id=event_id, ical_uid="", title="", start=None, end=None,
                    cancelled=True, is_recurring=True,
                )  # fmt: skip
                self.cancelled(stub, None, None)
            return
        stub = removed_stub(event_id, link)
        self.cancelled(stub, link, self.data.appointments.get(link.appointment_id))

    def malformed(self, ev: ExternalEvent, exc: Exception) -> None:
        link = self.data.links.get(ev.id)
        try:
            self.skip(ev, link, SkipReason.MALFORMED, str(exc))
            # A known event stays linked to its appointment (else its next valid version makes
            # a second one), and gets no hash, so that next version is never taken for an echo.
            row = self.plan.links[ev.id]
            row.appointment_id = link.appointment_id if link is not None else None
            row.synced_hash = ""
        except Exception:  # too broken even to describe: count it and move on
            self.plan.skipped[SkipReason.MALFORMED.value] += 1

    def drop(self, ev: ExternalEvent) -> None:
        """Forget what was planned for an event that failed half-way (it is recorded apart)."""
        self.plan.links.pop(ev.id, None)
        self.plan.outcomes.pop(ev.id, None)
        self.plan.new = [entry for entry in self.plan.new if entry[0] is not ev]


def attendee_changes(plan: PagePlan, data: PageData) -> CalendarChanges:
    """Add, re-answer and (for calendar-born appointments) remove attendees of the updated
    appointments; declines on top. CRM-born appointments keep attendees the calendar does not
    have (e.g. a contact without e-mail, or ones never pushed because the app was installed
    later)."""
    changes = CalendarChanges()
    for appt_id, desired in plan.desired_attendees.items():
        appointment = plan.updated[appt_id].appointment
        current = {_attendee_key(r): r for r in data.attendees.get(appt_id, [])}
        wanted = {_attendee_key(r): r for r in desired}
        for key, row in wanted.items():
            existing = current.get(key)
            if existing is None:
                row.appointment_id = appt_id
                changes.attendees_add.append(row)
            elif existing.response != row.response:
                changes.responses[existing.pk] = row.response
        if appointment.source != Source.CRM:
            changes.attendees_remove |= {
                r.pk for k, r in current.items() if k not in wanted and r.email
            }
    changes.responses.update(plan.responses)
    return changes


def plan_page(ctx: SyncContext, data: PageData, page: ChangePage) -> PagePlanner:
    """Every event of the page to its one outcome; a malformed event does not sink the rest."""
    planner = PagePlanner(ctx, data)
    for ev in page.events:
        try:
            planner.event(ev)
        except Exception as exc:
            log.warning("skipping malformed event %s: %s", ev.id, exc, exc_info=True)
            planner.drop(ev)
            planner.malformed(ev, exc)
    for event_id in page.removed_ids:
        planner.removed(event_id)
    return planner
