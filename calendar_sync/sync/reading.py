"""Import, step 1 of 3 (read → ``planning`` → apply in ``importer``): everything a page of
events needs from the database, read up front in a few queries whatever the page's size."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from appointments.models import Appointment, Attendee
from contacts.selectors import contacts_by_emails, sync_directory, users_by_emails
from upsales_crm import lookups  # noqa: F401 - registers ``__any``

from ..models import EventLink, ExclusionEntry
from ..providers.base import ChangePage, ExternalEvent
from . import rules
from .context import SyncContext
from .meetings import meeting_key


@dataclass
class PageData:
    users: dict[str, Any]  # CRM users on the page, by address (login or alias)
    contacts: dict[str, Any]  # contacts on the page, by address
    links: dict[str, EventLink]  # this connection's links of the page's events, by event id
    merge: dict[tuple[str, str], int]  # the same meeting's appointment in other calendars
    appointments: dict[int, Appointment]
    attendees: dict[int, list[Attendee]]
    series_links: dict[str, list[EventLink]]  # instances of the page's deleted series
    # Appointments another connection's link also points at (read only when events are gone).
    shared: set[int] = field(default_factory=set)
    # Occurrences already logged per series of the page's new instances (``rules.series_capped``).
    series_logged: dict[str, int] = field(default_factory=dict)


def read_directory(ctx: SyncContext) -> None:
    """The user directory the page's classification needs (``contacts.selectors
    .sync_directory``), the connected account's address among the rep's, once a sync."""
    if ctx.directory is None:
        directory = sync_directory(ctx.connection.user_id)
        directory.addresses.add(rules.normalize(ctx.connection.account_email))
        ctx.directory = directory


def read_exclusions(ctx: SyncContext) -> None:
    """The rep's and the organisation's exclusion lists, once a sync."""
    if ctx.exclusions is None:
        ctx.exclusions = rules.exclusions_from(exclusion_values(ctx.connection.user_id))


def exclusion_values(user_id: int) -> list[str]:
    """The normalised exclusion entries that apply to the rep's calendar (theirs and the
    organisation's), in one query (``rules.exclusions_from`` makes them matchable)."""
    rows = ExclusionEntry.objects.filter(Q(owner_id=user_id) | Q(owner__isnull=True))
    return list(rows.values_list("value", flat=True))


def page_addresses(events: Iterable[ExternalEvent]) -> set[str]:
    found: set[str] = set()
    for ev in events:
        found.add(rules.normalize(ev.organizer_email))
        # getattr: a malformed attendee is the per-event planner's to report, not ours
        found.update(rules.normalize(getattr(a, "email", "")) for a in ev.attendees or [])
    found.discard("")
    return found


def gone_ids(page: ChangePage) -> list[str]:
    """The page's events that were cancelled or deleted."""
    return [ev.id for ev in page.events if ev.cancelled] + list(page.removed_ids)


def _links(ctx: SyncContext, page: ChangePage) -> dict[str, EventLink]:
    ids = [ev.id for ev in page.events] + list(page.removed_ids)
    rows = EventLink.objects.filter(connection=ctx.connection, provider_event_id__any=ids)
    return {link.provider_event_id: link for link in rows}


def _merge(ctx: SyncContext, events: list[ExternalEvent]) -> dict[tuple[str, str], int]:
    uids = {ev.ical_uid for ev in events if ev.ical_uid}
    if not uids:
        return {}
    rows = (
        EventLink.objects.filter(ical_uid__any=uids, appointment__isnull=False)
        .exclude(connection=ctx.connection)
        .values_list("ical_uid", "original_start", "appointment_id")
    )
    return {meeting_key(uid, start): appt_id for uid, start, appt_id in rows}


def _series_links(ctx: SyncContext, gone: list[str]) -> dict[str, list[EventLink]]:
    found: dict[str, list[EventLink]] = {}
    if gone:
        rows = EventLink.objects.filter(
            connection=ctx.connection, series_id__any=gone, appointment__isnull=False
        )
        for link in rows:
            found.setdefault(link.series_id, []).append(link)
    return found


def _series_logged(
    ctx: SyncContext, page: ChangePage, links: dict[str, EventLink]
) -> dict[str, int]:
    """How many occurrences of each series with a not yet linked instance on the page are
    already appointments (one query, and only when such an instance is on the page)."""
    series = {
        ev.series_id
        for ev in page.events
        if ev.series_id and not getattr(links.get(ev.id), "appointment_id", None)
    }
    if not series or not ctx.series_cap:
        return {}
    rows = (
        EventLink.objects.filter(
            connection=ctx.connection, series_id__any=series, appointment__isnull=False
        )
        .values("series_id")
        .annotate(n=Count("id"))
        .values_list("series_id", "n")
    )
    return dict(rows)


def _appointment_ids(
    events: list[ExternalEvent],
    links: Iterable[EventLink],
    merge: dict[tuple[str, str], int],
    series_links: dict[str, list[EventLink]],
) -> set[int]:
    """Every appointment the page's events may be: linked, merged, written by us, in a series."""
    linked = [*links, *(link for group in series_links.values() for link in group)]
    ids = {link.appointment_id for link in linked if link.appointment_id}
    ids |= set(merge.values())
    return ids | {int(ev.crm_id) for ev in events if ev.crm_id.isdigit()}


def _shared(ctx: SyncContext, gone: list[str], appointment_ids: set[int]) -> set[int]:
    if not gone or not appointment_ids:
        return set()
    rows = (
        EventLink.objects.filter(appointment_id__in=appointment_ids)
        .exclude(connection=ctx.connection)
        .values_list("appointment_id", flat=True)
    )
    return set(rows)


def _appointments(ids: set[int]) -> tuple[dict[int, Appointment], dict[int, list[Attendee]]]:
    if not ids:
        return {}, {}
    appointments = {a.pk: a for a in Appointment.objects.filter(pk__in=ids)}
    attendees: dict[int, list[Attendee]] = {}
    for row in Attendee.objects.filter(appointment_id__in=ids):
        attendees.setdefault(row.appointment_id, []).append(row)
    return appointments, attendees


def _people(ctx: SyncContext, addresses: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Users and contacts by address. A user is found by any of their addresses, a free-mail
    one included (``rules.colleague_domains``); an address with a user domain is a user's or a
    colleague's, never looked up (or shown) as a contact; nor is an excluded one. The rep's
    own addresses are the rep's (``rules.is_rep``): looked up neither as a user nor as a
    contact. An address at a domain no user has an address at is not looked up as a user."""
    addresses = addresses - ctx.rep_addresses
    users = users_by_emails(a for a in addresses if a.rpartition("@")[2] in ctx.address_domains)
    internal = {a for a in addresses if rules.has_user_domain(a, ctx.user_domains)}
    outside = addresses - internal - users.keys()
    # An excluded external is never matched to a contact (``rules.is_excluded``).
    exclusions = ctx.exclusions or rules.Exclusions()
    excluded = {a for a in outside if rules.is_excluded(a, exclusions)}
    return users, contacts_by_emails(outside - excluded)


def load_page_data(ctx: SyncContext, page: ChangePage) -> PageData:
    links = _links(ctx, page)
    merge = _merge(ctx, page.events)
    gone = gone_ids(page)
    series_links = _series_links(ctx, gone)
    ids = _appointment_ids(page.events, links.values(), merge, series_links)
    appointments, attendees = _appointments(ids)
    users, contacts = _people(ctx, page_addresses(page.events))
    return PageData(
        users=users,
        contacts=contacts,
        links=links,
        merge=merge,
        appointments=appointments,
        attendees=attendees,
        series_links=series_links,
        shared=_shared(ctx, gone, ids),
        series_logged=_series_logged(ctx, page, links),
    )


def read_winners(data: PageData, ids: set[int], just_made: set[int]) -> dict[int, Appointment]:
    """Appointments that claimed a meeting after the page was read (``meetings.claim``), added
    to the page's data with their attendees (none to read for those the page just made)."""
    winners = {a.pk: a for a in Appointment.objects.filter(pk__in=ids)}
    for row in Attendee.objects.filter(appointment_id__in=set(winners) - just_made):
        data.attendees.setdefault(row.appointment_id, []).append(row)
    data.appointments.update(winners)
    return winners
