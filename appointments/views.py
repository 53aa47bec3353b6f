"""Calendar, appointment list, appointment page and form. Reads via selectors, writes via
services; a rule that forbids a change is shown to the user with its reason."""

from __future__ import annotations

import calendar as pycalendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import import_module

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from appointments import rules, selectors, services
from appointments.forms import (
    AppointmentFilterForm,
    AppointmentForm,
    BookingOptions,
    FollowUpForm,
    OutcomeForm,
    initial_from_appointment,
)
from appointments.models import Appointment, AppointmentType
from appointments.services import AppointmentPermissionDenied
from contacts import selectors as contact_selectors

PAGE_SIZE = 25


def has_active_calendar(user) -> bool:
    """Whether the user's calendar app is active (calendar_sync may not provide it yet)."""
    try:
        module = import_module("calendar_sync.selectors")
    except ImportError:
        return False
    check = getattr(module, "has_active_calendar", None)
    return bool(check(user)) if check else False


# --- calendar ----------------------------------------------------------------------------------


@dataclass
class CalendarDay:
    day: date
    in_month: bool = True
    is_today: bool = False
    entries: list[dict] = field(default_factory=list)


def _anchor(request: HttpRequest) -> date:
    return parse_date(request.GET.get("date") or "") or timezone.localdate()


def _period(view: str, anchor: date) -> tuple[date, date, date, date]:
    """(first shown day, day after the last shown, previous anchor, next anchor)."""
    if view == "month":
        first = anchor.replace(day=1)
        last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
        grid_start = first - timedelta(days=first.weekday())
        grid_end = last + timedelta(days=7 - last.weekday())
        prev_anchor = (first - timedelta(days=1)).replace(day=1)
        return grid_start, grid_end, prev_anchor, last + timedelta(days=1)
    monday = anchor - timedelta(days=anchor.weekday())
    return monday, monday + timedelta(days=7), monday - timedelta(days=7), monday + timedelta(7)


def _aware(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _calendar_days(first: date, end: date, anchor: date, appointments, user) -> list[CalendarDay]:
    today = timezone.localdate()
    days = {
        first + timedelta(n): CalendarDay(
            day=first + timedelta(n),
            in_month=(first + timedelta(n)).month == anchor.month,
            is_today=first + timedelta(n) == today,
        )
        for n in range((end - first).days)
    }
    for appointment in appointments:
        entry = {
            "a": appointment,
            "participants": selectors.appointment_participants(appointment),
            "mine": rules.is_participant(appointment, user),
        }
        start_day = timezone.localtime(appointment.start).date()
        last_moment = max(appointment.end - timedelta(microseconds=1), appointment.start)
        end_day = timezone.localtime(last_moment).date()
        day = max(start_day, first)
        while day <= end_day and day < end:
            days[day].entries.append(entry)
            day += timedelta(days=1)
    return list(days.values())


@login_required
def calendar_view(request: HttpRequest) -> HttpResponse:
    view = "month" if request.GET.get("view") == "month" else "week"
    anchor = _anchor(request)
    first, end, prev_anchor, next_anchor = _period(view, anchor)
    include_colleagues = request.GET.get("colleagues") == "1"
    appointments = selectors.appointment_list(
        user=request.user,
        start=_aware(first),
        end=_aware(end),
        include_colleagues=include_colleagues,
    )
    days = _calendar_days(first, end, anchor, appointments, request.user)
    context = {
        "view": view,
        "anchor": anchor,
        "first": first,
        "last": end - timedelta(days=1),
        "days": days,
        "weekday_names": [d.day for d in days[:7]],
        "prev_anchor": prev_anchor,
        "next_anchor": next_anchor,
        "include_colleagues": include_colleagues,
    }
    return render(request, "appointments/calendar.html", context)


# --- list ------------------------------------------------------------------------------------


@login_required
def appointment_list(request: HttpRequest) -> HttpResponse:
    companies = contact_selectors.company_list(user=request.user)
    form = AppointmentFilterForm(request.GET or None, companies=companies)
    filters: dict = {}
    if form.is_valid():
        data = form.cleaned_data
        if data["start"]:
            filters["start"] = _aware(data["start"])
        if data["end"]:
            filters["end"] = _aware(data["end"] + timedelta(days=1))
        filters["appointment_type"] = data["appointment_type"]
        filters["participant"] = data["user"]
        filters["company"] = data["company"]
        # Filtering on a colleague means looking at their appointments too.
        filters["include_colleagues"] = data["user"] is not None and data["user"] != request.user
    appointments = selectors.appointment_list(user=request.user, **filters)
    page_obj = Paginator(appointments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appointments/list.html", {"form": form, "page_obj": page_obj})


# --- detail ------------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, appointment: Appointment, **extra) -> dict:
    now = timezone.now()
    user = request.user
    passed = rules.is_passed(appointment, now)
    can_follow_up = passed and rules.can_create_follow_up(appointment, user, now).allowed
    start = timezone.localtime(appointment.start)
    follow_up_initial = {
        "date": timezone.localdate() + timedelta(days=1),
        "start_time": start.time(),
        "end_time": timezone.localtime(appointment.end).time(),
    }
    context = {
        "appointment": appointment,
        "participants": selectors.appointment_participants(appointment),
        "passed": passed,
        "can_set_outcome": rules.can_set_outcome(appointment, user, now).allowed,
        "can_follow_up": can_follow_up,
        "can_delete": rules.can_delete(appointment, user, now).allowed,
        "outcome_form": OutcomeForm(initial={"outcome": appointment.outcome}),
        "follow_up_form": FollowUpForm(initial=follow_up_initial) if can_follow_up else None,
        "follow_ups": appointment.follow_ups.order_by("start"),
    }
    context.update(extra)
    return context


@login_required
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    return render(request, "appointments/detail.html", _detail_context(request, appointment))


@login_required
@require_POST
def appointment_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            services.appointment_set_outcome(
                appointment=appointment, actor=request.user, outcome=form.cleaned_data["outcome"]
            )
        except AppointmentPermissionDenied as err:
            messages.error(request, err.reason)
        else:
            messages.success(request, _("The outcome was saved."))
    return redirect(appointment.get_absolute_url())


@login_required
@require_POST
def appointment_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        start, end = form.start_end()
        try:
            follow_up = services.appointment_create_follow_up(
                appointment=appointment,
                actor=request.user,
                start=start,
                end=end,
                title=form.cleaned_data["title"] or None,
            )
        except AppointmentPermissionDenied as err:
            messages.error(request, err.reason)
        except ValidationError as err:
            messages.error(request, " ".join(err.messages))
        else:
            messages.success(request, _("The follow-up appointment was created."))
            return redirect(follow_up.get_absolute_url())
    context = _detail_context(request, appointment, follow_up_form=form)
    return render(request, "appointments/detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def appointment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            services.appointment_delete(appointment=appointment, actor=request.user)
        except AppointmentPermissionDenied as err:
            messages.error(request, err.reason)
            return redirect(appointment.get_absolute_url())
        messages.success(request, _("The appointment was deleted."))
        return redirect("appointments:calendar")
    return render(request, "appointments/confirm_delete.html", {"appointment": appointment})


# --- create / edit -------------------------------------------------------------------------------


def _booking_options(organizer) -> BookingOptions | None:
    """Rooms (from the cache), the video option and who has a calendar; no provider call
    unless the room cache is empty."""
    if not has_active_calendar(organizer):
        return None
    from calendar_sync.availability import users_with_calendar
    from calendar_sync.rooms import rooms_for_user

    connection, rooms, _error = rooms_for_user(user=organizer)
    if connection is None:
        return None
    User = get_user_model()  # noqa: N806
    with_calendar = users_with_calendar(
        User.objects.filter(is_active=True).values_list("pk", flat=True)
    )
    return BookingOptions(
        provider=connection.provider,
        rooms=tuple((r.email, _room_label(r)) for r in rooms),
        room_names={r.email: r.name for r in rooms},
        users_with_calendar=frozenset(with_calendar),
    )


def _room_label(room) -> str:
    details = [d for d in (room.building, _("%(n)s seats") % {"n": room.capacity}) if d]
    return f"{room.name} ({', '.join(details)})" if room.capacity else room.name


def _form(request: HttpRequest, *, organizer, appointment=None, initial=None) -> AppointmentForm:
    return AppointmentForm(
        request.POST or None,
        user=request.user,
        companies=contact_selectors.company_list(user=request.user),
        contacts=contact_selectors.contact_list(user=request.user),
        appointment=appointment,
        show_agenda=has_active_calendar(organizer),
        booking=_booking_options(organizer),
        initial=initial,
    )


def _busy_time_confirmed(
    request: HttpRequest, form: AppointmentForm, organizer, appointment=None
) -> bool:
    """Saving over a busy block needs "Book anyway" (re-checked here against the provider).
    A provider error is shown as a warning and never blocks booking."""
    if not form.overlap_check_needed():
        return True
    from calendar_sync.availability import busy_conflicts

    start, end = form.start_end()
    users = [organizer.pk, *(u.pk for u in form.cleaned_data.get("users") or [])]
    ignore = (appointment.start, appointment.end) if appointment else None
    conflicts, errors = busy_conflicts(
        actor=request.user, user_ids=users, start=start, end=end, ignore=ignore
    )
    for error in errors:
        messages.warning(request, error)
    if not conflicts:
        return True
    busy = "; ".join(
        f"{c.person.name} {timezone.localtime(c.block.start):%H:%M}–"
        f"{timezone.localtime(c.block.end):%H:%M}"
        for c in conflicts
    )
    form.add_error(
        "book_anyway",
        _("The chosen time is busy in the calendar (%(busy)s). Tick “Book anyway” to book it.")
        % {"busy": busy},
    )
    return False


def _prefill(request: HttpRequest) -> dict:
    initial: dict = {"appointment_type": AppointmentType.objects.filter(active=True).first()}
    start = _parse_start(request.GET.get("start", ""))
    initial["date"] = start.date()
    initial["start_time"] = start.time()
    initial["end_time"] = (start + timedelta(hours=1)).time()
    if contact_id := request.GET.get("contact"):
        contact = contact_selectors.contact_get(user=request.user, pk=contact_id)
        initial["contacts"] = [contact]
        initial["company"] = contact.company
    if company_id := request.GET.get("company"):
        initial["company"] = contact_selectors.company_get(user=request.user, pk=company_id)
    return initial


def _parse_start(value: str) -> datetime:
    parsed = parse_datetime(value) if "T" in value or " " in value else None
    if parsed is not None:
        return timezone.localtime(
            timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
        )
    day = parse_date(value)
    if day is None:
        # The next whole hour from now.
        now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        return now + timedelta(hours=1)
    return datetime.combine(day, time(9), tzinfo=timezone.get_current_timezone())


def _save_failed(request: HttpRequest, form: AppointmentForm, message: str) -> None:
    form.add_error(None, message)
    messages.error(request, message)


@login_required
@require_http_methods(["GET", "POST"])
def appointment_create(request: HttpRequest) -> HttpResponse:
    form = _form(request, organizer=request.user, initial=_prefill(request))
    if (
        request.method == "POST"
        and form.is_valid()
        and _busy_time_confirmed(request, form, request.user)
    ):
        try:
            appointment = services.appointment_create(organizer=request.user, **form.changes())
        except AppointmentPermissionDenied as err:
            _save_failed(request, form, err.reason)
        except ValidationError as err:
            _save_failed(request, form, " ".join(err.messages))
        else:
            messages.success(request, _("The appointment was created."))
            return redirect(appointment.get_absolute_url())
    return render(request, "appointments/form.html", {"form": form, "organizer": request.user})


@login_required
@require_http_methods(["GET", "POST"])
def appointment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    form = _form(
        request,
        organizer=appointment.organizer,
        appointment=appointment,
        initial=initial_from_appointment(appointment),
    )
    if request.method == "POST":
        if form.is_valid() and _busy_time_confirmed(
            request, form, appointment.organizer, appointment
        ):
            try:
                services.appointment_update(
                    appointment=appointment, actor=request.user, **form.changes()
                )
            except AppointmentPermissionDenied as err:
                _save_failed(request, form, err.reason)
            except ValidationError as err:
                _save_failed(request, form, " ".join(err.messages))
            else:
                messages.success(request, _("The appointment was saved."))
                return redirect(appointment.get_absolute_url())
        else:
            for reason in dict.fromkeys(
                form.readonly_reasons[f] for f in form.errors if f in form.readonly_reasons
            ):
                messages.error(request, reason)
    context = {"form": form, "appointment": appointment, "organizer": appointment.organizer}
    return render(request, "appointments/form.html", context, status=400 if form.errors else 200)
