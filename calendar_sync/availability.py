"""Availability ("Tillgänglighet"): busy blocks read live from the provider (Google freeBusy,
Graph getSchedule), including meetings that are not in the CRM and the busy time of the other
calendars the person chose (``busy_calendars``), joined with the CRM appointments the person
takes part in (a colleague's meeting may not be in their calendar), and the next free slots.

Read-only: no transaction is opened around the provider calls. A provider failure becomes a
sentence for the rep on that person's row and never blocks booking.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from .busy_calendars import busy_calendars_drop, chosen_ids
from .models import CalendarConnection, ConnectionState
from .providers import get_adapter
from .providers.base import AuthRevoked, BusyBlock, ProviderError, interactive_calls
from .providers.registry import PROVIDERS

log = logging.getLogger(__name__)

WORK_START = dt.time(8)
WORK_END = dt.time(18)
SLOT_STEP = dt.timedelta(minutes=30)
MAX_RANGE = dt.timedelta(days=31)
MAX_DURATION = dt.timedelta(hours=10)
MAX_PEOPLE = 20
SUGGESTIONS = 5


@dataclass
class PersonAvailability:
    user_id: int
    email: str
    name: str
    busy: list[BusyBlock] = field(default_factory=list)
    # A sentence for the rep; the calendar's busy time is then unknown (only the CRM's shown).
    error: str = ""
    has_calendar: bool = False


@dataclass
class Availability:
    start: dt.datetime
    end: dt.datetime
    duration: dt.timedelta
    people: list[PersonAvailability]
    suggestions: list[tuple[dt.datetime, dt.datetime]]

    @property
    def errors(self) -> list[str]:
        return [p.error for p in self.people if p.error]


@dataclass(frozen=True)
class Conflict:
    person: PersonAvailability
    block: BusyBlock


# --- who may see whose availability ----------------------------------------------------------------
def can_see_availability(actor, user) -> bool:  # noqa: ANN001
    """Yourself, users sharing a team (a permission-less Group) with you, or staff."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        return False
    if actor.pk == user.pk or actor.is_staff or actor.is_superuser:
        return True
    if actor.has_perm("appointments.view_all_appointments"):
        return True
    from appointments.selectors import team_groups

    return team_groups().filter(user=actor).filter(user=user).exists()


def active_connection(user) -> CalendarConnection | None:  # noqa: ANN001
    return (
        CalendarConnection.objects.filter(
            user=user, state=ConnectionState.ACTIVE, appointment_type__isnull=False
        )
        .order_by("-connected_at")
        .first()
    )


def users_with_calendar(user_ids: Iterable[int]) -> set[int]:
    return set(
        CalendarConnection.objects.filter(
            user_id__in=list(user_ids), state=ConnectionState.ACTIVE, appointment_type__isnull=False
        ).values_list("user_id", flat=True)
    )


# --- slots (pure) -----------------------------------------------------------------------------------
def merge_blocks(blocks: Iterable[BusyBlock]) -> list[BusyBlock]:
    merged: list[BusyBlock] = []
    for block in sorted(blocks, key=lambda b: (b.start, b.end)):
        if merged and block.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = BusyBlock(last.start, max(last.end, block.end), last.status)
        else:
            merged.append(block)
    return merged


def overlapping(
    blocks: Iterable[BusyBlock], start: dt.datetime, end: dt.datetime
) -> list[BusyBlock]:
    return [b for b in blocks if b.start < end and start < b.end]


def subtract(blocks: Iterable[BusyBlock], start: dt.datetime, end: dt.datetime) -> list[BusyBlock]:
    """The blocks with [start, end) cut out (an appointment's own event, when it is moved)."""
    out: list[BusyBlock] = []
    for b in blocks:
        if b.end <= start or end <= b.start:
            out.append(b)
            continue
        if b.start < start:
            out.append(BusyBlock(b.start, start, b.status))
        if end < b.end:
            out.append(BusyBlock(end, b.end, b.status))
    return out


def _ceil(value: dt.datetime, step: dt.timedelta) -> dt.datetime:
    midnight = value.replace(hour=0, minute=0, second=0, microsecond=0)
    steps = -((midnight - value) // step)  # ceil division
    return midnight + steps * step


def suggest_slots(
    busy: Iterable[BusyBlock],
    *,
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta,
    tz: dt.tzinfo,
    limit: int = SUGGESTIONS,
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The first free slots of ``duration`` in working hours (08–18 local, weekdays), at
    half-hour starts, not overlapping each other."""
    blocks = merge_blocks(busy)
    slots: list[tuple[dt.datetime, dt.datetime]] = []
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date() and len(slots) < limit:
        if day.weekday() < 5:
            day_start = dt.datetime.combine(day, WORK_START, tz)
            day_end = min(dt.datetime.combine(day, WORK_END, tz), end)
            t = max(day_start, _ceil(start.astimezone(tz), SLOT_STEP))
            while t + duration <= day_end and len(slots) < limit:
                clash = overlapping(blocks, t, t + duration)
                if clash:
                    t = max(
                        t + SLOT_STEP, _ceil(max(b.end for b in clash).astimezone(tz), SLOT_STEP)
                    )
                    continue
                slots.append((t, t + duration))
                t = t + max(duration, SLOT_STEP)
        day += dt.timedelta(days=1)
    return slots


# --- provider reads ---------------------------------------------------------------------------------
def _name(user) -> str:  # noqa: ANN001
    return user.get_full_name() or user.email


def provider_label(provider: str) -> str:
    spec = PROVIDERS.get(provider)
    return str(spec.label) if spec is not None else provider


def provider_error_message(exc: ProviderError, provider: str, whose: str) -> str:
    label = provider_label(provider)
    if isinstance(exc, AuthRevoked):
        return _(
            "The %(provider)s connection of %(name)s has to be reconnected, so the "
            "availability could not be read. You can still book."
        ) % {"provider": label, "name": whose}
    return _(
        "Could not read the availability of %(name)s from %(provider)s right now. "
        "You can still book; try again in a moment."
    ) % {"provider": label, "name": whose}


def crm_blocks(
    user_id: int, start: dt.datetime, end: dt.datetime, *, exclude_id: int | None = None
) -> list[BusyBlock]:
    """The CRM appointments keeping the user busy (``appointments.rules.takes_time_of``): a
    colleague's meeting they take part in may not be in their calendar (yet, or ever)."""
    from appointments.selectors import appointments_taking_time

    found = appointments_taking_time(
        user_ids=[user_id], start=start, end=end, exclude_id=exclude_id
    )
    return [BusyBlock(a.start, a.end, "busy") for a in found[user_id]]


def person_busy(
    user,  # noqa: ANN001
    start: dt.datetime,
    end: dt.datetime,
    *,
    ignore: tuple[dt.datetime, dt.datetime] | None = None,
    appointment_id: int | None = None,
) -> PersonAvailability:
    """Busy time = the provider's free/busy of the main calendar and of the calendars the person
    chose for busy time ∪ the CRM appointments the person takes part in.
    ``appointment_id``/``ignore``: the appointment being moved, and its current time (its own
    event is one of the provider's busy blocks)."""
    person = PersonAvailability(user_id=user.pk, email=user.email.lower(), name=_name(user))
    crm = crm_blocks(user.pk, start, end, exclude_id=appointment_id)
    connection = active_connection(user)
    if connection is None:
        person.busy = merge_blocks(crm)
        person.error = _(
            "%(name)s has no active calendar app: only their appointments in the CRM are shown."
        ) % {"name": person.name}
        return person
    person.has_calendar = True
    try:
        with interactive_calls():  # somebody waits for this view
            found = get_adapter(connection).account_busy(
                start, end, extra_calendars=chosen_ids(connection)
            )
    except ProviderError as exc:
        log.warning("free/busy of user %s failed: %s", user.pk, exc)
        person.error = provider_error_message(exc, connection.provider, person.name)
        person.busy = merge_blocks(crm)
        return person
    busy_calendars_drop(connection=connection, gone=found.gone)
    # The appointment's own event is in the main calendar only: an extra calendar's block at
    # the same time is another engagement.
    main = subtract(found.main, *ignore) if ignore else found.main
    person.busy = merge_blocks([*main, *found.extra, *crm])
    return person


# --- services -----------------------------------------------------------------------------------------
def _validate_range(start: dt.datetime, end: dt.datetime, duration: dt.timedelta) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValidationError(_("Start and end must include a time zone."))
    if end <= start:
        raise ValidationError(_("The end must be after the start."))
    if end - start > MAX_RANGE:
        raise ValidationError(_("Ask for at most 31 days at a time."))
    if not dt.timedelta(minutes=5) <= duration <= MAX_DURATION:
        raise ValidationError(_("The length must be between 5 minutes and 10 hours."))


def _people(actor, user_ids: Sequence[int]) -> list:  # noqa: ANN001
    if not user_ids:
        raise ValidationError(_("Choose at least one user."))
    if len(set(user_ids)) > MAX_PEOPLE:
        raise ValidationError(_("Ask for at most 20 users at a time."))
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=user_ids, is_active=True)}
    ordered = [users[pk] for pk in dict.fromkeys(user_ids) if pk in users]
    if len(ordered) != len(set(user_ids)) or not all(
        can_see_availability(actor, u) for u in ordered
    ):
        raise PermissionDenied(_("You may not see the availability of one of these users."))
    return ordered


def availability_get(
    *,
    actor,  # noqa: ANN001
    user_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    duration: dt.timedelta = dt.timedelta(hours=1),
    after: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Availability:
    """Busy blocks per user for [start, end) and the next free slots common to all of them
    (from ``after``, never in the past)."""
    _validate_range(start, end, duration)
    people = [person_busy(user, start, end) for user in _people(actor, user_ids)]
    first = max(start, after or start, now or timezone.now())
    busy = [b for p in people for b in p.busy]
    tz = ZoneInfo(settings.TIME_ZONE)
    suggestions = suggest_slots(busy, start=first, end=end, duration=duration, tz=tz)
    return Availability(start, end, duration, people, suggestions)


def busy_conflicts(
    *,
    actor,  # noqa: ANN001
    user_ids: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    ignore: tuple[dt.datetime, dt.datetime] | None = None,
    appointment_id: int | None = None,
) -> tuple[list[Conflict], list[str]]:
    """Busy time (calendar and CRM) of the given users that ``actor`` may see overlapping
    [start, end), and the calendars' errors as sentences. ``appointment_id``/``ignore``: the
    appointment being moved and its current time, never a conflict with itself."""
    users = get_user_model().objects.filter(pk__in=list(user_ids), is_active=True)
    conflicts: list[Conflict] = []
    errors: list[str] = []
    for user in users:
        if not can_see_availability(actor, user):
            continue
        # A wider window, so a block is reported whole, not cut at the chosen times.
        person = person_busy(
            user,
            start - dt.timedelta(hours=12),
            end + dt.timedelta(hours=12),
            ignore=ignore,
            appointment_id=appointment_id,
        )
        if person.error and person.has_calendar:
            errors.append(person.error)
        conflicts += [Conflict(person, block) for block in overlapping(person.busy, start, end)]
    return conflicts, errors
