"""Per-user time zones: the profile setting (default the organisation's), pages and API in the
user's zone, UTC stored, all-day appointments kept as dates, and the March and October
daylight-saving changes (Europe changes a week before New York in October)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from appointments.models import Appointment
from contacts.services import user_time_zone_set
from tests.factories import AppointmentFactory, UserFactory, add_user_attendee

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


@pytest.fixture
def eva(db):
    """A colleague in New York."""
    user = UserFactory(first_name="Eva", last_name="Lind", email="eva.lind@exempel.se")
    user_time_zone_set(user=user, time_zone="America/New_York")
    return user


@pytest.fixture
def eva_client(client, eva):
    client.force_login(eva)
    return client


def feed(client, first: dt.date, days: int = 7) -> dict[str, dict]:
    last = first + dt.timedelta(days=days)
    response = client.get(
        reverse("appointments:calendar_events"),
        {"start": f"{first}T00:00:00", "end": f"{last}T00:00:00"},
    )
    assert response.status_code == 200, response.content
    return {e["title"]: e for e in response.json()}


def meeting(rep, meeting_type, title: str, start: dt.datetime, end: dt.datetime, **kw):
    return AppointmentFactory(
        organizer=rep, appointment_type=meeting_type, title=title, start=start, end=end, **kw
    )


def test_the_same_meeting_is_at_each_users_own_local_time(rep, rep_client, eva, meeting_type):
    start = dt.datetime(2027, 6, 15, 10, tzinfo=STOCKHOLM)
    appointment = meeting(rep, meeting_type, "Avstämning", start, start + dt.timedelta(hours=1))
    add_user_attendee(appointment, eva)
    assert feed(rep_client, dt.date(2027, 6, 14))["Avstämning"]["start"] == "2027-06-15T10:00:00"
    rep_client.force_login(eva)
    shown = feed(rep_client, dt.date(2027, 6, 14))["Avstämning"]
    assert (shown["start"], shown["end"]) == ("2027-06-15T04:00:00", "2027-06-15T05:00:00")


def test_in_the_october_week_between_the_two_changes_new_york_is_five_hours_behind(
    rep, rep_client, eva, meeting_type
):
    # Europe left summer time on 31 October 2027, New York leaves it on 7 November.
    start = dt.datetime(2027, 11, 2, 10, tzinfo=STOCKHOLM)
    appointment = meeting(rep, meeting_type, "Mellanvecka", start, start + dt.timedelta(hours=1))
    add_user_attendee(appointment, eva)
    rep_client.force_login(eva)
    assert feed(rep_client, dt.date(2027, 11, 1))["Mellanvecka"]["start"] == "2027-11-02T05:00:00"
    later = start + dt.timedelta(days=7)
    add_user_attendee(
        meeting(rep, meeting_type, "Veckan efter", later, later + dt.timedelta(hours=1)), eva
    )
    assert feed(rep_client, dt.date(2027, 11, 8))["Veckan efter"]["start"] == "2027-11-09T04:00:00"


def test_the_march_change_week_shows_wall_clock_times_and_stores_utc(rep, rep_client, meeting_type):
    # Clocks go forward on Sunday 28 March 2027 in Stockholm (02:00 -> 03:00).
    before = dt.datetime(2027, 3, 26, 10, tzinfo=STOCKHOLM)
    after = dt.datetime(2027, 3, 29, 10, tzinfo=STOCKHOLM)
    meeting(rep, meeting_type, "Fredag", before, before + dt.timedelta(hours=1))
    meeting(rep, meeting_type, "Måndag", after, after + dt.timedelta(hours=1))
    shown = feed(rep_client, dt.date(2027, 3, 22), days=14)
    assert shown["Fredag"]["start"] == "2027-03-26T10:00:00"
    assert shown["Måndag"]["start"] == "2027-03-29T10:00:00"
    stored = {a.title: a.start.astimezone(UTC).hour for a in Appointment.objects.all()}
    assert stored == {"Fredag": 9, "Måndag": 8}


def test_moving_a_meeting_over_the_march_change_keeps_its_wall_clock_time(
    rep, rep_client, meeting_type
):
    start = dt.datetime(2027, 3, 26, 10, tzinfo=STOCKHOLM)
    appointment = meeting(rep, meeting_type, "Flytt", start, start + dt.timedelta(hours=1))
    with time_machine.travel(dt.datetime(2027, 3, 20, 12, tzinfo=UTC), tick=False):
        rep_client.force_login(rep)  # a session of that day
        response = rep_client.post(
            reverse("appointments:move", args=[appointment.pk]),
            {"start": "2027-03-29T10:00:00", "end": "2027-03-29T11:00:00", "all_day": "0"},
        )
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.start == dt.datetime(2027, 3, 29, 8, tzinfo=UTC)
    assert appointment.end - appointment.start == dt.timedelta(hours=1)


def test_a_meeting_over_midnight_on_the_october_night_lasts_its_real_hours(
    rep, rep_client, meeting_type
):
    # 31 October 2027 03:00 -> 02:00: 23:00 to 04:00 on the wall clock is six real hours.
    start = dt.datetime(2027, 10, 30, 23, tzinfo=STOCKHOLM)
    end = dt.datetime(2027, 10, 31, 4, tzinfo=STOCKHOLM)
    appointment = meeting(rep, meeting_type, "Nattjobb", start, end)
    appointment.refresh_from_db()
    assert appointment.end - appointment.start == dt.timedelta(hours=6)  # both in UTC
    shown = feed(rep_client, dt.date(2027, 10, 25))["Nattjobb"]
    assert (shown["start"], shown["end"]) == ("2027-10-30T23:00:00", "2027-10-31T04:00:00")
    detail = rep_client.get(appointment.get_absolute_url()).content.decode()
    assert "Sat 30 Oct 2027 23:00–Sun 31 Oct 2027 04:00" in detail


def test_an_all_day_appointment_booked_in_new_york_stays_its_date(eva, eva_client, meeting_type):
    response = eva_client.post(
        reverse("appointments:create"),
        {
            "title": "Mässa",
            "appointment_type": meeting_type.pk,
            "date": "2027-06-15",
            "all_day": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get(title="Mässa")
    assert appointment.start == dt.datetime(2027, 6, 15, tzinfo=STOCKHOLM)
    assert appointment.end == dt.datetime(2027, 6, 16, tzinfo=STOCKHOLM)
    shown = feed(eva_client, dt.date(2027, 6, 14))["Mässa"]
    assert (shown["start"], shown["end"], shown["allDay"]) == ("2027-06-15", "2027-06-16", True)
    detail = eva_client.get(appointment.get_absolute_url()).content.decode()
    assert "Tue 15 Jun 2027" in detail and "Mon 14 Jun" not in detail
    edit = eva_client.get(reverse("appointments:edit", args=[appointment.pk])).content.decode()
    assert 'value="2027-06-15"' in edit


def test_the_profile_sets_the_zone_every_page_states_it(rep, rep_client):
    profile = reverse("settings_profile")
    page = rep_client.get(profile).content.decode()
    assert 'id="user-time-zone"' in page and ">Europe/Stockholm</a>" in page
    assert "The organisation&#x27;s (Europe/Stockholm)" in page
    assert rep_client.post(profile, {"time_zone": "Mars/Olympus"}).status_code == 200
    response = rep_client.post(profile, {"time_zone": "America/New_York"})
    assert response.status_code == 302
    calendar = rep_client.get(reverse("appointments:calendar")).content.decode()
    assert 'data-time-zone="America/New_York"' in calendar
    assert "Times in America/New_York" in calendar
    form = rep_client.get(reverse("appointments:create")).content.decode()
    assert ">America/New_York</a>" in form
    rep_client.post(profile, {"time_zone": ""})
    assert ">Europe/Stockholm</a>" in rep_client.get(profile).content.decode()


def test_the_api_answers_in_the_token_owners_zone(eva, meeting_type, client):
    from rest_framework.authtoken.models import Token

    start = dt.datetime(2027, 6, 15, 10, tzinfo=STOCKHOLM)
    appointment = meeting(eva, meeting_type, "API", start, start + dt.timedelta(hours=1))
    token = Token.objects.create(user=eva)
    response = client.get(
        f"/api/v1/appointments/{appointment.pk}/", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.json()["start"] == "2027-06-15T04:00:00-04:00"
    docs = client.get("/api/v1/schema/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert "Time zones" in docs.content.decode()
