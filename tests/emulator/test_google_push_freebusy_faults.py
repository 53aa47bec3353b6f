"""Push channels, freeBusy, rooms (Directory), and faults as seen through googleapiclient."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import time
from zoneinfo import ZoneInfo

import pytest
from googleapiclient.errors import HttpError

from provider_emulator.faults import Fault

ALICE, BOB = "alice@example.com", "bob@example.com"
ROOM1, ROOM2 = "room-aurora@resource.example.com", "room-borealis@resource.example.com"
TZ = ZoneInfo("Europe/Stockholm")


def _slot(days: int = 1, hour: int = 10, hours: int = 1) -> tuple[dict, dict]:
    start = dt.datetime.combine(
        dt.datetime.now(TZ).date() + dt.timedelta(days=days), dt.time(hour), TZ
    )
    return (
        {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"},
        {
            "dateTime": (start + dt.timedelta(hours=hours)).isoformat(),
            "timeZone": "Europe/Stockholm",
        },
    )


def _event(summary="Meeting", days=1, hour=10, hours=1, **extra) -> dict:
    start, end = _slot(days, hour, hours)
    return {"summary": summary, "start": start, "end": end, **extra}


def _reason(err: HttpError) -> str:
    return json.loads(err.content)["error"]["errors"][0]["reason"]


# -- push ------------------------------------------------------------------------------------------
def test_watch_sync_then_exists_and_stop(
    emulator, google_calendar, google_accounts, google_push_receiver
):
    service = google_calendar(ALICE)
    channel = (
        service.events()
        .watch(
            calendarId="primary",
            body={
                "id": "chan-0001",
                "type": "web_hook",
                "address": google_push_receiver.url,
                "token": "tenant=42",
                "params": {"ttl": "3600"},
            },
        )
        .execute()
    )
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-0001"
    assert channel["token"] == "tenant=42" and channel["resourceId"]
    expiration = int(channel["expiration"])
    assert abs(expiration / 1000 - (time.time() + 3600)) < 10

    first = google_push_receiver.wait_for(1, timeout=1.0)
    assert len(first) == 1
    headers = first[0]["headers"]
    assert headers["X-Goog-Resource-State"] == "sync"
    assert headers["X-Goog-Channel-Id"] == "chan-0001"
    assert headers["X-Goog-Channel-Token"] == "tenant=42"
    assert headers["X-Goog-Resource-Id"] == channel["resourceId"]
    assert headers["X-Goog-Resource-Uri"] == channel["resourceUri"]
    assert headers["X-Goog-Message-Number"] == "1"
    parsed = email.utils.parsedate_to_datetime(headers["X-Goog-Channel-Expiration"])
    assert abs(parsed.timestamp() - expiration / 1000) < 1
    assert first[0]["body"] == b"" and first[0]["method"] == "POST"

    service.events().insert(calendarId="primary", body=_event()).execute()
    second = google_push_receiver.wait_for(2, timeout=1.0)
    assert len(second) == 2
    assert second[1]["headers"]["X-Goog-Resource-State"] == "exists"
    assert second[1]["headers"]["X-Goog-Message-Number"] == "2"

    # A change to another account's calendar that Alice is invited to also pings her channel.
    google_calendar(BOB).events().insert(
        calendarId="primary", body=_event(attendees=[{"email": ALICE}])
    ).execute()
    assert len(google_push_receiver.wait_for(3, timeout=1.0)) == 3

    with pytest.raises(HttpError) as info:
        service.events().watch(
            calendarId="primary",
            body={"id": "chan-0001", "type": "web_hook", "address": google_push_receiver.url},
        ).execute()
    assert info.value.status_code == 400

    service.channels().stop(body={"id": "chan-0001", "resourceId": channel["resourceId"]}).execute()
    service.events().insert(calendarId="primary", body=_event("after stop")).execute()
    time.sleep(0.3)
    assert len(google_push_receiver.requests) == 3
    with pytest.raises(HttpError) as info:
        service.channels().stop(
            body={"id": "chan-0001", "resourceId": channel["resourceId"]}
        ).execute()
    assert info.value.status_code == 404


def test_watch_rejects_bad_channel_and_expired_channels_stop(
    emulator, google_calendar, google_accounts, google_push_receiver
):
    service = google_calendar(ALICE)
    with pytest.raises(HttpError):
        service.events().watch(
            calendarId="primary",
            body={"id": "x" * 65, "type": "web_hook", "address": google_push_receiver.url},
        ).execute()
    with pytest.raises(HttpError):
        service.events().watch(
            calendarId="primary",
            body={"id": "ok", "type": "web_hook", "address": "https://example.com/hook"},
        ).execute()
    channel = (
        service.events()
        .watch(
            calendarId="primary",
            body={
                "id": "short",
                "type": "web_hook",
                "address": google_push_receiver.url,
                "params": {"ttl": "1"},
            },
        )
        .execute()
    )
    assert "token" not in channel
    assert "X-Goog-Channel-Token" not in google_push_receiver.wait_for(1)[0]["headers"]
    time.sleep(1.1)
    service.events().insert(calendarId="primary", body=_event()).execute()
    time.sleep(0.3)
    assert len(google_push_receiver.requests) == 1
    default = (
        service.events()
        .watch(
            calendarId="primary",
            body={"id": "week", "type": "web_hook", "address": google_push_receiver.url},
        )
        .execute()
    )
    assert abs(int(default["expiration"]) / 1000 - (time.time() + 7 * 86400)) < 10


def test_drop_and_duplicate_push_faults(
    emulator, google_calendar, google_accounts, google_push_receiver
):
    service = google_calendar(ALICE)
    service.events().watch(
        calendarId="primary",
        body={"id": "faulty", "type": "web_hook", "address": google_push_receiver.url},
    ).execute()
    google_push_receiver.wait_for(1)
    emulator.state.faults.add(Fault(kind="drop_push", provider="google", account=ALICE))
    service.events().insert(calendarId="primary", body=_event("dropped")).execute()
    time.sleep(0.3)
    assert len(google_push_receiver.requests) == 1
    assert any(d["outcome"] == "dropped" for d in emulator.state.push_log)
    emulator.state.faults.add(Fault(kind="duplicate_push", provider="google", account=ALICE))
    service.events().insert(calendarId="primary", body=_event("doubled")).execute()
    got = google_push_receiver.wait_for(3)
    assert len(got) == 3
    assert got[1]["headers"]["X-Goog-Message-Number"] == got[2]["headers"]["X-Goog-Message-Number"]


# -- freeBusy and rooms ---------------------------------------------------------------------------------
def test_free_busy_accounts_and_rooms(google_calendar, google_accounts):
    alice, bob = google_calendar(ALICE), google_calendar(BOB)
    alice.events().insert(calendarId="primary", body=_event("busy", hour=10, hours=2)).execute()
    alice.events().insert(calendarId="primary", body=_event("overlap", hour=11, hours=2)).execute()
    alice.events().insert(
        calendarId="primary", body=_event("free time", hour=15, transparency="transparent")
    ).execute()
    declined = (
        bob.events()
        .insert(calendarId="primary", body=_event("bob's", hour=16, attendees=[{"email": ALICE}]))
        .execute()
    )
    alice_copy = alice.events().get(calendarId="primary", eventId=declined["id"]).execute()
    alice.events().patch(
        calendarId="primary",
        eventId=declined["id"],
        body={
            "attendees": [
                dict(a, responseStatus="declined") if a.get("self") else a
                for a in alice_copy["attendees"]
            ]
        },
    ).execute()
    booked = (
        bob.events()
        .insert(
            calendarId="primary", body=_event("in the room", hour=9, attendees=[{"email": ROOM1}])
        )
        .execute()
    )
    room_att = [a for a in booked["attendees"] if a["email"] == ROOM1][0]
    assert room_att["resource"] is True and room_att["responseStatus"] == "accepted"
    clash = (
        alice.events()
        .insert(calendarId="primary", body=_event("clash", hour=9, attendees=[{"email": ROOM1}]))
        .execute()
    )
    assert [a["responseStatus"] for a in clash["attendees"] if a["email"] == ROOM1] == ["declined"]

    day = dt.datetime.combine(dt.datetime.now(TZ).date() + dt.timedelta(days=1), dt.time(), TZ)
    result = (
        alice.freebusy()
        .query(
            body={
                "timeMin": day.isoformat(),
                "timeMax": (day + dt.timedelta(days=1)).isoformat(),
                "items": [
                    {"id": ALICE},
                    {"id": ROOM1},
                    {"id": ROOM2},
                    {"id": "nobody@nowhere.test"},
                ],
            }
        )
        .execute()
    )
    assert result["kind"] == "calendar#freeBusy"
    cals = result["calendars"]

    def utc(hour: int) -> str:
        return (day + dt.timedelta(hours=hour)).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # 09-10 clash (Alice is organizer), 10-13 merged, not the transparent one, not the declined one
    assert cals[ALICE]["busy"] == [{"start": utc(9), "end": utc(13)}]
    assert cals[ROOM1]["busy"] == [{"start": utc(9), "end": utc(10)}]
    assert cals[ROOM2]["busy"] == []
    assert cals["nobody@nowhere.test"]["errors"] == [{"domain": "global", "reason": "notFound"}]

    with pytest.raises(HttpError) as info:
        alice.freebusy().query(
            body={
                "timeMin": day.isoformat(),
                "timeMax": (day + dt.timedelta(days=120)).isoformat(),
                "items": [{"id": ALICE}],
            }
        ).execute()
    assert info.value.status_code == 400 and _reason(info.value) == "timeRangeTooLong"
    with pytest.raises(HttpError) as info:
        alice.freebusy().query(
            body={
                "timeMin": day.isoformat(),
                "timeMax": (day + dt.timedelta(days=1)).isoformat(),
                "items": [{"id": f"u{i}@x.test"} for i in range(51)],
            }
        ).execute()
    assert info.value.status_code == 400


def test_directory_rooms_and_paging(google_directory, google_accounts):
    directory = google_directory(ALICE)
    result = directory.resources().calendars().list(customer="my_customer").execute()
    assert result["kind"] == "admin#directory#resources#calendars#calendarResourcesList"
    rooms = {r["resourceEmail"]: r for r in result["items"]}
    assert set(rooms) == {ROOM1, ROOM2}
    aurora = rooms[ROOM1]
    assert aurora["kind"] == "admin#directory#resources#calendars#CalendarResource"
    assert (
        aurora["resourceName"] == "Aurora"
        and aurora["capacity"] == 8
        and aurora["buildingId"] == "HQ"
    )
    assert aurora["generatedResourceName"] == "HQ-Aurora (8)"
    assert aurora["resourceId"] and aurora["etags"]
    first = directory.resources().calendars().list(customer="my_customer", maxResults=1).execute()
    assert len(first["items"]) == 1 and first["nextPageToken"]
    second = (
        directory.resources()
        .calendars()
        .list(customer="my_customer", maxResults=1, pageToken=first["nextPageToken"])
        .execute()
    )
    assert len(second["items"]) == 1 and "nextPageToken" not in second
    assert {first["items"][0]["resourceEmail"], second["items"][0]["resourceEmail"]} == {
        ROOM1,
        ROOM2,
    }
    got = (
        directory.resources()
        .calendars()
        .get(customer="my_customer", calendarResourceId=aurora["resourceId"])
        .execute()
    )
    assert got == aurora


# -- faults -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "status", "reason"),
    [
        ("429", 429, "rateLimitExceeded"),
        ("403_rate_limit", 403, "userRateLimitExceeded"),
        ("500", 500, "backendError"),
        ("503", 503, "backendError"),
    ],
)
def test_request_faults(emulator, google_calendar, google_accounts, kind, status, reason):
    service = google_calendar(ALICE)
    emulator.state.faults.add(
        Fault(kind=kind, provider="google", account=ALICE, endpoint="events.list", retry_after=7)
    )
    with pytest.raises(HttpError) as info:
        service.events().list(calendarId="primary").execute(num_retries=0)
    assert info.value.status_code == status
    assert _reason(info.value) == reason
    if kind == "429":
        assert info.value.resp["retry-after"] == "7"
    # The fault is used up: the next call works, and other endpoints were never affected.
    service.events().list(calendarId="primary").execute(num_retries=0)


def test_retries_ride_out_a_fault(emulator, google_calendar, google_accounts, monkeypatch):
    monkeypatch.setattr("googleapiclient.http.time.sleep", lambda s: None)
    emulator.state.faults.add(
        Fault(kind="503", provider="google", endpoint="events.insert", count=2)
    )
    ev = (
        google_calendar(ALICE)
        .events()
        .insert(calendarId="primary", body=_event())
        .execute(num_retries=3)
    )
    assert ev["id"]


def test_delay_fault(emulator, google_calendar, google_accounts):
    emulator.state.faults.add(
        Fault(kind="delay", provider="google", endpoint="calendarList", delay=0.5)
    )
    started = time.monotonic()
    google_calendar(ALICE).calendarList().list().execute(num_retries=0)
    assert time.monotonic() - started >= 0.5


def test_requests_are_logged_per_account_and_endpoint(emulator, google_calendar, google_accounts):
    service = google_calendar(ALICE)
    service.events().list(calendarId="primary").execute()
    service.events().list(calendarId="primary").execute()
    summary = emulator.state.request_summary()
    assert summary["by_endpoint"]["google GET calendar.events.list"] == 2
    assert summary["by_account"][f"google {ALICE}"] == 2
