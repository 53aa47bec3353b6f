"""Every Google response the emulator gives validates against the bundled discovery documents.

Discovery schemas become JSON Schema (type, properties, items, $ref, additionalProperties; int64
and friends are strings on the wire). Discovery never says additionalProperties: false, so we
also check separately that every returned key is declared in the schema, recursively.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import googleapiclient
import jsonschema
import pytest
import requests
from googleapiclient.errors import HttpError

DOCS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
ALICE, BOB = "alice@example.com", "bob@example.com"
ROOM1 = "room-aurora@resource.example.com"
TZ = ZoneInfo("Europe/Stockholm")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "errors", "status"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "status": {"type": "string"},
                "errors": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["domain", "reason", "message"],
                        "additionalProperties": False,
                        "properties": {
                            "domain": {"type": "string"},
                            "reason": {"type": "string"},
                            "message": {"type": "string"},
                            "location": {"type": "string"},
                            "locationType": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}


def _load(name: str) -> dict:
    return json.loads((DOCS / name).read_text())["schemas"]


CALENDAR = _load("calendar.v3.json")
DIRECTORY = _load("admin.directory_v1.json")
STRING_FORMATS = {
    "int64",
    "uint64",
    "byte",
    "date",
    "date-time",
    "google-datetime",
    "google-duration",
}


def to_json_schema(node: dict) -> dict:
    """One discovery schema node as JSON Schema (refs point at #/definitions/<id>)."""
    if "$ref" in node:
        return {"$ref": f"#/definitions/{node['$ref']}"}
    kind = node.get("type")
    if kind == "any" or kind is None:
        return {}
    if kind == "string":  # also int64/uint64/date-time: strings on the wire
        return {"type": "string"}
    if kind == "integer":
        return {"type": "integer"}
    if kind == "number":
        return {"type": "number"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "array":
        return {"type": "array", "items": to_json_schema(node.get("items", {}))}
    out: dict = {"type": "object"}
    if "properties" in node:
        out["properties"] = {k: to_json_schema(v) for k, v in node["properties"].items()}
    if "additionalProperties" in node:
        out["additionalProperties"] = to_json_schema(node["additionalProperties"])
    return out


def validator_for(schemas: dict, name: str) -> jsonschema.Draft7Validator:
    schema = {
        **to_json_schema({"$ref": name}),
        "definitions": {k: to_json_schema(v) for k, v in schemas.items()},
    }
    return jsonschema.Draft7Validator(schema)


def undeclared_keys(value, node: dict, schemas: dict, path: str = "$") -> list[str]:
    """Keys in ``value`` that the discovery schema does not declare (recursively)."""
    while "$ref" in node:
        node = schemas[node["$ref"]]
    problems = []
    if isinstance(value, dict) and node.get("type") == "object":
        props = node.get("properties")
        extra = node.get("additionalProperties")
        for key, item in value.items():
            if props is not None and key in props:
                problems += undeclared_keys(item, props[key], schemas, f"{path}.{key}")
            elif extra is not None:
                problems += undeclared_keys(item, extra, schemas, f"{path}[{key!r}]")
            else:
                problems.append(f"{path}.{key}")
    elif isinstance(value, list) and node.get("type") == "array":
        for i, item in enumerate(value):
            problems += undeclared_keys(item, node.get("items", {}), schemas, f"{path}[{i}]")
    return problems


def check(schemas: dict, name: str, value: dict) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in validator_for(schemas, name).iter_errors(value)
    ]
    assert errors == [], f"{name}: {errors}"
    assert undeclared_keys(value, {"$ref": name}, schemas) == [], name


def test_converter_catches_mistakes():
    with pytest.raises(AssertionError):
        check(CALENDAR, "Event", {"id": "x", "notAGoogleField": 1})
    with pytest.raises(AssertionError):
        check(CALENDAR, "Event", {"sequence": "1"})
    with pytest.raises(AssertionError):
        check(CALENDAR, "Channel", {"expiration": 123})  # int64 is a string on the wire
    check(CALENDAR, "Event", {"extendedProperties": {"private": {"any": "key"}}})


def _slot(days: int, hour: int = 10) -> tuple[dict, dict]:
    start = dt.datetime.combine(
        dt.datetime.now(TZ).date() + dt.timedelta(days=days), dt.time(hour), TZ
    )
    return (
        {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"},
        {"dateTime": (start + dt.timedelta(hours=1)).isoformat(), "timeZone": "Europe/Stockholm"},
    )


def test_every_resource_type_validates(
    emulator, google_calendar, google_directory, google_accounts, google_push_receiver
):
    alice, bob = google_calendar(ALICE), google_calendar(BOB)
    check(CALENDAR, "CalendarList", alice.calendarList().list().execute())
    check(CALENDAR, "CalendarListEntry", alice.calendarList().get(calendarId="primary").execute())
    check(CALENDAR, "Calendar", alice.calendars().get(calendarId="primary").execute())

    start, end = _slot(1)
    rich = {
        "id": "schemacheck0001",
        "summary": "Everything",
        "description": "d",
        "location": "HQ",
        "start": start,
        "end": end,
        "attendees": [
            {"email": BOB},
            {"email": "ext@acme.test", "optional": True},
            {"email": ROOM1},
        ],
        "extendedProperties": {"private": {"crm": "1"}, "shared": {"s": "2"}},
        "conferenceData": {
            "createRequest": {"requestId": "r1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}
        },
        "reminders": {"useDefault": False, "overrides": [{"method": "popup", "minutes": 5}]},
    }
    inserted = (
        alice.events()
        .insert(calendarId="primary", body=rich, conferenceDataVersion=1, sendUpdates="all")
        .execute()
    )
    check(CALENDAR, "Event", inserted)
    check(
        CALENDAR,
        "Event",
        alice.events().get(calendarId="primary", eventId=inserted["id"]).execute(),
    )
    check(
        CALENDAR, "Event", bob.events().get(calendarId="primary", eventId=inserted["id"]).execute()
    )
    check(
        CALENDAR,
        "Event",
        alice.events()
        .patch(calendarId="primary", eventId=inserted["id"], body={"summary": "x"})
        .execute(),
    )
    day = dt.datetime.now(TZ).date() + dt.timedelta(days=2)
    alice.events().insert(
        calendarId="primary",
        body={
            "summary": "all day",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + dt.timedelta(days=1)).isoformat()},
        },
    ).execute()
    start, end = _slot(3)
    master = (
        alice.events()
        .insert(
            calendarId="primary",
            body={
                "summary": "weekly",
                "start": start,
                "end": end,
                "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
            },
        )
        .execute()
    )
    instances = alice.events().instances(calendarId="primary", eventId=master["id"]).execute()
    check(CALENDAR, "Events", instances)
    alice.events().delete(calendarId="primary", eventId=instances["items"][1]["id"]).execute()
    gone = (
        alice.events()
        .insert(calendarId="primary", body={"summary": "gone", "start": start, "end": end})
        .execute()
    )
    alice.events().delete(calendarId="primary", eventId=gone["id"]).execute()

    for params in (
        {},
        {"singleEvents": True, "orderBy": "startTime"},
        {"showDeleted": True},
        {"maxResults": 2},
    ):
        check(CALENDAR, "Events", alice.events().list(calendarId="primary", **params).execute())
    token = alice.events().list(calendarId="primary").execute()["nextSyncToken"]
    alice.events().patch(
        calendarId="primary", eventId=master["id"], body={"summary": "weekly 2"}
    ).execute()
    check(CALENDAR, "Events", alice.events().list(calendarId="primary", syncToken=token).execute())

    channel = (
        alice.events()
        .watch(
            calendarId="primary",
            body={
                "id": "schema-chan",
                "type": "web_hook",
                "address": google_push_receiver.url,
                "token": "t",
            },
        )
        .execute()
    )
    check(CALENDAR, "Channel", channel)

    day0 = dt.datetime.combine(dt.datetime.now(TZ).date(), dt.time(), TZ)
    free_busy = (
        alice.freebusy()
        .query(
            body={
                "timeMin": day0.isoformat(),
                "timeMax": (day0 + dt.timedelta(days=7)).isoformat(),
                "items": [{"id": ALICE}, {"id": ROOM1}, {"id": "unknown@x.test"}],
            }
        )
        .execute()
    )
    check(CALENDAR, "FreeBusyResponse", free_busy)

    directory = google_directory(ALICE)
    rooms = directory.resources().calendars().list(customer="my_customer").execute()
    check(DIRECTORY, "CalendarResources", rooms)
    check(
        DIRECTORY,
        "CalendarResource",
        directory.resources()
        .calendars()
        .get(customer="my_customer", calendarResourceId=rooms["items"][0]["resourceId"])
        .execute(),
    )


def test_error_shapes(emulator, google_calendar, google_accounts):
    alice = google_calendar(ALICE)
    bodies = []
    for call in (
        lambda: alice.events().get(calendarId="primary", eventId="doesnotexist1").execute(),
        lambda: alice.events().insert(calendarId="primary", body={"summary": "no times"}).execute(),
        lambda: alice.events().list(calendarId="primary", syncToken="dead").execute(),
        lambda: alice.calendars().get(calendarId=BOB).execute(),
    ):
        with pytest.raises(HttpError) as info:
            call()
        bodies.append(json.loads(info.value.content))
    bodies.append(
        requests.get(emulator.url + "/google/calendar/v3/users/me/calendarList", timeout=5).json()
    )
    for body in bodies:
        jsonschema.validate(body, ERROR_SCHEMA)
