"""Who may see and change what on an appointment; small pure functions, no queries beyond
the appointment's own attendees.

The spec's rules: only the organizer changes date, time, place, agenda, company, participants
or description; a passed appointment's date/time is frozen (its outcome is not); a locked one
(e.g. an invitation from a contact) has those fields frozen for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from appointments.models import Appointment, Attendee, AttendeeKind, Outcome, Response

DATE_FIELDS = frozenset({"start", "end", "all_day"})
PLACE_FIELDS = frozenset({"location"})
PARTICIPANT_FIELDS = frozenset({"contacts", "users", "external_emails", "room_name", "room_email"})
PROTECTED_FIELDS = (
    DATE_FIELDS
    | PLACE_FIELDS
    | PARTICIPANT_FIELDS
    | frozenset({"agenda", "company", "description"})
)
# Not in the spec's list, but still the organizer's alone.
ORGANIZER_ONLY_FIELDS = PROTECTED_FIELDS | frozenset(
    {"title", "appointment_type", "video_link", "video_requested", "private"}
)
OUTCOME_FIELD = "outcome"
EDITABLE_FIELDS = ORGANIZER_ONLY_FIELDS | frozenset({OUTCOME_FIELD})
# A locked appointment (an invitation from outside the CRM) takes these from the organizer's
# calendar at every sync: a change here would be silently undone, so they are read-only too.
LOCKED_FIELDS = PROTECTED_FIELDS | frozenset({"title", "video_link", "video_requested", "private"})
# What the edit form changes (the outcome has its own form on the appointment's page).
FORM_FIELDS = ORGANIZER_ONLY_FIELDS


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


def deny(reason: str) -> Decision:
    return Decision(False, reason)


def is_passed(appointment: Appointment, now: datetime) -> bool:
    return appointment.end < now


def is_organizer(appointment: Appointment, user) -> bool:
    return user is not None and user.pk is not None and appointment.organizer_id == user.pk


def is_attendee_user(appointment: Appointment, user) -> bool:
    if user is None or user.pk is None:
        return False
    return any(a.user_id == user.pk for a in appointment.attendees.all())


def is_participant(appointment: Appointment, user) -> bool:
    return is_organizer(appointment, user) or is_attendee_user(appointment, user)


def team_groups() -> QuerySet[Group]:
    """Teams are the Groups that grant no permissions; groups that do ("Sales reps") are
    roles shared by everyone, and sharing a role must not reveal colleagues' appointments."""
    return Group.objects.filter(permissions__isnull=True)


def participant_filter(user) -> Q:
    """The appointments ``user`` organizes or attends, as a filter."""
    attends = Attendee.objects.filter(appointment=OuterRef("pk"), user=user)
    return Q(organizer=user) | Q(Exists(attends))


def visible_filter(user) -> Q | None:
    """Who sees an appointment, as a filter for any queryset of them (None: every one): its
    organizer and attendee users, the organizer's teammates (``team_groups``), holders of
    ``appointments.view_all_appointments`` and superusers."""
    if user.is_superuser or user.has_perm("appointments.view_all_appointments"):
        return None
    teams = team_groups().filter(user=user)
    same_team = Group.objects.filter(user=OuterRef("organizer_id"), pk__in=teams)
    return participant_filter(user) | Q(Exists(same_team))


def hides_details(appointment: Appointment, user) -> bool:
    """Whether ``user`` sees the appointment as "Private appointment" (time, company and
    participants, no title, agenda, place, room, video link or description): a private event
    logged without its details, for everyone; a private meeting, for all but its organizer and
    participating users (they are invited: their own calendars show it)."""
    if appointment.details_hidden:
        return True
    return appointment.private and not is_participant(appointment, user)


def can_set_outcome(appointment: Appointment, user, now: datetime | None = None) -> Decision:
    """Any participating user may record the outcome, also after the appointment has passed."""
    if is_participant(appointment, user) or getattr(user, "is_superuser", False):
        return ALLOW
    return deny(_("Only the organizer and participating users can set the outcome."))


def can_change_field(appointment: Appointment, user, field: str, now: datetime) -> Decision:
    if field == OUTCOME_FIELD:
        return can_set_outcome(appointment, user, now)
    if field not in EDITABLE_FIELDS:
        return deny(_("The field “%(field)s” cannot be changed.") % {"field": field})
    if appointment.locked and field in LOCKED_FIELDS:
        reason = appointment.lock_reason_text or _("it was booked outside the CRM")
        return deny(
            _(
                "This appointment is locked (%(reason)s): its title, date, time, place, "
                "agenda, participants, room and video link come from the organizer's calendar, "
                "and nobody changes them, its company or its description here."
            )
            % {"reason": reason}
        )
    if appointment.details_hidden and field in LOCKED_FIELDS:
        return deny(
            _(
                "This is a private event from the organizer's calendar, logged without its "
                "details: its date, time, participants and the rest come from the calendar and "
                "are changed there. The outcome can be set here."
            )
        )
    if not is_organizer(appointment, user):
        return deny(
            _(
                "Only the organizer can change the date, time, place, agenda, company, "
                "participants, title or description of this appointment."
            )
        )
    if field in DATE_FIELDS and is_passed(appointment, now):
        return deny(
            _(
                "This appointment has passed, so its date and time can no longer be changed. "
                "Set the outcome (e.g. “Not completed”) and create a follow-up appointment."
            )
        )
    return ALLOW


def can_edit(appointment: Appointment, user, now: datetime) -> Decision:
    """Whether the edit form can change anything at all for this user: if not, there is no
    Edit button and no Save, only the reason (a Save that changes nothing must not say
    "saved")."""
    first_reason = ""
    for field in sorted(FORM_FIELDS):
        decision = can_change_field(appointment, user, field, now)
        if decision.allowed:
            return ALLOW
        first_reason = first_reason or decision.reason
    return deny(first_reason)


def can_create_follow_up(appointment: Appointment, user, now: datetime | None = None) -> Decision:
    if is_participant(appointment, user):
        return ALLOW
    return deny(_("Only the organizer and participating users can create a follow-up."))


def can_delete(appointment: Appointment, user, now: datetime | None = None) -> Decision:
    if is_organizer(appointment, user):
        return ALLOW
    return deny(_("Only the organizer can delete this appointment."))


def can_request_video(calendar) -> Decision:
    """A video meeting is made by the organizer's calendar (``calendar``: its provider from the
    registry, None without an active one): refused when nothing can make the link, instead of
    storing a request that is never fulfilled (the form does not offer the box then)."""
    if calendar is None:
        return deny(_("The organizer has no calendar connected, so no video meeting can be added."))
    if not calendar.has_video():
        return deny(
            _("The organizer's calendar (%(calendar)s) cannot add video meetings.")
            % {"calendar": calendar.label}
        )
    return ALLOW


# Outcomes that mean the meeting does not take place at its time.
NOT_TAKING_PLACE = frozenset({Outcome.CANCELLED, Outcome.REBOOKED})


def takes_time_of(appointment: Appointment, user_id: int) -> bool:
    """Whether the appointment keeps the user busy (availability, suggested times and the
    booking conflict check): they organise it or are a participating user who has not
    declined, it is timed (all-day entries, like the calendars' own, leave the day free), and
    it still takes place (not cancelled in the calendar, not cancelled/rebooked in the CRM)."""
    if appointment.all_day or appointment.cancelled_at is not None:
        return False
    if appointment.outcome in NOT_TAKING_PLACE:
        return False
    if appointment.organizer_id == user_id:
        return True
    return any(
        a.kind == AttendeeKind.USER and a.user_id == user_id and a.response != Response.DECLINED
        for a in appointment.attendees.all()
    )


MAX_OVERNIGHT = timedelta(hours=12)


def end_day_offset(start: time, end: time, *, span_days: int = 0) -> int | None:
    """How many days after the start date a form's end time falls. A meeting may cross
    midnight: an end before the start is the next day when that makes a meeting of at most
    12 hours (22:00–01:00), else it is a mistake (None: 14:00–13:00). An appointment that
    already spans days (from a calendar) keeps its days."""
    if span_days > 1 or (span_days == 1 and end >= start):
        return span_days
    if end >= start:
        return 0
    minutes = (end.hour - start.hour) * 60 + end.minute - start.minute + 24 * 60
    return 1 if timedelta(minutes=minutes) <= MAX_OVERNIGHT else None
