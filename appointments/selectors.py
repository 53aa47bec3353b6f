"""Reads for appointments, with visibility: organizer, attendee user, same team (a Django
Group shared with the organizer, see `rules.team_groups`; the rule is `rules.visible_filter`), `appointments.view_all_appointments`, or superuser."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import cast

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from appointments import rules
from appointments.models import (
    MASKED_BLANK,
    PRIVATE_APPOINTMENT,
    Appointment,
    AppointmentQuerySet,
    AppointmentType,
    Attendee,
    Response,
)
from appointments.rules import team_groups


def _base() -> QuerySet[Appointment]:
    return Appointment.objects.select_related(
        "appointment_type", "organizer", "company"
    ).prefetch_related(
        Prefetch("attendees", queryset=Attendee.objects.select_related("user", "contact"))
    )


def _own_q(user) -> Q:
    return rules.participant_filter(user)


def mask_for(user, appointment: Appointment) -> Appointment:
    """The appointment as ``user`` may see it: where ``rules.hides_details``, "Private
    appointment" with its time, company and participants, and nothing of its title, agenda,
    place, room or video link (nor its description, for anyone but its organizer). The hidden
    values are never saved back (``Appointment.save`` refuses)."""
    if not rules.hides_details(appointment, user) or hasattr(appointment, "masked_fields"):
        return appointment
    blank = list(MASKED_BLANK)
    if not rules.is_organizer(appointment, user):
        blank.append("description")
    for name in blank:
        setattr(appointment, name, "")
    appointment.title = gettext(PRIVATE_APPOINTMENT)
    appointment.video_requested = False
    appointment.masked_fields = frozenset({*blank, "title", "video_requested"})  # type: ignore[attr-defined]
    return appointment


def appointment_visible_queryset(*, user) -> QuerySet[Appointment]:
    """Every appointment ``user`` may see, as they may see it (``mask_for``)."""
    if not user.is_authenticated or not user.is_active:
        return Appointment.objects.none()
    visible = rules.visible_filter(user)
    qs = cast(AppointmentQuerySet, _base()).seen_through(partial(mask_for, user))
    return qs if visible is None else qs.filter(visible)


def appointment_follow_ups(*, user, appointment: Appointment) -> QuerySet[Appointment]:
    """The follow-ups of an appointment the user may see, soonest first."""
    return appointment_visible_queryset(user=user).filter(follow_up_of=appointment)


def _overlapping(qs: QuerySet[Appointment], start, end) -> QuerySet[Appointment]:
    # [start, end): an appointment touching `start` with zero length still counts.
    if start is not None:
        qs = qs.filter(Q(end__gt=start) | Q(start__gte=start))
    if end is not None:
        qs = qs.filter(start__lt=end)
    return qs


def appointment_list(
    *,
    user,
    start: datetime | None = None,
    end: datetime | None = None,
    appointment_type: AppointmentType | None = None,
    participant=None,
    company=None,
    contact=None,
    include_colleagues: bool = False,
    ical_uid: str | None = None,
) -> QuerySet[Appointment]:
    """The user's own appointments, or with `include_colleagues` all they may see; `ical_uid`:
    the appointment a calendar event (seen through any rep's calendar) is."""
    qs = appointment_visible_queryset(user=user)
    if not include_colleagues:
        qs = qs.filter(_own_q(user))
    qs = _overlapping(qs, start, end)
    if appointment_type is not None:
        qs = qs.filter(appointment_type=appointment_type)
    if participant is not None:
        qs = qs.filter(_own_q(participant))
    if company is not None:
        qs = qs.filter(company=company)
    if contact is not None:
        qs = qs.filter(Exists(Attendee.objects.filter(appointment=OuterRef("pk"), contact=contact)))
    if ical_uid:
        from calendar_sync.models import EventLink

        events = EventLink.objects.filter(appointment=OuterRef("pk"), ical_uid=ical_uid)
        qs = qs.filter(Exists(events))
    return qs.order_by("start", "pk")


def calendar_colleagues(*, user) -> QuerySet:
    """The other active users whose appointments the user may see on the calendar: everyone
    for a user who sees all appointments, else the members of the user's teams."""
    users = get_user_model().objects.filter(is_active=True).exclude(pk=user.pk)
    if not (user.is_superuser or user.has_perm("appointments.view_all_appointments")):
        users = users.filter(groups__in=team_groups().filter(user=user)).distinct()
    return users.order_by("first_name", "last_name", "email")


def appointment_calendar(
    *, user, start: datetime, end: datetime, people=()
) -> QuerySet[Appointment]:
    """What the calendar shows: the user's own appointments and, of those the user may see,
    the ones the given people (user ids) organise or attend."""
    wanted = _own_q(user)
    for person in people:
        wanted |= _own_q(person)
    qs = appointment_visible_queryset(user=user).filter(wanted)
    return _overlapping(qs, start, end).order_by("start", "pk")


def appointments_taking_time(
    *, user_ids, start: datetime, end: datetime, exclude_id: int | None = None
) -> dict[int, list[Appointment]]:
    """Per user, the CRM appointments overlapping [start, end) that keep them busy
    (``rules.takes_time_of``): the CRM's half of their availability. Read without visibility
    filtering; callers show only times, never what the appointments are."""
    from appointments.rules import takes_time_of

    ids = set(user_ids)
    attends = Attendee.objects.filter(appointment=OuterRef("pk"), user_id__in=ids)
    qs = Appointment.objects.filter(Q(organizer_id__in=ids) | Q(Exists(attends)))
    qs = qs.filter(start__lt=end, end__gt=start, all_day=False, cancelled_at__isnull=True)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    busy: dict[int, list[Appointment]] = {pk: [] for pk in ids}
    for appointment in qs.prefetch_related("attendees").order_by("start", "pk"):
        for user_id in ids:
            if takes_time_of(appointment, user_id):
                busy[user_id].append(appointment)
    return busy


def appointments_changed_since(qs: QuerySet[Appointment], since: datetime) -> QuerySet[Appointment]:
    """Edited, or its calendar side changed (an event written or read, a push that failed):
    what an integrator following ``sync_state`` needs to read again."""
    from calendar_sync.models import EventLink, ExportFailure

    links = EventLink.objects.filter(appointment=OuterRef("pk"), updated_at__gte=since)
    failures = ExportFailure.objects.filter(appointment=OuterRef("pk"), failed_at__gte=since)
    return qs.filter(Q(updated_at__gte=since) | Exists(links) | Exists(failures))


def appointment_get(*, user, pk) -> Appointment:
    try:
        return appointment_visible_queryset(user=user).get(pk=pk)
    except (Appointment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such appointment.") from exc


def appointment_timeline_for_contact(*, user, contact) -> QuerySet[Appointment]:
    """Every visible appointment the contact attends, newest first."""
    attends = Attendee.objects.filter(appointment=OuterRef("pk"), contact=contact)
    return appointment_visible_queryset(user=user).filter(Exists(attends)).order_by("-start", "-pk")


def appointments_for_company(
    *, user, company, now: datetime | None = None
) -> tuple[QuerySet[Appointment], QuerySet[Appointment]]:
    """(upcoming soonest first, past newest first) for the customer card: booked on the company
    or attended by one of its contacts."""
    now = now or timezone.now()
    by_contact = Attendee.objects.filter(appointment=OuterRef("pk"), contact__company=company)
    qs = appointment_visible_queryset(user=user).filter(Q(company=company) | Q(Exists(by_contact)))
    upcoming = qs.filter(end__gte=now).order_by("start", "pk")
    past = qs.filter(end__lt=now).order_by("-start", "-pk")
    return upcoming, past


def _display_name(user) -> str:
    return user.get_full_name() or user.email


def appointment_participants(appointment: Appointment) -> list[dict]:
    """Organizer first (accepted), then the attendees in the order they were added. For an
    invitation the rep comes first as an invitee with their own answer; the organizer is one of
    the attendee rows."""
    organizer = appointment.organizer
    invited = bool(appointment.invited_by_email)  # then the rep is an invitee with their answer
    people = [
        {
            "email": organizer.email.lower(),
            "name": _display_name(organizer),
            "kind": "user" if invited else "organizer",
            "response": (appointment.own_response or Response.NO_ANSWER.value)
            if invited
            else Response.ACCEPTED.value,
        }
    ]
    for a in appointment.attendees.all():
        if a.user is not None:
            name = _display_name(a.user)
        elif a.contact is not None:
            name = a.contact.name
        else:
            name = a.name or a.email
        people.append({"email": a.email, "name": name, "kind": a.kind, "response": a.response})
    return people


def appointment_invitation(appointment: Appointment) -> dict | None:
    """Who organised a meeting the rep was invited to (linked to the contact when one of the
    attendee rows matched the address), and the rep's own answer; None for the rep's own."""
    email = appointment.invited_by_email
    if not email:
        return None
    contact = next(
        (a.contact for a in appointment.attendees.all() if a.contact_id and a.email == email),
        None,
    )
    return {
        "email": email,
        "name": appointment.invited_by_name or (contact.name if contact else ""),
        "contact": contact,
        "response": appointment.own_response or Response.NO_ANSWER.value,
    }
