"""Calendar → CRM: one page of provider changes becomes appointments, in a constant number of
queries per page (look-ups for the whole page at once, then bulk writes).

Each event gets exactly one outcome: created, updated, unchanged (echo), cancelled, deleted, or
skipped with a reason. Every event leaves an EventLink behind, so the status page can count
skips by reason and the next sync knows the event.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from appointments.models import Appointment, Attendee, AttendeeKind, Response, Source
from contacts.selectors import contacts_by_emails, users_by_emails

from ..models import CalendarConnection, EventLink
from ..providers.base import ChangePage, ExternalEvent
from . import meetings, rules
from .bulk import insert_rows
from .rows import AttendeeRow, EventLinkRow
from .rules import SkipReason
from .tombstones import calendar_deletes

log = logging.getLogger(__name__)

LINK_UPDATE_FIELDS = [
    "appointment",
    "ical_uid",
    "series_id",
    "original_start",
    "etag",
    "provider_updated",
    "title",
    "start",
    "skip_reason",
    "skip_detail",
    "synced_hash",
    "web_link",
    "crm_updated_at",
    "updated_at",
]
APPOINTMENT_SYNC_FIELDS = [
    "title",
    "start",
    "end",
    "all_day",
    "location",
    "agenda",
    "video_link",
    "room_name",
    "room_email",
    "cancelled_at",
    "updated_at",
]


@dataclass
class SyncContext:
    """What stays the same for every page of one sync run."""

    connection: CalendarConnection
    rep_addresses: set[str]
    user_domains: set[str]
    window: tuple[dt.datetime, dt.datetime]
    now: dt.datetime
    # The provider's policy (``engine.PROVIDER_POLICY``); the defaults are Google's.
    recurring_delete_removes: bool = True
    all_day_recurring_supported: bool = False
    stats: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        return {**dict(self.stats), "skipped": dict(self.skipped)}


@dataclass
class PageData:
    """Everything the page needs from the database, read up front in a few queries."""

    users: dict[str, Any]
    contacts: dict[str, Any]
    links: dict[str, EventLink]
    merge: dict[tuple[str, str], int]
    appointments: dict[int, Appointment]
    attendees: dict[int, list[Attendee]]
    series_links: dict[str, list[EventLink]]
    # Appointments another connection's link also points at (read only when events are gone).
    shared: set[int] = field(default_factory=set)


@dataclass
class PagePlan:
    links: dict[str, EventLinkRow] = field(default_factory=dict)
    new: list[tuple[ExternalEvent, Appointment, list[AttendeeRow]]] = field(default_factory=list)
    updated: dict[int, Appointment] = field(default_factory=dict)
    desired_attendees: dict[int, list[AttendeeRow]] = field(default_factory=dict)
    cancel: set[int] = field(default_factory=set)
    delete: set[int] = field(default_factory=set)
    responses: dict[int, Attendee] = field(default_factory=dict)  # re-answered, by pk
    detach: set[int] = field(default_factory=set)  # pks of stored links let go of their meeting


merge_key = meetings.meeting_key


# --- reading ---------------------------------------------------------------------------------
def _page_addresses(events: list[ExternalEvent]) -> set[str]:
    found: set[str] = set()
    for ev in events:
        found.add(rules.normalize(ev.organizer_email))
        # getattr: a malformed attendee is the per-event planner's to report, not ours
        found.update(rules.normalize(getattr(a, "email", "")) for a in ev.attendees or [])
    found.discard("")
    return found


def load_page_data(ctx: SyncContext, page: ChangePage) -> PageData:
    events = page.events
    addresses = _page_addresses(events)
    ids = [ev.id for ev in events] + list(page.removed_ids)
    links = {
        link.provider_event_id: link
        for link in EventLink.objects.filter(connection=ctx.connection, provider_event_id__in=ids)
    }
    uids = {ev.ical_uid for ev in events if ev.ical_uid}
    merge: dict[tuple[str, str], int] = {}
    if uids:
        rows = (
            EventLink.objects.filter(ical_uid__in=uids, appointment__isnull=False)
            .exclude(connection=ctx.connection)
            .values_list("ical_uid", "original_start", "appointment_id")
        )
        merge = {merge_key(uid, start): appt_id for uid, start, appt_id in rows}
    cancelled_ids = [ev.id for ev in events if ev.cancelled] + list(page.removed_ids)
    series_links: dict[str, list[EventLink]] = {}
    if cancelled_ids:
        for link in EventLink.objects.filter(
            connection=ctx.connection, series_id__in=cancelled_ids, appointment__isnull=False
        ):
            series_links.setdefault(link.series_id, []).append(link)
    appointment_ids = {link.appointment_id for link in links.values() if link.appointment_id}
    appointment_ids |= set(merge.values())
    appointment_ids |= {int(ev.crm_id) for ev in events if ev.crm_id.isdigit()}
    appointment_ids |= {
        lk.appointment_id for lks in series_links.values() for lk in lks if lk.appointment_id
    }
    shared: set[int] = set()
    if cancelled_ids and appointment_ids:
        shared = set(
            EventLink.objects.filter(appointment_id__in=appointment_ids)
            .exclude(connection=ctx.connection)
            .values_list("appointment_id", flat=True)
        )
    appointments: dict[int, Appointment] = {}
    attendees: dict[int, list[Attendee]] = {}
    if appointment_ids:
        appointments = {a.pk: a for a in Appointment.objects.filter(pk__in=appointment_ids)}
        for row in Attendee.objects.filter(appointment_id__in=appointment_ids):
            attendees.setdefault(row.appointment_id, []).append(row)
    # A user's address has, by definition, one of the user domains; an address with one of them
    # that is no user's is a colleague, never shown as a contact.
    internal = {a for a in addresses if rules.domain_of(a) in ctx.user_domains}
    return PageData(
        users=users_by_emails(internal),
        contacts=contacts_by_emails(addresses - internal),
        links=links,
        merge=merge,
        appointments=appointments,
        attendees=attendees,
        series_links=series_links,
        shared=shared,
    )


# --- planning (no queries) ---------------------------------------------------------------------
def _room(ev: ExternalEvent) -> tuple[str, str]:
    for a in ev.attendees:
        if a.is_resource:
            return a.name[:255], rules.normalize(a.email)
    if ev.room_emails:
        return "", rules.normalize(ev.room_emails[0])
    return "", ""


def _clip(value: str, size: int) -> str:
    return (value or "")[:size]


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
    rep_id = ctx.connection.user_id
    for person in cls.participants:
        email = rules.normalize(person.email)
        user_id = rep_id if rules.is_rep(person, ctx.rep_addresses) else _pk(data.users.get(email))
        if user_id is not None:
            if user_id == organizer_id:
                continue
            key: tuple[str, Any] = ("user", user_id)
            row = AttendeeRow(AttendeeKind.USER, email, "", "", user_id=user_id)
        elif email in cls.colleagues:
            continue
        elif (contact := data.contacts.get(email)) is not None:
            matched.setdefault(email, contact)
            key = ("contact", contact.pk)
            row = AttendeeRow(AttendeeKind.CONTACT, email, "", "", contact_id=contact.pk)
        else:
            key = ("external", email)
            row = AttendeeRow(AttendeeKind.EXTERNAL, email, "", "")
        if key in seen:
            continue
        seen.add(key)
        row.name, row.response = _clip(person.name, 200), rules.response_for(person.response)
        rows.append(row)
    return rows, matched


def _pk(obj: Any) -> Any:
    return None if obj is None else obj.pk


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ValueError, ZoneInfoNotFoundError):
        return dt.UTC


def crm_all_day(ev: ExternalEvent) -> None:
    """An all-day event's bounds as the CRM shows all-day appointments (``appointments.forms.
    local_bounds``): midnight in the CRM's zone of its calendar dates, the dates read in the
    event's own zone. The adapters give midnight in the event's zone, a day off in another."""
    if not ev.all_day or ev.start is None or ev.end is None:
        return
    own, crm = _zone(ev.timezone), timezone.get_default_timezone()
    first = ev.start.astimezone(own).date()
    after = max(ev.end.astimezone(own).date(), first + dt.timedelta(days=1))
    # In UTC, as the adapters give datetimes: the same instant hashes the same.
    ev.start = dt.datetime.combine(first, dt.time.min, crm).astimezone(dt.UTC)
    ev.end = dt.datetime.combine(after, dt.time.min, crm).astimezone(dt.UTC)


def _apply_event(appointment: Appointment, ev: ExternalEvent) -> None:
    assert ev.start is not None and ev.end is not None
    appointment.title = _clip(ev.title, 255) or "(no title)"
    appointment.start = ev.start
    appointment.end = max(ev.end, ev.start)
    appointment.all_day = ev.all_day
    appointment.location = _clip(ev.location, 255)
    # The body is what the invitees read: the agenda. The description stays the CRM's own.
    appointment.agenda = rules.import_agenda(ev.description or "")
    appointment.video_link = rules.safe_video_link(ev.video_link)
    appointment.room_name, appointment.room_email = _room(ev)
    appointment.cancelled_at = None


def _new_appointment(ctx: SyncContext, ev: ExternalEvent, cls: rules.Classification) -> Appointment:
    conn = ctx.connection
    locked, lock_reason = rules.is_locked_invitation(cls)
    appointment = Appointment(
        appointment_type_id=conn.appointment_type_id or 0,  # active connections have one
        organizer_id=conn.user_id,
        source=conn.provider,
        locked=locked,
        lock_reason=_clip(lock_reason, 255),
    )
    _apply_event(appointment, ev)
    return appointment


def _link(ctx: SyncContext, ev: ExternalEvent, existing: EventLink | None) -> EventLinkRow:
    """The event's link as the page leaves it (upserted, so a stored one is overwritten)."""
    return EventLinkRow(
        connection_id=ctx.connection.pk,
        provider_event_id=ev.id,
        ical_uid=_clip(ev.ical_uid, 1024),
        series_id=_clip(ev.series_id, 1024),
        original_start=ev.original_start,
        etag=_clip(ev.etag, 255),
        provider_updated=ev.updated,
        title=_clip(ev.title, 255),
        start=ev.start,
        synced_hash=_hash_or_blank(ev),
        web_link=rules.safe_web_link(ev.web_link),
        crm_updated_at=existing.crm_updated_at if existing is not None else None,
        appointment_id=existing.appointment_id if existing is not None else None,
    )


def _hash_or_blank(ev: ExternalEvent) -> str:
    try:
        return rules.event_hash(ev)
    except (AttributeError, TypeError):  # malformed: no hash, so it is looked at again
        return ""


class PagePlanner:
    def __init__(self, ctx: SyncContext, data: PageData) -> None:
        self.ctx, self.data, self.plan = ctx, data, PagePlan()

    def target(self, ev: ExternalEvent, link: EventLink | None) -> Appointment | None:
        """The appointment this event already is: its link, the CRM id we wrote, or the same
        meeting imported through another rep's calendar."""
        appts = self.data.appointments
        if link is not None and link.appointment_id in appts:
            return appts[link.appointment_id]
        if ev.crm_id.isdigit() and int(ev.crm_id) in appts:
            return appts[int(ev.crm_id)]
        appt_id = self.data.merge.get(merge_key(ev.ical_uid, ev.original_start))
        return appts.get(appt_id) if appt_id else None

    def skip(
        self,
        ev: ExternalEvent,
        link: EventLink | None,
        reason: SkipReason,
        detail: str = "",
        appointment: Appointment | None = None,
    ) -> None:
        row = _link(self.ctx, ev, link)
        row.appointment_id = _pk(appointment)
        row.skip_reason, row.skip_detail = reason.value, _clip(detail, 255)
        self.plan.links[ev.id] = row
        self.ctx.skipped[reason.value] += 1

    def event(self, ev: ExternalEvent) -> None:
        ctx, link = self.ctx, self.data.links.get(ev.id)
        if ev.unreadable:  # the adapter could not map it: record why, keep a known appointment
            return self.skip(ev, link, SkipReason.MALFORMED, ev.unreadable, self.target(ev, link))
        crm_all_day(ev)  # before anything reads its bounds: the window, the hash, the apply
        # Skipped events are always looked at again: the window moves and people change.
        if link is not None and link.appointment_id and rules.is_echo(link, rules.event_hash(ev)):
            ctx.stats["unchanged"] += 1
            return
        if link is not None and link.skip_reason == SkipReason.DELETED_IN_CRM:
            # Deleted in the CRM: stays deleted, whatever the calendar does with the event.
            return self.skip(ev, link, SkipReason.DELETED_IN_CRM)
        appointment = self.target(ev, link)
        if ev.cancelled:
            return self.cancelled(ev, link, appointment)
        cls = rules.classify_event(
            ev,
            rep_addresses=ctx.rep_addresses,
            user_emails=self.data.users.keys(),
            user_domains=ctx.user_domains,
        )
        reason = rules.skip_reason(
            ev,
            cls,
            window=ctx.window,
            known=appointment is not None,
            all_day_recurring_supported=ctx.all_day_recurring_supported,
        )
        if reason is not None:
            return self.skip(ev, link, reason, appointment=appointment)
        if appointment is None:
            return self.create(ev, link, cls)
        self.update(ev, link, cls, appointment)

    def create(self, ev: ExternalEvent, link: EventLink | None, cls: rules.Classification) -> None:
        appointment = _new_appointment(self.ctx, ev, cls)
        rows, matched = desired_attendees(self.ctx, ev, cls, self.data, self.ctx.connection.user_id)
        appointment.company_id = rules.choose_company(matched, cls.organizer_email)
        self.plan.links[ev.id] = _link(self.ctx, ev, link)
        self.plan.new.append((ev, appointment, rows))
        self.ctx.stats["created"] += 1

    def update(
        self,
        ev: ExternalEvent,
        link: EventLink | None,
        cls: rules.Classification,
        appointment: Appointment,
    ) -> None:
        row = _link(self.ctx, ev, link)
        row.appointment_id = _pk(appointment)
        self.plan.links[ev.id] = row
        crm_changed_since = link is None or (
            link.crm_updated_at is None or appointment.updated_at > link.crm_updated_at
        )
        if (
            crm_changed_since
            and rules.resolve_conflict(ev.updated, appointment.updated_at) == "crm"
            and rules.crm_version_is_exported(appointment, self.ctx.now, self.ctx.window)
        ):
            # The CRM's later change wins; its export (already queued) overwrites the event.
            # The previous hash stays, so this version is looked at again until that lands.
            row.synced_hash = link.synced_hash if link is not None else ""
            self.ctx.stats["conflicts_crm_won"] += 1
            return
        rows, matched = desired_attendees(self.ctx, ev, cls, self.data, appointment.organizer_id)
        _apply_event(appointment, ev)
        if appointment.company_id is None:
            appointment.company_id = rules.choose_company(matched, cls.organizer_email)
        self.plan.updated[appointment.pk] = appointment
        self.plan.desired_attendees[appointment.pk] = rows
        self.ctx.stats["updated"] += 1

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
                    row.response = Response.DECLINED
                    self.plan.responses[row.pk] = row
        self.ctx.stats["declined"] += 1

    def cancelled(
        self, ev: ExternalEvent, link: EventLink | None, appointment: Appointment | None
    ) -> None:
        series = self.data.series_links.get(ev.id, [])
        if appointment is None and not series:
            return self.skip(ev, link, SkipReason.CANCELLED_UNKNOWN)
        for lk in series:
            if lk.appointment_id and not self.owns(lk.appointment_id):
                self.decline(lk.appointment_id)
                self.plan.detach.add(lk.pk)
        series = [lk for lk in series if lk.pk not in self.plan.detach]
        if appointment is not None and not self.owns(appointment.pk):
            self.decline(appointment.pk)
            return self.skip(ev, link, SkipReason.DECLINED)
        if appointment is None and not series:
            return self.skip(ev, link, SkipReason.DECLINED)
        ids = {lk.appointment_id for lk in series if lk.appointment_id}
        ids |= {appointment.pk} if appointment else set()
        removes = self.ctx.recurring_delete_removes
        if (series and removes) or rules.should_delete_on_provider_delete(
            ev, recurring_delete_removes=removes
        ):
            self.plan.delete |= ids
            self.ctx.stats["deleted"] += len(ids)
            return self.skip(ev, link, SkipReason.DELETED)
        row = _link(self.ctx, ev, link)
        row.appointment_id = _pk(appointment)
        self.plan.links[ev.id] = row
        for appt_id in ids:  # a deleted series' instances stay too, cancelled
            appt = self.data.appointments.get(appt_id)
            if appt is not None and appt.cancelled_at is None and appt_id not in self.plan.cancel:
                self.plan.cancel.add(appt_id)
                self.ctx.stats["cancelled"] += 1

    def removed(self, event_id: str) -> None:
        """A deletion without a body (Graph ``@removed``): what we know comes from the link."""
        link = self.data.links.get(event_id)
        if link is None or not link.appointment_id:
            return
        stub = ExternalEvent(
            id=event_id,
            ical_uid=link.ical_uid,
            title=link.title,
            start=link.start,
            end=link.start,
            cancelled=True,
            series_id=link.series_id,
            original_start=link.original_start,
        )
        self.cancelled(stub, link, self.data.appointments.get(link.appointment_id))


# --- writing ---------------------------------------------------------------------------------
def _attendee_key(row: Attendee | AttendeeRow) -> tuple[str, Any]:
    if row.kind == AttendeeKind.USER:
        return ("user", row.user_id)
    if row.kind == AttendeeKind.CONTACT:
        return ("contact", row.contact_id)
    return ("external", row.email)


def _reconcile_attendees(plan: PagePlan, data: PageData) -> None:
    """Add, re-answer and (for calendar-born appointments) remove attendees; a decline keeps
    the participant. CRM-born appointments keep attendees the calendar does not have (e.g. a
    contact without e-mail, or ones never pushed because the app was installed later)."""
    create: list[AttendeeRow] = []
    changed: list[Attendee] = []
    remove: list[int] = []
    for appt_id, desired in plan.desired_attendees.items():
        appointment = plan.updated[appt_id]
        current = {_attendee_key(r): r for r in data.attendees.get(appt_id, [])}
        wanted = {_attendee_key(r): r for r in desired}
        for key, row in wanted.items():
            existing = current.get(key)
            if existing is None:
                row.appointment_id = appt_id
                create.append(row)
            elif existing.response != row.response:
                existing.response = row.response
                changed.append(existing)
        if appointment.source != Source.CRM:
            remove += [r.pk for k, r in current.items() if k not in wanted and r.email]
    if remove:
        Attendee.objects.filter(pk__in=remove).delete()
    if changed:
        Attendee.objects.bulk_update(changed, ["response"])
    insert_rows(Attendee, create)


def _adopt(planner: PagePlanner, lost: dict[str, int]) -> None:
    """Events whose meeting another import claimed first (it committed after this page was
    read): drop the appointments made for them, and plan them as that appointment's, as if the
    page had been read after it."""
    plan, data = planner.plan, planner.data
    dropped = [ev for ev, _, _ in plan.new if ev.id in lost]
    with calendar_deletes():
        Appointment.objects.filter(
            pk__in=[appt.pk for ev, appt, _ in plan.new if ev.id in lost]
        ).delete()
    plan.new = [entry for entry in plan.new if entry[0].id not in lost]
    just_made = {appt.pk for _, appt, _ in plan.new}
    winners = {a.pk: a for a in Appointment.objects.filter(pk__in=set(lost.values()))}
    for row in Attendee.objects.filter(appointment_id__in=set(winners) - just_made):
        data.attendees.setdefault(row.appointment_id, []).append(row)
    data.appointments.update(winners)
    for ev in dropped:
        planner.ctx.stats["created"] -= 1
        winner = winners.get(lost[ev.id])
        link = plan.links[ev.id]
        if winner is None or winner.pk in just_made:  # gone again, or made by this very page
            link.appointment_id = _pk(winner)
            continue
        cls = rules.classify_event(
            ev,
            rep_addresses=planner.ctx.rep_addresses,
            user_emails=data.users.keys(),
            user_domains=planner.ctx.user_domains,
        )
        planner.update(ev, data.links.get(ev.id), cls, winner)


def _create(planner: PagePlanner) -> None:
    """New appointments, each claiming its meeting (see ``meetings``), then their attendees."""
    plan = planner.plan
    created = Appointment.objects.bulk_create([appt for _, appt, _ in plan.new])
    lost = meetings.claim((ev, appt) for (ev, _, _), appt in zip(plan.new, created, strict=True))
    if lost:
        _adopt(planner, lost)
    rows: list[AttendeeRow] = []
    for ev, appt, attendees in plan.new:
        for row in attendees:
            row.appointment_id = appt.pk
        rows += attendees
        plan.links[ev.id].appointment_id = appt.pk
        plan.links[ev.id].crm_updated_at = appt.updated_at
    insert_rows(Attendee, rows)


def write_plan(ctx: SyncContext, planner: PagePlanner) -> None:
    now = timezone.now()
    plan, data = planner.plan, planner.data
    if plan.new:
        _create(planner)
    if plan.updated:
        for appt in plan.updated.values():
            appt.updated_at = now
        Appointment.objects.bulk_update(
            list(plan.updated.values()), [*APPOINTMENT_SYNC_FIELDS, "company"]
        )
        _reconcile_attendees(plan, data)
    if plan.cancel:
        Appointment.objects.filter(pk__in=plan.cancel, cancelled_at__isnull=True).update(
            cancelled_at=now, updated_at=now
        )
    if plan.delete:
        with calendar_deletes():
            Appointment.objects.filter(pk__in=plan.delete).delete()
    if plan.responses:
        Attendee.objects.bulk_update(list(plan.responses.values()), ["response"])
    if plan.detach:
        EventLink.objects.filter(pk__in=plan.detach).update(
            appointment=None, skip_reason=SkipReason.DECLINED.value, synced_hash="", updated_at=now
        )
    if plan.links:
        for link in plan.links.values():
            if link.appointment_id in plan.delete:
                link.appointment_id = None
            elif link.appointment_id in plan.updated or link.appointment_id in plan.cancel:
                link.crm_updated_at = now
        insert_rows(
            EventLink,
            list(plan.links.values()),
            unique_fields=["connection", "provider_event_id"],
            update_fields=LINK_UPDATE_FIELDS,
        )


def _record_malformed(planner: PagePlanner, ev: ExternalEvent, exc: Exception) -> None:
    link = planner.data.links.get(ev.id)
    try:
        planner.skip(ev, link, SkipReason.MALFORMED, str(exc))
        # A known event stays linked to its appointment (else its next valid version makes a
        # second one), and gets no hash, so that next version is never taken for an echo.
        row = planner.plan.links[ev.id]
        row.appointment_id = link.appointment_id if link is not None else None
        row.synced_hash = ""
    except Exception:  # too broken even to describe: count it and move on
        planner.ctx.skipped[SkipReason.MALFORMED.value] += 1


def import_page(ctx: SyncContext, page: ChangePage) -> None:
    """Call inside a transaction: the page's writes land together (or not at all)."""
    ctx.stats["pages"] += 1
    # A page may list an event twice (Graph delta repeats items): its last version counts.
    page.events = list({ev.id: ev for ev in page.events}.values())
    ctx.stats["fetched"] += len(page.events)
    data = load_page_data(ctx, page)
    planner = PagePlanner(ctx, data)
    for ev in page.events:
        try:
            planner.event(ev)
        except Exception as exc:  # a malformed event must not sink the rest of the page
            log.warning("skipping malformed event %s: %s", ev.id, exc, exc_info=True)
            planner.plan.links.pop(ev.id, None)
            planner.plan.new = [entry for entry in planner.plan.new if entry[0] is not ev]
            _record_malformed(planner, ev, exc)
    for event_id in page.removed_ids:
        planner.removed(event_id)
    write_plan(ctx, planner)
