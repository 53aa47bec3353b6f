"""Incremental sync (syncToken) and recurring events through the real googleapiclient."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import requests
from googleapiclient.errors import HttpError

ALICE, BOB = "alice@example.com", "bob@example.com"
TZ = ZoneInfo("Europe/Stockholm")


def _slot(days: int, hour: int = 9) -> tuple[dict, dict]:
    day = dt.datetime.now(TZ).date() + dt.timedelta(days=days)
    start = dt.datetime.combine(day, dt.time(hour))
    return (
        {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"},
        {"dateTime": (start + dt.timedelta(hours=1)).isoformat(), "timeZone": "Europe/Stockholm"},
    )


def _reason(err: HttpError) -> str:
    return json.loads(err.content)["error"]["errors"][0]["reason"]


def _full_sync(service, **params) -> tuple[list[dict], str, int]:
    items, pages = [], 0
    request = service.events().list(calendarId="primary", **params)
    while True:
        page = request.execute()
        pages += 1
        items += page["items"]
        nxt = service.events().list_next(request, page)
        if nxt is None:
            assert "nextPageToken" not in page
            return items, page["nextSyncToken"], pages
        assert "nextSyncToken" not in page  # only on the last page
        request = nxt


def test_sync_token_incremental_and_last_page_only(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    ids = []
    for i in range(5):
        start, end = _slot(i + 1)
        ids.append(
            service.events()
            .insert(calendarId="primary", body={"summary": f"E{i}", "start": start, "end": end})
            .execute()["id"]
        )
    items, token, pages = _full_sync(service, maxResults=2)
    assert pages == 3 and sorted(e["id"] for e in items) == sorted(ids)

    empty = service.events().list(calendarId="primary", syncToken=token).execute()
    assert empty["items"] == [] and empty["nextSyncToken"]

    service.events().patch(
        calendarId="primary", eventId=ids[0], body={"summary": "changed"}
    ).execute()
    service.events().delete(calendarId="primary", eventId=ids[1]).execute()
    start, end = _slot(9)
    new = (
        service.events()
        .insert(calendarId="primary", body={"summary": "new", "start": start, "end": end})
        .execute()
    )
    changes = (
        service.events().list(calendarId="primary", syncToken=empty["nextSyncToken"]).execute()
    )
    by_id = {e["id"]: e for e in changes["items"]}
    assert set(by_id) == {ids[0], ids[1], new["id"]}
    assert by_id[ids[1]]["status"] == "cancelled"
    assert by_id[ids[0]]["summary"] == "changed"
    # An old token still works (it is not consumed) and sees the same changes.
    assert {
        e["id"]
        for e in service.events()
        .list(calendarId="primary", syncToken=empty["nextSyncToken"])
        .execute()["items"]
    } == set(by_id)


@pytest.mark.parametrize(
    "param",
    [
        {"timeMin": "2026-01-01T00:00:00Z"},
        {"timeMax": "2026-01-01T00:00:00Z"},
        {"orderBy": "updated"},
        {"q": "x"},
        {"iCalUID": "x@google.com"},
        {"updatedMin": "2026-01-01T00:00:00Z"},
        {"privateExtendedProperty": "a=b"},
        {"sharedExtendedProperty": "a=b"},
    ],
)
def test_sync_token_rejects_disallowed_parameters(google_calendar, google_accounts, param):
    service = google_calendar(ALICE)
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    with pytest.raises(HttpError) as info:
        service.events().list(calendarId="primary", syncToken=token, **param).execute()
    assert info.value.status_code == 400


def test_expired_sync_token_is_410_full_sync_required(emulator, google_calendar, google_accounts):
    service = google_calendar(ALICE)
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    bob_token = google_calendar(BOB).events().list(calendarId="primary").execute()["nextSyncToken"]
    resp = requests.post(
        emulator.url + "/_emulator/expire-sync-tokens",
        json={"provider": "google", "email": ALICE},
        timeout=5,
    )
    assert resp.status_code == 200
    with pytest.raises(HttpError) as info:
        service.events().list(calendarId="primary", syncToken=token).execute()
    assert info.value.status_code == 410 and _reason(info.value) == "fullSyncRequired"
    # Bob's token is untouched; a made-up token is dead too.
    google_calendar(BOB).events().list(calendarId="primary", syncToken=bob_token).execute()
    with pytest.raises(HttpError) as info:
        service.events().list(calendarId="primary", syncToken="CBogus=").execute()
    assert info.value.status_code == 410
    # A full sync gives a fresh, working token.
    fresh = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    service.events().list(calendarId="primary", syncToken=fresh).execute()


def test_recurring_expansion_instances_and_exceptions(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    start, end = _slot(1, hour=9)
    first = dt.datetime.fromisoformat(start["dateTime"]).replace(tzinfo=TZ)
    skip = first + dt.timedelta(days=2)
    master = (
        service.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "Standup",
                "start": start,
                "end": end,
                "recurrence": [
                    "RRULE:FREQ=DAILY;COUNT=5",
                    "EXDATE;TZID=Europe/Stockholm:" + skip.strftime("%Y%m%dT%H%M%S"),
                ],
            },
        )
        .execute()
    )
    assert master["recurrence"][0] == "RRULE:FREQ=DAILY;COUNT=5"

    # Not expanded: one master.
    plain = service.events().list(calendarId="primary").execute()["items"]
    assert [e["id"] for e in plain] == [master["id"]]

    expanded = (
        service.events()
        .list(calendarId="primary", singleEvents=True, orderBy="startTime")
        .execute()["items"]
    )
    assert len(expanded) == 4
    stamp = first.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    assert expanded[0]["id"] == f"{master['id']}_{stamp}"
    assert expanded[0]["recurringEventId"] == master["id"]
    assert expanded[0]["originalStartTime"] == {
        "dateTime": first.isoformat(),
        "timeZone": "Europe/Stockholm",
    }
    assert all(e["iCalUID"] == master["iCalUID"] for e in expanded)
    assert "recurrence" not in expanded[0]

    instances = (
        service.events().instances(calendarId="primary", eventId=master["id"]).execute()["items"]
    )
    assert [i["id"] for i in instances] == [e["id"] for e in expanded]

    # Move one instance (an exception) and cancel another.
    moved_id, cancelled_id = instances[1]["id"], instances[2]["id"]
    new_start = dt.datetime.fromisoformat(instances[1]["start"]["dateTime"]) + dt.timedelta(hours=3)
    moved = (
        service.events()
        .patch(
            calendarId="primary",
            eventId=moved_id,
            body={
                "start": {"dateTime": new_start.isoformat(), "timeZone": "Europe/Stockholm"},
                "end": {
                    "dateTime": (new_start + dt.timedelta(hours=1)).isoformat(),
                    "timeZone": "Europe/Stockholm",
                },
            },
        )
        .execute()
    )
    assert moved["id"] == moved_id and moved["recurringEventId"] == master["id"]
    assert moved["originalStartTime"] == instances[1]["originalStartTime"]
    service.events().delete(calendarId="primary", eventId=cancelled_id).execute()

    after = (
        service.events()
        .list(calendarId="primary", singleEvents=True, orderBy="startTime")
        .execute()["items"]
    )
    assert [e["id"] for e in after] == [instances[0]["id"], moved_id, instances[3]["id"]]
    assert after[1]["start"]["dateTime"] == moved["start"]["dateTime"]
    with_deleted = (
        service.events()
        .list(calendarId="primary", singleEvents=True, showDeleted=True)
        .execute()["items"]
    )
    assert {e["id"]: e["status"] for e in with_deleted}[cancelled_id] == "cancelled"
    # Unexpanded, the exceptions come back beside the master.
    unexpanded = service.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert {e["id"] for e in unexpanded} == {master["id"], moved_id, cancelled_id}
    assert (
        service.events()
        .get(calendarId="primary", eventId=instances[3]["id"])
        .execute()["recurringEventId"]
        == master["id"]
    )


def test_all_day_recurring_instance_ids(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    day = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    master = (
        service.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "Weekly planning day",
                "start": {"date": day.isoformat()},
                "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
                "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
            },
        )
        .execute()
    )
    items = (
        service.events().instances(calendarId="primary", eventId=master["id"]).execute()["items"]
    )
    assert [i["id"] for i in items] == [
        f"{master['id']}_{(day + dt.timedelta(weeks=n)).strftime('%Y%m%d')}" for n in range(3)
    ]
    assert items[1]["start"] == {"date": (day + dt.timedelta(weeks=1)).isoformat()}
    assert items[1]["originalStartTime"] == {"date": (day + dt.timedelta(weeks=1)).isoformat()}


def test_recurring_event_reaches_attendee_and_instance_response(google_calendar, google_accounts):
    alice, bob = google_calendar(ALICE), google_calendar(BOB)
    start, end = _slot(1)
    master = (
        alice.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "1:1",
                "start": start,
                "end": end,
                "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"],
                "attendees": [{"email": BOB}],
            },
        )
        .execute()
    )
    bob_instances = (
        bob.events().instances(calendarId="primary", eventId=master["id"]).execute()["items"]
    )
    assert len(bob_instances) == 4
    target = bob_instances[1]
    attendees = [
        dict(a, responseStatus="declined") if a.get("self") else a for a in target["attendees"]
    ]
    bob.events().patch(
        calendarId="primary", eventId=target["id"], body={"attendees": attendees}
    ).execute()
    org = alice.events().get(calendarId="primary", eventId=target["id"]).execute()
    assert {a["email"]: a["responseStatus"] for a in org["attendees"]}[BOB] == "declined"
    other = alice.events().get(calendarId="primary", eventId=bob_instances[2]["id"]).execute()
    assert {a["email"]: a["responseStatus"] for a in other["attendees"]}[BOB] == "needsAction"
