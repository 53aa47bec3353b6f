"""Calendar v3 events through the real googleapiclient: CRUD, etags, Meet, outbox, copies."""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import pytest
import requests
from googleapiclient.errors import HttpError

ALICE, BOB = "alice@example.com", "bob@example.com"
TZ = "Europe/Stockholm"


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo(TZ)).date()


def _when(days: int = 1, hour: int = 10, minutes: int = 60) -> tuple[dict, dict]:
    day = _today() + dt.timedelta(days=days)
    start = dt.datetime.combine(day, dt.time(hour))
    end = start + dt.timedelta(minutes=minutes)
    return (
        {"dateTime": start.isoformat(), "timeZone": TZ},
        {"dateTime": end.isoformat(), "timeZone": TZ},
    )


def _event(summary: str = "Demo", **extra) -> dict:
    start, end = _when(**{k: extra.pop(k) for k in ("days", "hour", "minutes") if k in extra})
    return {"summary": summary, "start": start, "end": end, **extra}


def _reason(err: HttpError) -> str:
    return json.loads(err.content)["error"]["errors"][0]["reason"]


def test_calendar_list_and_calendar_get(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    entries = service.calendarList().list().execute()
    assert entries["kind"] == "calendar#calendarList"
    primary = [e for e in entries["items"] if e.get("primary")]
    assert [e["id"] for e in primary] == [ALICE]
    assert len(entries["items"]) == 2
    assert all(e["accessRole"] == "owner" for e in entries["items"])
    assert {e["summary"] for e in entries["items"]} == {ALICE, "Personal"}
    cal = service.calendars().get(calendarId="primary").execute()
    assert cal["id"] == ALICE and cal["kind"] == "calendar#calendar"
    assert service.calendarList().get(calendarId=ALICE).execute()["primary"] is True
    with pytest.raises(HttpError) as info:
        service.calendars().get(calendarId=BOB).execute()
    assert info.value.status_code == 404 and _reason(info.value) == "notFound"


def test_unauthenticated_is_401_in_google_shape(emulator, google_accounts):
    import httplib2
    from googleapiclient.discovery import build

    service = build(
        "calendar",
        "v3",
        http=httplib2.Http(),
        client_options={"api_endpoint": emulator.url + "/google/calendar/v3/"},
        static_discovery=True,
    )
    for header in (None, "Bearer ya29.not-a-real-token"):
        request = service.events().list(calendarId="primary")
        if header:
            request.headers["Authorization"] = header
        with pytest.raises(HttpError) as info:
            request.execute()
        assert info.value.status_code == 401
        body = json.loads(info.value.content)["error"]
        assert body["status"] == "UNAUTHENTICATED" and body["errors"][0]["reason"] == "authError"
    raw = requests.get(emulator.url + "/google/calendar/v3/calendars/primary/events", timeout=5)
    assert raw.status_code == 401 and raw.headers["WWW-Authenticate"].startswith("Bearer")


def test_scopes_are_enforced(google_calendar, google_token, google_accounts):
    token = google_token(ALICE, scopes=["https://www.googleapis.com/auth/calendar.readonly"])
    service = google_calendar(ALICE, token=token)
    service.events().list(calendarId="primary").execute()
    with pytest.raises(HttpError) as info:
        service.events().insert(calendarId="primary", body=_event()).execute()
    assert info.value.status_code == 403 and _reason(info.value) == "insufficientPermissions"


def test_insert_get_list_patch_delete(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    created = (
        service.events()
        .insert(calendarId="primary", body=_event("Kickoff", location="HQ"))
        .execute()
    )
    assert created["kind"] == "calendar#event" and created["status"] == "confirmed"
    assert created["eventType"] == "default"
    assert created["iCalUID"] == f"{created['id']}@google.com"
    assert re.fullmatch(r'"\d+"', created["etag"])
    assert created["organizer"] == {"email": ALICE, "displayName": "Alice Andersson", "self": True}
    assert created["creator"]["self"] is True
    assert created["start"]["timeZone"] == TZ and created["start"]["dateTime"].endswith(
        ("+01:00", "+02:00")
    )
    assert created["htmlLink"].startswith("https://www.google.com/calendar/event?eid=")
    assert created["sequence"] == 0

    got = service.events().get(calendarId="primary", eventId=created["id"]).execute()
    assert got == created
    listed = service.events().list(calendarId="primary").execute()
    assert [e["id"] for e in listed["items"]] == [created["id"]]
    assert "nextSyncToken" in listed and "nextPageToken" not in listed

    patched = (
        service.events()
        .patch(calendarId="primary", eventId=created["id"], body={"summary": "Kickoff 2"})
        .execute()
    )
    assert patched["summary"] == "Kickoff 2" and patched["location"] == "HQ"
    assert patched["etag"] != created["etag"] and patched["sequence"] == 0
    start, end = _when(days=2)
    moved = (
        service.events()
        .patch(calendarId="primary", eventId=created["id"], body={"start": start, "end": end})
        .execute()
    )
    assert moved["sequence"] == 1 and moved["updated"] >= patched["updated"]

    full = dict(moved, summary="Replaced")
    full.pop("location")
    updated = (
        service.events().update(calendarId="primary", eventId=created["id"], body=full).execute()
    )
    assert updated["summary"] == "Replaced" and "location" not in updated

    service.events().delete(calendarId="primary", eventId=created["id"]).execute()
    assert service.events().list(calendarId="primary").execute()["items"] == []
    deleted = service.events().list(calendarId="primary", showDeleted=True).execute()["items"]
    assert [(e["id"], e["status"]) for e in deleted] == [(created["id"], "cancelled")]
    assert (
        service.events().get(calendarId="primary", eventId=created["id"]).execute()["status"]
        == "cancelled"
    )
    with pytest.raises(HttpError) as info:
        service.events().delete(calendarId="primary", eventId=created["id"]).execute()
    assert info.value.status_code == 410 and _reason(info.value) == "deleted"


def test_all_day_event_and_validation(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    day = _today() + dt.timedelta(days=3)
    ev = (
        service.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "Offsite",
                "start": {"date": day.isoformat()},
                "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
            },
        )
        .execute()
    )
    assert ev["start"] == {"date": day.isoformat()}
    with pytest.raises(HttpError) as info:
        service.events().insert(
            calendarId="primary", body={"summary": "no end", "start": ev["start"]}
        ).execute()
    assert info.value.status_code == 400
    start, end = _when()
    with pytest.raises(HttpError) as info:
        service.events().insert(calendarId="primary", body={"start": end, "end": start}).execute()
    assert _reason(info.value) == "timeRangeEmpty"


def test_client_chosen_ids(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    ev = service.events().insert(calendarId="primary", body=_event(id="crm0appt000123")).execute()
    assert ev["id"] == "crm0appt000123"
    with pytest.raises(HttpError) as info:
        service.events().insert(calendarId="primary", body=_event(id="crm0appt000123")).execute()
    assert info.value.status_code == 409 and _reason(info.value) == "duplicate"
    for bad in ("abc", "UPPERCASE123", "has_underscore", "wxyz01234"):
        with pytest.raises(HttpError) as info:
            service.events().insert(calendarId="primary", body=_event(id=bad)).execute()
        assert info.value.status_code == 400, bad


def test_stale_etag_is_412(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    ev = service.events().insert(calendarId="primary", body=_event()).execute()
    service.events().patch(
        calendarId="primary", eventId=ev["id"], body={"summary": "changed"}
    ).execute()
    request = service.events().patch(
        calendarId="primary", eventId=ev["id"], body={"summary": "mine"}
    )
    request.headers["If-Match"] = ev["etag"]
    with pytest.raises(HttpError) as info:
        request.execute()
    assert info.value.status_code == 412 and _reason(info.value) == "conditionNotMet"
    current = service.events().get(calendarId="primary", eventId=ev["id"]).execute()
    request = service.events().patch(
        calendarId="primary", eventId=ev["id"], body={"summary": "mine"}
    )
    request.headers["If-Match"] = current["etag"]
    assert request.execute()["summary"] == "mine"


def test_extended_properties_and_filters(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    a = (
        service.events()
        .insert(
            calendarId="primary",
            body=_event(
                "Demo with Acme",
                extendedProperties={"private": {"crmAppointmentId": "42"}, "shared": {"k": "v"}},
            ),
        )
        .execute()
    )
    service.events().insert(calendarId="primary", body=_event("Lunch", hour=12)).execute()
    found = (
        service.events()
        .list(calendarId="primary", privateExtendedProperty="crmAppointmentId=42")
        .execute()
    )
    assert [e["id"] for e in found["items"]] == [a["id"]]
    assert found["items"][0]["extendedProperties"]["private"] == {"crmAppointmentId": "42"}
    assert [
        e["id"] for e in service.events().list(calendarId="primary", q="acme").execute()["items"]
    ] == [a["id"]]
    by_uid = service.events().list(calendarId="primary", iCalUID=a["iCalUID"]).execute()["items"]
    assert [e["id"] for e in by_uid] == [a["id"]]
    patched = (
        service.events()
        .patch(
            calendarId="primary",
            eventId=a["id"],
            body={"extendedProperties": {"private": {"other": "1"}}},
        )
        .execute()
    )
    assert patched["extendedProperties"]["private"] == {"crmAppointmentId": "42", "other": "1"}
    ordered = (
        service.events()
        .list(calendarId="primary", singleEvents=True, orderBy="startTime")
        .execute()
    )
    assert [e["summary"] for e in ordered["items"]] == ["Demo with Acme", "Lunch"]
    with pytest.raises(HttpError) as info:
        service.events().list(calendarId="primary", orderBy="startTime").execute()
    assert info.value.status_code == 400


def test_time_window_and_paging(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    for i in range(7):
        service.events().insert(calendarId="primary", body=_event(f"E{i}", days=i + 1)).execute()
    base = dt.datetime.combine(_today(), dt.time(), ZoneInfo(TZ))
    window = (
        service.events()
        .list(
            calendarId="primary",
            timeMin=(base + dt.timedelta(days=2)).isoformat(),
            timeMax=(base + dt.timedelta(days=4)).isoformat(),
            singleEvents=True,
            orderBy="startTime",
        )
        .execute()
    )
    assert [e["summary"] for e in window["items"]] == ["E1", "E2"]
    seen, pages = [], 0
    request = service.events().list(calendarId="primary", maxResults=3)
    while request is not None:
        page = request.execute()
        pages += 1
        seen += [e["summary"] for e in page["items"]]
        assert ("nextSyncToken" in page) == ("nextPageToken" not in page)
        request = service.events().list_next(request, page)
    assert pages == 3 and sorted(seen) == [f"E{i}" for i in range(7)]


def test_meet_link_pending_then_success_and_idempotent(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    body = _event(
        "Video call",
        conferenceData={
            "createRequest": {
                "requestId": "req-1",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        },
    )
    ev = service.events().insert(calendarId="primary", body=body, conferenceDataVersion=1).execute()
    assert ev["conferenceData"]["createRequest"]["status"]["statusCode"] == "pending"
    got = service.events().get(calendarId="primary", eventId=ev["id"]).execute()
    conf = got["conferenceData"]
    assert conf["createRequest"]["status"]["statusCode"] == "success"
    assert re.fullmatch(r"https://meet\.google\.com/[a-z]{3}-[a-z]{4}-[a-z]{3}", got["hangoutLink"])
    assert conf["entryPoints"][0] == {
        "entryPointType": "video",
        "uri": got["hangoutLink"],
        "label": got["hangoutLink"].removeprefix("https://"),
    }
    assert conf["conferenceSolution"]["key"]["type"] == "hangoutsMeet"
    again = (
        service.events()
        .patch(
            calendarId="primary",
            eventId=ev["id"],
            body={"conferenceData": body["conferenceData"], "summary": "Video call 2"},
            conferenceDataVersion=1,
        )
        .execute()
    )
    assert again["hangoutLink"] == got["hangoutLink"]
    assert again["conferenceData"]["createRequest"]["status"]["statusCode"] == "success"
    # Without conferenceDataVersion=1 no conference is created.
    plain = (
        service.events()
        .insert(calendarId="primary", body=_event(conferenceData=body["conferenceData"]))
        .execute()
    )
    assert "conferenceData" not in plain and "hangoutLink" not in plain


def test_outbox_per_send_updates(emulator, google_calendar, google_accounts):
    service = google_calendar(ALICE)
    attendees = [{"email": "customer@acme.test"}, {"email": BOB}]

    def outbox(**filters):
        return [m for m in emulator.state.outbox if all(m.get(k) == v for k, v in filters.items())]

    quiet = (
        service.events()
        .insert(calendarId="primary", body=_event(attendees=attendees), sendUpdates="none")
        .execute()
    )
    assert outbox(event_id=quiet["id"]) == []
    ev = (
        service.events()
        .insert(calendarId="primary", body=_event(attendees=attendees), sendUpdates="all")
        .execute()
    )
    mails = outbox(event_id=ev["id"])
    assert [(m["to"], m["kind"], m["method"]) for m in mails] == [
        ("customer@acme.test", "invitation", "REQUEST")
    ]
    assert mails[0]["from"] == ALICE and mails[0]["ical_uid"] == ev["iCalUID"]
    service.events().patch(
        calendarId="primary",
        eventId=ev["id"],
        body={"summary": "Moved"},
        sendUpdates="externalOnly",
    ).execute()
    assert [m["kind"] for m in outbox(event_id=ev["id"])] == ["invitation", "update"]
    service.events().patch(
        calendarId="primary", eventId=ev["id"], body={"summary": "Silent"}
    ).execute()
    assert len(outbox(event_id=ev["id"])) == 2
    service.events().delete(calendarId="primary", eventId=ev["id"], sendUpdates="all").execute()
    assert [m["kind"] for m in outbox(event_id=ev["id"])] == [
        "invitation",
        "update",
        "cancellation",
    ]
    assert outbox(event_id=ev["id"])[-1]["method"] == "CANCEL"


def test_attendee_copies_and_responses(google_calendar, google_accounts):
    alice, bob = google_calendar(ALICE), google_calendar(BOB)
    ev = (
        alice.events()
        .insert(
            calendarId="primary",
            body=_event("Pitch", attendees=[{"email": BOB}, {"email": "x@acme.test"}]),
        )
        .execute()
    )
    copy = bob.events().get(calendarId="primary", eventId=ev["id"]).execute()
    assert copy["iCalUID"] == ev["iCalUID"] and copy["summary"] == "Pitch"
    assert copy["organizer"] == {"email": ALICE, "displayName": "Alice Andersson"}
    me = [a for a in copy["attendees"] if a.get("self")]
    assert me == [{"email": BOB, "responseStatus": "needsAction", "self": True}]
    assert [e["id"] for e in bob.events().list(calendarId="primary").execute()["items"]] == [
        ev["id"]
    ]

    # The organizer's change reaches the attendee's copy.
    alice.events().patch(
        calendarId="primary", eventId=ev["id"], body={"location": "Room 1"}
    ).execute()
    assert (
        bob.events().get(calendarId="primary", eventId=ev["id"]).execute()["location"] == "Room 1"
    )

    # The attendee answers on their copy; the organizer sees it.
    attendees = [
        dict(a, responseStatus="accepted") if a.get("self") else a for a in copy["attendees"]
    ]
    bob.events().patch(
        calendarId="primary", eventId=ev["id"], body={"attendees": attendees}
    ).execute()
    org = alice.events().get(calendarId="primary", eventId=ev["id"]).execute()
    assert {a["email"]: a["responseStatus"] for a in org["attendees"]}[BOB] == "accepted"

    # Attendees may not change shared fields.
    with pytest.raises(HttpError) as info:
        bob.events().patch(
            calendarId="primary", eventId=ev["id"], body={"summary": "Hijack"}
        ).execute()
    assert info.value.status_code == 403 and _reason(info.value) == "forbiddenForNonOrganizer"

    # The organizer's delete cancels the attendee's copy.
    alice.events().delete(calendarId="primary", eventId=ev["id"]).execute()
    assert (
        bob.events().get(calendarId="primary", eventId=ev["id"]).execute()["status"] == "cancelled"
    )
    assert bob.events().list(calendarId="primary").execute()["items"] == []


def test_demo_respond_and_demo_create(emulator, google_calendar, google_accounts):
    store = emulator.state.stores["google"]
    alice_acc, bob_acc = google_accounts["alice"], google_accounts["bob"]
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1)
    event_id = store.demo_create_event(
        alice_acc,
        title="From the demo page",
        start=start,
        end=start + dt.timedelta(hours=1),
        attendees=[BOB, "guest@acme.test"],
        online_meeting=True,
    )
    bob_view = store.demo_events(
        bob_acc, start - dt.timedelta(hours=1), start + dt.timedelta(days=1)
    )
    assert [(e["id"], e["my_response"]) for e in bob_view] == [(event_id, "needsAction")]
    assert bob_view[0]["video_link"].startswith("https://meet.google.com/")
    store.demo_respond(bob_acc, event_id, "declined")
    alice_view = store.demo_events(
        alice_acc, start - dt.timedelta(hours=1), start + dt.timedelta(days=1)
    )
    assert alice_view[0]["my_response"] is None
    assert {a["email"]: a["response"] for a in alice_view[0]["attendees"]}[BOB] == "declined"
    assert [m["to"] for m in emulator.state.outbox if m["event_id"] == event_id] == [
        "guest@acme.test"
    ]
    ev = google_calendar(ALICE).events().get(calendarId="primary", eventId=event_id).execute()
    assert ev["conferenceData"]["createRequest"]["status"]["statusCode"] == "success"
    page = requests.get(f"{emulator.url}/_emulator/demo/google/{BOB}/", timeout=5)
    assert page.status_code == 200 and "From the demo page" in page.text


def test_secondary_calendar_organizer_is_the_calendar(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    personal = next(
        e for e in service.calendarList().list().execute()["items"] if not e.get("primary")
    )
    ev = service.events().insert(calendarId=personal["id"], body=_event()).execute()
    assert ev["organizer"] == {"email": personal["id"], "displayName": "Personal", "self": True}
    assert ev["creator"]["email"] == ALICE
    assert service.events().list(calendarId="primary").execute()["items"] == []


def test_store_survives_save_and_load(emulator, google_calendar, google_accounts):
    service = google_calendar(ALICE)
    ev = (
        service.events()
        .insert(calendarId="primary", body=_event("Persisted", attendees=[{"email": BOB}]))
        .execute()
    )
    token = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    data = json.loads(json.dumps(emulator.state.to_dict(), default=str))
    emulator.state.reset()
    emulator.state.load(data)
    again = google_calendar(ALICE)
    assert (
        again.events().get(calendarId="primary", eventId=ev["id"]).execute()["summary"]
        == "Persisted"
    )
    assert again.events().list(calendarId="primary", syncToken=token).execute()["items"] == []
    assert (
        google_calendar(BOB)
        .events()
        .get(calendarId="primary", eventId=ev["id"])
        .execute()["iCalUID"]
        == ev["iCalUID"]
    )


def test_calendar_list_pages_by_max_results(google_calendar, google_accounts):
    service = google_calendar(ALICE)
    for n in range(3):
        service.calendars().insert(body={"summary": f"Project {n}"}).execute()
    first = service.calendarList().list(maxResults=2).execute()
    assert len(first["items"]) == 2 and "nextSyncToken" not in first
    second = service.calendarList().list(maxResults=2, pageToken=first["nextPageToken"]).execute()
    third = service.calendarList().list(maxResults=2, pageToken=second["nextPageToken"]).execute()
    assert len(third["items"]) == 1 and "nextPageToken" not in third and third["nextSyncToken"]
    names = {e["summary"] for page in (first, second, third) for e in page["items"]}
    assert names == {ALICE, "Personal", "Project 0", "Project 1", "Project 2"}
    assert len(service.calendarList().list(maxResults=1000).execute()["items"]) == 5  # capped
    with pytest.raises(HttpError) as info:
        service.calendarList().list(maxResults=0).execute()
    assert info.value.status_code == 400
