"""Calendar, appointment list, appointment page and form. Reads via selectors, writes via
services; a rule that forbids a change is shown to the user with its reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from appointments import calendar_feed, rules, selectors, services
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


def no_invitation_text(organizer, appointment: Appointment | None = None) -> str:
    """Why saving sends no invitation (""; the calendar sends them), for the form and the
    message after saving."""
    from calendar_sync.selectors import invitation_outlook
    from calendar_sync.sync.rules import NO_INVITATION_LABELS

    reason = invitation_outlook(organizer, appointment)
    return str(NO_INVITATION_LABELS[reason]) if reason else ""


def _form_context(form: AppointmentForm, organizer, appointment=None) -> dict:  # noqa: ANN001
    from calendar_sync.sync.rules import NO_INVITATION_LABELS, NoInvitation

    return {
        "editable": rules.ALLOW,
        "form": form,
        "appointment": appointment,
        "organizer": organizer,
        "no_invitation": no_invitation_text(organizer, appointment),
        "back_dated_text": NO_INVITATION_LABELS[NoInvitation.BACK_DATED],
    }


def _saved(request: HttpRequest, text: str, appointment: Appointment) -> HttpResponse:
    messages.success(request, text)
    if reason := no_invitation_text(appointment.organizer, appointment):
        messages.info(request, reason)
    return redirect(appointment.get_absolute_url())


# --- calendar ----------------------------------------------------------------------------------


def _feed_bound(value: str) -> datetime | None:
    """A FullCalendar range bound: a date-time without offset is the viewer's wall clock."""
    parsed = parse_datetime(value) if value else None
    if parsed is None:
        day = parse_date(value[:10]) if value else None
        parsed = datetime.combine(day, time.min) if day else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _people_ids(raw: str) -> list[int]:
    return [int(p) for p in raw.split(",") if p.strip().isdigit()]


@login_required
def calendar_view(request: HttpRequest) -> HttpResponse:
    context = {
        "people": calendar_feed.calendar_people(user=request.user),
        "labels": calendar_feed.labels(),
        "initial_date": _anchor(request),
        "initial_view": request.GET.get("view", ""),
        "work_start": settings.WORKING_HOURS[0],
        "work_end": settings.WORKING_HOURS[1],
    }
    return render(request, "appointments/calendar.html", context)


def _anchor(request: HttpRequest) -> date:
    return parse_date(request.GET.get("date") or "") or timezone.localdate()


def _aware(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@login_required
def calendar_events(request: HttpRequest) -> JsonResponse:
    start = _feed_bound(request.GET.get("start", ""))
    end = _feed_bound(request.GET.get("end", ""))
    if start is None or end is None or end <= start or end - start > timedelta(days=62):
        return JsonResponse(
            {"detail": _("Give a start and an end, at most 62 days apart.")}, status=400
        )
    events = calendar_feed.calendar_events(
        user=request.user,
        start=start,
        end=end,
        people_ids=_people_ids(request.GET.get("people", "")),
    )
    return JsonResponse(events, safe=False)


def _moved_bounds(request: HttpRequest) -> tuple[datetime, datetime, bool]:
    """The new start/end a drag or resize asks for; times without an offset are the viewer's
    wall clock, an all-day move gives dates (read in the organisation's zone)."""
    all_day = request.POST.get("all_day") == "1"
    if all_day:
        first = parse_date(request.POST.get("start", "")[:10])
        after = (
            parse_date(request.POST.get("end", "")[:10] or "") if request.POST.get("end") else None
        )
        if first is None:
            raise ValidationError(_("The new time is not valid."))
        after = after if after and after > first else first + timedelta(days=1)
        zone = timezone.get_default_timezone()
        return (
            datetime.combine(first, time.min, zone),
            datetime.combine(after, time.min, zone),
            True,
        )
    start = _feed_bound(request.POST.get("start", ""))
    end = _feed_bound(request.POST.get("end", ""))
    if start is None or end is None:
        raise ValidationError(_("The new time is not valid."))
    return start, end, False


@login_required
@require_POST
def appointment_move(request: HttpRequest, pk: int) -> JsonResponse:
    """A drag or resize on the calendar: the same service and rules as the form."""
    appointment = selectors.appointment_get(user=request.user, pk=pk)
    try:
        start, end, all_day = _moved_bounds(request)
        services.appointment_update(
            appointment=appointment, actor=request.user, start=start, end=end, all_day=all_day
        )
    except AppointmentPermissionDenied as err:
        return JsonResponse({"detail": err.reason}, status=403)
    except ValidationError as err:
        return JsonResponse({"detail": " ".join(err.messages)}, status=400)
    return JsonResponse({"detail": _("The appointment was moved.")})


# --- list ------------------------------------------------------------------------------------


@login_required
def appointment_list(request: HttpRequest) -> HttpResponse:
    companies = contact_selectors.company_list(user=request.user)
    # Until the rep picks another user (or "All users"), the list is their own.
    params = request.GET.copy()
    params.setdefault("user", str(request.user.pk))
    form = AppointmentFilterForm(params, companies=companies)
    filters: dict = {"participant": request.user}
    if form.is_valid():
        data = form.cleaned_data
        if data["start"]:
            filters["start"] = _aware(data["start"])
        if data["end"]:
            filters["end"] = _aware(data["end"] + timedelta(days=1))
        filters["appointment_type"] = data["appointment_type"]
        filters["participant"] = data["user"]
        filters["company"] = data["company"]
        # "All users" (no user) is everything the rep may see; a colleague, theirs.
        filters["include_colleagues"] = data["user"] != request.user
    appointments = selectors.appointment_list(user=request.user, **filters)
    page_obj = Paginator(appointments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appointments/list.html", {"form": form, "page_obj": page_obj})


# --- detail ------------------------------------------------------------------------------------


def _sync_state(appointment: Appointment):  # noqa: ANN202
    """The appointment's calendar sync state (calendar_sync's), unless it is not synced."""
    try:
        module = import_module("calendar_sync.selectors")
    except ImportError:
        return None
    state = module.appointment_sync_state(appointment)
    return None if state.state == "not_synced" else state


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
        "invitation": selectors.appointment_invitation(appointment),
        "passed": passed,
        "can_set_outcome": rules.can_set_outcome(appointment, user, now).allowed,
        "can_follow_up": can_follow_up,
        "can_delete": rules.can_delete(appointment, user, now).allowed,
        "edit": rules.can_edit(appointment, user, now),
        "outcome_form": OutcomeForm(initial={"outcome": appointment.outcome}),
        "follow_up_form": FollowUpForm(initial=follow_up_initial) if can_follow_up else None,
        "follow_ups": selectors.appointment_follow_ups(user=user, appointment=appointment),
        "follow_up_of": (
            selectors.mask_for(user, appointment.follow_up_of) if appointment.follow_up_of else None
        ),
        "sync": _sync_state(appointment),
        "can_retry": rules.is_organizer(appointment, user),
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
        actor=request.user,
        user_ids=users,
        start=start,
        end=end,
        ignore=ignore,
        appointment_id=appointment.pk if appointment else None,
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
        _(
            "The chosen time is busy (%(busy)s), in the calendar or in the CRM. "
            "Tick “Book anyway” to book it."
        )
        % {"busy": busy},
    )
    return False


def _prefill(request: HttpRequest) -> dict:
    initial: dict = {"appointment_type": AppointmentType.objects.filter(active=True).first()}
    start = _parse_start(request.GET.get("start", ""))
    initial["date"] = start.date()
    initial["start_time"] = start.time()
    initial["end_time"] = _prefill_end(start, request.GET.get("end", "")).time()
    if request.GET.get("all_day") == "1":
        initial["all_day"] = True
    if contact_id := request.GET.get("contact"):
        contact = contact_selectors.contact_get(user=request.user, pk=contact_id)
        initial["contacts"] = [contact]
        initial["company"] = contact.company
    if company_id := request.GET.get("company"):
        initial["company"] = contact_selectors.company_get(user=request.user, pk=company_id)
    return initial


def _prefill_end(start: datetime, value: str) -> datetime:
    """The end of a slot chosen on the calendar (same day, after the start), else an hour on."""
    end = _parse_start(value) if "T" in value else None
    if end is None or end <= start or end.date() != start.date():
        return start + timedelta(hours=1)
    return end


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
            return _saved(request, _("The appointment was created."), appointment)
    return render(request, "appointments/form.html", _form_context(form, request.user))


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
    editable = rules.can_edit(appointment, request.user, timezone.now())
    if request.method == "POST" and not editable:
        # Nothing here is the user's to change: say so, never "saved".
        form.is_valid()
        _save_failed(request, form, editable.reason)
    elif request.method == "POST":
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
                return _saved(request, _("The appointment was saved."), appointment)
        else:
            for reason in dict.fromkeys(
                form.readonly_reasons[f] for f in form.errors if f in form.readonly_reasons
            ):
                messages.error(request, reason)
    context = _form_context(form, appointment.organizer, appointment) | {"editable": editable}
    return render(request, "appointments/form.html", context, status=400 if form.errors else 200)
