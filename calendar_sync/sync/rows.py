"""Plain rows for ``upsales_crm.bulk.insert_rows``: the event links and meeting keys an import
writes, without a Django model instance per row (attendees: ``appointments.calendar_changes``).

``insert_rows`` reads a row's values by the model's attribute names (``appointment_id``, ...),
so an object with just those attributes is all it needs. A model instance costs several times
more to build (a default looked up per field, FK descriptors, the init signals), and a first
import of 2,500 events built ~10,000 of them only to read their values back. A column added to
a model but not here fails loudly: ``insert_rows`` finds no such attribute on the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(slots=True)
class EventLinkRow:
    """An ``EventLink`` as it should be after the page: upserted on (connection, event id)."""

    connection_id: int
    provider_event_id: str
    ical_uid: str
    series_id: str
    original_start: dt.datetime | None
    etag: str
    provider_updated: dt.datetime | None
    title: str
    start: dt.datetime | None
    synced_hash: str
    crm_updated_at: dt.datetime | None  # kept from the stored link unless the page changes it
    appointment_id: int | None = None
    skip_reason: str = ""
    skip_detail: str = ""
    crm_attendees: list[str] | None = None  # the export's (kept on upsert: not updated there)
    crm_fingerprint: str = ""
    web_link: str = ""
    created_at: dt.datetime | None = None  # auto_now_add / auto_now: stamped by insert_rows
    updated_at: dt.datetime | None = None


@dataclass(slots=True)
class MeetingKeyRow:
    """A new ``MeetingKey`` claim."""

    ical_uid: str
    original_start_key: str
    appointment_id: int
    created_at: dt.datetime | None = None  # auto_now_add: stamped by insert_rows
