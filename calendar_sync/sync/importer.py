"""Calendar → CRM: one page of provider changes becomes appointments, in a constant number of
queries per page, in three steps:

1. read (``reading.load_page_data``): everything the page needs, in a few queries;
2. plan (``planning.plan_page``): each event to exactly one outcome, without a query;
3. apply (here): the appointments through ``appointments.services.
   appointment_apply_calendar_changes`` (the one path every calendar-side change takes), the
   meeting claims, then the event links.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from appointments.calendar_changes import CalendarChanges
from appointments.services import appointment_apply_calendar_changes
from upsales_crm.bulk import insert_rows

from ..models import EventLink
from ..providers.base import ChangePage
from . import meetings, rules
from .context import SyncContext
from .planning import PagePlan, PagePlanner, attendee_changes, plan_page
from .reading import PageData, load_page_data, read_directory, read_exclusions, read_winners
from .rules import SkipReason

__all__ = ["PageData", "PagePlan", "SyncContext", "import_page", "load_page_data", "rules"]

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


def _adopt(planner: PagePlanner, lost: dict[str, int]) -> set[int]:
    """Events whose meeting another import claimed first (it committed after this page was
    read): plan them as that appointment's, as if the page had been read after it. Returns the
    appointments made for them, to drop."""
    plan, data = planner.plan, planner.data
    dropped = [(ev, new) for ev, new in plan.new if ev.id in lost]
    plan.new = [entry for entry in plan.new if entry[0].id not in lost]
    just_made = {new.appointment.pk for _, new in plan.new}
    winners = read_winners(data, set(lost.values()), just_made)
    for ev, _ in dropped:
        plan.stats["created"] -= 1
        winner = winners.get(lost[ev.id])
        if winner is None or winner.pk in just_made:  # gone again, or made by this very page
            plan.links[ev.id].appointment_id = None if winner is None else winner.pk
            continue
        planner.update(ev, data.links.get(ev.id), planner.classify(ev), winner)
    return {new.appointment.pk for _, new in dropped}


def _create(planner: PagePlanner, now: dt.datetime) -> set[int]:
    """New appointments, each claiming its meeting (see ``meetings``). Returns the ones that
    lost their claim, to drop."""
    plan = planner.plan
    created = appointment_apply_calendar_changes(
        changes=CalendarChanges(create=[new for _, new in plan.new]), now=now
    )
    lost = meetings.claim((ev, appt) for (ev, _), appt in zip(plan.new, created, strict=True))
    dropped = _adopt(planner, lost) if lost else set()
    for ev, new in plan.new:
        plan.links[ev.id].appointment_id = new.appointment.pk
        plan.links[ev.id].crm_updated_at = new.appointment.updated_at
    return dropped


def _write_links(plan: PagePlan, now: dt.datetime) -> None:
    if plan.detach:
        EventLink.objects.filter(pk__in=plan.detach).update(
            appointment=None, skip_reason=SkipReason.DECLINED.value, synced_hash="", updated_at=now
        )
    for link in plan.links.values():
        if link.appointment_id in plan.delete:
            link.appointment_id = None
        elif link.appointment_id in plan.updated or link.appointment_id in plan.cancel:
            link.crm_updated_at = now  # what the export compares updated_at with: no echo
    insert_rows(
        EventLink,
        list(plan.links.values()),
        unique_fields=["connection", "provider_event_id"],
        update_fields=LINK_UPDATE_FIELDS,
    )


def apply_plan(planner: PagePlanner) -> None:
    plan, now = planner.plan, timezone.now()
    dropped = _create(planner, now) if plan.new else set()
    changes = attendee_changes(plan, planner.data)
    changes.update = list(plan.updated.values())
    changes.cancel, changes.delete = plan.cancel, plan.delete | dropped
    if changes:
        appointment_apply_calendar_changes(changes=changes, now=now)
    _write_links(plan, now)


def import_page(ctx: SyncContext, page: ChangePage) -> None:
    """Call inside a transaction: the page's writes land together (or not at all)."""
    ctx.stats["pages"] += page.pages
    # A page may list an event twice (Graph delta repeats items): its last version counts.
    page.events = list({ev.id: ev for ev in page.events}.values())
    ctx.stats["fetched"] += len(page.events)
    read_directory(ctx)
    if page.events:
        read_exclusions(ctx)
    planner = plan_page(ctx, load_page_data(ctx, page), page)
    apply_plan(planner)
    ctx.stats.update(planner.plan.stats)
    ctx.skipped.update(planner.plan.skipped)
