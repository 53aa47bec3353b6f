"""Meeting rooms: the provider's room list cached per provider (``Room``), refreshed hourly by
django-q2 and on demand when the cache is empty or stale, and which rooms are free when.

Booking a room is not done here: the chosen room's e-mail goes on the appointment and the
normal export adds it to the event as a resource attendee, after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .availability import active_connection, overlapping, provider_error_message
from .models import CalendarConnection, ConnectionState, Room
from .providers import get_adapter
from .providers.base import ProviderError, interactive_calls

log = logging.getLogger(__name__)

STALE_AFTER = dt.timedelta(hours=24)


@dataclass
class RoomOption:
    email: str
    name: str
    capacity: int
    building: str
    free: bool | None = None  # None: unknown (no time given, or the provider failed)


@dataclass
class RoomChoices:
    provider: str
    rooms: list[RoomOption] = field(default_factory=list)
    error: str = ""


# --- cache ------------------------------------------------------------------------------------------
def rooms_refresh(*, connection: CalendarConnection) -> int:
    """Replace the provider's cached rooms with what ``connection`` lists now."""
    listed = get_adapter(connection).list_rooms()  # outside any transaction
    now = timezone.now()
    with transaction.atomic():
        for room in listed:
            Room.objects.update_or_create(
                provider=connection.provider,
                email=room.email.lower(),
                defaults={
                    "name": (room.name or room.email)[:255],
                    "capacity": max(room.capacity, 0),
                    "building": room.building[:255],
                    "refreshed_at": now,
                },
            )
        emails = [r.email.lower() for r in listed]
        Room.objects.filter(provider=connection.provider).exclude(email__in=emails).delete()
    return len(listed)


def rooms_refresh_all() -> dict[str, int | str]:
    """One active connection per provider lists its organisation's rooms."""
    result: dict[str, int | str] = {}
    connections = CalendarConnection.objects.filter(
        state=ConnectionState.ACTIVE, appointment_type__isnull=False
    ).order_by("provider", "-activated_at")
    for connection in connections:
        if connection.provider in result and isinstance(result[connection.provider], int):
            continue
        try:
            result[connection.provider] = rooms_refresh(connection=connection)
        except ProviderError as exc:
            log.warning("room list via connection %s failed: %s", connection.pk, exc)
            result[connection.provider] = str(exc)
    return result


def room_list(*, provider: str) -> list[Room]:
    return list(Room.objects.filter(provider=provider).order_by("building", "name"))


def _is_stale(rooms: list[Room], now: dt.datetime) -> bool:
    return not rooms or min(r.refreshed_at for r in rooms) < now - STALE_AFTER


def rooms_for_user(*, user) -> tuple[CalendarConnection | None, list[Room], str]:  # noqa: ANN001
    """(the user's active connection, its provider's rooms, an error sentence). An empty cache
    is filled now; a stale one is refreshed in the background."""
    connection = active_connection(user)
    if connection is None:
        return None, [], ""
    rooms = room_list(provider=connection.provider)
    if rooms and not _is_stale(rooms, timezone.now()):
        return connection, rooms, ""
    if rooms:
        from django_q.tasks import async_task

        async_task("calendar_sync.tasks.refresh_rooms")
        return connection, rooms, ""
    try:
        rooms_refresh(connection=connection)
    except ProviderError as exc:
        return connection, [], provider_error_message(exc, connection.provider, user.email)
    return connection, room_list(provider=connection.provider), ""


# --- services -----------------------------------------------------------------------------------------
def _option(room: Room, free: bool | None = None) -> RoomOption:
    return RoomOption(room.email, room.name, room.capacity, room.building, free)


def room_availability(
    *,
    actor,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,  # noqa: ANN001
) -> RoomChoices:
    """The rooms of the actor's provider, each marked free/busy for [start, end) when given."""
    connection, rooms, error = rooms_for_user(user=actor)
    if connection is None:
        return RoomChoices(provider="", error=_("Rooms need an active calendar app."))
    choices = RoomChoices(provider=connection.provider, error=error)
    if start is None or end is None or not rooms:
        choices.rooms = [_option(r) for r in rooms]
        return choices
    if end <= start:
        raise ValidationError(_("The end must be after the start."))
    try:
        with interactive_calls():  # the room picker is waiting
            busy = get_adapter(connection).free_busy([r.email for r in rooms], start, end)
    except ProviderError as exc:
        choices.error = provider_error_message(exc, connection.provider, _("the rooms"))
        choices.rooms = [_option(r) for r in rooms]
        return choices
    choices.rooms = [_option(r, not overlapping(busy.get(r.email, []), start, end)) for r in rooms]
    return choices


def room_resolve(*, organizer, email: str) -> Room | None:  # noqa: ANN001
    """The cached room with this e-mail in the organizer's provider; blank e-mail → None."""
    email = (email or "").strip().lower()
    if not email:
        return None
    _connection, rooms, _error = rooms_for_user(user=organizer)  # fills an empty cache
    room = next((r for r in rooms if r.email == email), None)
    if room is None:
        raise ValidationError({"room": _("No such room: %(email)s") % {"email": email}})
    return room
