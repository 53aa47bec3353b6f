"""Graph events through O365: CRUD, transactionId, extended properties, Teams, attendees, rooms."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from O365.calendar import EventResponse
from requests import HTTPError

STHLM = ZoneInfo("Europe/Stockholm")
CRM_PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name crm_id"


def _day(hour: int, minute: int = 0, day: int = 25) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=STHLM)


def _graph_event(subject: str, start: str, end: str, **extra) -> dict:
    return {
        "subject": subject,
        "start": {"dateTime": start, "timeZone": "W. Europe Standard Time"},
        "end": {"dateTime": end, "timeZone": "W. Europe Standard Time"},
        **extra,
    }


def test_o365_calendars_and_event_crud(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    schedule = account.schedule()
    names = sorted(c.name for c in schedule.list_calendars())
    assert names == ["Birthdays", "Calendar"]
    calendar = schedule.get_default_calendar()
    assert calendar.name == "Calendar"

    event = calendar.new_event()
    event.subject = "Demo with Fabrikam"
    event.body = "<p>Agenda: pricing</p>"
    event.location = "Fabrikam HQ"
    event.start = _day(10)
    event.end = _day(11)
    event.attendees.add([("Ext Person", "ext.person@example.org")])
    assert event.save()
    assert event.object_id and event.ical_uid.startswith("040000008200E00074C5B7101A82E008")

    q = calendar.new_query()
    found = list(
        calendar.get_events(
            include_recurring=True,
            start_recurring=q.greater_equal("start", _day(0)),
            end_recurring=q.less_equal("end", _day(0, day=26)),
        )
    )
    assert [e.subject for e in found] == ["Demo with Fabrikam"]
    got = found[0]
    assert got.start == _day(10) and got.end == _day(11)
    assert got.location["displayName"] == "Fabrikam HQ"
    assert [a.address for a in got.attendees] == ["ext.person@example.org"]
    assert got.is_organizer and "Agenda: pricing" in got.body

    got.subject = "Demo with Fabrikam (moved)"
    got.start = _day(13)
    got.end = _day(14)
    assert got.save()
    fresh = calendar.get_event(got.object_id)
    assert fresh.subject == "Demo with Fabrikam (moved)" and fresh.start == _day(13)
    outbox = [m["kind"] for m in emulator.state.outbox if m["to"] == "ext.person@example.org"]
    assert outbox == ["invitation", "update"]

    assert fresh.delete()
    assert list(calendar.get_events(include_recurring=False)) == []
    assert [m["kind"] for m in emulator.state.outbox][-1] == "cancellation"
    with pytest.raises(HTTPError) as err:
        account.con.get(account.protocol.service_url + f"me/events/{got.object_id}")
    assert err.value.response.status_code == 404
    assert err.value.response.json()["error"]["code"] == "ErrorItemNotFound"


def test_event_wire_shape_and_timezone_preference(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    created = con.post(
        base + "me/events",
        data=_graph_event(
            "Shape",
            "2026-11-25T10:00:00",
            "2026-11-25T11:00:00",
            body={"contentType": "text", "content": "Hello\nthere"},
        ),
    )
    assert created.status_code == 201
    ev = created.json()
    for key in (
        "@odata.etag", "id", "createdDateTime", "lastModifiedDateTime", "changeKey", "iCalUId",
        "subject", "body", "bodyPreview", "start", "end", "isAllDay", "location", "locations",
        "attendees", "organizer", "isOrganizer", "responseStatus", "isCancelled", "showAs",
        "type", "seriesMasterId", "webLink", "onlineMeeting", "isOnlineMeeting",
        "onlineMeetingProvider",
    ):  # fmt: skip
        assert key in ev, key
    assert ev["@odata.etag"] == f'W/"{ev["changeKey"]}"'
    assert ev["type"] == "singleInstance" and ev["responseStatus"]["response"] == "organizer"
    assert ev["body"]["contentType"] == "html" and "Hello" in ev["body"]["content"]
    assert ev["bodyPreview"] == "Hello\nthere"
    assert ev["organizer"]["emailAddress"]["address"] == "rita.rep@contoso.com"
    # default: UTC; O365 itself asks for its own zone
    plain = con.get(base + f"me/events/{ev['id']}", headers={"Prefer": 'outlook.timezone="UTC"'})
    assert plain.json()["start"] == {"dateTime": "2026-11-25T09:00:00.0000000", "timeZone": "UTC"}
    pacific = con.get(
        base + f"me/events/{ev['id']}",
        headers={"Prefer": 'outlook.timezone="Pacific Standard Time", IdType="ImmutableId"'},
    )
    assert pacific.json()["start"] == {
        "dateTime": "2026-11-25T01:00:00.0000000",
        "timeZone": "Pacific Standard Time",
    }
    applied = pacific.headers["Preference-Applied"]
    assert 'outlook.timezone="Pacific Standard Time"' in applied and "ImmutableId" in applied
    text = con.get(
        base + f"me/events/{ev['id']}", headers={"Prefer": 'outlook.body-content-type="text"'}
    ).json()
    assert text["body"] == {"contentType": "text", "content": "Hello\nthere"}


def test_answers_are_compact_utf8_json_as_graph_sends_them(emulator, ms_o365):
    """The emulator answers as Graph does: compact JSON, non-ASCII as UTF-8 (not \\u escapes);
    what orjson does not take (a dict with non-string keys) still goes out, as the standard
    library writes it."""
    from provider_emulator.http import json_response

    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    created = con.post(
        base + "me/events", data=_graph_event("Möte", "2026-11-25T10:00:00", "2026-11-25T11:00:00")
    )
    raw = con.get(base + f"me/events/{created.json()['id']}").content
    assert '"subject":"Möte"'.encode() in raw and b"\\u00f6" not in raw
    assert json_response({1: "ö"}).get_data() == b'{"1": "\\u00f6"}'


def test_unknown_property_and_bad_times_are_rejected(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    with pytest.raises(HTTPError) as err:
        con.post(
            base + "me/events",
            data=_graph_event("x", "2026-11-25T10:00:00", "2026-11-25T11:00:00", colour="red"),
        )
    assert err.value.response.json()["error"]["code"] == "RequestBodyRead"
    with pytest.raises(HTTPError) as err:
        con.post(
            base + "me/events", data=_graph_event("x", "2026-11-25T12:00:00", "2026-11-25T11:00:00")
        )
    assert err.value.response.status_code == 400


def test_transaction_id_deduplicates_retried_posts(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    body = _graph_event(
        "Idempotent", "2026-11-25T10:00:00", "2026-11-25T11:00:00", transactionId="crm-appt-42"
    )
    first = con.post(base + "me/events", data=body).json()
    second = con.post(base + "me/events", data=body).json()
    assert first["id"] == second["id"] and second["transactionId"] == "crm-appt-42"
    listed = con.get(base + "me/events").json()["value"]
    assert [e["subject"] for e in listed] == ["Idempotent"]


def test_if_match_with_a_stale_etag_is_412_irresolvable_conflict(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    created = con.post(
        base + "me/events", data=_graph_event("v1", "2026-11-25T10:00:00", "2026-11-25T11:00:00")
    ).json()
    url, stale = base + f"me/events/{created['id']}", created["@odata.etag"]
    fresh = con.patch(url, data={"subject": "v2"}, headers={"If-Match": stale}).json()
    assert fresh["@odata.etag"] != stale
    for method, kwargs in (("patch", {"data": {"subject": "v3"}}), ("delete", {})):
        with pytest.raises(HTTPError) as err:
            getattr(con, method)(url, headers={"If-Match": stale}, **kwargs)
        assert err.value.response.status_code == 412
        assert err.value.response.json()["error"]["code"] == "ErrorIrresolvableConflict"
    assert con.get(url).json()["subject"] == "v2"  # nothing changed, nothing deleted
    assert con.patch(url, data={"subject": "v4"}, headers={"If-Match": "*"}).ok
    current = con.get(url).json()["@odata.etag"]
    assert con.delete(url, headers={"If-Match": current}).status_code == 204


def test_single_value_extended_properties_expand_and_filter(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    con, base = account.con, account.protocol.service_url
    ev = con.post(
        base + "me/events",
        data=_graph_event(
            "Tagged",
            "2026-11-25T10:00:00",
            "2026-11-25T11:00:00",
            singleValueExtendedProperties=[{"id": CRM_PROP, "value": "appt-7"}],
        ),
    ).json()
    assert "singleValueExtendedProperties" not in ev
    expand = f"singleValueExtendedProperties($filter=id eq '{CRM_PROP}')"
    got = con.get(base + f"me/events/{ev['id']}", params={"$expand": expand}).json()
    assert got["singleValueExtendedProperties"] == [{"id": CRM_PROP, "value": "appt-7"}]
    flt = f"singleValueExtendedProperties/Any(ep: ep/id eq '{CRM_PROP}' and ep/value eq 'appt-7')"
    found = con.get(base + "me/events", params={"$filter": flt}).json()["value"]
    assert [e["id"] for e in found] == [ev["id"]]
    by_uid = con.get(base + "me/events", params={"$filter": f"iCalUId eq '{ev['iCalUId']}'"})
    assert [e["id"] for e in by_uid.json()["value"]] == [ev["id"]]


def test_teams_meeting_gets_join_url(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    calendar = account.schedule().get_default_calendar()
    event = calendar.new_event()
    event.subject = "Teams call"
    event.start, event.end = _day(9), _day(9, 30)
    event.is_online_meeting = True
    event.online_meeting_provider = "teamsForBusiness"
    assert event.save()
    fetched = calendar.get_event(event.object_id)  # O365 does not read joinUrl back on save
    assert fetched.is_online_meeting
    assert fetched.online_meeting["joinUrl"].startswith(
        "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
    )
    assert fetched.online_meeting_url == fetched.online_meeting["joinUrl"]
    raw = account.con.get(account.protocol.service_url + f"me/events/{event.object_id}").json()
    assert raw["onlineMeetingProvider"] == "teamsForBusiness"


def test_attendee_copies_responses_and_cancellation(emulator, ms_o365):
    rita = ms_o365("rita.rep@contoso.com")
    carl = ms_o365("carl.customer@fabrikam.com")
    rita_cal = rita.schedule().get_default_calendar()
    event = rita_cal.new_event()
    event.subject = "Contract review"
    event.start, event.end = _day(15), _day(16)
    event.attendees.add([("Carl", "carl.customer@fabrikam.com"), ("Out", "outside@example.org")])
    assert event.save()

    carl_cal = carl.schedule().get_default_calendar()
    q = carl_cal.new_query()
    window = {
        "include_recurring": True,
        "start_recurring": q.greater_equal("start", _day(0)),
        "end_recurring": q.less_equal("end", _day(0, day=26)),
    }
    copies = list(carl_cal.get_events(**window))
    assert len(copies) == 1
    copy = copies[0]
    assert copy.object_id != event.object_id and copy.ical_uid == event.ical_uid
    assert not copy.is_organizer and copy.response_status.status == EventResponse.NotResponded
    assert copy.organizer.address == "rita.rep@contoso.com"
    # only the non-emulated attendee gets an e-mail
    assert [m["to"] for m in emulator.state.outbox] == ["outside@example.org"]

    # organizer changes reach the copy
    event.subject = "Contract review (v2)"
    assert event.save()
    assert carl_cal.get_event(copy.object_id).subject == "Contract review (v2)"

    assert copy.accept_event("Looking forward")
    raw = rita.con.get(rita.protocol.service_url + f"me/events/{event.object_id}").json()
    status = {a["emailAddress"]["address"]: a["status"]["response"] for a in raw["attendees"]}
    assert status == {"carl.customer@fabrikam.com": "accepted", "outside@example.org": "none"}
    copy = carl_cal.get_event(copy.object_id)
    assert copy.response_status.status == EventResponse.Accepted

    assert copy.accept_event(tentatively=True)
    att = rita_cal.get_event(event.object_id).attendees[0]
    assert att.address == "carl.customer@fabrikam.com"
    assert att.response_status.status == EventResponse.TentativelyAccepted

    # the organizer cannot answer its own meeting
    with pytest.raises(HTTPError):
        event.accept_event()

    assert event.delete()
    cancelled = carl_cal.get_event(copy.object_id)
    assert cancelled.is_cancelled and cancelled.subject.startswith("Canceled: ")


def test_decline_reaches_organizer_and_removes_copy(emulator, ms_o365):
    rita = ms_o365("rita.rep@contoso.com")
    carl = ms_o365("carl.customer@fabrikam.com")
    base = rita.protocol.service_url
    ev = rita.con.post(
        base + "me/events",
        data=_graph_event(
            "Pitch",
            "2026-11-25T10:00:00",
            "2026-11-25T11:00:00",
            attendees=[
                {"emailAddress": {"address": "carl.customer@fabrikam.com"}, "type": "required"}
            ],
        ),
    ).json()
    carl_copy = carl.con.get(base + "me/events").json()["value"][0]
    assert carl_copy["iCalUId"] == ev["iCalUId"]
    resp = carl.con.post(
        base + f"me/events/{carl_copy['id']}/decline",
        data={"comment": "Sorry", "sendResponse": True},
    )
    assert resp.status_code == 202
    organizer_view = rita.con.get(base + f"me/events/{ev['id']}").json()
    assert organizer_view["attendees"][0]["status"]["response"] == "declined"
    assert carl.con.get(base + "me/events").json()["value"] == []


def test_rooms_accept_when_free_and_decline_when_busy(emulator, ms_o365):
    rita = ms_o365("rita.rep@contoso.com")
    base = rita.protocol.service_url

    def book(subject: str, start: str, end: str) -> dict:
        return rita.con.post(
            base + "me/events",
            data=_graph_event(
                subject,
                start,
                end,
                attendees=[
                    {
                        "emailAddress": {"address": "aurora@contoso.com", "name": "Aurora"},
                        "type": "resource",
                    }
                ],
                location={"displayName": "Aurora"},
            ),
        ).json()

    first = book("First", "2026-11-25T10:00:00", "2026-11-25T11:00:00")
    assert first["attendees"][0]["status"]["response"] == "accepted"
    clash = book("Clash", "2026-11-25T10:30:00", "2026-11-25T11:30:00")
    assert clash["attendees"][0]["status"]["response"] == "declined"
    later = book("Later", "2026-11-25T11:00:00", "2026-11-25T12:00:00")
    assert later["attendees"][0]["status"]["response"] == "accepted"
    room = emulator.state.account_find("microsoft", "aurora@contoso.com")
    store = emulator.state.stores["microsoft"]
    booked = store.demo_events(room, _day(0), _day(0, day=26))
    assert sorted(b["title"] for b in booked) == ["First", "Later"]


def test_demo_create_and_respond_reach_graph(emulator, ms_o365, ms_accounts):
    rita = ms_o365("rita.rep@contoso.com")
    store = emulator.state.stores["microsoft"]
    carl = ms_accounts["cust"]
    event_id = store.demo_create_event(
        carl,
        title="Customer asks for a meeting",
        start=_day(9),
        end=_day(10),
        attendees=["rita.rep@contoso.com", "someone@example.org"],
        online_meeting=True,
    )
    base = rita.protocol.service_url
    rita_copy = rita.con.get(base + "me/events").json()["value"][0]
    assert rita_copy["subject"] == "Customer asks for a meeting"
    assert rita_copy["onlineMeeting"]["joinUrl"].startswith("https://teams.microsoft.com/")
    rows = store.demo_events(ms_accounts["rep"], _day(0), _day(0, day=26))
    assert rows[0]["my_response"] == "notResponded" and rows[0]["organizer"] == carl.email
    store.demo_respond(ms_accounts["rep"], rows[0]["id"], "accepted")
    carl_rows = store.demo_events(carl, _day(0), _day(0, day=26))
    assert carl_rows[0]["id"] == event_id and carl_rows[0]["my_response"] is None
    assert {a["email"]: a["response"] for a in carl_rows[0]["attendees"]}[
        "rita.rep@contoso.com"
    ] == "accepted"
    assert [m["to"] for m in emulator.state.outbox] == ["someone@example.org"]


def test_calendars_are_paged_ten_at_a_time_and_o365_follows_the_pages(emulator, ms_o365):
    rita = ms_o365("rita.rep@contoso.com")
    schedule = rita.schedule()
    for n in range(11):
        assert schedule.new_calendar(f"Project {n:02}")
    base = rita.protocol.service_url
    first = rita.con.get(base + "me/calendars").json()
    assert len(first["value"]) == 10 and first["@odata.nextLink"]
    rest = rita.con.get(first["@odata.nextLink"]).json()
    assert len(rest["value"]) == 3 and "@odata.nextLink" not in rest
    names = [c.name for c in schedule.list_calendars(limit=20, batch=5)]  # $top=5, 3 pages
    assert len(names) == 13 and {"Calendar", "Birthdays", "Project 10"} <= set(names)
    default = [c for c in first["value"] + rest["value"] if c["isDefaultCalendar"]]
    assert [c["name"] for c in default] == ["Calendar"]


def test_a_secondary_calendars_view_selects_busy_fields_and_keeps_show_as(emulator, ms_o365):
    rita = ms_o365("rita.rep@contoso.com")
    side = rita.schedule().new_calendar("Side project")
    base = rita.protocol.service_url
    for subject, show_as in (("Busy", "busy"), ("Free", "free")):
        body = _graph_event(subject, "2026-11-25T10:00:00", "2026-11-25T11:00:00", showAs=show_as)
        rita.con.post(base + f"me/calendars/{side.calendar_id}/events", data=body)
    view = rita.con.get(
        base + f"me/calendars/{side.calendar_id}/calendarView",
        params={
            "startDateTime": "2026-11-25T00:00:00Z",
            "endDateTime": "2026-11-26T00:00:00Z",
            "$select": "start,end,showAs,isCancelled",
        },
    ).json()["value"]
    assert sorted(e["showAs"] for e in view) == ["busy", "free"]
    assert all(
        set(e) <= {"id", "@odata.etag", "start", "end", "showAs", "isCancelled"} for e in view
    )
    default_view = rita.con.get(
        base + "me/calendar/calendarView",
        params={"startDateTime": "2026-11-25T00:00:00Z", "endDateTime": "2026-11-26T00:00:00Z"},
    ).json()["value"]
    assert default_view == []  # the events are in the other calendar only
    side.delete()
    with pytest.raises(HTTPError) as err:
        rita.con.get(
            base + f"me/calendars/{side.calendar_id}/calendarView",
            params={"startDateTime": "2026-11-25T00:00:00Z", "endDateTime": "2026-11-26T00:00:00Z"},
        )
    assert err.value.response.status_code == 404
    assert err.value.response.json()["error"]["code"] == "ErrorItemNotFound"
