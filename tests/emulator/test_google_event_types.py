"""Status events, visibility, transparency and several calendars, through the real googleapiclient.

Google Calendar v3: `eventType` focusTime / outOfOffice / workingLocation with their properties
objects (primary calendar only, no attendees, type immutable), `visibility`, `transparency` and
what they mean for freeBusy; calendars.insert / delete and freeBusy over several calendar ids.
Every response is checked against the bundled discovery schema.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import requests
from googleapiclient.errors import HttpError

from tests.emulator.test_google_discovery_schema import CALENDAR, check

ALICE, BOB = "alice@example.com", "bob@example.com"
TZ = ZoneInfo("Europe/Stockholm")


def _at(days: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(
        dt.datetime.now(TZ).date() + dt.timedelta(days=days), dt.time(hour), TZ
    )


def _times(days: int = 1, hour: int = 10, hours: int = 1) -> dict:
    start = _at(days, hour)
    return {
        "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"},
        "end": {
            "dateTime": (start + dt.timedelta(hours=hours)).isoformat(),
            "timeZone": "Europe/Stockholm",
        },
    }


def _all_day(days: int = 1) -> dict:
    day = dt.datetime.now(TZ).date() + dt.timedelta(days=days)
    return {
        "start": {"date": day.isoformat()},
        "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
    }


OOO = {
    "eventType": "outOfOffice",
    "summary": "Vacation",
    "outOfOfficeProperties": {
        "autoDeclineMode": "declineOnlyNewConflictingInvitations",
        "declineMessage": "Away",
    },
}
FOCUS = {
    "eventType": "focusTime",
    "summary": "Deep work",
    "focusTimeProperties": {"autoDeclineMode": "declineNone", "chatStatus": "doNotDisturb"},
}
WORKING = {
    "eventType": "workingLocation",
    "summary": "Home",
    "workingLocationProperties": {"type": "homeOffice", "homeOffice": {}},
}


def _error(err: HttpError) -> tuple[int, str, str]:
    body = json.loads(err.content)["error"]
    return err.status_code, body["errors"][0]["reason"], body["message"]


def _busy(service, *ids: str, days: int = 1) -> dict[str, list[tuple[str, str]]]:
    result = (
        service.freebusy()
        .query(
            body={
                "timeMin": _at(days, 0).isoformat(),
                "timeMax": _at(days + 1, 0).isoformat(),
                "timeZone": "Europe/Stockholm",
                "items": [{"id": i} for i in ids],
            }
        )
        .execute()
    )
    check(CALENDAR, "FreeBusyResponse", result)
    return {
        cid: [(b["start"][11:16], b["end"][11:16]) for b in cal["busy"]]
        if "errors" not in cal
        else cal["errors"][0]["reason"]
        for cid, cal in result["calendars"].items()
    }


def test_status_events_are_created_with_their_properties(google_calendar, google_accounts):
    alice = google_calendar(ALICE).events()
    created = {}
    for body in (OOO, FOCUS, WORKING):
        ev = alice.insert(calendarId="primary", body={**body, **_times(hour=9)}).execute()
        check(CALENDAR, "Event", ev)
        created[ev["eventType"]] = ev
    assert created["outOfOffice"]["outOfOfficeProperties"] == OOO["outOfOfficeProperties"]
    assert created["focusTime"]["focusTimeProperties"]["chatStatus"] == "doNotDisturb"
    working = created["workingLocation"]
    assert working["workingLocationProperties"]["type"] == "homeOffice"
    assert (working["transparency"], working["visibility"]) == ("transparent", "public")
    plain = alice.insert(calendarId="primary", body={"summary": "x", **_times()}).execute()
    assert plain["eventType"] == "default"
    fetched = alice.get(calendarId="primary", eventId=created["outOfOffice"]["id"]).execute()
    check(CALENDAR, "Event", fetched)
    assert fetched["eventType"] == "outOfOffice"
    # An all-day working location is allowed (only focus time / out of office must be timed).
    alice.insert(calendarId="primary", body={**WORKING, **_all_day(2)}).execute()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**OOO, **_all_day()}, "Out of office events cannot be all-day events."),
        ({**FOCUS, **_all_day()}, "Focus time events cannot be all-day events."),
        (
            {**OOO, "attendees": [{"email": BOB}], **_times()},
            "Out of office events cannot have attendees.",
        ),
        (
            {"eventType": "outOfOffice", "focusTimeProperties": {}, **_times()},
            "focusTimeProperties requires an event type of focusTime.",
        ),
        ({"eventType": "outOfOffice", **_times()}, "Missing outOfOfficeProperties."),
        (
            {"eventType": "fromGmail", **_times()},
            "Events of type fromGmail cannot be created or changed through the API.",
        ),
        ({"eventType": "lunch", **_times()}, "Invalid value for: eventType"),
        (
            {**WORKING, "transparency": "opaque", **_times()},
            "Working location events must be transparent.",
        ),
        (
            {**FOCUS, "focusTimeProperties": {"chatStatus": "away"}, **_times()},
            "Invalid value for: focusTimeProperties.chatStatus",
        ),
        ({"summary": "x", "visibility": "secret", **_times()}, "Invalid value for: visibility"),
        ({"summary": "x", "transparency": "clear", **_times()}, "Invalid value for: transparency"),
    ],
)
def test_invalid_status_events_are_400(google_calendar, google_accounts, body, message):
    with pytest.raises(HttpError) as info:
        google_calendar(ALICE).events().insert(calendarId="primary", body=body).execute()
    status, _reason, got = _error(info.value)
    assert (status, got) == (400, message)


def test_status_events_only_on_the_primary_calendar(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    personal = next(
        c for c in service.calendarList().list().execute()["items"] if not c.get("primary")
    )
    with pytest.raises(HttpError) as info:
        service.events().insert(calendarId=personal["id"], body={**OOO, **_times()}).execute()
    assert (
        _error(info.value)[2] == "Out of office events can only be created on the primary calendar."
    )


def test_event_type_never_changes(google_calendar, google_accounts):
    alice = google_calendar(ALICE).events()
    ooo = alice.insert(calendarId="primary", body={**OOO, **_times()}).execute()
    with pytest.raises(HttpError) as info:
        alice.patch(
            calendarId="primary", eventId=ooo["id"], body={"eventType": "default"}
        ).execute()
    assert _error(info.value)[:2] == (400, "invalid")
    # A full update that does not repeat the type keeps it (and must still carry the properties).
    updated = alice.update(
        calendarId="primary",
        eventId=ooo["id"],
        body={"summary": "Longer vacation", "outOfOfficeProperties": {}, **_times(hours=3)},
    ).execute()
    check(CALENDAR, "Event", updated)
    assert (updated["eventType"], updated["summary"]) == ("outOfOffice", "Longer vacation")
    plain = alice.insert(
        calendarId="primary", body={"summary": "Meeting", **_times(days=2)}
    ).execute()
    with pytest.raises(HttpError):
        alice.patch(
            calendarId="primary",
            eventId=plain["id"],
            body={"eventType": "focusTime", "focusTimeProperties": {}},
        ).execute()
    assert alice.get(calendarId="primary", eventId=plain["id"]).execute()["eventType"] == "default"


def test_visibility_round_trips_and_reaches_attendee_copies(google_calendar, google_accounts):
    alice = google_calendar(ALICE).events()
    for value in ("default", "public", "private", "confidential"):
        ev = alice.insert(
            calendarId="primary", body={"summary": value, "visibility": value, **_times()}
        ).execute()
        assert ev["visibility"] == value
    private = alice.insert(
        calendarId="primary",
        body={
            "summary": "Board",
            "visibility": "private",
            "attendees": [{"email": BOB}],
            **_times(days=2),
        },
        sendUpdates="all",
    ).execute()
    bob_copy = (
        google_calendar(BOB).events().get(calendarId="primary", eventId=private["id"]).execute()
    )
    assert bob_copy["visibility"] == "private"
    patched = alice.patch(
        calendarId="primary", eventId=private["id"], body={"visibility": "public"}
    ).execute()
    assert patched["visibility"] == "public"


def test_free_busy_counts_opaque_events_only(google_calendar, google_accounts):
    alice = google_calendar(ALICE)
    events = alice.events()
    events.insert(calendarId="primary", body={**OOO, **_times(hour=8)}).execute()
    events.insert(calendarId="primary", body={**FOCUS, **_times(hour=10)}).execute()
    events.insert(calendarId="primary", body={**WORKING, **_times(hour=12)}).execute()
    events.insert(
        calendarId="primary",
        body={"summary": "Reminder", "transparency": "transparent", **_times(hour=14)},
    ).execute()
    events.insert(
        calendarId="primary", body={"summary": "Doctor", "visibility": "private", **_times(hour=16)}
    ).execute()
    assert _busy(alice, "primary") == {
        "primary": [("08:00", "09:00"), ("10:00", "11:00"), ("16:00", "17:00")]
    }
    # Another account sees the same blocks (busy time, never the details).
    assert _busy(google_calendar(BOB), ALICE)[ALICE] == [
        ("08:00", "09:00"),
        ("10:00", "11:00"),
        ("16:00", "17:00"),
    ]


def test_event_types_filter_on_events_list(
    emulator, google_calendar, google_accounts, google_token
):
    events = google_calendar(ALICE).events()
    events.insert(calendarId="primary", body={**OOO, **_times(hour=8)}).execute()
    events.insert(calendarId="primary", body={**FOCUS, **_times(hour=10)}).execute()
    events.insert(calendarId="primary", body={"summary": "Meeting", **_times(hour=12)}).execute()
    every = events.list(calendarId="primary").execute()
    check(CALENDAR, "Events", every)
    assert sorted(e["eventType"] for e in every["items"]) == ["default", "focusTime", "outOfOffice"]
    some = events.list(
        calendarId="primary", eventTypes=["outOfOffice", "focusTime"], singleEvents=True
    ).execute()
    assert sorted(e["eventType"] for e in some["items"]) == ["focusTime", "outOfOffice"]
    bad = requests.get(
        emulator.url + "/google/calendar/v3/calendars/primary/events",
        params={"eventTypes": "lunch"},
        headers={"Authorization": f"Bearer {google_token(ALICE)}"},
        timeout=5,
    )
    assert bad.status_code == 400 and bad.json()["error"]["errors"][0]["location"] == "eventTypes"


def test_several_calendars_insert_list_freebusy_delete(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    made = (
        service.calendars()
        .insert(body={"summary": "Side project", "timeZone": "Europe/Stockholm"})
        .execute()
    )
    check(CALENDAR, "Calendar", made)
    assert made["id"].endswith("@group.calendar.google.com") and made["summary"] == "Side project"
    listing = service.calendarList().list().execute()
    check(CALENDAR, "CalendarList", listing)
    assert [e["summary"] for e in listing["items"] if not e.get("primary")] == [
        "Personal",
        "Side project",
    ]
    personal = next(e["id"] for e in listing["items"] if e["summary"] == "Personal")
    events = service.events()
    events.insert(calendarId="primary", body={"summary": "Customer", **_times(hour=9)}).execute()
    events.insert(calendarId=personal, body={"summary": "Dentist", **_times(hour=11)}).execute()
    events.insert(
        calendarId=made["id"], body={"summary": "Build", **_times(hour=13, hours=2)}
    ).execute()
    assert _busy(service, "primary", personal, made["id"]) == {
        "primary": [("09:00", "10:00")],
        personal: [("11:00", "12:00")],
        made["id"]: [("13:00", "15:00")],
    }
    # Nobody else can read a secondary calendar's free/busy.
    assert _busy(google_calendar(BOB), made["id"]) == {made["id"]: "notFound"}

    service.calendars().delete(calendarId=made["id"]).execute()
    assert _busy(service, made["id"]) == {made["id"]: "notFound"}
    with pytest.raises(HttpError) as info:
        service.events().list(calendarId=made["id"]).execute()
    assert info.value.status_code == 404
    with pytest.raises(HttpError) as info:
        service.calendars().delete(calendarId="primary").execute()
    assert _error(info.value)[:2] == (400, "cannotDeletePrimaryCalendar")
    with pytest.raises(HttpError) as info:
        service.calendars().insert(body={"summary": " "}).execute()
    assert _error(info.value)[:2] == (400, "required")


def test_managing_calendars_needs_the_full_calendar_scope(
    google_calendar, google_accounts, google_token
):
    token = google_token(ALICE, scopes=["https://www.googleapis.com/auth/calendar.events"])
    with pytest.raises(HttpError) as info:
        google_calendar(ALICE, token).calendars().insert(body={"summary": "No"}).execute()
    assert _error(info.value)[:2] == (403, "insufficientPermissions")
