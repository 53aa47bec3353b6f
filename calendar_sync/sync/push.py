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
from ..providers.registry import with_push
from .engine import get_adapter

log = logging.getLogger(__name__)


def callback_url(provider: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/calendar/{provider}/"


def ttl(connection: CalendarConnection) -> int:
    """The channel lifetime the provider's registry entry asks for (its push capability)."""
    capability = connection.spec.push
    if capability is None:
        raise ProviderError(f"{connection.provider} has no push", permanent=True)
    return capability.channel_ttl_seconds


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


def start_push(connection: CalendarConnection) -> Channel | None:
    """A new channel. One the connection still has (a reconnect, a recreate) is stopped once
    the new one is saved: never two running, and never a gap without one. None for a provider
    without push (``push = None`` in the registry): polling alone keeps it in sync."""
    if connection.spec.push is None:
        return None
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


def renew_push(connection: CalendarConnection) -> Channel | None:
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
    pushing = with_push()
    soon = Q()
    for spec in pushing:
        assert spec.push is not None
        half = now + dt.timedelta(seconds=spec.push.channel_ttl_seconds / 2)
        soon |= Q(provider=spec.id, channel_expires_at__lt=half)
    return active.filter(provider__in=[spec.id for spec in pushing]).filter(
        soon | Q(channel_id="") | Q(channel_expires_at__isnull=True)
    )
