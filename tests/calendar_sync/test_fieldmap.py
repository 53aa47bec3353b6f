"""The field map: every attribute of the neutral event and draft is mapped or excluded on
purpose, and the exporter, importer and echo hash follow it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import pytest

from appointments.models import Appointment
from appointments.services import ATTENDEE_FIELDS
from calendar_sync.providers.base import EventDraft, ExternalAttendee, ExternalEvent
from calendar_sync.sync import exporter, fieldmap

NOW = dt.datetime(2025, 3, 12, 9, 0, tzinfo=dt.UTC)


def att(email: str, **kw) -> ExternalAttendee:
    return ExternalAttendee(email=email, **kw)


def event(**kw) -> ExternalEvent:
    base = {
        "id": "ev1",
        "ical_uid": "uid1",
        "title": "Möte",
        "start": NOW,
        "end": NOW + dt.timedelta(hours=1),
        "organizer_email": "karl@exempel.se",
        "attendees": [att("k@acme.se")],
    }
    return ExternalEvent(**{**base, **kw})


def draft(**kw) -> EventDraft:
    base = {"crm_id": "7", "title": "Möte", "start": NOW, "end": NOW + dt.timedelta(hours=1)}
    return EventDraft(**{**base, **kw})


@pytest.mark.parametrize("kind", [ExternalEvent, EventDraft])
def test_every_event_and_draft_attribute_is_mapped_or_excluded(kind):
    assert fieldmap.unmapped(kind) == set()
    names = {f.name for f in dataclasses.fields(kind)}
    excluded = set(fieldmap.EXCLUDED[kind])
    assert fieldmap.mapped(kind) <= names and excluded <= names  # no stale entry
    assert not fieldmap.mapped(kind) & excluded


def test_a_new_attribute_neither_mapped_nor_excluded_is_reported():
    @dataclasses.dataclass
    class WiderEvent(ExternalEvent):
        colour: str = ""

    @dataclasses.dataclass
    class WiderDraft(EventDraft):
        colour: str = ""

    assert fieldmap.unmapped(WiderEvent) == {"colour"}
    assert fieldmap.unmapped(WiderDraft) == {"colour"}


def test_the_map_names_real_appointment_fields():
    columns = {f.attname for f in Appointment._meta.concrete_fields}
    assert set(fieldmap.CRM_WRITES) <= columns
    assert fieldmap.CRM_CHANGES <= {f.name for f in Appointment._meta.fields} | ATTENDEE_FIELDS


def test_the_importer_and_exporter_use_the_map():
    assert fieldmap.crm_values(event(), Appointment()).keys() == set(fieldmap.CRM_WRITES)
    assert exporter.EVENT_FIELDS == fieldmap.CRM_CHANGES
    assert exporter.PARTICIPANT_FIELDS == {
        "contacts",
        "users",
        "external_emails",
        "room_name",
        "room_email",
    }


def test_every_field_the_import_writes_is_hashed():
    assert all(f.hashed is not None for f in fieldmap.FIELDS if f.to_crm is not None)


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(minutes=5)
    if isinstance(value, list):
        people = value and isinstance(value[0], ExternalAttendee)
        return [*value, att("ny@acme.se")] if people else [*value, "rum@x.se"]
    raise AssertionError(f"no change for {value!r}")


@pytest.mark.parametrize("field", [f for f in fieldmap.FIELDS if f.hashed], ids=lambda f: f.name)
def test_a_change_of_a_hashed_field_changes_the_event_hash(field):
    before = event()
    for attr in field.event:
        if attr in ("video_pending", "organizer_is_self"):  # read, never stored
            continue
        after = dataclasses.replace(before, **{attr: _changed(getattr(before, attr))})
        assert fieldmap.event_hash(after) != fieldmap.event_hash(before), attr


@pytest.mark.parametrize(
    "attr", [a for f in fieldmap.FIELDS for a in f.fingerprint], ids=lambda a: a
)
def test_a_change_of_a_fingerprinted_draft_attribute_changes_the_fingerprint(attr):
    before = draft()
    after = dataclasses.replace(before, **{attr: _changed(getattr(before, attr))})
    assert fieldmap.fingerprint(after) != fieldmap.fingerprint(before)


def test_event_hash_keeps_the_stored_format():
    """Links store the hash: a new format would make every event look changed once. (An
    invitation's hash gained the organizer's name and the rep's own answer: invitations are
    read again once, the rep's own events are not.)"""
    ev = event(
        organizer_is_self=True,
        description="Text",
        location="Rum 1",
        video_link="https://meet.google.com/abc",
        room_emails=["Rum@x.se"],
        attendees=[att("K@acme.se", response="accepted"), att("rum@x.se", is_resource=True)],
    )
    content = {
        "title": "Möte",
        "start": NOW.isoformat(),
        "end": (NOW + dt.timedelta(hours=1)).isoformat(),
        "all_day": False,
        "description": "Text",
        "location": "Rum 1",
        "organizer": "karl@exempel.se",
        "attendees": [["k@acme.se", "accepted", False], ["rum@x.se", "needs_action", True]],
        "cancelled": False,
        "video": "https://meet.google.com/abc",
        "rooms": ["rum@x.se"],
    }
    raw = json.dumps(content, sort_keys=True).encode()
    assert fieldmap.event_hash(ev) == hashlib.sha256(raw).hexdigest()
    invitation = dataclasses.replace(ev, organizer_is_self=False, organizer_name="Karl")
    content = {**content, "own_response": "needs_action", "organizer_name": "Karl"}
    raw = json.dumps(content, sort_keys=True).encode()
    assert fieldmap.event_hash(invitation) == hashlib.sha256(raw).hexdigest()


def test_fingerprint_keeps_the_stored_format():
    d = draft(description="D", location="L", room_name="Rum", add_video=True, timezone="UTC")
    content = [
        "Möte",
        NOW.isoformat(),
        (NOW + dt.timedelta(hours=1)).isoformat(),
        False,
        "UTC",
        "D",
        "L",
        "Rum",
        True,
    ]
    assert fieldmap.fingerprint(d) == hashlib.sha256(json.dumps(content).encode()).hexdigest()


def test_event_hash_ignores_etag_and_updated():
    a = event(attendees=[att("k@acme.se")])
    b = event(attendees=[att("k@acme.se")], etag="x", updated=NOW)
    assert fieldmap.event_hash(a) == fieldmap.event_hash(b)


def test_event_hash_changes_with_response():
    a = event(attendees=[att("k@acme.se")])
    b = event(attendees=[att("k@acme.se", response="declined")])
    assert fieldmap.event_hash(a) != fieldmap.event_hash(b)


def test_crm_values_of_an_event():
    ev = event(
        title="x" * 300,
        description="\nAgenda: pris\n",
        location="Rum 1",
        video_link="javascript:alert(1)",
        attendees=[att("rum@x.se", name="Stora rummet", is_resource=True)],
    )
    values = fieldmap.crm_values(ev, Appointment(agenda="Gammal", description="Intern"))
    assert values == {
        "title": "x" * 255,
        "start": NOW,
        "end": NOW + dt.timedelta(hours=1),
        "all_day": False,
        "agenda": "Agenda: pris",  # the description stays the CRM's own
        "location": "Rum 1",
        "room_name": "Stora rummet",
        "room_email": "rum@x.se",
        "video_link": "",
        "cancelled_at": None,
        # Organised by karl@exempel.se, not this account: an invitation, not answered yet.
        "invited_by_email": "karl@exempel.se",
        "invited_by_name": "",
        "own_response": "no_answer",
        "private": False,
    }
    # A colleague's copy of the meeting does not answer for the appointment's organizer.
    assert "own_response" not in fieldmap.crm_values(ev, Appointment(), own_calendar=False)


def test_a_private_event_logged_without_details_keeps_none_of_them():
    hidden = fieldmap.hidden_values()
    assert hidden == {
        "title": "",
        "agenda": "",
        "location": "",
        "room_name": "",
        "room_email": "",
        "video_link": "",
    }


def test_private_is_a_synced_field_both_ways():
    assert fieldmap.crm_values(event(private=True), Appointment())["private"] is True
    (entry,) = [f for f in fieldmap.FIELDS if f.name == "private"]
    assert entry.to_event is not None and entry.draft == ("private",)
    assert entry.to_event(Appointment(private=True), None) == {"private": True}  # type: ignore[arg-type]
    assert fieldmap.event_hash(event()) != fieldmap.event_hash(event(private=True))
    assert fieldmap.fingerprint(draft()) != fieldmap.fingerprint(draft(private=True))
