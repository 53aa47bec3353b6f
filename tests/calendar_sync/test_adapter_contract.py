"""One contract, every adapter of the registry: GoogleCalendarAdapter and MicrosoftGraphAdapter
against the emulator through the real client libraries (google-api-python-client, O365), and
CalDAVAdapter against a real Radicale server (python-caldav). What a provider cannot do (push,
video, rooms, OAuth tokens) is a capability of its registry entry, read here."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from calendar_sync.providers import get_adapter
from calendar_sync.providers.base import (
    AuthRevoked,
    CursorExpired,
    EventDraft,
    ExternalEvent,
)
from calendar_sync.providers.registry import PROVIDERS as REGISTRY
from calendar_sync.providers.registry import get_provider
from tests.calendar_sync.conftest import PROVIDERS

WITH_PUSH = [p for p in PROVIDERS if REGISTRY[p].push is not None]
WITH_VIDEO = [p for p in PROVIDERS if REGISTRY[p].has_video()]
WITHOUT_VIDEO = [p for p in PROVIDERS if not REGISTRY[p].has_video()]
WITH_ROOMS = [p for p in PROVIDERS if REGISTRY[p].has_rooms]
WITHOUT_ROOMS = [p for p in PROVIDERS if not REGISTRY[p].has_rooms]
WITH_OAUTH = [p for p in PROVIDERS if REGISTRY[p].uses_oauth()]

REP = "rep@example.com"
GUEST = "guest@example.com"
UTC = dt.UTC

pytestmark = pytest.mark.django_db


def _tomorrow(hour: int) -> dt.datetime:
    day = dt.datetime.now(UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), UTC)


WINDOW = (dt.datetime.now(UTC) - dt.timedelta(days=1), dt.datetime.now(UTC) + dt.timedelta(days=90))


class Backdoor:
    """What a user would do in the provider's own UI (via the emulator's store). One subclass per
    provider, picked by ``backdoor_class`` from the registry's ids."""

    provider: str

    def __init__(self, emulator, monkeypatch, request) -> None:
        self.emulator, self.state, self.monkeypatch = emulator, emulator.state, monkeypatch
        self.store = emulator.state.stores[self.provider]

    def account(self, email: str):
        return self.state.account_find(self.provider, email) or self.state.account_create(
            provider=self.provider, email=email
        )

    def create(self, owner: str, title: str, start, end, attendees=(), recurring=False) -> str:
        acc = self.account(owner)
        if not recurring:
            return self.store.demo_create_event(
                acc, title=title, start=start, end=end, attendees=list(attendees)
            )
        return self.create_series(acc, title, start, end, attendees)

    def respond(self, attendee: str, event: ExternalEvent, response: str) -> None:
        self.store.demo_respond(self.account(attendee), self.copy_id(attendee, event), response)

    def expire_cursors(self, owner: str) -> None:
        """The provider forgets the account's sync cursors."""
        requests.post(
            f"{self.emulator.url}/_emulator/expire-sync-tokens",
            json={"provider": self.provider, "email": owner},
            timeout=5,
        ).raise_for_status()

    def revoke(self, owner: str) -> None:
        """The account withdraws the CRM's access at the provider."""
        requests.post(
            f"{self.emulator.url}/_emulator/accounts/{self.provider}/{owner}/revoke", timeout=5
        ).raise_for_status()

    # --- each provider's own ---------------------------------------------------------------------
    def create_series(self, acc, title: str, start, end, attendees) -> str:
        """A daily series of three, made in the provider's UI."""
        raise NotImplementedError

    def delete(self, owner: str, event_id: str) -> None:
        raise NotImplementedError

    def copy_id(self, attendee: str, event: ExternalEvent) -> str:
        """The attendee's own id for the event."""
        raise NotImplementedError

    def drop_start(self, owner: str, event_id: str) -> None:
        """Corrupt a stored event: no start at all (the engine must get start=None, not a crash)."""
        raise NotImplementedError

    def validated(self, receiver) -> bool:
        """Whether creating a channel validated the receiver first (Graph's handshake)."""
        raise NotImplementedError

    def pushed(self, receiver, token: str) -> bool:
        """Whether a change notification carrying ``token`` reached ``receiver``."""
        raise NotImplementedError


class GoogleBackdoor(Backdoor):
    provider = "google"

    def create_series(self, acc, title: str, start, end, attendees) -> str:
        cal = self.store.resolve_calendar(acc, "primary")
        body = {
            "summary": title,
            "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
            "end": {"dateTime": end.isoformat(), "timeZone": "UTC"},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
            "attendees": [{"email": a} for a in attendees],
        }
        ev = self.store.insert_event(acc, cal, body)
        self.store.flush()
        return ev["id"]

    def delete(self, owner: str, event_id: str) -> None:
        acc = self.account(owner)
        cal = self.store.resolve_calendar(acc, "primary")
        self.store.delete_event(acc, cal, event_id)
        self.store.flush()

    def copy_id(self, attendee: str, event: ExternalEvent) -> str:
        return event.id  # Google: the same id in every attendee's calendar

    def drop_start(self, owner: str, event_id: str) -> None:
        with self.state.lock:
            cal = self.store.resolve_calendar(self.account(owner), "primary")
            ev = self.store.events[cal["id"]][event_id]
            ev["start"] = {}
            self.store._save(cal["id"], ev)

    def validated(self, receiver) -> bool:
        return False  # watch channels have no handshake

    def pushed(self, receiver, token: str) -> bool:
        return receiver.wait_for(
            lambda h: (
                h["headers"].get("X-Goog-Resource-State") == "exists"
                and h["headers"].get("X-Goog-Channel-Token") == token
            )
        )


class GraphBackdoor(Backdoor):
    provider = "microsoft"

    def create_series(self, acc, title: str, start, end, attendees) -> str:
        payload = {
            "subject": title,
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": a}, "type": "required"} for a in attendees],
            "recurrence": {
                "pattern": {"type": "daily", "interval": 1},
                "range": {
                    "type": "numbered",
                    "startDate": start.date().isoformat(),
                    "numberOfOccurrences": 3,
                },
            },
        }
        ev, _ = self.store.create_event(acc, payload)
        return ev["id"]

    def delete(self, owner: str, event_id: str) -> None:
        self.store.delete_event(self.account(owner), event_id)

    def copy_id(self, attendee: str, event: ExternalEvent) -> str:
        return next(  # Graph: a copy per mailbox
            e["id"]
            for e in self.store.events.values()
            if e["mailbox"] == attendee and e["ical_uid"] == event.ical_uid
        )

    def drop_start(self, owner: str, event_id: str) -> None:
        with self.state.lock:
            # The Graph emulator cannot store a start-less event: blank it on the way out.
            render = self.store.render

            def render_without_start(ev, *args, **kwargs):
                out = render(ev, *args, **kwargs)
                if out.get("id") == event_id:
                    out.pop("start", None)
                return out

            self.monkeypatch.setattr(self.store, "render", render_without_start)

    def validated(self, receiver) -> bool:
        return any("validationToken" in h["query"] for h in receiver.hits)

    def pushed(self, receiver, token: str) -> bool:
        return receiver.wait_for(lambda h: token.encode() in h["body"])


class CalDAVBackdoor(Backdoor):
    """A CalDAV client at the Radicale server (``actors.CalDAVActor``, which also plays the
    scheduling a server like iCloud's does: invitations copied to attendees on the server)."""

    provider = "caldav"

    def __init__(self, emulator, monkeypatch, request) -> None:
        self.emulator, self.request = emulator, request
        self.radicale = request.getfixturevalue("radicale")

    def actor(self, email: str):
        from tests.calendar_sync.actors import CalDAVActor

        return CalDAVActor(self.emulator, email, radicale=self.radicale)

    def account(self, email: str):
        return self.actor(email)

    def create(self, owner: str, title: str, start, end, attendees=(), recurring=False) -> str:
        kw = {"title": title, "start": start, "end": end, "attendees": list(attendees)}
        actor = self.actor(owner)
        if not recurring:
            return actor.create(**kw)["id"]
        return self.create_series(actor, title, start, end, attendees)

    def create_series(self, acc, title: str, start, end, attendees) -> str:
        import uuid

        fields = acc._fields(title=title, start=start, end=end, attendees=list(attendees))
        fields["rrule"] = {"FREQ": "DAILY", "COUNT": 3}
        name = f"{uuid.uuid4().hex}.ics"
        return acc._put(name, f"{uuid.uuid4()}@test-client", fields, new=True)["id"]

    def respond(self, attendee: str, event: ExternalEvent, response: str) -> None:
        """The attendee's reply, as the organizer's server records it (PARTSTAT)."""
        partstat = {"accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE"}
        organizer = self.actor(event.organizer_email)
        uid, fields = organizer._current_fields(event.id)
        for row in fields["attendees"]:
            if row["email"] == attendee:
                row["partstat"] = partstat[response]
        organizer._put(event.id, uid, fields, new=False)

    def delete(self, owner: str, event_id: str) -> None:
        self.actor(owner).delete(event_id)

    def copy_id(self, attendee: str, event: ExternalEvent) -> str:
        return event.id  # the server's scheduling keeps the resource name

    def drop_start(self, owner: str, event_id: str) -> None:
        """Radicale neither stores nor serves an event without a start: the server's answer
        loses it on the way out (as the Graph backdoor does)."""

        def without_start(body: bytes) -> bytes:
            head, _, event = body.decode().partition("BEGIN:VEVENT")
            lines = [line for line in event.split("\r\n") if not line.startswith("DTSTART")]
            return (head + "BEGIN:VEVENT" + "\r\n".join(lines)).encode()

        self.radicale.faults.rewrites[event_id] = without_start

    def expire_cursors(self, owner: str) -> None:
        self.radicale.expire_sync_tokens(owner)

    def revoke(self, owner: str) -> None:
        self.actor(owner).revoke_access()


BACKDOORS = {cls.provider: cls for cls in Backdoor.__subclasses__()}


def test_every_registered_provider_has_a_backdoor():
    assert set(BACKDOORS) == set(PROVIDERS)


class Receiver:
    """A push receiver on a free loopback port; echoes Graph's validationToken."""

    def __init__(self) -> None:
        self.hits: list[dict] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = parse_qs(urlsplit(self.path).query)
                receiver.hits.append({"headers": dict(self.headers), "body": body, "query": query})
                token = query.get("validationToken", [""])[0]
                payload = token.encode()
                self.send_response(200 if token else 202)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/hooks/calendar"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(predicate(h) for h in self.hits):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=PROVIDERS)
def provider(request):
    return request.param


@pytest.fixture
def rep_connection(adapter_connection, provider):
    return adapter_connection(provider, REP)


@pytest.fixture
def adapter(rep_connection):
    return get_adapter(rep_connection)


@pytest.fixture
def rep_actor(rep_connection, sync_actor, provider):
    """The rep in their own calendar over the wire (more calendars, events in them)."""
    return sync_actor(provider, REP)


@pytest.fixture
def backdoor(emulator, provider, monkeypatch, request):
    return BACKDOORS[provider](emulator, monkeypatch, request)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _draft(key: str = "appt-1", **kwargs) -> EventDraft:
    values = {
        "crm_id": "4711",
        "title": "Demo with Nordic AB",
        "start": _tomorrow(9),
        "end": _tomorrow(10),
        "timezone": "Europe/Stockholm",
        "description": "Agenda: pricing",
        "attendee_emails": [GUEST],
        "idempotency_key": key,
        "video_request_id": f"video-{key}",
    }
    values.update(kwargs)
    return EventDraft(**values)


def _full_sync(adapter) -> tuple[list[ExternalEvent], list[str], str]:
    events, removed, cursor = [], [], None
    for page in adapter.list_changes(cursor=None, window_start=WINDOW[0], window_end=WINDOW[1]):
        events += page.events
        removed += page.removed_ids
        cursor = page.next_cursor or cursor
    assert cursor
    return events, removed, cursor


def _incremental(adapter, cursor: str) -> tuple[list[ExternalEvent], list[str], str]:
    events, removed, next_cursor = [], [], None
    for page in adapter.list_changes(cursor=cursor, window_start=WINDOW[0], window_end=WINDOW[1]):
        events += page.events
        removed += page.removed_ids
        next_cursor = page.next_cursor or next_cursor
    assert next_cursor
    return events, removed, next_cursor


class TestAdapterContract:
    def test_create_is_idempotent_on_the_key(self, adapter, backdoor):
        first = adapter.create_event(_draft())
        again = adapter.create_event(_draft())
        assert again.id == first.id
        events, _, _ = _full_sync(adapter)
        assert [e.id for e in events if e.title == "Demo with Nordic AB"] == [first.id]

    def test_create_maps_the_event_back(self, adapter):
        event = adapter.create_event(_draft())
        assert event.start == _tomorrow(9) and event.end == _tomorrow(10)
        assert event.title == "Demo with Nordic AB"
        assert event.crm_id == "4711"
        assert event.organizer_email == REP and event.organizer_is_self
        assert GUEST in [a.email for a in event.attendees]
        assert event.etag

    def test_get_returns_the_event_with_crm_id(self, adapter):
        created = adapter.create_event(_draft())
        fetched = adapter.get_event(created.id)
        assert fetched.id == created.id
        assert fetched.crm_id == "4711"
        assert fetched.description.strip() == "Agenda: pricing"
        assert not fetched.cancelled

    def test_update_changes_time_and_title(self, adapter):
        created = adapter.create_event(_draft())
        updated = adapter.update_event(
            created.id,
            _draft(title="Moved", start=_tomorrow(13), end=_tomorrow(14)),
            etag=created.etag,
        )
        assert updated.title == "Moved"
        assert updated.start == _tomorrow(13)
        assert adapter.get_event(created.id).title == "Moved"

    def test_update_with_a_stale_etag_fails_the_precondition(self, adapter, provider):
        from calendar_sync.providers.base import PreconditionFailed

        created = adapter.create_event(_draft())
        adapter.update_event(created.id, _draft(title="First"), etag=created.etag)
        with pytest.raises(PreconditionFailed):
            adapter.update_event(created.id, _draft(title="Second"), etag=created.etag)

    def test_get_of_a_missing_event_is_event_not_found(self, adapter):
        from calendar_sync.providers.base import EventNotFound

        with pytest.raises(EventNotFound):
            adapter.get_event("doesnotexist0123456789")

    def test_full_then_incremental_sync(self, adapter, backdoor):
        ours = adapter.create_event(_draft())
        doomed = backdoor.create(REP, "Lunch", _tomorrow(11), _tomorrow(12), [GUEST])
        events, _, cursor = _full_sync(adapter)
        assert {ours.id, doomed} <= {e.id for e in events}

        theirs = backdoor.create(REP, "Call with Customer", _tomorrow(15), _tomorrow(16), [GUEST])
        adapter.update_event(ours.id, _draft(title="Renamed"))
        backdoor.delete(REP, doomed)

        events, removed, cursor2 = _incremental(adapter, cursor)
        by_id = {e.id: e for e in events}
        assert theirs in by_id and by_id[theirs].title == "Call with Customer"
        assert by_id[ours.id].title == "Renamed" and by_id[ours.id].crm_id in ("4711", "")
        gone = {e.id for e in events if e.cancelled} | set(removed)
        assert doomed in gone

        events, removed, _ = _incremental(adapter, cursor2)
        assert [e for e in events if not e.cancelled] == [] and removed == []

    def test_dead_cursor_is_cursor_expired(self, adapter, backdoor):
        adapter.create_event(_draft())
        _, _, cursor = _full_sync(adapter)
        backdoor.expire_cursors(REP)
        backdoor.create(REP, "Lunch", _tomorrow(11), _tomorrow(12), [GUEST])
        with pytest.raises(CursorExpired):
            _incremental(adapter, cursor)

    def test_unchanged_calendar_costs_one_request(self, adapter):
        adapter.create_event(_draft())
        _, _, cursor = _full_sync(adapter)
        before = adapter.request_count()
        events, removed, _ = _incremental(adapter, cursor)
        assert [e for e in events if not e.cancelled] == [] and removed == []
        assert adapter.request_count() - before == 1

    def test_recurring_series_comes_expanded_with_series_id(self, adapter, backdoor):
        master = backdoor.create(
            REP, "Daily standup", _tomorrow(8), _tomorrow(9), [GUEST], recurring=True
        )
        events, _, _ = _full_sync(adapter)
        instances = [e for e in events if e.title == "Daily standup" and not e.cancelled]
        assert len(instances) == 3
        assert {e.series_id for e in instances} == {master}
        assert all(e.is_recurring and e.original_start for e in instances)
        assert sorted(e.start for e in instances)[0] == _tomorrow(8)

    def test_attendee_responses_are_mapped(self, adapter, backdoor):
        for who in ("yes@example.com", "no@example.com", "maybe@example.com", "quiet@example.com"):
            backdoor.account(who)
        created = adapter.create_event(
            _draft(
                attendee_emails=[
                    "yes@example.com",
                    "no@example.com",
                    "maybe@example.com",
                    "quiet@example.com",
                ]
            )
        )
        backdoor.respond("yes@example.com", created, "accepted")
        backdoor.respond("no@example.com", created, "declined")
        backdoor.respond("maybe@example.com", created, "tentative")
        responses = {a.email: a.response for a in adapter.get_event(created.id).attendees}
        assert responses["yes@example.com"] == "accepted"
        assert responses["no@example.com"] == "declined"
        assert responses["maybe@example.com"] == "tentative"
        assert responses["quiet@example.com"] == "needs_action"

    def test_invited_rep_sees_self_and_external_organizer(self, adapter, backdoor):
        event_id = backdoor.create(
            "customer@example.com", "Their meeting", _tomorrow(9), _tomorrow(10), [REP]
        )
        events, _, _ = _full_sync(adapter)
        event = next(e for e in events if e.title == "Their meeting")
        assert event.organizer_email == "customer@example.com" and not event.organizer_is_self
        me = next(a for a in event.attendees if a.email == REP)
        assert me.is_self and me.response == "needs_action"
        assert event_id  # the organizer's id; the rep's copy id may differ (Graph)

    @pytest.mark.parametrize(
        ("marked", "private"), [("private", True), ("confidential", True), ("none", False)]
    )
    def test_the_organizers_private_marker_reaches_the_invited_reps_copy(
        self, adapter, provider, sync_actor, marked, private
    ):
        sync_actor(provider, "customer@example.com").create(
            title="Hemligt", start=_tomorrow(9), end=_tomorrow(10), attendees=[REP], marked=marked
        )
        events, _, _ = _full_sync(adapter)
        (event,) = [e for e in events if e.title == "Hemligt"]
        assert event.private is private
        assert adapter.get_event(event.id).private is private

    def test_create_and_update_write_the_private_marker(self, adapter, provider, sync_actor):
        rep = sync_actor(provider, REP)
        created = adapter.create_event(_draft(private=True))
        assert created.private
        (wire,) = [e for e in rep.events() if e["id"] == created.id]
        assert rep.marked_private(wire)
        updated = adapter.update_event(created.id, _draft(private=False), etag=created.etag)
        assert not updated.private
        (wire,) = [e for e in rep.events() if e["id"] == created.id]
        assert not rep.marked_private(wire) and rep.title_of(wire) == "Demo with Nordic AB"

    def test_crm_id_round_trips_through_sync(self, adapter):
        created = adapter.create_event(_draft(crm_id="crm-42"))
        assert adapter.get_event(created.id).crm_id == "crm-42"

    @pytest.mark.parametrize("provider", WITH_VIDEO)
    def test_video_link_is_written_back(self, adapter):
        event = adapter.create_event(_draft(add_video=True))
        if event.video_pending and not event.video_link:
            event = adapter.get_event(event.id)
        assert event.video_link.startswith("https://")
        assert not event.video_pending

    @pytest.mark.parametrize("provider", WITHOUT_VIDEO)
    def test_a_provider_without_video_makes_no_link(self, adapter):
        event = adapter.create_event(_draft(add_video=True))
        assert event.video_link == "" and not event.video_pending

    @pytest.mark.parametrize("provider", WITHOUT_ROOMS)
    def test_a_provider_without_rooms_lists_none(self, adapter):
        assert adapter.list_rooms() == []

    @pytest.mark.parametrize("provider", WITH_ROOMS)
    def test_rooms_are_listed_and_a_booked_room_is_busy(self, adapter, emulator, provider):
        emulator.state.account_create(
            provider=provider,
            email="aurora@rooms.example.com",
            name="Aurora",
            is_room=True,
            capacity=8,
            building="HQ",
        )
        rooms = adapter.list_rooms()
        room = next(r for r in rooms if r.email == "aurora@rooms.example.com")
        assert room.name == "Aurora" and room.capacity == 8

        event = adapter.create_event(_draft(room_email=room.email, room_name=room.name))
        assert room.email in event.room_emails
        assert any(a.is_resource for a in event.attendees if a.email == room.email)
        busy = adapter.free_busy([room.email], _tomorrow(0), _tomorrow(23))
        assert any(b.start <= _tomorrow(9) < b.end for b in busy[room.email])

    def test_free_busy_shows_an_event_made_at_the_provider(self, adapter, backdoor):
        backdoor.create(REP, "Dentist", _tomorrow(14), _tomorrow(15))
        busy = adapter.free_busy([REP], _tomorrow(0), _tomorrow(23))
        assert [(b.start, b.end) for b in busy[REP]] == [(_tomorrow(14), _tomorrow(15))]

    # --- more calendars for busy time ---------------------------------------------------------------
    def test_list_calendars_names_the_main_calendar_and_the_others(self, adapter, rep_actor):
        side = rep_actor.add_calendar("Side project")
        calendars = adapter.list_calendars()
        assert len([c for c in calendars if c.primary]) == 1
        added = next(c for c in calendars if c.id == side)
        assert (added.name, added.primary, added.can_edit, added.owned) == (
            "Side project", False, True, True
        )  # fmt: skip

    def test_account_busy_adds_the_chosen_calendars_and_leaves_free_events_out(
        self, adapter, backdoor, rep_actor
    ):
        backdoor.create(REP, "Main", _tomorrow(8), _tomorrow(9))
        side, other = rep_actor.add_calendar("Side"), rep_actor.add_calendar("Other")
        rep_actor.create_in(side, title="Gym", start=_tomorrow(14), end=_tomorrow(15))
        rep_actor.create_in(side, title="Maybe", start=_tomorrow(16), end=_tomorrow(17), free=True)
        rep_actor.create_in(other, title="Not chosen", start=_tomorrow(11), end=_tomorrow(12))
        found = adapter.account_busy(_tomorrow(0), _tomorrow(23), extra_calendars=[side])
        assert [(b.start, b.end) for b in found.main] == [(_tomorrow(8), _tomorrow(9))]
        assert [(b.start, b.end) for b in found.extra] == [(_tomorrow(14), _tomorrow(15))]
        assert found.gone == []
        alone = adapter.account_busy(_tomorrow(0), _tomorrow(23))
        assert alone.extra == [] and len(alone.main) == 1

    def test_account_busy_makes_one_request_per_calendar_at_most(self, adapter, rep_actor):
        calendars = [rep_actor.add_calendar(name) for name in ("A", "B")]
        for cal in calendars:
            for hour in range(8, 18, 2):  # apart: a provider may merge touching blocks
                rep_actor.create_in(cal, title="x", start=_tomorrow(hour), end=_tomorrow(hour + 1))
        before = adapter.request_count()
        found = adapter.account_busy(_tomorrow(0), _tomorrow(23), extra_calendars=calendars)
        assert len(found.extra) == 10
        assert adapter.request_count() - before <= 1 + len(calendars)

    def test_a_deleted_calendar_is_reported_gone_not_raised(self, adapter, backdoor, rep_actor):
        backdoor.create(REP, "Main", _tomorrow(8), _tomorrow(9))
        side, kept = rep_actor.add_calendar("Deleted soon"), rep_actor.add_calendar("Kept")
        rep_actor.create_in(kept, title="Gym", start=_tomorrow(14), end=_tomorrow(15))
        rep_actor.delete_calendar(side)
        found = adapter.account_busy(_tomorrow(0), _tomorrow(23), extra_calendars=[side, kept])
        assert found.gone == [side]
        assert len(found.main) == 1 and len(found.extra) == 1
        assert side not in {c.id for c in adapter.list_calendars()}

    @pytest.mark.parametrize("provider", WITH_PUSH)
    def test_watch_delivers_pushes_and_stops(self, adapter, backdoor, receiver, provider):
        channel = adapter.watch(callback_url=receiver.url, token="s3cret-state", ttl_seconds=3600)
        assert channel.id and channel.expires_at > dt.datetime.now(UTC)
        if get_provider(provider).push.kind == "subscription":  # validated during the POST
            assert backdoor.validated(receiver)
        backdoor.create(REP, "Pushed", _tomorrow(9), _tomorrow(10), [GUEST])
        assert backdoor.pushed(receiver, "s3cret-state")

        renewed = adapter.renew_watch(channel, callback_url=receiver.url, ttl_seconds=7200)
        assert renewed.expires_at >= channel.expires_at
        adapter.stop_watch(renewed)
        adapter.stop_watch(renewed)  # stopping twice is harmless

    def test_429_storm_is_retried_honouring_retry_after(
        self, adapter, emulator, provider, adapter_retry_sleeps
    ):
        created = adapter.create_event(_draft())
        requests.post(
            f"{emulator.url}/_emulator/faults",
            json={"kind": "429", "count": 3, "provider": provider, "retry_after": 2},
            timeout=5,
        ).raise_for_status()
        before = adapter.request_count()
        assert adapter.get_event(created.id).id == created.id
        from calendar_sync.providers.base import RETRY_JITTER

        assert len(adapter_retry_sleeps) == 3  # Retry-After, plus jitter
        assert all(2 <= wait <= 2 + RETRY_JITTER for wait in adapter_retry_sleeps)
        assert adapter.request_count() - before == 4

    def test_500_then_success(self, adapter, emulator, provider, adapter_retry_sleeps):
        created = adapter.create_event(_draft())
        requests.post(
            f"{emulator.url}/_emulator/faults",
            json={"kind": "500", "count": 1, "provider": provider},
            timeout=5,
        ).raise_for_status()
        assert adapter.get_event(created.id).id == created.id
        assert len(adapter_retry_sleeps) == 1

    @pytest.mark.parametrize("provider", WITH_OAUTH)
    def test_a_refresh_reads_no_row_but_saves_its_tokens(self, adapter_connection, provider):
        """The refresher uses the app read with the adapter: a refresh (in the thread that
        reads the next page, too) writes the new tokens and reads nothing."""
        from django.db import connection as db
        from django.test.utils import CaptureQueriesContext

        adapter = get_adapter(adapter_connection(provider, REP, expired=True))
        with CaptureQueriesContext(db) as queries:
            next(iter(adapter.list_changes(cursor=None, window_start=WINDOW[0],
                                           window_end=WINDOW[1])))  # fmt: skip
        statements = [q["sql"] for q in queries.captured_queries]
        assert len(statements) == 1 and statements[0].startswith("UPDATE")
        assert "access_token" in statements[0]

    @pytest.mark.parametrize("provider", WITH_OAUTH)
    def test_expired_token_is_refreshed_and_saved(self, adapter_connection, provider):
        connection = adapter_connection(provider, REP, expired=True)
        old_access = connection.access_token
        adapter = get_adapter(connection)
        adapter.list_rooms()
        connection.refresh_from_db()
        assert connection.access_token and connection.access_token != old_access
        assert connection.token_expires_at > dt.datetime.now(UTC)

    def test_revoked_grant_is_auth_revoked(self, adapter_connection, backdoor, provider):
        connection = adapter_connection(provider, REP, expired=True)
        backdoor.revoke(REP)
        with pytest.raises(AuthRevoked):
            get_adapter(connection).get_event("doesnotexist0123456789")

    def test_event_without_start_maps_to_start_none(self, adapter, backdoor):
        created = adapter.create_event(_draft())
        backdoor.drop_start(REP, created.id)
        event = adapter.get_event(created.id)
        assert event.start is None and event.id == created.id

    def test_request_count_counts_provider_calls(self, adapter):
        from calendar_sync.providers.base import EventNotFound

        assert adapter.request_count() == 0
        with pytest.raises(EventNotFound):
            adapter.get_event("doesnotexist0123456789")
        assert adapter.request_count() == 1

    def test_request_seconds_is_the_time_spent_waiting_for_the_provider(self, adapter):
        from calendar_sync.providers.base import EventNotFound

        assert adapter.request_seconds() == 0.0
        started = time.perf_counter()
        with pytest.raises(EventNotFound):
            adapter.get_event("doesnotexist0123456789")
        elapsed = time.perf_counter() - started
        assert 0.0 < adapter.request_seconds() <= elapsed
