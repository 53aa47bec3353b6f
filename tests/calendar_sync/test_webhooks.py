"""Push receivers: Google channels and Graph subscriptions, forged/duplicate/malformed input."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.models import Appointment
from calendar_sync.models import CalendarConnection
from calendar_sync.sync import push
from tests.calendar_sync.conftest import PUSH_PROVIDERS

pytestmark = pytest.mark.django_db

GOOGLE_URL = "/webhooks/calendar/google/"
GRAPH_URL = "/webhooks/calendar/microsoft/"
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def tomorrow(hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def channel_conn(sync_user, sync_type):
    def make(provider: str, **kw):
        user = sync_user(f"rep.{provider}@exempel.se")
        return CalendarConnection.objects.create(
            user=user,
            provider=provider,
            account_email=user.email,
            appointment_type=sync_type,
            channel_id=f"chan-{provider}",
            channel_token="s3cret-token",
            **kw,
        )

    return make


@pytest.fixture
def enqueued(monkeypatch):
    """Record tasks instead of running them."""
    calls: list[tuple] = []
    monkeypatch.setattr(
        "django_q.tasks.async_task", lambda name, *args, **kw: calls.append((name, *args))
    )
    return calls


def google_headers(channel="chan-google", token="s3cret-token", state="exists"):
    return {
        "X-Goog-Channel-ID": channel,
        "X-Goog-Channel-Token": token,
        "X-Goog-Resource-State": state,
        "X-Goog-Resource-ID": "res-1",
    }


def test_google_push_enqueues_one_sync(client, channel_conn, enqueued):
    conn = channel_conn("google")
    resp = client.post(GOOGLE_URL, headers=google_headers())
    assert resp.status_code == 204
    assert enqueued == [("calendar_sync.tasks.sync_connection", conn.pk, "push")]
    conn.refresh_from_db()
    assert conn.sync_requested_at is not None


def test_google_duplicate_pushes_coalesce_into_one_sync(client, channel_conn, enqueued):
    channel_conn("google")
    for _ in range(3):
        assert client.post(GOOGLE_URL, headers=google_headers()).status_code == 204
    assert len(enqueued) == 1


def test_google_sync_state_only_acknowledges(client, channel_conn, enqueued):
    channel_conn("google")
    assert client.post(GOOGLE_URL, headers=google_headers(state="sync")).status_code == 204
    assert enqueued == []


def test_google_forged_token_is_403_without_work(client, channel_conn, enqueued):
    conn = channel_conn("google")
    assert client.post(GOOGLE_URL, headers=google_headers(token="guess")).status_code == 403
    assert client.post(GOOGLE_URL, headers=google_headers(token="")).status_code == 403
    assert enqueued == []
    conn.refresh_from_db()
    assert conn.sync_requested_at is None


def test_google_unknown_channel_is_404(client, channel_conn, enqueued):
    channel_conn("google")
    assert client.post(GOOGLE_URL, headers=google_headers(channel="nope")).status_code == 404
    assert client.post(GOOGLE_URL).status_code == 404
    assert enqueued == []


def test_google_webhook_needs_no_login_or_csrf(channel_conn, enqueued):
    from django.test import Client

    channel_conn("google")
    resp = Client(enforce_csrf_checks=True).post(GOOGLE_URL, headers=google_headers())
    assert resp.status_code == 204


def test_graph_validation_handshake_echoes_token_as_text(client):
    resp = client.post(GRAPH_URL + "?validationToken=Validation%3A+Testing+client+%3Cb%3E")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/plain")
    assert resp.content.decode() == "Validation: Testing client <b>"


def graph_body(**item):
    base = {
        "subscriptionId": "chan-microsoft",
        "clientState": "s3cret-token",
        "changeType": "updated",
    }
    return json.dumps({"value": [{**base, **item}]})


def test_graph_notification_enqueues_one_sync(client, channel_conn, enqueued):
    conn = channel_conn("microsoft")
    for _ in range(2):
        resp = client.post(GRAPH_URL, graph_body(), content_type="application/json")
        assert resp.status_code == 202
    assert enqueued == [("calendar_sync.tasks.sync_connection", conn.pk, "push")]


def test_graph_forged_client_state_is_403(client, channel_conn, enqueued):
    channel_conn("microsoft")
    resp = client.post(GRAPH_URL, graph_body(clientState="x"), content_type="application/json")
    assert resp.status_code == 403
    assert enqueued == []


def test_graph_unknown_subscription_is_404(client, channel_conn, enqueued):
    resp = client.post(GRAPH_URL, graph_body(subscriptionId="x"), content_type="application/json")
    assert resp.status_code == 404


def test_graph_malformed_json_is_400_with_a_message(client, caplog):
    resp = client.post(GRAPH_URL, "{not json", content_type="application/json")
    assert resp.status_code == 400
    assert "Malformed notification body" in resp.json()["error"]
    assert "malformed graph notification" in caplog.text
    resp = client.post(GRAPH_URL, json.dumps({"value": "x"}), content_type="application/json")
    assert resp.status_code == 400


@pytest.fixture
def raw_client():
    """A client that answers a server error with 500 instead of raising it."""
    from django.test import Client

    return Client(raise_request_exception=False)


def test_graph_deeply_nested_json_is_400_without_work(raw_client, channel_conn, enqueued, caplog):
    channel_conn("microsoft")
    body = b"[" * 100_000 + b"]" * 100_000
    resp = raw_client.post(GRAPH_URL, body, content_type="application/json")
    assert resp.status_code == 400
    assert "nested too deeply" in resp.json()["error"]
    assert "malformed graph notification" in caplog.text
    assert enqueued == []


def test_graph_body_over_the_size_limit_is_413_without_work(raw_client, channel_conn, enqueued):
    from calendar_sync.webhooks import MAX_NOTIFICATION_BYTES

    channel_conn("microsoft")
    padding = "x" * MAX_NOTIFICATION_BYTES
    resp = raw_client.post(GRAPH_URL, graph_body(padding=padding), content_type="application/json")
    assert resp.status_code == 413
    assert "too large" in resp.json()["error"]
    assert enqueued == []


@pytest.mark.parametrize(
    "item",
    [
        {"clientState": 1},
        {"clientState": ["s3cret-token"]},
        {"subscriptionId": {"id": "chan-microsoft"}},
        {"subscriptionId": 7},
        {"subscriptionId": "chan\x00microsoft"},
        {"lifecycleEvent": ["missed"]},
        {"clientState": "s" * 5000},
    ],
)
def test_graph_notification_with_malformed_fields_is_400_without_work(
    raw_client, channel_conn, enqueued, item, caplog
):
    conn = channel_conn("microsoft")
    resp = raw_client.post(GRAPH_URL, graph_body(**item), content_type="application/json")
    assert resp.status_code == 400
    field = next(iter(item))
    assert f"value[0].{field}" in resp.json()["error"]
    assert "malformed graph notification" in caplog.text
    assert enqueued == []
    conn.refresh_from_db()
    assert conn.sync_requested_at is None


def test_graph_a_malformed_item_refuses_the_whole_batch(raw_client, channel_conn, enqueued):
    channel_conn("microsoft")
    good = json.loads(graph_body())["value"][0]
    body = json.dumps({"value": [good, {**good, "clientState": 1}]})
    assert raw_client.post(GRAPH_URL, body, content_type="application/json").status_code == 400
    assert raw_client.post(GRAPH_URL, "[1]", content_type="application/json").status_code == 400
    assert enqueued == []


@pytest.mark.parametrize(
    "headers",
    [
        {"channel": "chan\x00google"},
        {"channel": "c" * 300},
        {"token": "s3cret\x01token"},
        {"token": "t" * 5000},
    ],
)
def test_google_push_with_malformed_headers_is_400_without_work(
    raw_client, channel_conn, enqueued, headers
):
    conn = channel_conn("google")
    resp = raw_client.post(GOOGLE_URL, headers=google_headers(**headers))
    assert resp.status_code == 400
    assert b"Malformed X-Goog-Channel-" in resp.content
    assert enqueued == []
    conn.refresh_from_db()
    assert conn.sync_requested_at is None


@pytest.mark.parametrize(
    ("event", "task"),
    [
        ("reauthorizationRequired", ("calendar_sync.tasks.renew_channel", False)),
        ("subscriptionRemoved", ("calendar_sync.tasks.renew_channel", True)),
        ("missed", ("calendar_sync.tasks.sync_connection", "missed", True)),
    ],
)
def test_graph_lifecycle_events(client, channel_conn, enqueued, event, task):
    conn = channel_conn("microsoft")
    resp = client.post(GRAPH_URL, graph_body(lifecycleEvent=event), content_type="application/json")
    assert resp.status_code == 202
    assert enqueued == [(task[0], conn.pk, *task[1:])]


# --- a bounded webhook: the batch is capped, resolved in one query, its work coalesced ------------
def _batch(items: list[dict]) -> str:
    return json.dumps({"value": items})


def test_graph_batch_over_the_item_cap_is_413_without_work(
    raw_client, channel_conn, enqueued, django_assert_max_num_queries
):
    from calendar_sync.webhooks import MAX_NOTIFICATION_BYTES, MAX_NOTIFICATION_ITEMS

    conn = channel_conn("microsoft")
    body = _batch([{"subscriptionId": "chan-microsoft"}] * 25_000)  # under 1 MB, 25,000 items
    assert len(body) < MAX_NOTIFICATION_BYTES
    with django_assert_max_num_queries(0):
        resp = raw_client.post(GRAPH_URL, body, content_type="application/json")
    assert resp.status_code == 413
    assert f"at most {MAX_NOTIFICATION_ITEMS}" in resp.json()["error"]
    assert enqueued == []
    conn.refresh_from_db()
    assert conn.sync_requested_at is None


def test_graph_batch_resolves_its_subscriptions_in_one_query_and_logs_once(
    client, channel_conn, enqueued, caplog, django_assert_max_num_queries
):
    from calendar_sync.webhooks import MAX_NOTIFICATION_ITEMS

    conn = channel_conn("microsoft")
    good = json.loads(graph_body())["value"][0]
    unknown = [{**good, "subscriptionId": f"nope-{i}"} for i in range(200)]
    forged = [{**good, "clientState": f"guess-{i}"} for i in range(100)]
    items = ([good] * 100 + unknown + forged)[:MAX_NOTIFICATION_ITEMS]
    # one SELECT of the connections, one UPDATE claiming the sync (q2 is stubbed here)
    with django_assert_max_num_queries(2):
        resp = client.post(GRAPH_URL, _batch(items), content_type="application/json")
    assert resp.status_code == 202
    assert enqueued == [("calendar_sync.tasks.sync_connection", conn.pk, "push")]
    lines = [r for r in caplog.records if r.name == "calendar_sync.webhooks"]
    assert len(lines) == 1
    assert "100 with a bad clientState, 200 for unknown subscriptions" in lines[0].getMessage()


def test_graph_lifecycle_notices_are_coalesced_like_changes(client, channel_conn, enqueued):
    conn = channel_conn("microsoft")
    good = json.loads(graph_body())["value"][0]
    items = (
        [good] * 5
        + [{**good, "lifecycleEvent": "missed"}] * 20
        + [{**good, "lifecycleEvent": "reauthorizationRequired"}] * 20
    )
    for _ in range(3):  # Graph repeats itself; so may an attacker replaying a captured batch
        resp = client.post(GRAPH_URL, _batch(items), content_type="application/json")
        assert resp.status_code == 202
    assert sorted(enqueued) == [
        ("calendar_sync.tasks.renew_channel", conn.pk, False),
        ("calendar_sync.tasks.sync_connection", conn.pk, "missed", True),
    ]


def test_graph_subscription_removed_outranks_a_renewal_in_the_same_batch(
    client, channel_conn, enqueued
):
    conn = channel_conn("microsoft")
    good = json.loads(graph_body())["value"][0]
    items = [
        {**good, "lifecycleEvent": "reauthorizationRequired"},
        {**good, "lifecycleEvent": "subscriptionRemoved"},
    ]
    assert client.post(GRAPH_URL, _batch(items), content_type="application/json").status_code == 202
    assert enqueued == [("calendar_sync.tasks.renew_channel", conn.pk, True)]


# --- end to end: the emulator pushes to a live server, q2 runs inline ------------------------------
def _imported() -> bool:
    from django.db import OperationalError

    try:
        return Appointment.objects.exists()
    except OperationalError:  # SQLite (shared cache): the push's import is writing right now
        return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("provider", PUSH_PROVIDERS)
def test_push_makes_the_appointment_visible(provider, live_server, settings, sync_user,
                                            sync_connect, sync_actor, emulator):  # fmt: skip
    settings.PUBLIC_BASE_URL = live_server.url
    karl = sync_user("karl.andersson@exempel.se", sales_rep=False)  # the flush drops groups
    conn = sync_connect(provider, karl)
    push.start_push(conn)  # Graph validates the endpoint right here
    conn.refresh_from_db()
    assert conn.channel_id and conn.channel_expires_at > timezone.now()
    sync_actor(provider, "kund@extern.se").create(
        title="Demo", start=tomorrow(), end=tomorrow(11), attendees=[karl.email]
    )
    assert _wait_for(_imported), "the push did not import the event"
    appointment = Appointment.objects.get()
    assert appointment.title == "Demo"
    assert appointment.locked


# --- end to end: Graph lifecycle notifications reach the webhook and take effect --------------------
def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def graph_subscribe(live_server, settings, sync_user, sync_connect, emulator):
    """graph_subscribe(before=None) -> Karl's Microsoft connection and its live subscription at
    the emulator, whose lifecycle URL is our webhook; ``before(conn)`` runs before subscribing."""
    settings.PUBLIC_BASE_URL = live_server.url

    def make(before=None):
        karl = sync_user("karl.andersson@exempel.se", sales_rep=False)  # the flush drops groups
        conn = sync_connect("microsoft", karl)
        if before is not None:
            before(conn)
        push.start_push(conn)
        conn.refresh_from_db()
        sub = emulator.state.stores["microsoft"].subscriptions[conn.channel_id]
        assert sub["lifecycle_url"] == push.callback_url("microsoft")
        return conn, sub

    return make


def _lifecycle(emulator, subscription_id: str, event: str) -> None:
    import requests

    url = f"{emulator.url}/microsoft/_emulator/subscriptions/{subscription_id}/lifecycle"
    resp = requests.post(url, json={"event": event}, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.json()["sent"] is True


def _delivered(emulator, kind: str) -> list[str]:
    return [p["outcome"] for p in list(emulator.state.push_log) if p["kind"] == kind]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_graph_reauthorization_required_renews_the_subscription(graph_subscribe, emulator):
    conn, sub = graph_subscribe()
    CalendarConnection.objects.filter(pk=conn.pk).update(
        channel_expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    _lifecycle(emulator, conn.channel_id, "reauthorizationRequired")
    assert sub["reauthorization_required"]
    # q2 runs inline: the renewal is done when the webhook has answered the notification.
    assert _wait_for(lambda: _delivered(emulator, "lifecycle:reauthorizationRequired"))
    assert _delivered(emulator, "lifecycle:reauthorizationRequired") == ["202"]
    assert not sub["reauthorization_required"]  # a renewal (PATCH) reauthorizes
    counts = emulator.state.request_counts
    patches = counts[("microsoft", conn.account_email, "PATCH subscriptions.update")]
    assert patches == 1
    conn.refresh_from_db()
    assert conn.channel_expires_at > timezone.now() + dt.timedelta(days=1)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_graph_missed_notifications_run_a_full_sync(graph_subscribe, emulator, sync_actor):
    def lost_in_the_outage(conn):  # made before the subscription: no notification for it
        sync_actor("microsoft", "kund@extern.se").create(
            title="Missat", start=tomorrow(), end=tomorrow(11), attendees=[conn.account_email]
        )

    conn, _ = graph_subscribe(before=lost_in_the_outage)
    assert not Appointment.objects.exists()
    _lifecycle(emulator, conn.channel_id, "missed")
    assert _wait_for(lambda: _delivered(emulator, "lifecycle:missed"))
    assert _delivered(emulator, "lifecycle:missed") == ["202"]
    assert Appointment.objects.filter(title="Missat").exists()
    run = conn.sync_runs.get(trigger="missed")
    assert run.kind == "full" and run.created == 1
