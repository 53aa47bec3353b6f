"""Changes to appointments. Every rule in `appointments.rules` is enforced here, so the pages,
the admin and the API agree. After commit, `appointment_changed` tells the calendar sync."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appointments import rules
from appointments.calendar_changes import (
    AppointmentUpdate,
    AttendeeRow,
    CalendarChanges,
    NewAppointment,
)
from appointments.models import (
    Appointment,
    AppointmentType,
    Attendee,
    AttendeeKind,
    Outcome,
    Source,
)
from appointments.signals import calendar_origin, send_appointment_changed
from contacts.models import Contact, normalize_email
from upsales_crm.bulk import create_rows, insert_rows

MODEL_FIELDS = frozenset(
    {
        "title",
        "appointment_type",
        "start",
        "end",
        "all_day",
        "location",
        "agenda",
        "description",
        "company",
        "video_link",
        "video_requested",
        "room_name",
        "room_email",
        "outcome",
        "private",
    }
)
ATTENDEE_FIELDS = frozenset({"contacts", "users", "external_emails"})


class AppointmentPermissionDenied(PermissionDenied):
    """A rule forbids the change; `reason` is a sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _check(decision: rules.Decision) -> None:
    if not decision.allowed:
        raise AppointmentPermissionDenied(decision.reason)


def _validate_times(start: datetime, end: datetime) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValidationError(_("Start and end must include a time zone."))
    if end < start:
        raise ValidationError({"end": _("The end must not be before the start.")})


def _validate_type(appointment_type: AppointmentType) -> None:
    if not appointment_type.active:
        raise ValidationError({"appointment_type": _("This appointment type is not active.")})


def _validate_video(organizer) -> None:
    """``video_requested`` needs an organizer's calendar that makes video meetings."""
    from calendar_sync.selectors import calendar_provider  # lazy: calendar_sync listens to us

    decision = rules.can_request_video(calendar_provider(organizer))
    if not decision.allowed:
        raise ValidationError({"video_requested": decision.reason})


def _validate_outcome(outcome: str) -> None:
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Unknown outcome.")})


def _user_attendee(user) -> Attendee:
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return Attendee(kind=AttendeeKind.USER, user=user, email=user.email, name=name or "")


def _contact_attendee(contact: Contact) -> Attendee:
    return Attendee(
        kind=AttendeeKind.CONTACT, contact=contact, email=contact.primary_email, name=contact.name
    )


def _external_attendee(email: str) -> Attendee:
    return Attendee(kind=AttendeeKind.EXTERNAL, email=email)


def _clean_external(emails: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in emails:
        email = normalize_email(raw)
        if email and email not in cleaned:
            cleaned.append(email)
    return cleaned


def _unique(objs: Iterable) -> list:
    seen: dict[int, object] = {}
    for obj in objs:
        seen.setdefault(obj.pk, obj)
    return list(seen.values())


def _add_attendees(appointment: Appointment, contacts, users, external_emails) -> None:
    rows = [_user_attendee(u) for u in _unique(users) if u.pk != appointment.organizer_id]
    rows += [_contact_attendee(c) for c in _unique(contacts)]
    rows += [_external_attendee(e) for e in _clean_external(external_emails)]
    for row in rows:
        row.appointment = appointment
        row.email = (row.email or "").lower()
    Attendee.objects.bulk_create(rows)


def _check_create_permission(organizer, source: str) -> None:
    # Calendar imports are authorised by the user's own calendar connection.
    if source == Source.CRM and not organizer.has_perm("appointments.add_appointment"):
        raise AppointmentPermissionDenied(_("You do not have permission to book appointments."))


@transaction.atomic
def appointment_create(
    *,
    organizer,
    title: str,
    appointment_type: AppointmentType,
    start: datetime,
    end: datetime,
    all_day: bool = False,
    location: str = "",
    agenda: str = "",
    description: str = "",
    company=None,
    contacts: Iterable[Contact] = (),
    users: Iterable = (),
    external_emails: Iterable[str] = (),
    source: str = Source.CRM,
    locked: bool = False,
    lock_reason: str = "",
    video_link: str = "",
    video_requested: bool = False,
    room_name: str = "",
    room_email: str = "",
    private: bool = False,
    follow_up_of: Appointment | None = None,
) -> Appointment:
    _check_create_permission(organizer, source)
    _validate_times(start, end)
    _validate_type(appointment_type)
    if video_requested:
        _validate_video(organizer)
    appointment = Appointment(
        organizer=organizer,
        title=title,
        appointment_type=appointment_type,
        start=start,
        end=end,
        all_day=all_day,
        location=location,
        agenda=agenda,
        description=description,
        company=company,
        source=source,
        locked=locked,
        lock_reason=lock_reason,
        video_link=video_link,
        video_requested=video_requested,
        room_name=room_name,
        room_email=normalize_email(room_email),
        private=private,
        follow_up_of=follow_up_of,
    )
    appointment.full_clean()
    appointment.save()
    _add_attendees(appointment, list(contacts), list(users), list(external_emails))
    send_appointment_changed(
        appointment_id=appointment.pk,
        action="created",
        changed_fields=[],
        actor_id=organizer.pk,
    )
    return appointment


# --- update --------------------------------------------------------------------------------


def _current_attendee_sets(appointment: Appointment) -> dict[str, set]:
    rows = list(appointment.attendees.all())
    return {
        "users": {a.user_id for a in rows if a.kind == AttendeeKind.USER},
        "contacts": {a.contact_id for a in rows if a.kind == AttendeeKind.CONTACT},
        "external_emails": {a.email for a in rows if a.kind == AttendeeKind.EXTERNAL},
    }


def _new_attendee_set(field: str, value, organizer_id: int) -> set:
    if field == "external_emails":
        return set(_clean_external(value))
    ids = {obj.pk for obj in value}
    return ids - {organizer_id} if field == "users" else ids


def _model_value(value):
    return value.pk if hasattr(value, "pk") else value


def _changed_fields(appointment: Appointment, changes: dict) -> list[str]:
    changed: list[str] = []
    current_sets = None
    for field, value in changes.items():
        if field in ATTENDEE_FIELDS:
            current_sets = current_sets or _current_attendee_sets(appointment)
            new = _new_attendee_set(field, value, appointment.organizer_id)
            if new != current_sets[field]:
                changed.append(field)
        elif field in ("room_email",):
            if normalize_email(value) != appointment.room_email:
                changed.append(field)
        elif _model_value(value) != _model_value(getattr(appointment, field)):
            changed.append(field)
    return changed


def _sync_attendees(appointment: Appointment, field: str, value) -> None:
    """Replace one kind of attendee, keeping rows (and their responses) that stay."""
    if field == "users":
        keep = {u.pk for u in value} - {appointment.organizer_id}
        appointment.attendees.filter(kind=AttendeeKind.USER).exclude(user__in=keep).delete()
        existing = set(
            appointment.attendees.filter(kind=AttendeeKind.USER).values_list("user_id", flat=True)
        )
        _add_attendees(appointment, [], [u for u in value if u.pk not in existing], [])
    elif field == "contacts":
        keep = {c.pk for c in value}
        appointment.attendees.filter(kind=AttendeeKind.CONTACT).exclude(contact__in=keep).delete()
        existing = set(
            appointment.attendees.filter(kind=AttendeeKind.CONTACT).values_list(
                "contact_id", flat=True
            )
        )
        _add_attendees(appointment, [c for c in value if c.pk not in existing], [], [])
    else:
        keep = set(_clean_external(value))
        externals = appointment.attendees.filter(kind=AttendeeKind.EXTERNAL)
        externals.exclude(email__in=keep).delete()
        addresses = set(externals.values_list("email", flat=True))
        _add_attendees(appointment, [], [], [e for e in keep if e not in addresses])


def _check_changes(appointment: Appointment, actor, changed: list[str], now: datetime) -> None:
    for field in changed:
        _check(rules.can_change_field(appointment, actor, field, now))


def _validate_changes(appointment: Appointment, changes: dict, changed: list[str]) -> None:
    if "start" in changed or "end" in changed:
        _validate_times(
            changes.get("start", appointment.start), changes.get("end", appointment.end)
        )
    if "appointment_type" in changed:
        _validate_type(changes["appointment_type"])
    if "outcome" in changed:
        _validate_outcome(changes["outcome"])
    if "video_requested" in changed and changes["video_requested"]:
        _validate_video(appointment.organizer)


def _save_changes(
    appointment: Appointment, changes: dict, changed: list[str], model_fields: list[str]
) -> None:
    """Write the already-checked changes: model fields in one save, then the attendee lists."""
    for field in model_fields:
        value = changes[field]
        setattr(appointment, field, normalize_email(value) if field == "room_email" else value)
    if model_fields:
        # A private event logged without its details has no title stored (only its
        # outcome and the like change here).
        appointment.full_clean(exclude=["title"] if appointment.details_hidden else None)
        appointment.save(update_fields=[*model_fields, "updated_at"])
    elif changed:
        # Attendees only: the appointment still changed (the calendar sync compares updated_at).
        appointment.save(update_fields=["updated_at"])
    for field in changed:
        if field in ATTENDEE_FIELDS:
            _sync_attendees(appointment, field, list(changes[field]))
    getattr(appointment, "_prefetched_objects_cache", {}).pop("attendees", None)


@transaction.atomic
def appointment_update(
    *, appointment: Appointment, actor, now: datetime | None = None, **changes
) -> Appointment:
    """Apply `changes` (model fields plus contacts/users/external_emails lists), all or nothing.

    Only fields whose value actually changes are checked against the rules, so a form that
    re-posts unchanged read-only values is fine.
    """
    now = now or timezone.now()
    unknown = set(changes) - MODEL_FIELDS - ATTENDEE_FIELDS
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    changed = _changed_fields(appointment, changes)
    _check_changes(appointment, actor, changed, now)
    _validate_changes(appointment, changes, changed)
    if not changed:
        return appointment
    _save_changes(appointment, changes, changed, [f for f in changed if f in MODEL_FIELDS])
    send_appointment_changed(
        appointment_id=appointment.pk,
        action="updated",
        changed_fields=changed,
        actor_id=actor.pk,
    )
    return appointment


def appointment_set_outcome(
    *, appointment: Appointment, actor, outcome: str, now: datetime | None = None
) -> Appointment:
    return appointment_update(appointment=appointment, actor=actor, now=now, outcome=outcome)


@transaction.atomic
def appointment_create_follow_up(
    *,
    appointment: Appointment,
    actor,
    start: datetime,
    end: datetime,
    title: str | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Book a new time for an appointment in one step, copying who, what and where."""
    _check(rules.can_create_follow_up(appointment, actor, now or timezone.now()))
    attendees = list(appointment.attendees.select_related("user", "contact"))
    users = [a.user for a in attendees if a.kind == AttendeeKind.USER and a.user_id != actor.pk]
    if appointment.organizer_id != actor.pk:
        users.append(appointment.organizer)
    return appointment_create(
        organizer=actor,
        title=title or appointment.title,
        appointment_type=appointment.appointment_type,
        start=start,
        end=end,
        location=appointment.location,
        company=appointment.company,
        contacts=[a.contact for a in attendees if a.contact is not None],
        users=users,
        external_emails=[a.email for a in attendees if a.kind == AttendeeKind.EXTERNAL],
        private=appointment.private,
        follow_up_of=appointment,
    )


@transaction.atomic
def appointment_delete(*, appointment: Appointment, actor) -> None:
    """Delete in the CRM only; per the spec the calendar event stays."""
    _check(rules.can_delete(appointment, actor))
    appointment_id = appointment.pk
    appointment.delete()
    send_appointment_changed(
        appointment_id=appointment_id, action="deleted", changed_fields=[], actor_id=actor.pk
    )


# --- what the calendar says ------------------------------------------------------------------


def _validated(appointment: Appointment) -> Appointment:
    _validate_times(appointment.start, appointment.end)
    return appointment


def _calendar_create(new: list[NewAppointment]) -> list[Appointment]:
    """The appointments (one bulk insert), then their attendees (one more)."""
    created = [_validated(n.appointment) for n in new]
    create_rows(Appointment, created)
    rows: list[AttendeeRow] = []
    for entry, appointment in zip(new, created, strict=True):
        for row in entry.attendees:
            row.appointment_id = appointment.pk
        rows += entry.attendees
    insert_rows(Attendee, rows)
    return created


def _field_name(attname: str) -> str:
    return Appointment._meta.get_field(attname).name


def _apply_values(update: AppointmentUpdate) -> list[str]:
    """Set the new values on the appointment; the names of those that changed."""
    appointment, changed = update.appointment, []
    for attname, value in update.values.items():
        if getattr(appointment, attname) != value:
            changed.append(_field_name(attname))
            setattr(appointment, attname, value)
    _validated(appointment)
    return changed


def _calendar_update(updates: list[AppointmentUpdate], now: datetime) -> dict[int, list[str]]:
    """Every update in one bulk UPDATE per kind (touched or not); the changed fields by id."""
    changed = {u.appointment.pk: _apply_values(u) for u in updates}
    for touch in (True, False):
        batch = [u for u in updates if u.touch is touch]
        if not batch:
            continue
        names = sorted({_field_name(a) for u in batch for a in u.values})
        for u in batch:
            if touch:
                u.appointment.updated_at = now
        Appointment.objects.bulk_update(
            [u.appointment for u in batch], [*names, "updated_at"] if touch else names
        )
    return changed


def _calendar_attendees(changes: CalendarChanges) -> None:
    """Attendees of existing appointments: removed, re-answered, added (a decline is an
    answer: the participant stays)."""
    if changes.attendees_remove:
        Attendee.objects.filter(pk__in=changes.attendees_remove).delete()
    if changes.responses:
        answers = [Attendee(pk=pk, response=r) for pk, r in changes.responses.items()]
        Attendee.objects.bulk_update(answers, ["response"])
    insert_rows(Attendee, changes.attendees_add)


def _calendar_cancel(ids: set[int], now: datetime) -> None:
    if ids:
        Appointment.objects.filter(pk__in=ids, cancelled_at__isnull=True).update(
            cancelled_at=now, updated_at=now
        )


def _calendar_delete(ids: set[int]) -> None:
    if ids:
        with calendar_origin():
            Appointment.objects.filter(pk__in=ids).delete()


def _announce(action: str, appointment_id: int, changed_fields: list[str]) -> None:
    send_appointment_changed(
        appointment_id=appointment_id,
        action=action,
        changed_fields=changed_fields,
        actor_id=None,
        origin="calendar",
    )


@transaction.atomic(savepoint=False)
def appointment_apply_calendar_changes(
    *, changes: CalendarChanges, now: datetime | None = None
) -> list[Appointment]:
    """Apply what the calendar says (the sync, a page of events at a time; the export's
    write-back of the provider's meeting link): the calendar event is the source of truth, so
    the user-facing rules (locks, organizer only) do not apply; validation does. A constant
    number of queries, whatever the number of appointments. Every appointment changed is
    announced with ``origin="calendar"`` (never pushed back). Returns the created appointments,
    in the order of ``changes.create``."""
    now = now or timezone.now()
    created = _calendar_create(changes.create)
    updated = _calendar_update(changes.update, now)
    _calendar_attendees(changes)
    _calendar_cancel(changes.cancel, now)
    _calendar_delete(changes.delete)
    for appointment in created:
        _announce("created", appointment.pk, [])
    for appointment_id, fields in updated.items():
        _announce("updated", appointment_id, fields)
    for appointment_id in changes.cancel - changes.delete:
        _announce("updated", appointment_id, ["cancelled_at"])
    for appointment_id in changes.delete:
        _announce("deleted", appointment_id, [])
    return created


SALES_REPS_GROUP = "Sales reps"
SALES_REPS_PERMISSIONS = [
    ("contacts", "company", ("view", "add", "change")),
    ("contacts", "contact", ("view", "add", "change")),
    ("appointments", "appointment", ("view", "add", "change")),
]


def sales_reps_group_ensure() -> Group:
    """The "Sales reps" role (created by a migration): recreated with its permissions if gone."""
    group, _ = Group.objects.get_or_create(name=SALES_REPS_GROUP)
    codenames = [
        (app_label, f"{action}_{model}")
        for app_label, model, actions in SALES_REPS_PERMISSIONS
        for action in actions
    ]
    perms = Permission.objects.filter(
        content_type__app_label__in={a for a, _ in codenames},
        codename__in={c for _, c in codenames},
    )
    group.permissions.add(*perms)
    return group
