"""Availability ("Tillgänglighet") over the emulator for both providers: busy blocks read live,
including meetings that are not in the CRM, suggested free slots, who may see whom, errors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import requests
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

from calendar_sync import availability
from calendar_sync.providers.base import BusyBlock
from tests.calendar_sync.actors import actor_class
from tests.calendar_sync.conftest import PROVIDERS

from .conftest import KARL, at

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def week_of(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    monday = day - dt.timedelta(days=day.weekday())
    return at(monday, 0), at(monday + dt.timedelta(days=5), 0)


def fail_free_busy(emulator, provider: str, kind: str = "500") -> None:
    fault = {
        "kind": kind,
        "count": 50,
        "provider": provider,
        "endpoint": actor_class(provider).free_busy_endpoint,
    }
    requests.post(f"{emulator.url}/_emulator/faults", json=fault, timeout=10).raise_for_status()


def test_a_meeting_made_directly_in_the_calendar_shows_as_busy(
    provider, karl, karl_conn, karl_cal, day
):
    karl_cal.create(title="Tandläkare", start=at(day, 10), end=at(day, 11, 30), attendees=[])
    start, end = week_of(day)
    result = availability.availability_get(
        actor=karl, user_ids=[karl.pk], start=start, end=end, duration=dt.timedelta(hours=1)
    )
    [person] = result.people
    assert person.error == ""
    assert [(b.start, b.end) for b in person.busy] == [(at(day, 10), at(day, 11, 30))]


@pytest.mark.parametrize(  # providers whose calendars make out-of-office entries (not CalDAV)
    "provider", [p for p in PROVIDERS if "out_of_office" in actor_class(p).status_kinds]
)
def test_out_of_office_is_busy_and_an_event_marked_free_is_not(
    provider, karl, karl_conn, karl_cal, day
):
    """Faithful to the providers' free/busy: a status entry that is not logged (out of office)
    still makes the rep busy; an event shown as free does not."""
    karl_cal.create_status("out_of_office", start=at(day, 8), end=at(day, 12))
    karl_cal.create(title="Påminnelse", start=at(day, 13), end=at(day, 14), attendees=[],
                    free=True)  # fmt: skip
    start, end = week_of(day)
    result = availability.availability_get(
        actor=karl, user_ids=[karl.pk], start=start, end=end, duration=dt.timedelta(hours=1)
    )
    [person] = result.people
    assert person.error == ""
    assert [(b.start, b.end) for b in person.busy] == [(at(day, 8), at(day, 12))]


def test_suggestions_skip_the_busy_block_and_stay_in_working_hours(
    provider, karl, karl_conn, karl_cal, day
):
    karl_cal.create(title="Upptagen", start=at(day, 8), end=at(day, 9, 15), attendees=[])
    result = availability.availability_get(
        actor=karl,
        user_ids=[karl.pk],
        start=at(day, 0),
        end=at(day + dt.timedelta(days=1), 0),
        duration=dt.timedelta(hours=1),
    )
    assert result.suggestions[0] == (at(day, 9, 30), at(day, 10, 30))
    assert all(s.astimezone(STOCKHOLM).hour >= 8 for s, _ in result.suggestions)
    assert all(e <= at(day, 18) for _, e in result.suggestions)


def test_the_api_returns_busy_blocks_and_suggestions(
    provider, karl, karl_conn, karl_cal, day, client
):
    karl_cal.create(title="Privat", start=at(day, 13), end=at(day, 14), attendees=[])
    client.force_login(karl)
    start, end = week_of(day)
    resp = client.get(
        "/api/v1/availability/",
        {"users": KARL, "start": start.isoformat(), "end": end.isoformat(), "duration": 30},
    )
    assert resp.status_code == 200, resp.content
    [person] = resp.json()["people"]
    assert person["user"] == KARL
    assert [(b["start"], b["end"]) for b in person["busy"]] == [
        (at(day, 13).isoformat(), at(day, 14).isoformat())
    ]
    assert resp.json()["duration"] == 30
    assert resp.json()["suggestions"]


def test_a_provider_error_gives_a_clear_message_not_a_failure(
    provider, karl, karl_conn, day, client, emulator, adapter_retry_sleeps
):
    fail_free_busy(emulator, provider)
    client.force_login(karl)
    start, end = week_of(day)
    resp = client.get("/api/v1/availability/", {"start": start.isoformat(), "end": end.isoformat()})
    assert resp.status_code == 200
    [person] = resp.json()["people"]
    label = actor_class(provider).label
    assert person["error"] == (
        f"Could not read the availability of Karl Andersson from {label} right now. "
        "You can still book; try again in a moment."
    )


def test_a_person_waiting_is_not_made_to_wait_out_a_failing_provider(
    provider, karl, karl_conn, day, emulator, adapter_retry_sleeps
):
    """Interactive reads retry once, briefly; a long Retry-After is reported, not waited out."""
    requests.post(f"{emulator.url}/_emulator/requests", timeout=10)
    fail_free_busy(emulator, provider, kind="503")  # Retry-After: 1 → one short retry
    start, end = week_of(day)
    result = availability.availability_get(actor=karl, user_ids=[karl.pk], start=start, end=end)
    assert "right now" in result.people[0].error
    assert len(adapter_retry_sleeps) == 1 and adapter_retry_sleeps[0] <= 3
    long_wait = {"kind": "429", "count": 5, "provider": provider, "retry_after": 120}
    requests.delete(f"{emulator.url}/_emulator/faults", timeout=10)
    requests.post(f"{emulator.url}/_emulator/faults", json=long_wait, timeout=10)
    adapter_retry_sleeps.clear()
    result = availability.availability_get(actor=karl, user_ids=[karl.pk], start=start, end=end)
    assert "right now" in result.people[0].error
    assert adapter_retry_sleeps == []  # not a two-minute page load


def test_background_sync_calls_keep_the_full_retry_budget(adapter_retry_sleeps):
    from calendar_sync.providers.base import (
        INTERACTIVE_MAX_SECONDS,
        RETRY_BUDGET_SECONDS,
        ProviderError,
        call_with_retries,
    )

    calls = []

    def flaky():
        calls.append(1)
        raise ProviderError("backend error", permanent=False)

    with pytest.raises(ProviderError):
        call_with_retries(flaky)
    assert INTERACTIVE_MAX_SECONDS < sum(adapter_retry_sleeps) <= RETRY_BUDGET_SECONDS
    assert len(calls) == len(adapter_retry_sleeps) + 1 > 2


def test_a_revoked_grant_asks_for_a_reconnect(provider, karl, karl_conn, karl_cal, day):
    karl_cal.revoke_access()
    start, end = week_of(day)
    result = availability.availability_get(actor=karl, user_ids=[karl.pk], start=start, end=end)
    assert "has to be reconnected" in result.people[0].error


def test_a_user_without_a_calendar_is_reported(provider, karl, karl_conn, sync_user, day):
    eva = sync_user("eva.lind@exempel.se", first_name="Eva", last_name="Lind")
    team = Group.objects.create(name="Team Syd")
    team.user_set.add(karl, eva)
    start, end = week_of(day)
    result = availability.availability_get(
        actor=karl, user_ids=[karl.pk, eva.pk], start=start, end=end
    )
    assert [p.error for p in result.people] == [
        "",
        "Eva Lind has no active calendar app: only their appointments in the CRM are shown.",
    ]


def test_only_yourself_team_mates_or_staff_are_visible(provider, karl, karl_conn, sync_user, day):
    eva = sync_user("eva.lind@exempel.se")
    boss = sync_user("chef@exempel.se", is_staff=True)
    start, end = week_of(day)
    with pytest.raises(PermissionDenied):
        availability.availability_get(actor=eva, user_ids=[karl.pk], start=start, end=end)
    assert availability.availability_get(actor=boss, user_ids=[karl.pk], start=start, end=end)
    team = Group.objects.create(name="Team Nord")
    team.user_set.add(karl, eva)
    assert availability.availability_get(actor=eva, user_ids=[karl.pk], start=start, end=end)


def test_the_api_refuses_a_user_you_may_not_see(provider, karl, karl_conn, sync_user, client, day):
    eva = sync_user("eva.lind@exempel.se")
    client.force_login(eva)
    resp = client.get("/api/v1/availability/", {"users": KARL})
    assert resp.status_code == 403
    assert "may not see the availability" in resp.json()["detail"]


def test_the_api_validates_its_parameters(provider, karl, karl_conn, client):
    client.force_login(karl)
    assert client.get("/api/v1/availability/", {"start": "tomorrow"}).status_code == 400
    assert client.get("/api/v1/availability/", {"users": "nobody@x.se"}).status_code == 400
    assert client.get("/api/v1/availability/", {"duration": "0"}).status_code == 400


# --- the slot arithmetic, without a provider -----------------------------------------------------
def test_suggest_slots_skips_weekends_and_past_the_end_of_the_day():
    friday = dt.date(2026, 12, 4)
    busy = [BusyBlock(at(friday, 8), at(friday, 17, 30))]
    slots = availability.suggest_slots(
        busy,
        start=at(friday, 0),
        end=at(friday + dt.timedelta(days=4), 0),
        duration=dt.timedelta(hours=1),
        tz=STOCKHOLM,
        limit=2,
    )
    monday = friday + dt.timedelta(days=3)
    assert slots == [(at(monday, 8), at(monday, 9)), (at(monday, 9), at(monday, 10))]


def test_subtract_cuts_the_appointments_own_time_out_of_a_merged_block():
    day = dt.date(2026, 12, 1)
    blocks = [BusyBlock(at(day, 10), at(day, 12))]
    assert availability.subtract(blocks, at(day, 10), at(day, 11)) == [
        BusyBlock(at(day, 11), at(day, 12))
    ]


# --- the CRM's own appointments are busy time too ------------------------------------------------
@pytest.fixture
def eva_in_team(sync_user, karl):
    eva = sync_user("eva.lind@exempel.se", first_name="Eva", last_name="Lind")
    Group.objects.create(name="Team Syd").user_set.add(karl, eva)
    return eva


@pytest.fixture
def olles_meeting_with_eva(sync_user, sync_type, eva_in_team, day):
    """Olle has no calendar app: his CRM meeting with Eva is in no calendar at all."""
    from appointments.models import AttendeeKind
    from appointments.services import appointment_create

    olle = sync_user("olle.nord@exempel.se", first_name="Olle")
    meeting = appointment_create(
        organizer=olle,
        title="Kundbesök",
        appointment_type=sync_type,
        start=at(day, 10),
        end=at(day, 11),
        users=[eva_in_team],
    )
    assert meeting.attendees.get().kind == AttendeeKind.USER
    return meeting


@pytest.mark.parametrize("eva_has_calendar", [True, False])
def test_a_participant_of_a_colleagues_crm_appointment_is_busy_and_not_suggested(
    provider, karl, karl_conn, eva_in_team, olles_meeting_with_eva, sync_connect, day,
    eva_has_calendar,
):  # fmt: skip
    if eva_has_calendar:  # active, but the meeting is not in her calendar
        sync_connect(provider, eva_in_team)
    result = availability.availability_get(
        actor=karl,
        user_ids=[karl.pk, eva_in_team.pk],
        start=at(day, 0),
        end=at(day + dt.timedelta(days=1), 0),
        duration=dt.timedelta(hours=1),
        now=at(day, 7),
    )
    eva = result.people[1]
    assert [(b.start, b.end) for b in eva.busy] == [(at(day, 10), at(day, 11))]
    assert result.suggestions[:3] == [
        (at(day, 8), at(day, 9)),
        (at(day, 9), at(day, 10)),
        (at(day, 11), at(day, 12)),
    ]


def test_a_declined_or_cancelled_crm_appointment_leaves_the_time_free(
    provider, karl, karl_conn, eva_in_team, olles_meeting_with_eva, day
):
    from appointments.models import Outcome, Response

    olles_meeting_with_eva.attendees.update(response=Response.DECLINED)
    start, end = at(day, 0), at(day + dt.timedelta(days=1), 0)
    result = availability.availability_get(
        actor=karl, user_ids=[eva_in_team.pk], start=start, end=end
    )
    assert result.people[0].busy == []
    olles_meeting_with_eva.attendees.update(response=Response.ACCEPTED)
    olles_meeting_with_eva.outcome = Outcome.CANCELLED
    olles_meeting_with_eva.save()
    result = availability.availability_get(
        actor=karl, user_ids=[eva_in_team.pk], start=start, end=end
    )
    assert result.people[0].busy == []
