"""More calendars for busy time (issue 15, item 5), over the emulator for both providers: a rep
picks other calendars of the connected account; their busy time counts in availability, in the
suggested slots and in the booking conflict check (also when a colleague books with the rep),
their events are never imported, unchosen calendars do not count, the main calendar cannot be
picked, and a calendar deleted at the provider is dropped with a note."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from appointments.models import Appointment
from calendar_sync import availability
from calendar_sync.busy_calendars import busy_calendar_options, busy_calendars_set
from calendar_sync.models import EventLink
from calendar_sync.providers import get_adapter
from calendar_sync.sync import engine
from tests.calendar_sync.actors import actor_class

from .conftest import KARL, at
from .test_form_and_api import post_data

pytestmark = pytest.mark.django_db


def day_of(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return at(day, 0), at(day + dt.timedelta(days=1), 0)


def karl_busy(karl, day: dt.date) -> availability.PersonAvailability:
    start, end = day_of(day)
    result = availability.availability_get(
        actor=karl, user_ids=[karl.pk], start=start, end=end, now=at(day, 7)
    )
    return result.people[0]


@pytest.fixture
def personal(karl_cal, day):
    """Karl's "Privat" calendar at the provider, with a dentist's appointment 10:00–11:00."""
    calendar_id = karl_cal.add_calendar("Privat")
    karl_cal.create_in(calendar_id, title="Tandläkare", start=at(day, 10), end=at(day, 11))
    return calendar_id


@pytest.fixture
def chosen(karl, karl_conn, personal):
    busy_calendars_set(connection=karl_conn, actor=karl, calendar_ids=[personal])
    karl_conn.refresh_from_db()
    return personal


@pytest.fixture
def rep_client(client, karl):
    client.force_login(karl)
    return client


def fail_calendar_list(emulator, provider: str) -> None:
    fault = {
        "kind": "500",
        "count": 50,
        "provider": provider,
        "endpoint": actor_class(provider).calendar_list_endpoint,
    }
    requests.post(f"{emulator.url}/_emulator/faults", json=fault, timeout=10).raise_for_status()


# --- availability, suggestions, conflicts ----------------------------------------------------------
def test_an_event_in_a_chosen_calendar_blocks_that_time_in_availability(
    provider, karl, chosen, day
):
    person = karl_busy(karl, day)
    assert person.error == ""
    assert [(b.start, b.end) for b in person.busy] == [(at(day, 10), at(day, 11))]


def test_suggested_slots_go_around_a_chosen_calendars_event(provider, karl, chosen, day):
    start, end = day_of(day)
    result = availability.availability_get(
        actor=karl, user_ids=[karl.pk], start=start, end=end, now=at(day, 7)
    )
    assert result.suggestions[:3] == [
        (at(day, 8), at(day, 9)),
        (at(day, 9), at(day, 10)),
        (at(day, 11), at(day, 12)),
    ]


def test_an_unchosen_calendar_does_not_count(provider, karl, karl_conn, personal, day):
    assert karl_busy(karl, day).busy == []


def test_a_free_event_in_a_chosen_calendar_does_not_count(provider, karl, karl_cal, chosen, day):
    karl_cal.create_in(chosen, title="Kanske", start=at(day, 14), end=at(day, 15), free=True)
    assert [(b.start, b.end) for b in karl_busy(karl, day).busy] == [(at(day, 10), at(day, 11))]


def test_main_calendar_crm_and_chosen_calendars_busy_time_merge(
    provider, karl, karl_cal, chosen, day
):
    karl_cal.create(title="Kundmöte", start=at(day, 9), end=at(day, 10), attendees=[])
    karl_cal.create_in(chosen, title="Gym", start=at(day, 10, 30), end=at(day, 12))
    assert [(b.start, b.end) for b in karl_busy(karl, day).busy] == [(at(day, 9), at(day, 12))]


def test_booking_over_a_chosen_calendars_event_needs_book_anyway(
    provider, karl, chosen, sync_type, day, rep_client
):
    resp = rep_client.post("/appointments/new/", post_data(sync_type, day))
    assert resp.status_code == 200
    assert "The chosen time is busy (Karl Andersson 10:00–11:00)" in resp.content.decode()
    assert not Appointment.objects.exists()


def test_moving_an_appointment_still_clashes_with_a_chosen_calendars_event_at_its_time(
    provider, karl, karl_cal, chosen, sync_type, day, rep_client,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """The moved appointment's own time is cut out of the main calendar's busy time only."""
    with django_capture_on_commit_callbacks(execute=True):
        data = post_data(sync_type, day, book_anyway="on")
        assert rep_client.post("/appointments/new/", data).status_code == 302
    appointment = Appointment.objects.get()
    data = post_data(sync_type, day, start_time="10:30", end_time="11:30")
    resp = rep_client.post(f"/appointments/{appointment.pk}/edit/", data)
    assert resp.status_code == 400  # the edit form answers a refused save with 400
    assert "The chosen time is busy (Karl Andersson 10:00–11:00)" in resp.content.decode()


def test_a_colleague_booking_with_the_rep_sees_that_busy_time(
    provider, karl, chosen, sync_user, sync_connect, sync_type, day, client
):
    eva = sync_user("eva.lind@exempel.se", first_name="Eva", last_name="Lind")
    sync_connect(provider, eva)
    Group.objects.create(name="Team Syd").user_set.add(karl, eva)
    client.force_login(eva)
    resp = client.post("/appointments/new/", post_data(sync_type, day, users=[karl.pk]))
    assert resp.status_code == 200
    assert "The chosen time is busy (Karl Andersson 10:00–11:00)" in resp.content.decode()
    start, end = day_of(day)
    seen = availability.availability_get(actor=eva, user_ids=[karl.pk], start=start, end=end)
    assert [(b.start, b.end) for b in seen.people[0].busy] == [(at(day, 10), at(day, 11))]


def test_a_chosen_calendars_events_are_never_imported(provider, karl_conn, karl_cal, chosen, day):
    karl_cal.create(title="Kundmöte", start=at(day, 14), end=at(day, 15), attendees=["k@kund.se"])
    karl_cal.create_in(chosen, title="Middag", start=at(day, 18), end=at(day, 19))
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run is not None and not run.error
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Kundmöte"]
    titles = set(EventLink.objects.values_list("title", flat=True))
    assert "Tandläkare" not in titles and "Middag" not in titles


# --- choosing ------------------------------------------------------------------------------------------
def test_the_options_are_the_accounts_other_calendars_with_the_chosen_ticked(
    provider, karl, karl_conn, karl_cal, chosen
):
    other = karl_cal.add_calendar("Sidoprojekt")
    options = busy_calendar_options(connection=karl_conn, actor=karl)
    assert options.error == ""
    by_id = {c.id: c for c in options.calendars}
    assert by_id[chosen].chosen and by_id[chosen].name == "Privat"
    assert not by_id[other].chosen
    assert KARL not in {c.name for c in options.calendars}  # not the main calendar
    assert karl_conn.busy_calendars == [{"id": chosen, "name": "Privat"}]


def test_the_main_calendar_cannot_be_chosen(provider, karl, karl_conn):
    main = next(c for c in get_adapter(karl_conn).list_calendars() if c.primary)
    with pytest.raises(ValidationError, match="main calendar always counts"):
        busy_calendars_set(connection=karl_conn, actor=karl, calendar_ids=[main.id])
    karl_conn.refresh_from_db()
    assert karl_conn.busy_calendars == []


def test_an_unknown_calendar_is_refused(provider, karl, karl_conn, chosen):
    with pytest.raises(ValidationError, match="Not a calendar of this account: nope"):
        busy_calendars_set(connection=karl_conn, actor=karl, calendar_ids=[chosen, "nope"])
    karl_conn.refresh_from_db()
    assert [c["id"] for c in karl_conn.busy_calendars] == [chosen]


def test_only_the_rep_chooses_their_calendars(provider, karl_conn, personal, sync_user):
    boss = sync_user("chef@exempel.se", is_staff=True, is_superuser=True)
    with pytest.raises(PermissionDenied):
        busy_calendars_set(connection=karl_conn, actor=boss, calendar_ids=[personal])
    with pytest.raises(PermissionDenied):
        busy_calendar_options(connection=karl_conn, actor=boss)


def test_a_provider_error_gives_a_message_and_keeps_the_saved_choice(
    provider, karl, karl_conn, chosen, emulator, adapter_retry_sleeps
):
    fail_calendar_list(emulator, provider)
    label = actor_class(provider).label
    options = busy_calendar_options(connection=karl_conn, actor=karl)
    assert options.error == (
        f"Could not read your calendars from {label} right now. Your saved choice is kept; "
        "try again in a moment."
    )
    with pytest.raises(ValidationError, match="Your saved choice is kept"):
        busy_calendars_set(connection=karl_conn, actor=karl, calendar_ids=[])
    karl_conn.refresh_from_db()
    assert [c["id"] for c in karl_conn.busy_calendars] == [chosen]


def test_a_calendar_deleted_at_the_provider_is_dropped_with_a_note(
    provider, karl, karl_conn, karl_cal, chosen, day, rep_client
):
    karl_cal.delete_calendar(chosen)
    person = karl_busy(karl, day)
    assert person.error == "" and person.busy == []
    karl_conn.refresh_from_db()
    assert karl_conn.busy_calendars == []
    assert karl_conn.busy_calendars_dropped == ["Privat"]
    html = rep_client.get(f"/settings/calendar/{_slug(provider)}/").content.decode()
    label = actor_class(provider).label
    assert f"No longer in {label}, so no longer counted as busy: Privat." in html


def test_a_calendar_gone_from_the_list_is_dropped_when_the_options_are_read(
    provider, karl, karl_conn, karl_cal, chosen
):
    karl_cal.delete_calendar(chosen)
    options = busy_calendar_options(connection=karl_conn, actor=karl)
    assert chosen not in {c.id for c in options.calendars}
    karl_conn.refresh_from_db()
    assert karl_conn.busy_calendars == [] and karl_conn.busy_calendars_dropped == ["Privat"]


# --- the settings page ------------------------------------------------------------------------------
def _slug(provider: str) -> str:
    from calendar_sync.providers.registry import get_provider

    return get_provider(provider).settings_slug


def test_the_settings_page_lists_the_calendars_and_saves_the_ticked_ones(
    provider, karl, karl_conn, karl_cal, personal, rep_client
):
    other = karl_cal.add_calendar("Sidoprojekt")
    url = f"/settings/calendar/{_slug(provider)}/"
    html = rep_client.get(url).content.decode()
    assert "Calendars that count as busy" in html
    assert f'value="{personal}"' in html and f'value="{other}"' in html
    resp = rep_client.post(
        f"/settings/calendar/{provider}/busy-calendars/", {"calendars": [other]}, follow=True
    )
    assert "Saved: the calendars that count as busy." in resp.content.decode()
    karl_conn.refresh_from_db()
    assert karl_conn.busy_calendars == [{"id": other, "name": "Sidoprojekt"}]
    assert f'value="{other}" checked' in resp.content.decode()


def test_the_settings_page_says_when_the_calendars_cannot_be_read(
    provider, karl, karl_conn, chosen, rep_client, emulator, adapter_retry_sleeps
):
    fail_calendar_list(emulator, provider)
    resp = rep_client.get(f"/settings/calendar/{_slug(provider)}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Could not read your calendars from" in html
    assert "Counted as busy now: Privat" in html
    resp = rep_client.post(
        f"/settings/calendar/{provider}/busy-calendars/", {"calendars": []}, follow=True
    )
    assert resp.status_code == 200 and "Your saved choice is kept" in resp.content.decode()
    karl_conn.refresh_from_db()
    assert [c["id"] for c in karl_conn.busy_calendars] == [chosen]


# --- the API ------------------------------------------------------------------------------------------
def test_the_api_shows_and_sets_busy_calendars(
    provider, karl, karl_conn, karl_cal, chosen, rep_client
):
    url = f"/api/v1/calendar-connections/{karl_conn.pk}/"
    body = rep_client.get(url).json()
    assert body["busy_calendars"] == [{"id": chosen, "name": "Privat"}]
    options = rep_client.get(url + "calendars/").json()
    assert options["error"] == ""
    chosen_names = [c["name"] for c in options["calendars"] if c["chosen"]]
    assert chosen_names == ["Privat"]
    # the provider's own calendars too (Radicale gives an account its one calendar only)
    assert len(options["calendars"]) > 1 or not actor_class(provider).more_default_calendars
    other = karl_cal.add_calendar("Sidoprojekt")
    resp = rep_client.patch(
        url, {"busy_calendars": [{"id": other}]}, content_type="application/json"
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["busy_calendars"] == [{"id": other, "name": "Sidoprojekt"}]
    resp = rep_client.patch(url, {"busy_calendars": []}, content_type="application/json")
    assert resp.json()["busy_calendars"] == []


def test_the_api_refuses_the_main_calendar_and_other_reps(
    provider, karl, karl_conn, personal, rep_client, client, sync_user
):
    url = f"/api/v1/calendar-connections/{karl_conn.pk}/"
    main = next(c for c in get_adapter(karl_conn).list_calendars() if c.primary)
    resp = rep_client.patch(
        url, {"busy_calendars": [{"id": main.id}]}, content_type="application/json"
    )
    assert resp.status_code == 400
    assert "main calendar always counts as busy" in resp.content.decode()
    boss = sync_user("chef@exempel.se", is_staff=True, is_superuser=True)
    client.force_login(boss)
    resp = client.patch(
        url, {"busy_calendars": [{"id": personal}]}, content_type="application/json"
    )
    assert resp.status_code == 403
    assert client.get(url + "calendars/").status_code == 403
