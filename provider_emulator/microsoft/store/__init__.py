"""GraphStore: the Microsoft 365 mailboxes' calendar state, one mixin per resource.

| file | resource |
| --- | --- |
| `core.py` | errors, ids, helpers, the state (`StoreCore`), a mailbox's events |
| `calendars.py` | /me/calendars |
| `occurrences.py` | series occurrences/exceptions, calendarView, instances |
| `render.py` | an event in Graph's wire shape |
| `event_fields.py` | checking and applying client-settable event properties |
| `events_write.py` | create / update / delete / accept-tentativelyAccept-decline |
| `attendees.py` | attendee copies across mailboxes, rooms, mail to external attendees |
| `delta.py` | calendarView/delta rounds and tokens |
| `schedule.py` | calendar/getSchedule |
| `places.py` | places (rooms) |
| `subscriptions.py` | change and lifecycle notifications |
| `demo.py` | the control API's demo pages |
"""

from __future__ import annotations

from .attendees import AttendeesMixin
from .calendars import CalendarsMixin
from .core import GraphError, StoreCore, occurrence_id, split_occurrence_id
from .delta import DeltaMixin
from .demo import DemoMixin
from .event_fields import EventFieldsMixin
from .events_write import EventWritesMixin
from .occurrences import OccurrencesMixin
from .places import PlacesMixin
from .render import RenderMixin
from .schedule import ScheduleMixin
from .subscriptions import MAX_SUBSCRIPTION_MINUTES, SubscriptionsMixin

__all__ = [
    "MAX_SUBSCRIPTION_MINUTES",
    "GraphError",
    "GraphStore",
    "occurrence_id",
    "split_occurrence_id",
]


class GraphStore(
    CalendarsMixin,
    OccurrencesMixin,
    RenderMixin,
    EventFieldsMixin,
    EventWritesMixin,
    AttendeesMixin,
    DeltaMixin,
    ScheduleMixin,
    PlacesMixin,
    SubscriptionsMixin,
    DemoMixin,
    StoreCore,
):
    """Calendars, events (with attendee copies), delta state, subscriptions of every mailbox."""
