"""GoogleStore: the Google Calendar service's state, one mixin per resource.

| file | resource |
| --- | --- |
| `core.py` | errors, helpers, the state (`StoreCore`), saving and rendering an event copy |
| `calendars.py` | calendars and calendarList |
| `events_read.py` | events.list / get / instances |
| `events_write.py` | events.insert / patch / update / delete, attendee responses |
| `validation.py` | checking and normalising an event body |
| `event_types.py` | status events: focusTime, outOfOffice, workingLocation |
| `conference.py` | conferenceData (Google Meet) |
| `instances.py` | recurring events: instance ids, expansion in a window |
| `attendees.py` | attendee copies across accounts, rooms, the outbox |
| `freebusy.py` | freeBusy.query |
| `channels.py` | events.watch, channels.stop, push notifications |
| `sync_tokens.py` | sync tokens of events.list |
| `directory.py` | Admin Directory room resources |
| `demo.py` | the control API's demo pages |
"""

from __future__ import annotations

from .attendees import AttendeesMixin
from .calendars import CalendarsMixin
from .channels import ChannelsMixin
from .conference import ConferenceMixin
from .core import ApiError, StoreCore, _b64, _unb64, not_found
from .demo import DemoMixin
from .directory import DirectoryMixin
from .event_types import EventTypesMixin
from .events_read import EventReadsMixin
from .events_write import EventWritesMixin
from .freebusy import FreeBusyMixin
from .instances import InstancesMixin
from .sync_tokens import SyncTokensMixin
from .validation import ValidationMixin

__all__ = ["ApiError", "GoogleStore", "_b64", "_unb64", "not_found"]


class GoogleStore(
    CalendarsMixin,
    EventReadsMixin,
    EventWritesMixin,
    ValidationMixin,
    EventTypesMixin,
    ConferenceMixin,
    InstancesMixin,
    AttendeesMixin,
    FreeBusyMixin,
    ChannelsMixin,
    SyncTokensMixin,
    DirectoryMixin,
    DemoMixin,
    StoreCore,
):
    """Calendars, events (one copy per calendar, as on the real service), channels, sync."""
