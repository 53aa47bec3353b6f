"""Graph `sensitivity`, `showAs`, all-day out-of-office and several calendars, through O365.

What issue 15 needs from Microsoft: private events (sensitivity), non-meetings (showAs free /
oof / workingElsewhere), out-of-office all-day events that still count as busy in getSchedule,
and calendars besides the default one whose events are read per calendar (getSchedule only ever
covers the default calendar).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from O365.calendar import EventSensitivity, EventShowAs
from requests import HTTPError

STHLM = ZoneInfo("Europe/Stockholm")
UTC = ZoneInfo("UTC")
RITA, CARL = "rita.rep@contoso.com", "carl.customer@fabrikam.com"


def _ev(subject: str, hour: int, hours: int = 1, day: int = 25, **extra) -> dict:
    return {
        "subject": subject,
        "start": {"dateTime": f"2026-11-{day:02d}T{hour:02d}:00:00", "timeZone": "UTC"},
        "end": {"dateTime": f"2026-11-{day:02d}T{hour + hours:02d}:00:00", "timeZone": "UTC"},
        **extra,
    }


def _schedule(account, *addresses: str, day: int = 25, start: int = 0, hours: int = 24) -> list:
    body = {
        "schedules": list(addresses),
        "startTime": {"dateTime": f"2026-11-{day:02d}T{start:02d}:00:00", "timeZone": "UTC"},
        "endTime": {
            "dateTime": (
                dt.datetime(2026, 11, day, start, tzinfo=UTC) + dt.timedelta(hours=hours)
            ).strftime("%Y-%m-%dT%H:%M:%S"),
            "timeZone": "UTC",
        },
        "availabilityViewInterval": 60,
    }
    return account.con.post(
        account.protocol.service_url + "me/calendar/getSchedule",
        data=body,
        headers={"Prefer": 'outlook.timezone="UTC"'},
    ).json()["value"]


def test_sensitivity_and_show_as_round_trip_through_o365(emulator, ms_o365):
    calendar = ms_o365(RITA).schedule().get_default_calendar()
    for i, (sensitivity, show_as) in enumerate(
        zip(EventSensitivity, list(EventShowAs)[: len(EventSensitivity)], strict=True)
    ):
        event = calendar.new_event()
        event.subject = f"E{i}"
        event.start = dt.datetime(2026, 11, 25, 8 + i, tzinfo=STHLM)
        event.end = event.start + dt.timedelta(hours=1)
        event.sensitivity = sensitivity
        event.show_as = show_as
        assert event.save()
        fresh = calendar.get_event(event.object_id)
        assert (fresh.sensitivity, fresh.show_as) == (sensitivity, show_as)
    for show_as in (EventShowAs.WorkingElsewhere, EventShowAs.Unknown):
        fresh.show_as = show_as
        assert fresh.save()
        assert calendar.get_event(fresh.object_id).show_as == show_as


@pytest.mark.parametrize(
    "bad", [{"sensitivity": "secret"}, {"showAs": "away"}, {"showAs": "Busy "}]
)
def test_unknown_sensitivity_or_show_as_is_400_request_body_read(emulator, ms_o365, bad):
    account = ms_o365(RITA)
    with pytest.raises(HTTPError) as err:
        account.con.post(account.protocol.service_url + "me/events", data=_ev("x", 9, **bad))
    assert err.value.response.status_code == 400
    assert err.value.response.json()["error"]["code"] == "RequestBodyRead"


def test_all_day_out_of_office_is_busy_in_get_schedule(emulator, ms_o365):
    rita = ms_o365(RITA)
    calendar = rita.schedule().get_default_calendar()
    event = calendar.new_event()
    event.subject = "Vacation"
    event.is_all_day = True
    event.start = dt.date(2026, 11, 25)
    event.end = dt.date(2026, 11, 26)
    event.show_as = EventShowAs.Oof
    assert event.save()
    fresh = calendar.get_event(event.object_id)
    assert fresh.is_all_day and fresh.show_as == EventShowAs.Oof
    raw = rita.con.get(rita.protocol.service_url + f"me/events/{event.object_id}").json()
    assert (raw["isAllDay"], raw["showAs"]) == (True, "oof")
    assert raw["start"]["dateTime"].startswith("2026-11-25T00:00:00")

    # All day in Europe/Stockholm: 23:00 UTC the day before to 23:00 UTC.
    info = _schedule(rita, RITA, day=24, start=22, hours=26)[0]
    assert info["availabilityView"] == "0" + "3" * 24 + "0"
    assert [(i["status"], i["subject"]) for i in info["scheduleItems"]] == [("oof", "Vacation")]

    # Another attendee's view of the same mailbox: still out of office.
    carl = ms_o365(CARL)
    assert _schedule(carl, RITA, day=24, start=23)[0]["availabilityView"] == "3" * 24
    # O365's helper reads the same codes.
    avail = rita.schedule().get_availability(
        [RITA],
        dt.datetime(2026, 11, 25, 9, tzinfo=UTC),
        dt.datetime(2026, 11, 25, 11, tzinfo=UTC),
        interval=60,
    )
    assert avail[0]["availabilityView"] == ["out of office", "out of office"]


def test_get_schedule_codes_per_show_as(emulator, ms_o365):
    rita = ms_o365(RITA)
    con, base = rita.con, rita.protocol.service_url
    for hour, show_as in ((8, "busy"), (10, "tentative"), (12, "free"), (14, "oof"),
                          (16, "workingElsewhere")):  # fmt: skip
        con.post(base + "me/events", data=_ev(show_as, hour, showAs=show_as))
    info = _schedule(rita, RITA, start=8, hours=10)[0]
    # working elsewhere is 0 in availabilityView (Graph keeps 4 out for backward compatibility)
    assert info["availabilityView"] == "2010003000"
    assert [i["status"] for i in info["scheduleItems"]] == [
        "busy", "tentative", "oof", "workingElsewhere",
    ]  # fmt: skip


def test_private_items_hide_subject_and_location_from_others(emulator, ms_o365):
    rita = ms_o365(RITA)
    con, base = rita.con, rita.protocol.service_url
    con.post(
        base + "me/events",
        data=_ev("Doctor", 9, sensitivity="private", location={"displayName": "Clinic"}),
    )
    con.post(base + "me/events", data=_ev("Team lunch", 12, location={"displayName": "Deli"}))
    own = _schedule(rita, RITA, start=8, hours=6)[0]["scheduleItems"]
    assert [(i["isPrivate"], i["subject"], i["location"]) for i in own] == [
        (True, "Doctor", "Clinic"), (False, "Team lunch", "Deli"),
    ]  # fmt: skip
    seen = _schedule(ms_o365(CARL), RITA, start=8, hours=6)[0]["scheduleItems"]
    assert [(i["isPrivate"], i["status"]) for i in seen] == [(True, "busy"), (False, "busy")]
    assert "subject" not in seen[0] and "location" not in seen[0]
    assert seen[1]["subject"] == "Team lunch"


def test_sensitivity_reaches_the_attendee_copy(emulator, ms_o365):
    rita = ms_o365(RITA)
    con, base = rita.con, rita.protocol.service_url
    created = con.post(
        base + "me/events",
        data=_ev(
            "Board",
            9,
            sensitivity="private",
            attendees=[{"emailAddress": {"address": CARL}, "type": "required"}],
        ),
    ).json()
    carl = ms_o365(CARL)
    copy = carl.con.get(
        carl.protocol.service_url + "me/events", params={"$filter": "subject eq 'Board'"}
    ).json()["value"]
    assert [e["sensitivity"] for e in copy] == ["private"]
    con.patch(base + f"me/events/{created['id']}", data={"sensitivity": "normal"})
    copy = carl.con.get(carl.protocol.service_url + f"me/events/{copy[0]['id']}").json()
    assert copy["sensitivity"] == "normal"


def test_several_calendars_are_read_per_calendar_and_not_in_get_schedule(emulator, ms_o365):
    rita = ms_o365(RITA)
    schedule = rita.schedule()
    side = schedule.new_calendar("Side project")
    assert sorted(c.name for c in schedule.list_calendars()) == [
        "Birthdays", "Calendar", "Side project",
    ]  # fmt: skip
    con, base = rita.con, rita.protocol.service_url
    con.post(base + "me/events", data=_ev("Customer", 9))
    con.post(base + f"me/calendars/{side.calendar_id}/events", data=_ev("Build", 13, hours=2))
    con.post(
        base + f"me/calendars/{side.calendar_id}/events",
        data=_ev("Gym", 16, showAs="free"),
    )

    window = {"startDateTime": "2026-11-25T00:00:00Z", "endDateTime": "2026-11-26T00:00:00Z"}
    per_calendar = con.get(base + f"me/calendars/{side.calendar_id}/calendarView", params=window)
    assert [(e["subject"], e["showAs"]) for e in per_calendar.json()["value"]] == [
        ("Build", "busy"), ("Gym", "free"),
    ]  # fmt: skip
    q = side.new_query()
    via_o365 = side.get_events(
        include_recurring=True,
        start_recurring=q.greater_equal("start", dt.datetime(2026, 11, 25, tzinfo=UTC)),
        end_recurring=q.less_equal("end", dt.datetime(2026, 11, 26, tzinfo=UTC)),
    )
    assert [e.subject for e in via_o365] == ["Build", "Gym"]
    default_view = con.get(base + "me/calendarView", params=window).json()["value"]
    assert [e["subject"] for e in default_view] == ["Customer"]
    # getSchedule covers the default calendar only.
    assert _schedule(rita, RITA, start=8, hours=10)[0]["availabilityView"] == "0200000000"
    delta = con.get(base + f"me/calendars/{side.calendar_id}/calendarView/delta", params=window)
    assert sorted(e["subject"] for e in delta.json()["value"]) == ["Build", "Gym"]
