"""The appointment form. Fields the rules forbid the user to change are rendered read-only with
the reason; a POST that still changes one gets the reason as the field's error."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments import rules
from appointments.models import Appointment, AppointmentType, AttendeeKind, Outcome
from appointments.widgets import LocalDateInput, LocalTimeInput
from calendar_sync.providers.registry import PROVIDERS
from contacts.forms import EmailListField
from contacts.models import Company, Contact

# Form field -> the appointment field the rules know it by.
RULE_FIELD = {
    "title": "title",
    "appointment_type": "appointment_type",
    "date": "start",
    "start_time": "start",
    "end_time": "end",
    "all_day": "all_day",
    "location": "location",
    "agenda": "agenda",
    "description": "description",
    "company": "company",
    "contacts": "contacts",
    "users": "users",
    "external_emails": "external_emails",
    "video_requested": "video_requested",
    "room": "room_email",
    "private": "private",
    # Confirming a busy time goes with the time itself.
    "book_anyway": "start",
}
DATE_TIME_FIELDS = ("date", "start_time", "end_time", "all_day")


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name()
        return f"{name} <{obj.email}>" if name else obj.email or obj.get_username()


class ContactMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.company.name})" if obj.company_id else obj.name


class PeopleSelect(forms.SelectMultiple):
    """Options carry the invitation address (``data-email``, blank for a contact without one)
    and, for users, whether they have an active calendar (``data-calendar``), for the live
    invitation preview and the availability view."""

    def __init__(self, *args, with_calendar: frozenset[int] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.with_calendar = with_calendar

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        obj = getattr(value, "instance", None)
        if obj is not None:
            email = getattr(obj, "primary_email", None)
            option["attrs"]["data-email"] = obj.email if email is None else email
            option["attrs"]["data-name"] = getattr(obj, "name", "") or str(label)
            if obj.pk in self.with_calendar and email is None:
                option["attrs"]["data-calendar"] = "1"
        return option


@dataclass(frozen=True)
class BookingOptions:
    """What the organizer's calendar offers the form (None of it without an active app)."""

    provider: str
    rooms: tuple[tuple[str, str], ...] = ()  # (e-mail, label)
    room_names: dict[str, str] = dataclasses.field(default_factory=dict)
    users_with_calendar: frozenset[int] = frozenset()


def appointment_zone(all_day: bool):
    """The zone an appointment's date and times are read in: the user's (the current zone), but
    an all-day appointment is calendar dates, kept as midnight in the organisation's zone
    whoever books it (calendar_sync's importer stores all-day events the same way)."""
    return timezone.get_default_timezone() if all_day else timezone.get_current_timezone()


def local_bounds(day: date, start_time: time | None, end_time: time | None, all_day: bool):
    """Aware start/end for a one-day appointment (see ``appointment_zone``)."""
    tz = appointment_zone(all_day)
    if all_day:
        start = datetime.combine(day, time.min, tzinfo=tz)
        return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    assert start_time is not None and end_time is not None  # the form requires them
    return (
        datetime.combine(day, start_time, tzinfo=tz),
        datetime.combine(day, end_time, tzinfo=tz),
    )


def initial_from_appointment(appointment: Appointment) -> dict:
    start = timezone.localtime(appointment.start, appointment_zone(appointment.all_day))
    end = timezone.localtime(appointment.end, appointment_zone(appointment.all_day))
    attendees = list(appointment.attendees.all())
    return {
        "title": appointment.title,
        "appointment_type": appointment.appointment_type,
        "date": start.date(),
        "start_time": start.time().replace(second=0, microsecond=0),
        "end_time": end.time().replace(second=0, microsecond=0),
        "all_day": appointment.all_day,
        "location": appointment.location,
        "agenda": appointment.agenda,
        "description": appointment.description,
        "company": appointment.company,
        "contacts": [a.contact for a in attendees if a.kind == AttendeeKind.CONTACT],
        "users": [a.user for a in attendees if a.kind == AttendeeKind.USER],
        "external_emails": [a.email for a in attendees if a.kind == AttendeeKind.EXTERNAL],
        "video_requested": appointment.video_requested,
        "room": appointment.room_email,
        "private": appointment.private,
    }


class AppointmentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=255)
    appointment_type = forms.ModelChoiceField(
        label=_("Type"), queryset=AppointmentType.objects.filter(active=True)
    )
    date = forms.DateField(label=_("Date"), widget=LocalDateInput())
    start_time = forms.TimeField(label=_("Start time"), required=False, widget=LocalTimeInput())
    end_time = forms.TimeField(
        label=_("End time"),
        required=False,
        widget=LocalTimeInput(),
        help_text=_("An end before the start is the next day: a meeting may cross midnight."),
    )
    all_day = forms.BooleanField(label=_("All day"), required=False)
    location = forms.CharField(label=_("Place"), max_length=255, required=False)
    agenda = forms.CharField(
        label=_("Agenda"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What the invitees read: the text of the calendar invitation (a greeting, the agenda)."
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Internal note for the CRM only: never written to the calendar, never sent to the "
            "invitees."
        ),
    )
    company = forms.ModelChoiceField(
        label=_("Company"), queryset=Company.objects.none(), required=False
    )
    contacts = ContactMultipleChoiceField(
        label=_("Contacts"), queryset=Contact.objects.none(), required=False, widget=PeopleSelect
    )
    users = UserMultipleChoiceField(
        label=_("Participating users"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=PeopleSelect,
    )
    external_emails = EmailListField(
        label=_("External attendees"),
        required=False,
        help_text=_("E-mail addresses, separated by commas or new lines."),
    )
    room = forms.ChoiceField(label=_("Room"), required=False)
    video_requested = forms.BooleanField(label=_("Add a video meeting"), required=False)
    private = forms.BooleanField(
        label=_("Private"),
        required=False,
        help_text=_(
            "Colleagues see “Private appointment” with its time, company and participants, "
            "and the calendar marks the event private."
        ),
    )
    book_anyway = forms.BooleanField(
        label=_("Book anyway"),
        required=False,
        help_text=_("The chosen time is busy (calendar or CRM). Tick to book it anyway."),
    )

    def __init__(
        self,
        *args,
        user,
        companies,
        contacts,
        appointment: Appointment | None = None,
        show_agenda: bool = False,
        booking: BookingOptions | None = None,
        now: datetime | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.appointment = appointment
        self.booking = booking
        self._choice_field("company").queryset = companies
        self._choice_field("contacts").queryset = contacts
        self._choice_field("users").queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .exclude(pk=appointment.organizer_id if appointment else user.pk)
            .order_by("email")
        )
        self._choice_field("appointment_type").empty_label = None
        if appointment is not None:  # an inactive type stays selectable on its appointments
            self._choice_field("appointment_type").queryset = AppointmentType.objects.filter(
                Q(active=True) | Q(pk=appointment.appointment_type_id)
            )
        if not show_agenda:
            del self.fields["agenda"]
        self._setup_booking(booking, appointment)
        self.readonly_reasons: dict[str, str] = {}
        if appointment is not None:
            self._lock_fields(appointment, user, now or timezone.now())

    def _choice_field(self, name: str) -> forms.ModelChoiceField:
        return cast(forms.ModelChoiceField, self.fields[name])

    def _setup_booking(self, booking: BookingOptions | None, appointment) -> None:
        self.fields["users"].widget.with_calendar = (
            booking.users_with_calendar if booking else frozenset()
        )
        if booking is None:
            # The CRM's own appointments still make people busy: "Book anyway" stays.
            for name in ("room", "video_requested"):
                del self.fields[name]
            return
        spec = PROVIDERS.get(booking.provider)
        if spec is not None and spec.video_label is not None:
            self.fields["video_requested"].label = str(spec.video_label)
        elif spec is not None:  # the provider makes no video meetings: nothing to offer
            del self.fields["video_requested"]
        current = appointment.room_email if appointment else ""
        if spec is not None and not spec.has_rooms and not current:
            del self.fields["room"]  # no room directory at this provider
            self._room_names = {}
            return
        rooms = list(booking.rooms)
        if current and current not in dict(rooms):
            rooms.append((current, appointment.room_name or current))
        cast(forms.ChoiceField, self.fields["room"]).choices = [("", _("No room")), *rooms]
        self._room_names = {**booking.room_names, current: getattr(appointment, "room_name", "")}

    def _lock_fields(self, appointment: Appointment, user, now: datetime) -> None:
        for name, field in self.fields.items():
            decision = rules.can_change_field(appointment, user, RULE_FIELD[name], now)
            if not decision.allowed:
                self.readonly_reasons[name] = decision.reason
                field.required = False
                field.widget.attrs["disabled"] = True

    @property
    def readonly_summary(self) -> list[str]:
        """Each distinct reason once, for the notice above the form."""
        return list(dict.fromkeys(self.readonly_reasons.values()))

    def __getitem__(self, name):
        bound = super().__getitem__(name)
        bound.readonly_reason = self.readonly_reasons.get(name, "")
        return bound

    def clean(self):
        cleaned = super().clean()
        for name, reason in self.readonly_reasons.items():
            initial = self.initial.get(name)
            # Browsers do not post disabled inputs: a missing value means "unchanged".
            if name not in self.data:
                cleaned[name] = initial
            elif _differs(cleaned.get(name), initial):
                self.add_error(name, reason)
        if not cleaned.get("all_day"):
            self._clean_times(cleaned)
        return cleaned

    def _clean_times(self, cleaned) -> None:
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start is None and "start_time" not in self.errors:
            self.add_error("start_time", _("Enter a start time, or tick All day."))
        if end is None and "end_time" not in self.errors:
            self.add_error("end_time", _("Enter an end time, or tick All day."))
        span = self.appointment_span_days()
        if start and end and rules.end_day_offset(start, end, span_days=span) is None:
            self.add_error(
                "end_time",
                _(
                    "The end must not be before the start (a meeting may cross midnight, "
                    "for at most 12 hours)."
                ),
            )

    def appointment_span_days(self) -> int:
        """The days an existing multi-day appointment spans (a meeting that only crosses
        midnight, shorter than a day, spans none: its end time says it)."""
        a = self.appointment
        if a is None or (not a.all_day and a.end - a.start < timedelta(days=1)):
            return 0
        zone = appointment_zone(a.all_day)
        return (
            timezone.localtime(a.end, zone).date() - timezone.localtime(a.start, zone).date()
        ).days

    def times_changed(self) -> bool:
        return (
            any(_differs(self.cleaned_data.get(f), self.initial.get(f)) for f in DATE_TIME_FIELDS)
            or self.appointment is None
        )

    def start_end(self) -> tuple[datetime, datetime]:
        data = self.cleaned_data
        start, end = local_bounds(
            data["date"], data.get("start_time"), data.get("end_time"), bool(data.get("all_day"))
        )
        if data.get("all_day"):
            return start, end + timedelta(days=self.appointment_span_days())
        # Past midnight it ends the next day; a multi-day appointment keeps its days.
        days = rules.end_day_offset(
            data["start_time"], data["end_time"], span_days=self.appointment_span_days()
        )
        return start, _on_day(end, days or 0)

    def changes(self) -> dict:
        """Keyword arguments for the services: model fields and attendee lists."""
        data = dict(self.cleaned_data)
        for name in DATE_TIME_FIELDS:
            data.pop(name, None)
        if self.times_changed():
            data["start"], data["end"] = self.start_end()
            data["all_day"] = bool(self.cleaned_data.get("all_day"))
        data["contacts"] = list(data.get("contacts") or [])
        data["users"] = list(data.get("users") or [])
        data["external_emails"] = list(data.get("external_emails") or [])
        data.pop("book_anyway", None)
        if "room" in data:
            room = data.pop("room") or ""
            data["room_email"] = room
            data["room_name"] = self._room_names.get(room, "") if room else ""
        return data

    def overlap_check_needed(self) -> bool:
        """A new or moved, timed appointment, not confirmed."""
        data = self.cleaned_data
        return (
            "book_anyway" in self.fields
            and not data.get("book_anyway")
            and not data.get("all_day")
            and "book_anyway" not in self.readonly_reasons
            and self.times_changed()
        )


def _on_day(moment: datetime, days: int) -> datetime:
    """The same wall-clock time ``days`` later (DST-safe in the current zone)."""
    if not days:
        return moment
    later = datetime.combine(moment.date() + timedelta(days=days), moment.time())
    return later.replace(tzinfo=moment.tzinfo)


def _differs(value, initial) -> bool:
    if isinstance(value, list | tuple) or hasattr(value, "model"):
        return _pks(value) != _pks(initial or [])
    if hasattr(value, "pk") or hasattr(initial, "pk"):
        return getattr(value, "pk", value) != getattr(initial, "pk", initial)
    return (value or None) != (initial or None)


def _pks(values) -> set:
    return {getattr(v, "pk", v) for v in values}


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)


class FollowUpForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=LocalDateInput())
    start_time = forms.TimeField(label=_("Start time"), widget=LocalTimeInput())
    end_time = forms.TimeField(label=_("End time"), widget=LocalTimeInput())
    title = forms.CharField(label=_("Title"), max_length=255, required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_time"), cleaned.get("end_time")
        if start and end and end < start:
            self.add_error("end_time", _("The end must not be before the start."))
        return cleaned

    def start_end(self) -> tuple[datetime, datetime]:
        d = self.cleaned_data
        return local_bounds(d["date"], d["start_time"], d["end_time"], False)


class AppointmentFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=LocalDateInput())
    end = forms.DateField(label=_("To"), required=False, widget=LocalDateInput())
    appointment_type = forms.ModelChoiceField(
        label=_("Type"), queryset=AppointmentType.objects.all(), required=False
    )
    user = forms.ModelChoiceField(
        label=_("User"), queryset=get_user_model().objects.none(), required=False
    )
    company = forms.ModelChoiceField(
        label=_("Company"), queryset=Company.objects.none(), required=False
    )

    def __init__(self, *args, companies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = companies
        self.fields["user"].queryset = get_user_model().objects.filter(is_active=True)
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.email
        self.fields["appointment_type"].empty_label = _("All types")
        self.fields["user"].empty_label = _("All users")
        self.fields["company"].empty_label = _("All companies")
