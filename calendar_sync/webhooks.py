"""Push receivers, one per push kind (``providers.spec.PushCapability``): watch-channel
notifications (Google) and subscription change/lifecycle notifications (Microsoft Graph).
Each provider names its receiver in the registry; ``webhook_urls`` mounts it at
``/webhooks/calendar/<provider id>/``.

They answer at once and do no provider work: a valid notification sets
``sync_requested_at`` and enqueues ONE coalesced sync (``engine.request_sync``). A Graph batch is
bounded (``MAX_NOTIFICATION_ITEMS``), its subscription ids are de-duplicated and resolved in one
query, and whatever it says of one connection — changes, ``missed``, ``reauthorizationRequired``,
``subscriptionRemoved`` — becomes at most one sync and one renewal, coalesced across requests too;
the answer (202) never waits for that work. Unknown
channels get 404 and forged tokens 403, without work; nothing here answers 5xx for bad input:
malformed headers or bodies (wrong types, control characters, nesting too deep to parse) get 400
and bodies over ``MAX_NOTIFICATION_BYTES`` 413, logged, without work.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import CalendarConnection, ConnectionState
from .sync import engine

log = logging.getLogger(__name__)

# Graph batches a few notifications of well under a kilobyte each.
MAX_NOTIFICATION_BYTES = 1024 * 1024
# Graph batches notifications; more than this in one request is not Graph, and is refused whole
# (each accepted item costs a little: the batch is resolved in one query).
MAX_NOTIFICATION_ITEMS = 500
MAX_ID_LENGTH = 255  # CalendarConnection.channel_id
MAX_TOKEN_LENGTH = 1024


class _TooMany(Exception):
    """A notification batch over ``MAX_NOTIFICATION_ITEMS``."""


def _text_problem(value: object, max_length: int) -> str | None:
    """Why ``value`` cannot be a channel id or token (None if it can)."""
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if not value.isprintable():
        return "must not contain control characters"
    return None


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
def channel_notification(request: HttpRequest, provider: str) -> HttpResponse:
    """A watch-channel push (``PushCapability.kind == "channel"``): id and token in headers."""
    channel_id = request.headers.get("X-Goog-Channel-ID", "")
    token = request.headers.get("X-Goog-Channel-Token", "")
    for header, value, limit in (
        ("X-Goog-Channel-ID", channel_id, MAX_ID_LENGTH),
        ("X-Goog-Channel-Token", token, MAX_TOKEN_LENGTH),
    ):
        problem = _text_problem(value, limit)
        if problem:
            log.warning("malformed %s push: %s %s", provider, header, problem)
            return HttpResponse(
                f"Malformed {header} header: it {problem}.", status=400, content_type="text/plain"
            )
    connection = _connection_for_channel(provider, channel_id)
    if connection is None:
        return HttpResponse("unknown channel", status=404, content_type="text/plain")
    if not _token_ok(connection, token):
        log.warning("%s push with a bad token for channel %s", provider, channel_id)
        return HttpResponse("bad channel token", status=403, content_type="text/plain")
    state = request.headers.get("X-Goog-Resource-State", "")
    if state != "sync" and connection.is_active:  # "sync" only confirms the channel
        engine.request_sync(connection.pk, trigger="push")
    return HttpResponse(status=204)


# Lifecycle notices that ask for the subscription itself to be renewed (True: made anew).
RENEWALS = {"reauthorizationRequired": False, "subscriptionRemoved": True}
# How long one renewal request stands for the same notice about the same subscription.
RENEWAL_COALESCE_SECONDS = 300


def _graph_connections(provider: str, subscription_ids: set[str]) -> dict[str, CalendarConnection]:
    """The live connections behind these subscription ids, in one query."""
    rows = CalendarConnection.objects.filter(
        provider=provider, channel_id__in=sorted(subscription_ids)
    ).exclude(state=ConnectionState.DISCONNECTED)
    return {row.channel_id: row for row in rows}


def _request_renewal(connection: CalendarConnection, recreate: bool) -> None:
    """Enqueue one renewal per subscription and notice, however often Graph repeats it."""
    from django.core.cache import cache
    from django_q.tasks import async_task

    # The subscription as it is now: a renewal (new expiry) or a new subscription starts afresh.
    subscription = (
        connection.pk,
        connection.connected_at.timestamp() if connection.connected_at else "",
        connection.channel_id,
        connection.channel_expires_at.timestamp() if connection.channel_expires_at else "",
    )
    key = "calendar_sync:graph-renewal:" + ":".join(map(str, (*subscription, recreate)))
    if cache.add(key, 1, timeout=RENEWAL_COALESCE_SECONDS):
        async_task("calendar_sync.tasks.renew_channel", connection.pk, recreate)


def _act_on(connection: CalendarConnection, lifecycles: set[str | None]) -> None:
    """One coalesced piece of work per connection for everything one request said about it."""
    renewals = [RENEWALS[event] for event in lifecycles if event in RENEWALS]
    if renewals:
        _request_renewal(connection, recreate=any(renewals))
    if "missed" in lifecycles:
        # Delta reads every change since the last sync, notified or not; a pending sync covers it.
        engine.request_sync(connection.pk, trigger="missed", full=True)
    elif lifecycles - set(RENEWALS):
        engine.request_sync(connection.pk, trigger="push")


def _graph_notifications(provider: str, items: list[dict[str, Any]]) -> dict[str, int]:
    """Verify a batch and queue its work; counts of "ok", "unknown" and "forged" items."""
    by_subscription: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_subscription.setdefault(item.get("subscriptionId") or "", []).append(item)
    connections = _graph_connections(provider, {sid for sid in by_subscription if sid})
    counts = {"ok": 0, "unknown": 0, "forged": 0}
    for subscription_id, notices in by_subscription.items():
        connection = connections.get(subscription_id)
        if connection is None:
            counts["unknown"] += len(notices)
            continue
        genuine = [n for n in notices if _token_ok(connection, n.get("clientState"))]
        counts["forged"] += len(notices) - len(genuine)
        counts["ok"] += len(genuine)
        if genuine and connection.is_active:
            _act_on(connection, {n.get("lifecycleEvent") for n in genuine})
    return counts


def _graph_body(request: HttpRequest) -> bytes | None:
    """The request body, or None when it is over ``MAX_NOTIFICATION_BYTES``."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_NOTIFICATION_BYTES:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return None if len(body) > MAX_NOTIFICATION_BYTES else body


# Fields of a notification we read: (name, longest allowed). Each is optional, but a string.
GRAPH_ITEM_FIELDS = (
    ("subscriptionId", MAX_ID_LENGTH),
    ("clientState", MAX_TOKEN_LENGTH),
    ("lifecycleEvent", 100),
)


def _graph_item_problem(item: object) -> str | None:
    """What is wrong with one notification's shape, as a suffix to ``value[i]`` (or None)."""
    if not isinstance(item, dict):
        return " must be an object"
    for name, limit in GRAPH_ITEM_FIELDS:
        value = item.get(name)
        if value is None:
            continue
        problem = _text_problem(value, limit)
        if problem:
            return f".{name} {problem}"
    return None


@csrf_exempt
def subscription_notification(request: HttpRequest, provider: str) -> HttpResponse:
    """Subscription notifications (``PushCapability.kind == "subscription"``, Graph's shape):
    the validation handshake, then JSON batches of change and lifecycle notifications."""
    token = request.GET.get("validationToken")
    if token is not None:  # the subscription handshake: echo it back, as plain text
        return HttpResponse(token, content_type="text/plain; charset=utf-8")
    if request.method != "POST":
        return HttpResponse(status=405)
    body = _graph_body(request)
    if body is None:
        log.warning("graph notification over %d bytes refused", MAX_NOTIFICATION_BYTES)
        return JsonResponse(
            {"error": f"Notification body too large (at most {MAX_NOTIFICATION_BYTES} bytes)."},
            status=413,
        )
    try:
        payload = json.loads(body or b"")
        if not isinstance(payload, dict):
            raise TypeError("the body must be an object")
        items = payload["value"]
        if not isinstance(items, list):
            raise TypeError("value must be a list of objects")
        if len(items) > MAX_NOTIFICATION_ITEMS:
            raise _TooMany
        for index, item in enumerate(items):
            problem = _graph_item_problem(item)
            if problem:
                raise TypeError(f"value[{index}]{problem}")
    except _TooMany:
        log.warning("graph notification of %d items refused", len(items))
        return JsonResponse(
            {"error": f"Too many notifications (at most {MAX_NOTIFICATION_ITEMS} per request)."},
            status=413,
        )
    except RecursionError:
        log.warning("malformed graph notification (nested too deeply): %r", body[:500])
        return JsonResponse(
            {"error": "Malformed notification body: JSON nested too deeply."}, status=400
        )
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("malformed graph notification (%s): %r", exc, body[:500])
        return JsonResponse(
            {"error": f"Malformed notification body: expected JSON {{'value': [...]}} ({exc})"},
            status=400,
        )
    counts = _graph_notifications(provider, items)
    if counts["forged"] or counts["unknown"]:  # one line per request, never one per item
        log.warning(
            "graph notifications: %(ok)d accepted, %(forged)d with a bad clientState, "
            "%(unknown)d for unknown subscriptions",
            counts,
        )
    if counts["ok"] or not items:
        return HttpResponse(status=202)
    if counts["forged"]:
        return HttpResponse("bad clientState", status=403, content_type="text/plain")
    return HttpResponse("unknown subscription", status=404, content_type="text/plain")
