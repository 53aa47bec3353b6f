"""Graph-specific behaviour of MicrosoftGraphAdapter against the emulator (the shared contract is
in test_adapter_contract.py)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from calendar_sync.providers import get_adapter
from calendar_sync.providers.base import EventDraft

pytestmark = pytest.mark.django_db
REP, GUEST = "rep@example.com", "guest@example.com"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
WINDOW = (
    dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
    dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
)


def _tomorrow(hour: int) -> dt.datetime:
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


def _draft(**kwargs) -> EventDraft:
    values = {
        "crm_id": "7",
        "title": "Demo",
        "start": _tomorrow(9),
        "end": _tomorrow(10),
        "attendee_emails": [GUEST],
        "idempotency_key": "appointment-7",
    }
    values.update(kwargs)
    return EventDraft(**values)


@pytest.fixture
def adapter(adapter_connection):
    return get_adapter(adapter_connection("microsoft", REP))


def _sync(adapter, cursor=None):
    events, removed, next_cursor = [], [], None
    for page in adapter.list_changes(cursor=cursor, window_start=WINDOW[0], window_end=WINDOW[1]):
        events += page.events
        removed += page.removed_ids
        next_cursor = page.next_cursor or next_cursor
    return events, removed, next_cursor


def test_cursor_is_the_full_delta_link(adapter, emulator):
    adapter.create_event(_draft())
    _, _, cursor = _sync(adapter)
    assert cursor.startswith(f"{emulator.url}/microsoft/v1.0/")
    assert "delta" in cursor


def test_deleted_event_comes_back_as_removed_id(adapter, emulator):
    event = adapter.create_event(_draft())
    _, _, cursor = _sync(adapter)
    store = emulator.state.stores["microsoft"]
    store.delete_event(emulator.state.account_find("microsoft", REP), event.id)
    events, removed, _ = _sync(adapter, cursor)
    assert event.id in removed or any(e.id == event.id and e.cancelled for e in events)


def test_all_day_event_is_midnight_in_its_zone(adapter):
    day = (dt.datetime.now(STOCKHOLM) + dt.timedelta(days=2)).date()
    start = dt.datetime.combine(day, dt.time(0), STOCKHOLM)
    event = adapter.create_event(
        _draft(
            all_day=True, start=start, end=start + dt.timedelta(days=1), timezone="Europe/Stockholm"
        )
    )
    fetched = adapter.get_event(event.id)
    assert fetched.all_day
    assert fetched.start == start and fetched.end == start + dt.timedelta(days=1)


def test_refresh_rotates_and_saves_the_refresh_token(adapter_connection):
    connection = adapter_connection("microsoft", REP, expired=True)
    old_refresh = connection.refresh_token
    get_adapter(connection).list_rooms()
    connection.refresh_from_db()
    assert connection.refresh_token and connection.refresh_token != old_refresh


def test_teams_link_is_read_back_after_create(adapter):
    event = adapter.create_event(_draft(add_video=True))
    assert event.video_link.startswith("https://teams.microsoft.com/")
    assert not event.video_pending


def test_room_is_a_resource_attendee_and_the_location(adapter, emulator):
    emulator.state.account_create(
        provider="microsoft", email="aurora@rooms.example.com", is_room=True
    )
    event = adapter.create_event(_draft(room_email="aurora@rooms.example.com", room_name="Aurora"))
    assert event.room_emails == ["aurora@rooms.example.com"]
    assert event.location == "Aurora"


def test_revoke_makes_no_request(adapter):
    adapter.revoke()
    assert adapter.request_count() == 0


FMT = "%Y-%m-%dT%H:%M:%S"


def test_show_as_is_read_from_the_wire(adapter, sync_actor):
    """``showAs`` oof is out of office (Graph has no status events), ``free`` is free; busy,
    tentative and working elsewhere are meetings that take the rep's time."""
    rep = sync_actor("microsoft", REP)
    rep.create_status("out_of_office", start=_tomorrow(8), end=_tomorrow(9), title="away")
    for hour, show_as in enumerate(("free", "busy", "tentative", "workingElsewhere"), start=10):
        start, end = _tomorrow(hour).strftime(FMT), _tomorrow(hour + 1).strftime(FMT)
        rep.create_raw({
            "subject": show_as,
            "start": {"dateTime": start, "timeZone": "UTC"},
            "end": {"dateTime": end, "timeZone": "UTC"},
            "showAs": show_as,
        })  # fmt: skip
    events, _, _ = _sync(adapter)
    got = {ev.title: (ev.kind, ev.free) for ev in events}
    assert got == {
        "away": ("out_of_office", False),
        "free": ("meeting", True),
        "busy": ("meeting", False),
        "tentative": ("meeting", False),
        "workingElsewhere": ("meeting", False),
    }


def test_personal_sensitivity_is_not_private(adapter, sync_actor):
    """Outlook's "personal" only labels the event; private and confidential hide it."""
    organizer = sync_actor("microsoft", "kund@example.com")
    for sensitivity in ("personal", "private"):
        body = organizer._body(
            title=f"Märkt {sensitivity}",
            start=_tomorrow(9),
            end=_tomorrow(10),
            attendees=[adapter.account_email],
        )
        body["sensitivity"] = sensitivity
        organizer.create_raw(body)
    events = {e.title: e for e in _sync(adapter)[0]}
    assert not events["Märkt personal"].private
    assert events["Märkt private"].private


def test_a_chosen_calendar_no_longer_shared_is_gone_and_a_server_error_is_raised(
    adapter, emulator, sync_actor, adapter_retry_sleeps
):
    """Graph reads each extra calendar with calendarView: 403 ErrorAccessDenied (the calendar is
    no longer shared with the account) drops it like a 404; a 5xx is not a reason to drop it."""
    from calendar_sync.providers.base import ProviderError
    from provider_emulator.faults import Fault

    side = sync_actor("microsoft", REP).add_calendar("Shared with me")
    emulator.state.faults.add(
        Fault(kind="403_forbidden", count=1, provider="microsoft", endpoint="calendarView")
    )
    found = adapter.account_busy(_tomorrow(0), _tomorrow(23), extra_calendars=[side])
    assert found.gone == [side]
    emulator.state.faults.add(
        Fault(kind="500", count=100, provider="microsoft", endpoint="calendarView")
    )
    with pytest.raises(ProviderError) as err:
        adapter.account_busy(_tomorrow(0), _tomorrow(23), extra_calendars=[side])
    assert not err.value.permanent


def test_an_all_day_busy_event_in_a_chosen_calendar_covers_its_local_day(adapter, sync_actor):
    rep = sync_actor("microsoft", REP)
    side = rep.add_calendar("Travel")
    day = _tomorrow(0).date()
    body = rep.all_day_body("Conference", day, "W. Europe Standard Time", []) | {"showAs": "oof"}
    rep._check(rep.http.post(f"{rep.calendars_url()}/{side}/events", json=body))
    found = adapter.account_busy(
        _tomorrow(0) - dt.timedelta(days=1), _tomorrow(23), extra_calendars=[side]
    )
    midnight = dt.datetime.combine(day, dt.time(0), STOCKHOLM)
    assert [(b.start, b.end, b.status) for b in found.extra] == [
        (midnight, midnight + dt.timedelta(days=1), "oof")
    ]


@pytest.mark.parametrize(
    ("wire", "utc"),
    [
        ({"dateTime": "2026-12-08T09:00:00.0000000", "timeZone": "UTC"}, "2026-12-08 09:00:00"),
        ({"dateTime": "2026-12-08T09:00:00.1234567", "timeZone": "W. Europe Standard Time"},
         "2026-12-08 08:00:00.123456"),
        ({"dateTime": "2026-12-08T09:00:00.12345678Z", "timeZone": "UTC"},
         "2026-12-08 09:00:00.123456"),
        ({"dateTime": " 2026-06-08T09:00:00 ", "timeZone": "Europe/Stockholm"},
         "2026-06-08 07:00:00"),
        ({"dateTime": "8 Dec 2026 09:00", "timeZone": "UTC"}, None),
        ({"timeZone": "UTC"}, None),
    ],
)  # fmt: skip
def test_graph_date_times_are_read_to_the_microsecond_in_their_zone(wire, utc):
    from calendar_sync.providers.microsoft.adapter import _parse_dtz

    parsed = _parse_dtz(wire)
    assert (parsed.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
            if parsed else None) == utc  # fmt: skip
    assert parsed is None or parsed.tzinfo is dt.UTC


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"value": [{"subject": "M\\u00f6te"}]}', {"value": [{"subject": "Möte"}]}),
        (b'{"subject": "a\\ud800b"}', {"subject": "a\ud800b"}),  # orjson refuses, json reads
        ('{"subject": "Möte"}'.encode("utf-16"), {"subject": "Möte"}),
        (b"<html>502 Bad Gateway</html>", {}),
    ],
)
def test_a_graph_answer_is_read_as_json_whatever_orjson_refuses(content, expected):
    from calendar_sync.providers.microsoft.client import _json

    assert _json(content) == expected
