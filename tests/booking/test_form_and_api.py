"""The appointment form and the appointments API with a calendar: video option by provider,
room picker, live invitation data, "Book anyway" re-checked server-side, provider errors that do
not block booking; the video/room fields in the API and the OpenAPI schema."""

from __future__ import annotations

import datetime as dt

import pytest

from appointments.models import Appointment
from calendar_sync.providers.registry import PROVIDERS as REGISTRY
from calendar_sync.rooms import room_availability
from tests.calendar_sync.actors import actor_class
from tests.calendar_sync.conftest import ROOM_PROVIDERS, VIDEO_ROOM_PROVIDERS
from tests.factories import ContactFactory, UserFactory

from .conftest import ROOMS, STOCKHOLM, at
from .test_availability import fail_free_busy

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep_client(client, karl):
    client.force_login(karl)
    return client


def post_data(sync_type, day, **extra) -> dict:
    return {
        "title": "Offertgenomgång",
        "appointment_type": sync_type.pk,
        "date": day.isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        **extra,
    }


def test_without_an_active_calendar_there_is_no_video_room_or_availability(db, client):
    user = UserFactory()
    client.force_login(user)
    html = client.get("/appointments/new/").content.decode()
    assert 'name="video_requested"' not in html
    assert 'name="room"' not in html
    assert 'id="availability-people"' not in html
    assert 'name="agenda"' not in html


@pytest.mark.parametrize("provider", VIDEO_ROOM_PROVIDERS)
def test_the_form_offers_the_providers_video_meeting_and_rooms(
    provider, karl_conn, rooms, rep_client
):
    html = rep_client.get("/appointments/new/").content.decode()
    label = actor_class(provider).video_label
    assert label in html
    assert 'name="agenda"' in html
    assert "Stora rummet (HQ, 12 seats)" in html
    assert 'id="availability-people"' in html


def test_contact_options_carry_the_invitation_address(provider, karl_conn, rep_client):
    ContactFactory(name="Anna Berg", emails=["anna.berg@acme.se"])
    ContactFactory(name="Utan Mejl", emails=[])
    html = rep_client.get("/appointments/new/").content.decode()
    assert 'data-email="anna.berg@acme.se" data-name="Anna Berg"' in html
    assert 'data-email="" data-name="Utan Mejl"' in html


def test_saving_over_a_busy_block_needs_book_anyway(
    provider,
    karl,
    karl_conn,
    karl_cal,
    sync_type,
    day,
    rep_client,
    django_capture_on_commit_callbacks,
):
    karl_cal.create(title="Tandläkare", start=at(day, 10, 30), end=at(day, 11, 30), attendees=[])
    resp = rep_client.post("/appointments/new/", post_data(sync_type, day))
    assert resp.status_code == 200
    assert not Appointment.objects.exists()
    assert "The chosen time is busy (Karl Andersson 10:30–11:30)" in (resp.content.decode())
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post("/appointments/new/", post_data(sync_type, day, book_anyway="on"))
    assert resp.status_code == 302
    assert Appointment.objects.count() == 1


def test_a_free_time_needs_no_confirmation(
    provider,
    karl,
    karl_conn,
    karl_cal,
    sync_type,
    day,
    rep_client,
    django_capture_on_commit_callbacks,
):
    karl_cal.create(title="Tandläkare", start=at(day, 8), end=at(day, 9), attendees=[])
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post("/appointments/new/", post_data(sync_type, day))
    assert resp.status_code == 302


def test_moving_an_appointment_does_not_clash_with_its_own_event(
    provider, karl, karl_conn, sync_type, day, rep_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post("/appointments/new/", post_data(sync_type, day))
    appointment = Appointment.objects.get()
    data = post_data(sync_type, day, start_time="10:30", end_time="11:30")
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post(f"/appointments/{appointment.pk}/edit/", data)
    assert resp.status_code == 302, resp.content.decode()[:3000]


def test_a_provider_error_is_a_warning_and_booking_still_works(
    provider, karl, karl_conn, sync_type, day, rep_client, emulator, adapter_retry_sleeps,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    fail_free_busy(emulator, provider)
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post("/appointments/new/", post_data(sync_type, day), follow=True)
    assert resp.redirect_chain
    html = resp.content.decode()
    assert "Could not read the availability of Karl Andersson" in html
    assert "The appointment was created." in html
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("provider", VIDEO_ROOM_PROVIDERS)
def test_the_form_books_a_room_and_a_video_meeting(
    provider, karl, karl_conn, karl_cal, rooms, sync_type, day, rep_client,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    stora = ROOMS[0][0]
    data = post_data(sync_type, day, room=stora, video_requested="on")
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post("/appointments/new/", data, follow=True)
    appointment = Appointment.objects.get()
    assert (appointment.room_email, appointment.room_name) == (stora, "Stora rummet")
    assert appointment.video_requested and appointment.video_link.startswith("https://")
    assert resp.redirect_chain
    html = rep_client.get(f"/appointments/{appointment.pk}/").content.decode()
    assert appointment.video_link in html and "Stora rummet" in html
    busy = room_availability(actor=karl, start=at(day, 10), end=at(day, 11))
    assert {r.email: r.free for r in busy.rooms}[stora] is False
    feed = rep_client.get(
        "/calendar/events/",
        {"start": f"{day}T00:00:00", "end": f"{day + dt.timedelta(days=1)}T00:00:00"},
    ).json()
    assert [(e["extendedProps"]["room"], e["extendedProps"]["video"]) for e in feed] == [
        ("Stora rummet", True)
    ]


@pytest.mark.parametrize("provider", ROOM_PROVIDERS)
def test_an_unknown_room_is_refused(provider, karl_conn, rooms, sync_type, day, rep_client):
    resp = rep_client.post("/appointments/new/", post_data(sync_type, day, room="x@y.se"))
    assert resp.status_code == 200
    assert not Appointment.objects.exists()


# --- API ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("provider", VIDEO_ROOM_PROVIDERS)
def test_api_books_video_and_room_by_room_email(
    provider, karl, karl_conn, karl_cal, rooms, sync_type, day, rep_client,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    body = {
        "title": "API-möte",
        "appointment_type": sync_type.pk,
        "start": at(day, 13).isoformat(),
        "end": at(day, 14).isoformat(),
        "video_requested": True,
        "room": {"email": ROOMS[1][0]},
    }
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post("/api/v1/appointments/", body, content_type="application/json")
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    data = rep_client.get(f"/api/v1/appointments/{pk}/").json()
    assert data["video_requested"] is True
    assert data["video_link"].startswith("https://")
    assert data["room"] == {"name": "Lilla rummet", "email": ROOMS[1][0]}
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.patch(
            f"/api/v1/appointments/{pk}/", {"room": None}, content_type="application/json"
        )
    assert resp.json()["room"] is None


@pytest.mark.parametrize("provider", VIDEO_ROOM_PROVIDERS)
def test_api_refuses_an_unknown_room_and_a_written_video_link(
    provider, karl_conn, rooms, sync_type, day, rep_client
):
    body = {
        "title": "API-möte",
        "appointment_type": sync_type.pk,
        "start": at(day, 13).isoformat(),
        "end": at(day, 14).isoformat(),
        "room": {"email": "nope@exempel.se"},
    }
    resp = rep_client.post("/api/v1/appointments/", body, content_type="application/json")
    assert resp.status_code == 400
    assert "room" in resp.json()
    body = {**body, "room": None, "video_link": "https://evil.example/"}
    resp = rep_client.post("/api/v1/appointments/", body, content_type="application/json")
    assert resp.status_code == 201
    assert resp.json()["video_link"] == ""


def api_body(sync_type, day, **extra) -> dict:
    return {
        "title": "API-möte",
        "appointment_type": sync_type.pk,
        "start": at(day, 13).isoformat(),
        "end": at(day, 14).isoformat(),
        **extra,
    }


def test_can_request_video_through_the_api_only_when_the_organizers_calendar_makes_them(
    provider, karl_conn, sync_type, day, rep_client
):
    spec = REGISTRY[provider]
    body = api_body(sync_type, day, video_requested=True)
    resp = rep_client.post("/api/v1/appointments/", body, content_type="application/json")
    if spec.has_video():
        assert resp.status_code == 201, resp.content
        assert resp.json()["video_requested"] is True
        return
    assert resp.status_code == 400
    assert resp.json() == {
        "video_requested": [f"The organizer's calendar ({spec.label}) cannot add video meetings."]
    }
    assert not Appointment.objects.exists()  # nothing stored that can never be fulfilled
    # Without the video box the booking goes through; asking for one later is refused too.
    resp = rep_client.post(
        "/api/v1/appointments/", api_body(sync_type, day), content_type="application/json"
    )
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    resp = rep_client.patch(
        f"/api/v1/appointments/{pk}/", {"video_requested": True}, content_type="application/json"
    )
    assert resp.status_code == 400
    assert "cannot add video meetings" in resp.json()["video_requested"][0]
    assert Appointment.objects.get(pk=pk).video_requested is False


def test_can_request_video_through_the_api_is_refused_without_a_calendar(sync_type, day, client):
    client.force_login(UserFactory())
    body = api_body(sync_type, day, video_requested=True)
    resp = client.post(
        "/api/v1/appointments/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="sv"
    )
    assert resp.status_code == 400
    assert resp.json() == {
        "video_requested": [
            "Organisatören har ingen kalender kopplad, så inget videomöte kan läggas till."
        ]
    }
    assert not Appointment.objects.exists()
    body["video_requested"] = False
    resp = client.post("/api/v1/appointments/", body, content_type="application/json")
    assert resp.status_code == 201, resp.content


@pytest.mark.parametrize("provider", ROOM_PROVIDERS)
def test_api_rooms_with_free_flags(provider, karl, karl_conn, karl_cal, rooms, day, rep_client):
    karl_cal.create(
        title="Rumsbokning", start=at(day, 9), end=at(day, 10), attendees=[], rooms=[ROOMS[0][0]]
    )
    resp = rep_client.get(
        "/api/v1/rooms/", {"start": at(day, 9).isoformat(), "end": at(day, 10).isoformat()}
    )
    assert resp.status_code == 200
    data = resp.json()
    assert data["provider"] == provider and data["error"] == ""
    free = {r["email"]: r["free"] for r in data["rooms"]}
    assert free == {ROOMS[0][0]: False, ROOMS[1][0]: True}
    assert {r["building"] for r in data["rooms"]} == {"HQ"}


def test_the_openapi_schema_documents_availability_rooms_and_the_booking_fields(
    provider, rep_client
):
    schema = rep_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/availability/" in schema["paths"]
    assert "/api/v1/rooms/" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/availability/"]["get"]["parameters"]}
    assert {"users", "start", "end", "duration"} <= params
    read = schema["components"]["schemas"]["Appointment"]["properties"]
    assert read["video_link"]["readOnly"] is True
    write = schema["components"]["schemas"]["AppointmentWrite"]["properties"]
    assert {"video_requested", "room"} <= set(write)


@pytest.mark.parametrize("karl_has_calendar", [True, False])
def test_booking_a_colleague_into_a_crm_appointment_they_attend_is_warned_about(
    provider, karl, sync_user, sync_type, sync_connect, day, rep_client, karl_has_calendar,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from django.contrib.auth.models import Group

    from appointments.services import appointment_create

    if karl_has_calendar:
        sync_connect(provider, karl)
    eva = sync_user("eva.lind@exempel.se", first_name="Eva", last_name="Lind")
    Group.objects.create(name="Team Syd").user_set.add(karl, eva)
    olle = sync_user("olle.nord@exempel.se", first_name="Olle")
    appointment_create(
        organizer=olle, title="Kundbesök", appointment_type=sync_type,
        start=at(day, 10, 30), end=at(day, 11, 30), users=[eva],
    )  # fmt: skip
    resp = rep_client.post("/appointments/new/", post_data(sync_type, day, users=[eva.pk]))
    assert resp.status_code == 200
    assert "The chosen time is busy (Eva Lind 10:30–11:30)" in resp.content.decode()
    assert Appointment.objects.filter(organizer=karl).count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post(
            "/appointments/new/", post_data(sync_type, day, users=[eva.pk], book_anyway="on")
        )
    assert resp.status_code == 302


# --- what a booking will send, said before saving (issue 9, items 2 and 5) -------------------------
def test_the_form_says_the_agenda_is_what_invitees_read_and_the_description_is_internal(
    provider, karl_conn, rep_client
):
    html = rep_client.get("/appointments/new/").content.decode()
    assert "What the invitees read" in html
    assert "Internal note for the CRM only: never written to the calendar" in html
    assert 'id="invitation-preview"' in html and 'id="invitation-text"' in html
    assert 'id="no-invitation" hidden' in html


def test_a_disconnected_rep_is_told_why_agenda_room_and_video_are_gone(
    provider, karl, karl_conn, rep_client, django_capture_on_commit_callbacks
):
    from calendar_sync.services import connection_disconnect

    with django_capture_on_commit_callbacks(execute=True):
        connection_disconnect(connection=karl_conn, actor=karl)
    html = rep_client.get("/appointments/new/").content.decode()
    assert 'name="agenda"' not in html and 'name="room"' not in html
    assert 'id="calendar-off"' in html
    assert "calendar is disconnected, so this appointment is not sent to it" in html
    assert "After saving, the calendar sends" not in html  # no promise of invitations


def test_an_uninstalled_app_and_no_app_are_said_apart(provider, karl, karl_conn, rep_client):
    from calendar_sync.models import CalendarApp
    from calendar_sync.services import calendar_app_uninstall

    calendar_app_uninstall(app=CalendarApp.objects.get(provider=provider))
    html = rep_client.get("/appointments/new/").content.decode()
    assert "An administrator has uninstalled the calendar app" in html
    rep_client.force_login(UserFactory())
    html = rep_client.get("/appointments/new/").content.decode()
    assert "The organizer has no calendar app connected" in html


def test_saving_a_back_dated_appointment_says_nobody_is_invited(
    provider, karl, karl_conn, sync_type, rep_client, django_capture_on_commit_callbacks
):
    import datetime as dt

    from calendar_sync.models import EventLink

    yesterday = dt.datetime.now(STOCKHOLM).date() - dt.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post(
            "/appointments/new/",
            post_data(sync_type, yesterday, external_emails="kund@extern.se"),
            follow=True,
        )
    assert "a back-dated appointment is never sent to the calendar" in resp.content.decode()
    assert not EventLink.objects.exists()


def test_an_appointment_from_before_the_activation_says_its_invitees_get_nothing(
    provider, karl, sync_type, sync_connect, day, rep_client
):
    import datetime as dt

    from django.utils import timezone

    from appointments.services import appointment_create

    old = appointment_create(
        organizer=karl, title="Före appen", appointment_type=sync_type,
        start=at(day, 10), end=at(day, 11), external_emails=["kund@extern.se"],
    )  # fmt: skip
    sync_connect(provider, karl, activated_at=timezone.now() + dt.timedelta(seconds=1))
    html = rep_client.get(f"/appointments/{old.pk}/edit/").content.decode()
    assert "booked before the calendar app was activated" in html
    assert 'id="invitation-preview" hidden' in html


# --- late evening, across midnight (issue 9, item 5) ---------------------------------------------
def test_a_new_appointment_late_in_the_evening_has_a_valid_default_time(
    provider, karl, karl_conn, sync_type, rep_client, django_capture_on_commit_callbacks
):
    import datetime as dt

    import time_machine

    evening = dt.datetime.combine(
        dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=1), dt.time(22, 10)
    )
    with time_machine.travel(evening.replace(tzinfo=STOCKHOLM), tick=False):
        form = rep_client.get("/appointments/new/").context["form"]
        initial = {name: form[name].value() for name in ("date", "start_time", "end_time")}
        data = post_data(sync_type, evening.date())
        data.update(
            date=initial["date"].isoformat(),
            start_time=initial["start_time"].strftime("%H:%M"),
            end_time=initial["end_time"].strftime("%H:%M"),
        )
        with django_capture_on_commit_callbacks(execute=True):
            resp = rep_client.post("/appointments/new/", data)
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    appointment = Appointment.objects.get()
    assert appointment.start == evening.replace(hour=23, minute=0, tzinfo=STOCKHOLM)
    assert appointment.end - appointment.start == dt.timedelta(hours=1)  # ends at midnight


def test_a_meeting_may_cross_midnight_but_an_end_before_the_start_is_not_a_day_long(
    provider, karl, karl_conn, sync_type, day, rep_client, django_capture_on_commit_callbacks
):
    import datetime as dt

    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post(
            "/appointments/new/",
            post_data(sync_type, day, start_time="22:00", end_time="01:00", book_anyway="on"),
        )
    assert resp.status_code == 302
    appointment = Appointment.objects.get()
    assert (appointment.start, appointment.end) == (at(day, 22), at(day + dt.timedelta(1), 1))
    resp = rep_client.post(
        "/appointments/new/", post_data(sync_type, day, start_time="14:00", end_time="13:00")
    )
    assert resp.status_code == 200
    assert "The end must not be before the start" in resp.content.decode()
