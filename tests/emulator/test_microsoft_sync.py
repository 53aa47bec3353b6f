"""calendarView, calendarView/delta, recurrence, getSchedule and places through O365's connection."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from requests import HTTPError

WINDOW = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-31T00:00:00Z"}


def _ev(subject: str, day: int, hour: int = 10, **extra) -> dict:
    return {
        "subject": subject,
        "start": {"dateTime": f"2026-11-{day:02d}T{hour:02d}:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"2026-11-{day:02d}T{hour + 1:02d}:00:00", "timeZone": "UTC"},
        **extra,
    }


def _delta_round(con, url: str, params: dict | None, page_size: int) -> tuple[list[dict], str, int]:
    """Follow nextLinks to the deltaLink: (items, deltaLink, pages)."""
    items, pages = [], 0
    headers = {"Prefer": f"odata.maxpagesize={page_size}"}
    while True:
        resp = con.get(url, params=params, headers=headers)
        assert resp.headers["Preference-Applied"] == f"odata.maxpagesize={page_size}"
        body = resp.json()
        pages += 1
        assert len(body["value"]) <= page_size
        items.extend(body["value"])
        if "@odata.nextLink" in body:
            assert "@odata.deltaLink" not in body
            url, params = body["@odata.nextLink"], None
            continue
        return items, body["@odata.deltaLink"], pages


def test_calendar_view_requires_window(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    with pytest.raises(HTTPError) as err:
        account.con.get(account.protocol.service_url + "me/calendarView")
    assert err.value.response.status_code == 400
    assert err.value.response.json()["error"]["code"] == "ErrorInvalidParameter"


def test_calendar_view_paging(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    for day in range(2, 9):
        con.post(base + "me/events", data=_ev(f"E{day}", day))
    first = con.get(base + "me/calendarView", params={**WINDOW, "$top": 5}).json()
    assert [e["subject"] for e in first["value"]] == ["E2", "E3", "E4", "E5", "E6"]
    second = con.get(first["@odata.nextLink"]).json()
    assert [e["subject"] for e in second["value"]] == ["E7", "E8"]
    assert "@odata.nextLink" not in second


def test_delta_paging_changes_removals_replay_and_expiry(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    ids = {}
    for day in range(2, 9):  # 7 events in the window
        ids[day] = con.post(base + "me/events", data=_ev(f"E{day}", day)).json()["id"]
    con.post(
        base + "me/events",
        data={
            **_ev("Outside", 1),
            "start": {"dateTime": "2027-03-01T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-03-01T11:00:00", "timeZone": "UTC"},
        },
    )

    items, delta_link, pages = _delta_round(con, base + "me/calendarView/delta", WINDOW, 3)
    assert pages == 3 and sorted(i["subject"] for i in items) == sorted(
        f"E{d}" for d in range(2, 9)
    )
    assert "$deltatoken=" in delta_link and "startDateTime" not in delta_link

    # nothing changed: an empty round
    empty, delta_link2, _ = _delta_round(con, delta_link, None, 3)
    assert empty == []

    con.patch(base + f"me/events/{ids[3]}", data={"subject": "E3 renamed"})
    con.delete(base + f"me/events/{ids[4]}")
    con.patch(  # moved out of the window: removed from this view
        base + f"me/events/{ids[5]}",
        data={
            "start": {"dateTime": "2027-02-01T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2027-02-01T11:00:00", "timeZone": "UTC"},
        },
    )
    new_id = con.post(base + "me/events", data=_ev("E20", 20)).json()["id"]
    changes, delta_link3, _ = _delta_round(con, delta_link2, None, 2)
    changed = {i["id"]: i for i in changes if "@removed" not in i}
    removed = {i["id"]: i["@removed"] for i in changes if "@removed" in i}
    assert set(changed) == {ids[3], new_id} and changed[ids[3]]["subject"] == "E3 renamed"
    assert removed == {ids[4]: {"reason": "deleted"}, ids[5]: {"reason": "deleted"}}

    # replay-safe: the same delta link gives the same answer again
    replay, _, _ = _delta_round(con, delta_link2, None, 2)
    assert sorted(i["id"] for i in replay) == sorted(i["id"] for i in changes)

    # the window came from the first request: the delta link needs no parameters
    assert con.get(delta_link3).json()["value"] == []

    requests.post(
        f"{emulator.url}/_emulator/expire-sync-tokens",
        json={"provider": "microsoft", "email": "rita.rep@contoso.com"},
        timeout=5,
    )
    with pytest.raises(HTTPError) as err:
        con.get(delta_link3)
    assert err.value.response.status_code == 410
    assert err.value.response.json()["error"]["code"] == "SyncStateNotFound"
    # a full sync works again
    full, _, _ = _delta_round(con, base + "me/calendarView/delta", WINDOW, 50)
    assert len(full) == 6


def test_delta_pages_hold_what_maxpagesize_asks_up_to_1000(emulator, ms_o365):
    """Outlook pages hold at most 1,000 items: a larger ``odata.maxpagesize`` gets pages of
    1,000, and ``Preference-Applied`` says so; the sync asks for exactly that maximum."""
    from calendar_sync.providers.microsoft.adapter import PAGE_SIZE

    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    owner = emulator.state.account_find("microsoft", "rita.rep@contoso.com")
    first = dt.datetime(2026, 11, 2, 8, tzinfo=dt.UTC)
    for i in range(1003):
        start = first + dt.timedelta(minutes=30 * i)
        emulator.state.stores["microsoft"].demo_create_event(
            owner, title=f"E{i}", start=start, end=start + dt.timedelta(minutes=30), attendees=[]
        )
    url, params, sizes = base + "me/calendarView/delta", WINDOW, []
    while url:
        resp = con.get(url, params=params, headers={"Prefer": "odata.maxpagesize=5000"})
        assert resp.headers["Preference-Applied"] == "odata.maxpagesize=1000"
        body = resp.json()
        sizes.append(len(body["value"]))
        url, params = body.get("@odata.nextLink"), None
    assert sizes == [1000, 3] and PAGE_SIZE == 1000
    items, _, pages = _delta_round(con, base + "me/calendarView/delta", WINDOW, 1000)
    assert (len(items), pages) == (1003, 2)
    listed = con.get(base + "me/calendarView", params={**WINDOW, "$top": 5000}).json()
    assert len(listed["value"]) == 1000 and "@odata.nextLink" in listed


def test_delta_rejects_unsupported_query_options(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    with pytest.raises(HTTPError) as err:
        account.con.get(
            account.protocol.service_url + "me/calendarView/delta",
            params={**WINDOW, "$select": "subject"},
        )
    assert err.value.response.status_code == 400


def test_recurring_series_expansion_instances_and_exceptions(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    master = con.post(
        base + "me/events",
        data={
            "subject": "Weekly sync",
            "start": {"dateTime": "2026-11-02T09:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2026-11-02T09:30:00", "timeZone": "W. Europe Standard Time"},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday", "thursday"]},
                "range": {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 6},
            },
        },
    ).json()
    assert (
        master["type"] == "seriesMaster"
        and master["recurrence"]["range"]["numberOfOccurrences"] == 6
    )

    view = con.get(base + "me/calendarView", params={**WINDOW, "$top": 50}).json()["value"]
    assert [v["start"]["dateTime"][:16] for v in view] == [
        "2026-11-02T08:00", "2026-11-05T08:00", "2026-11-09T08:00",
        "2026-11-12T08:00", "2026-11-16T08:00", "2026-11-19T08:00",
    ]  # fmt: skip
    assert {v["type"] for v in view} == {"occurrence"}
    assert {v["seriesMasterId"] for v in view} == {master["id"]}
    assert len({v["iCalUId"] for v in view}) == 6  # per occurrence, as Graph does

    instances = con.get(
        base + f"me/events/{master['id']}/instances",
        params={"startDateTime": "2026-11-08T00:00:00Z", "endDateTime": "2026-11-15T00:00:00Z"},
    ).json()["value"]
    assert [i["start"]["dateTime"][:10] for i in instances] == ["2026-11-09", "2026-11-12"]

    # edit one occurrence (-> exception), cancel another
    con.patch(
        base + f"me/events/{instances[0]['id']}",
        data={
            "subject": "Weekly sync (moved)",
            "start": {"dateTime": "2026-11-10T09:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-10T09:30:00", "timeZone": "UTC"},
        },
    )
    con.delete(base + f"me/events/{instances[1]['id']}")
    view = con.get(base + "me/calendarView", params={**WINDOW, "$top": 50}).json()["value"]
    assert len(view) == 5
    moved = [v for v in view if v["type"] == "exception"]
    assert len(moved) == 1 and moved[0]["subject"] == "Weekly sync (moved)"
    assert moved[0]["start"]["dateTime"].startswith("2026-11-10T09:00")

    # O365 reads the recurrence back
    calendar = account.schedule().get_default_calendar()
    series = calendar.get_event(master["id"])
    assert series.recurrence.interval == 1 and series.recurrence.occurrences == 6


def test_recurrence_patterns(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url

    def dates(pattern: dict, rng: dict) -> list[str]:
        emulator.state.stores["microsoft"].events.clear()
        con.post(
            base + "me/events",
            data={
                **_ev("R", 2),
                "start": {"dateTime": f"{rng['startDate']}T10:00:00", "timeZone": "UTC"},
                "end": {"dateTime": f"{rng['startDate']}T11:00:00", "timeZone": "UTC"},
                "recurrence": {"pattern": pattern, "range": rng},
            },
        )
        view = con.get(
            base + "me/calendarView",
            params={
                "startDateTime": "2026-11-01T00:00:00Z",
                "endDateTime": "2027-03-01T00:00:00Z",
                "$top": 100,
            },
        ).json()["value"]
        return [v["start"]["dateTime"][:10] for v in view]

    assert dates(
        {"type": "daily", "interval": 2},
        {"type": "endDate", "startDate": "2026-11-02", "endDate": "2026-11-08"},
    ) == ["2026-11-02", "2026-11-04", "2026-11-06", "2026-11-08"]
    assert dates(
        {"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31},
        {"type": "noEnd", "startDate": "2026-11-30"},
    ) == ["2026-12-31", "2027-01-31"]
    assert dates(
        {"type": "relativeMonthly", "interval": 1, "daysOfWeek": ["friday"], "index": "last"},
        {"type": "numbered", "startDate": "2026-11-01", "numberOfOccurrences": 3},
    ) == ["2026-11-27", "2026-12-25", "2027-01-29"]
    assert dates(
        {"type": "weekly", "interval": 2, "daysOfWeek": ["tuesday"]},
        {"type": "numbered", "startDate": "2026-11-03", "numberOfOccurrences": 3},
    ) == ["2026-11-03", "2026-11-17", "2026-12-01"]


def test_get_schedule_people_and_rooms(emulator, ms_o365):
    rita = ms_o365("rita.rep@contoso.com")
    con, base = rita.con, rita.protocol.service_url
    con.post(base + "me/events", data=_ev("Busy", 25, 10))
    con.post(base + "me/events", data={**_ev("Maybe", 25, 12), "showAs": "tentative"})
    con.post(base + "me/events", data={**_ev("Free", 25, 13), "showAs": "free"})
    con.post(
        base + "me/events",
        data={
            **_ev("Room booking", 25, 14),
            "attendees": [{"emailAddress": {"address": "aurora@contoso.com"}, "type": "resource"}],
        },
    )
    body = {
        "schedules": ["rita.rep@contoso.com", "aurora@contoso.com", "nobody@elsewhere.example"],
        "startTime": {"dateTime": "2026-11-25T09:00:00", "timeZone": "UTC"},
        "endTime": {"dateTime": "2026-11-25T16:00:00", "timeZone": "UTC"},
        "availabilityViewInterval": 60,
    }
    resp = con.post(
        base + "me/calendar/getSchedule", data=body, headers={"Prefer": 'outlook.timezone="UTC"'}
    )
    value = resp.json()["value"]
    rita_info, room_info, unknown = value
    assert rita_info["scheduleId"] == "rita.rep@contoso.com"
    assert rita_info["availabilityView"] == "0201020"
    assert [(i["status"], i["subject"]) for i in rita_info["scheduleItems"]] == [
        ("busy", "Busy"), ("tentative", "Maybe"), ("busy", "Room booking"),
    ]  # fmt: skip
    assert rita_info["scheduleItems"][0]["start"] == {
        "dateTime": "2026-11-25T10:00:00.0000000",
        "timeZone": "UTC",
    }
    assert rita_info["workingHours"]["daysOfWeek"][0] == "monday"
    assert room_info["availabilityView"] == "0000020"
    assert unknown["error"]["responseCode"] == "ErrorMailRecipientNotFound"

    # O365's own helper
    import datetime as dt
    from zoneinfo import ZoneInfo

    utc = ZoneInfo("UTC")
    avail = rita.schedule().get_availability(
        ["rita.rep@contoso.com"],
        dt.datetime(2026, 11, 25, 9, tzinfo=utc),
        dt.datetime(2026, 11, 25, 12, tzinfo=utc),
        interval=60,
    )
    assert avail[0]["availabilityView"] == ["free", "busy", "free"]

    for bad in (
        {**body, "availabilityViewInterval": 2},
        {**body, "schedules": [f"u{i}@x.com" for i in range(21)]},
        {**body, "endTime": {"dateTime": "2027-02-25T09:00:00", "timeZone": "UTC"}},
    ):
        with pytest.raises(HTTPError) as err:
            con.post(base + "me/calendar/getSchedule", data=bad)
        assert err.value.response.status_code == 400


def test_places_rooms(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    resp = account.con.get(account.protocol.service_url + "places/microsoft.graph.room").json()
    rooms = {r["emailAddress"]: r for r in resp["value"]}
    assert set(rooms) == {"aurora@contoso.com", "borealis@contoso.com"}
    aurora = rooms["aurora@contoso.com"]
    assert aurora["displayName"] == "Aurora" and aurora["capacity"] == 8
    assert aurora["building"] == "HQ" and aurora["bookingType"] == "standard"
    assert aurora["@odata.type"] == "#microsoft.graph.room"
    assert "isWheelChairAccessible" in aurora


def test_store_survives_save_and_load(emulator, ms_o365):
    import json

    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    master = con.post(
        base + "me/events",
        data={
            **_ev("Series", 2),
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1},
                "range": {"type": "numbered", "startDate": "2026-11-02", "numberOfOccurrences": 3},
            },
        },
    ).json()
    first = con.get(base + f"me/events/{master['id']}/instances", params=WINDOW).json()["value"][0]
    con.patch(base + f"me/events/{first['id']}", data={"subject": "Changed"})
    _items, delta_link, _ = _delta_round(con, base + "me/calendarView/delta", WINDOW, 10)
    before = con.get(base + "me/calendarView", params=WINDOW).json()["value"]

    state = emulator.state
    saved = json.loads(json.dumps(state.to_dict(), default=str))
    state.load(saved)
    after = con.get(base + "me/calendarView", params=WINDOW).json()["value"]
    assert [(e["id"], e["subject"], e["start"]) for e in after] == [
        (e["id"], e["subject"], e["start"]) for e in before
    ]
    assert con.get(delta_link).json()["value"] == []
