"""Google-specific behaviour of GoogleCalendarAdapter against the emulator (the shared contract is
in test_adapter_contract.py)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import requests

from calendar_sync.providers import get_adapter
from calendar_sync.providers.base import AuthRevoked, EventDraft
from calendar_sync.providers.google.adapter import google_event_id

pytestmark = pytest.mark.django_db
REP, GUEST = "rep@example.com", "guest@example.com"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


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
    return get_adapter(adapter_connection("google", REP))


def _outbox(emulator, to: str) -> list[dict]:
    return requests.get(
        f"{emulator.url}/_emulator/outbox", params={"provider": "google", "to": to}, timeout=5
    ).json()["messages"]


def test_event_id_is_client_chosen_base32hex_from_the_key(adapter):
    event = adapter.create_event(_draft())
    assert event.id == google_event_id("appointment-7")
    assert re.fullmatch(r"[a-v0-9]{5,1024}", event.id)


def test_send_invitations_false_sends_no_mail(adapter, emulator):
    adapter.create_event(_draft(send_invitations=False))
    assert _outbox(emulator, GUEST) == []
    adapter.create_event(_draft(idempotency_key="appointment-8", send_invitations=True))
    assert len(_outbox(emulator, GUEST)) == 1


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


def test_403_user_rate_limit_is_retried(adapter, emulator, adapter_retry_sleeps):
    requests.post(
        f"{emulator.url}/_emulator/faults",
        json={"kind": "403_rate_limit", "count": 1, "provider": "google"},
        timeout=5,
    ).raise_for_status()
    from calendar_sync.providers.base import RETRY_JITTER

    assert adapter.list_rooms() == []
    assert len(adapter_retry_sleeps) == 1
    assert 1 <= adapter_retry_sleeps[0] <= 1 + RETRY_JITTER  # Retry-After, plus jitter


def test_revoke_kills_the_grant(adapter_connection):
    connection = adapter_connection("google", REP)
    get_adapter(connection).revoke()
    connection.token_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    with pytest.raises(AuthRevoked):
        get_adapter(connection).list_rooms()


def test_meet_link_comes_from_conference_data(adapter):
    event = adapter.create_event(_draft(add_video=True, video_request_id="req-1"))
    fetched = adapter.get_event(event.id)
    assert fetched.video_link.startswith("https://meet.google.com/")


def _listed(adapter) -> dict[str, object]:
    start, end = (
        dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
        _tomorrow(0) + dt.timedelta(days=30),
    )
    pages = adapter.list_changes(cursor=None, window_start=start, window_end=end)
    return {ev.title: ev for page in pages for ev in page.events}


def test_event_type_and_transparency_are_read_from_the_wire(adapter, sync_actor):
    """Status events (``eventType``) map to neutral kinds; ``transparency`` to ``free``."""
    rep = sync_actor("google", REP)
    for kind in ("focus_time", "out_of_office", "working_location"):
        rep.create_status(kind, start=_tomorrow(9), end=_tomorrow(10), title=kind)
    rep.create(title="hold", start=_tomorrow(11), end=_tomorrow(12), attendees=[GUEST], free=True)
    rep.create(title="meeting", start=_tomorrow(13), end=_tomorrow(14), attendees=[GUEST])
    got = {title: (ev.kind, ev.free) for title, ev in _listed(adapter).items()}
    assert got == {
        "focus_time": ("focus_time", False),
        "out_of_office": ("out_of_office", False),
        "working_location": ("working_location", True),  # transparent on the wire by default
        "hold": ("meeting", True),
        "meeting": ("meeting", False),
    }


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"items": [{"summary": "M\\u00f6te"}]}', {"items": [{"summary": "Möte"}]}),
        ('{"summary": "Möte"}', {"summary": "Möte"}),
        (b'{"summary": "a\\ud800b"}', {"summary": "a\ud800b"}),  # orjson refuses, json reads
        (b"<html>502</html>", "<html>502</html>"),  # not JSON: as the library hands it back
    ],
)
def test_the_shared_service_reads_answers_as_googleapiclient_does(content, expected):
    from calendar_sync.providers.google.client import _OrjsonModel, shared_service

    service = shared_service("calendar", "v3", "http://127.0.0.1:1/")
    assert isinstance(service._model, _OrjsonModel)
    assert service._model.deserialize(content) == expected
