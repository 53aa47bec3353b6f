"""Push receivers: Google channel notifications and Microsoft Graph change/lifecycle notifications.

They answer at once and do no provider work: a valid notification sets
``sync_requested_at`` and enqueues ONE coalesced sync (``engine.request_sync``). Unknown
channels get 404 and forged tokens 403, without work; nothing here answers 5xx for bad input.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import CalendarConnection, ConnectionState, Provider
from .sync import engine

log = logging.getLogger(__name__)


def _connection_for_channel(provider: str, channel_id: str) -> CalendarConnection | None:
    if not channel_id:
        return None
    return (
        CalendarConnection.objects.filter(provider=provider, channel_id=channel_id)
        .exclude(state=ConnectionState.DISCONNECTED)
        .first()
    )


def _token_ok(connection: CalendarConnection, token: str | None) -> bool:
    expected = connection.channel_token or ""
    return bool(expected) and hmac.compare_digest(expected.encode(), (token or "").encode())


@csrf_exempt
@require_POST
def google(request: HttpRequest) -> HttpResponse:
    channel_id = request.headers.get("X-Goog-Channel-ID", "")
    connection = _connection_for_channel(Provider.GOOGLE, channel_id)
    if connection is None:
        return HttpResponse("unknown channel", status=404, content_type="text/plain")
    if not _token_ok(connection, request.headers.get("X-Goog-Channel-Token")):
        log.warning("google push with a bad token for channel %s", channel_id)
        return HttpResponse("bad channel token", status=403, content_type="text/plain")
    state = request.headers.get("X-Goog-Resource-State", "")
    if state != "sync" and connection.is_active:  # "sync" only confirms the channel
        engine.request_sync(connection.pk, trigger="push")
    return HttpResponse(status=204)


def _graph_item(item: dict[str, Any]) -> str:
    """Handle one Graph notification; returns "ok", "unknown" or "forged"."""
    connection = _connection_for_channel(Provider.MICROSOFT, str(item.get("subscriptionId", "")))
    if connection is None:
        return "unknown"
    if not _token_ok(connection, item.get("clientState")):
        log.warning("graph notification with a bad clientState for %s", connection.channel_id)
        return "forged"
    if not connection.is_active:
        return "ok"
    lifecycle = item.get("lifecycleEvent")
    if lifecycle in ("reauthorizationRequired", "subscriptionRemoved"):
        from django_q.tasks import async_task

        recreate = lifecycle == "subscriptionRemoved"
        async_task("calendar_sync.tasks.renew_channel", connection.pk, recreate)
    elif lifecycle == "missed":
        from django_q.tasks import async_task

        async_task("calendar_sync.tasks.sync_connection", connection.pk, "missed", True)
    else:
        engine.request_sync(connection.pk, trigger="push")
    return "ok"


@csrf_exempt
def microsoft(request: HttpRequest) -> HttpResponse:
    token = request.GET.get("validationToken")
    if token is not None:  # the subscription handshake: echo it back, as plain text
        return HttpResponse(token, content_type="text/plain; charset=utf-8")
    if request.method != "POST":
        return HttpResponse(status=405)
    try:
        payload = json.loads(request.body or b"")
        items = payload["value"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise TypeError("value must be a list of objects")
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("malformed graph notification (%s): %r", exc, request.body[:500])
        return JsonResponse(
            {"error": f"Malformed notification body: expected JSON {{'value': [...]}} ({exc})"},
            status=400,
        )
    outcomes = [_graph_item(item) for item in items]
    if "ok" in outcomes or not outcomes:
        return HttpResponse(status=202)
    if "forged" in outcomes:
        return HttpResponse("bad clientState", status=403, content_type="text/plain")
    return HttpResponse("unknown subscription", status=404, content_type="text/plain")
