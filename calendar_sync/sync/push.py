"""Push channels (Google watch channels / Graph subscriptions): start, renew, stop.

The channel token (Google) / clientState (Graph) is a random secret stored encrypted on the
connection; webhooks compare it in constant time.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import CalendarConnection, ConnectionState
from ..providers.base import CalendarAdapter, Channel, ProviderError
from .engine import get_adapter

log = logging.getLogger(__name__)

# Google allows up to a week; Graph caps event subscriptions at 4230 minutes.
CHANNEL_TTL = {"google": 7 * 24 * 3600, "microsoft": 4200 * 60}


def callback_url(provider: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/calendar/{provider}/"


def ttl(connection: CalendarConnection) -> int:
    return CHANNEL_TTL.get(connection.provider, 24 * 3600)


def _save(connection: CalendarConnection, channel: Channel, token: str) -> None:
    connection.channel_id = channel.id
    connection.channel_resource_id = channel.resource_id
    connection.channel_token = token
    connection.channel_expires_at = channel.expires_at
    connection.save(
        update_fields=["channel_id", "channel_resource_id", "channel_token", "channel_expires_at"]
    )


def _stop_quietly(adapter: CalendarAdapter, connection: CalendarConnection, old: Channel) -> None:
    """Best effort: the new channel is saved already, so a failure here only means the old one
    runs out by itself (its pushes are still accepted until then: same connection)."""
    try:
        adapter.stop_watch(old)
    except ProviderError as exc:
        log.warning("could not stop channel %s of connection %s: %s", old.id, connection.pk, exc)


def start_push(connection: CalendarConnection) -> Channel:
    """A new channel. One the connection still has (a reconnect, a recreate) is stopped once
    the new one is saved: never two running, and never a gap without one."""
    previous = current_channel(connection)
    adapter = get_adapter(connection)
    token = secrets.token_urlsafe(32)
    channel = adapter.watch(
        callback_url=callback_url(connection.provider), token=token, ttl_seconds=ttl(connection)
    )
    _save(connection, channel, token)
    if previous is not None and previous.id != channel.id:
        _stop_quietly(adapter, connection, previous)
    return channel


def current_channel(connection: CalendarConnection) -> Channel | None:
    if not connection.channel_id:
        return None
    return Channel(
        id=connection.channel_id,
        resource_id=connection.channel_resource_id,
        expires_at=connection.channel_expires_at or timezone.now(),
        token=connection.channel_token,
    )


def renew_push(connection: CalendarConnection) -> Channel:
    channel = current_channel(connection)
    if channel is None:
        return start_push(connection)
    adapter = get_adapter(connection)
    renewed = adapter.renew_watch(
        channel, callback_url=callback_url(connection.provider), ttl_seconds=ttl(connection)
    )
    # Google renews with a new channel: save it first, then stop the old one.
    _save(connection, renewed, renewed.token or connection.channel_token)
    if renewed.id != channel.id:
        _stop_quietly(adapter, connection, channel)
    return renewed


def stop_push(connection: CalendarConnection) -> None:
    channel = current_channel(connection)
    if channel is not None:
        get_adapter(connection).stop_watch(channel)
    CalendarConnection.objects.filter(pk=connection.pk).update(
        channel_id="", channel_resource_id="", channel_expires_at=None
    )


def due_for_renewal(now: dt.datetime | None = None):  # noqa: ANN201
    """Active connections whose channel is past half its life, or that have none."""
    now = now or timezone.now()
    active = CalendarConnection.objects.filter(
        state=ConnectionState.ACTIVE, appointment_type__isnull=False
    )
    soon = Q()
    for provider, seconds in CHANNEL_TTL.items():
        half = now + dt.timedelta(seconds=seconds / 2)
        soon |= Q(provider=provider, channel_expires_at__lt=half)
    return active.filter(soon | Q(channel_id="") | Q(channel_expires_at__isnull=True))
