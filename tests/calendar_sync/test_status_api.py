"""The integrator's view of the sync (/api/v1/calendar-connections/ and the appointments' sync
fields), over the emulator through the real adapters, authorised as the pages are."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.models import Appointment
from appointments.services import appointment_create, appointment_update
from calendar_sync import services
from calendar_sync.models import CalendarConnection, SyncRun
from calendar_sync.sync import engine

from .actors import actor_class
from .conftest import PROVIDERS

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
URL = "/api/v1/calendar-connections/"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def with_perms(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)  # a fresh permission cache


@pytest.fixture(params=PROVIDERS)
def provider(request):
    return request.param


@pytest.fixture
def karl(sync_user):
    return sync_user("karl.andersson@exempel.se", first_name="Karl")


@pytest.fixture
def eva(sync_user):
    return sync_user("eva.lind@exempel.se", first_name="Eva")


@pytest.fixture
def conn(provider, karl, sync_connect):
    return sync_connect(provider, karl, activated_at=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def cal(provider, conn, sync_actor):
    return sync_actor(provider, conn.account_email)


@pytest.fixture
def book(karl, sync_type, django_capture_on_commit_callbacks):
    def make(**kw):
        fields = {
            "organizer": karl,
            "title": "Demo",
            "appointment_type": sync_type,
            "start": at(2),
            "end": at(2, 11),
            "external_emails": ["kund@extern.se"],
            **kw,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return appointment_create(**fields)

    return make


@pytest.fixture
def admin_viewer(sync_user):
    return with_perms(sync_user("admin.view@exempel.se", is_staff=True), "view_calendarconnection")


@pytest.fixture
def admin_changer(sync_user):
    user = sync_user("admin.change@exempel.se", is_staff=True)
    return with_perms(user, "view_calendarconnection", "change_calendarconnection")


def test_a_rep_sees_their_connection_with_state_and_counts(provider, conn, cal, book, karl):
    book()
    cal.create(title="Intern", start=at(4), end=at(4, 11), attendees=["eva@exempel.se"])
    engine.sync_connection(conn.pk, trigger="test", full=True)
    [row] = client_for(karl).get(URL).data["results"]
    assert row["id"] == conn.pk and row["provider"] == provider
    assert row["account_email"] == "karl.andersson@exempel.se" and row["user"] == karl.email
    assert row["state"] == "active" and row["needs_attention"] is False
    assert row["last_sync_at"] is not None and row["last_error"] == ""
    assert row["next_poll_at"] is not None  # the 10-minute polling backstop
    assert row["counts"] == {"linked": 1, "skipped_upcoming": 1, "waiting": 0, "failed": 0}
    assert row["last_run"]["skipped"] == {"only_internal": 1}
    assert row["activated_at"] is not None and row["appointment_type"] == conn.appointment_type_id


def test_a_rep_never_sees_another_reps_connection(provider, conn, eva, admin_viewer):
    assert client_for(eva).get(URL).data["results"] == []
    assert client_for(eva).get(f"{URL}{conn.pk}/").status_code == 404
    assert client_for(eva).get(f"{URL}{conn.pk}/runs/").status_code == 404
    assert client_for(eva).post(f"{URL}{conn.pk}/sync/").status_code == 404
    assert client_for(eva).post(f"{URL}{conn.pk}/disconnect/").status_code == 404
    [row] = client_for(admin_viewer).get(URL).data["results"]  # the view permission sees all
    assert row["id"] == conn.pk


def test_anonymous_gets_401():
    assert APIClient().get(URL).status_code == 401


def test_runs_list_trigger_counts_and_follow_the_cursor(provider, conn, cal, karl):
    cal.create(title="Möte", start=at(3), end=at(3, 11), attendees=["kund@extern.se"])
    engine.sync_connection(conn.pk, trigger="activation", full=True)
    cal.create(title="Ensam", start=at(5), end=at(5, 11))
    engine.sync_connection(conn.pk, trigger="push")
    first = client_for(karl).get(f"{URL}{conn.pk}/runs/", {"page_size": 1}).data
    [newest] = first["results"]
    assert newest["trigger"] == "push" and newest["skipped"] == {"no_participants": 1}
    assert newest["provider_requests"] >= 1 and newest["duration_seconds"] >= 0
    assert first["next"] is not None
    [older] = client_for(karl).get(first["next"]).data["results"]
    assert older["trigger"] == "activation" and older["created"] == 1 and older["read"] >= 1


def test_skipped_events_have_reason_and_label_and_titles_only_for_the_rep(
    provider, conn, cal, karl, admin_viewer
):
    cal.create(title="Tandläkare", start=at(3), end=at(3, 11))
    engine.sync_connection(conn.pk, trigger="test", full=True)
    [event] = client_for(karl).get(f"{URL}{conn.pk}/skipped-events/").data["results"]
    assert event["reason"] == "no_participants"
    assert event["reason_label"] == "No other participants"
    assert event["title"] == "Tandläkare"
    assert event["web_link"].startswith("https://") or not actor_class(provider).web_links
    [seen] = client_for(admin_viewer).get(f"{URL}{conn.pk}/skipped-events/").data["results"]
    assert seen["title"] is None and seen["reason"] == "no_participants"


def test_sync_now_queues_a_sync_for_the_rep_and_the_admin_who_may(
    provider, conn, cal, karl, admin_viewer, admin_changer
):
    cal.create(title="Möte", start=at(3), end=at(3, 11), attendees=["kund@extern.se"])
    response = client_for(karl).post(f"{URL}{conn.pk}/sync/")
    assert response.status_code == 202 and response.data == {"queued": True}
    assert Appointment.objects.count() == 1  # the queued sync ran (tasks are inline in tests)
    assert SyncRun.objects.get().trigger == "manual"
    refused = client_for(admin_viewer).post(f"{URL}{conn.pk}/sync/")
    assert refused.status_code == 403
    assert client_for(admin_changer).post(f"{URL}{conn.pk}/sync/").status_code == 202


def test_sync_now_of_a_connection_needing_reconnect_is_400(provider, conn, karl):
    services.connection_mark_needs_reconnect(connection=conn, reason="revoked")
    response = client_for(karl).post(f"{URL}{conn.pk}/sync/")
    assert response.status_code == 400 and "cannot sync" in str(response.data)


def test_disconnect_by_the_rep_and_refused_to_a_view_only_admin(
    provider, conn, karl, admin_viewer, django_capture_on_commit_callbacks
):
    assert client_for(admin_viewer).post(f"{URL}{conn.pk}/disconnect/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(karl).post(f"{URL}{conn.pk}/disconnect/").status_code == 204
    conn.refresh_from_db()
    assert conn.state == "disconnected" and conn.refresh_token == ""


def test_needs_attention_and_state_filters(provider, conn, sync_connect, eva, admin_viewer):
    other = sync_connect(provider, eva)
    services.connection_mark_needs_reconnect(connection=other, reason="revoked")
    api = client_for(admin_viewer)
    [row] = api.get(URL, {"needs_attention": "true"}).data["results"]
    assert row["id"] == other.pk and row["state"] == "needs_reconnect"
    assert row["last_error"] == "revoked" and row["next_poll_at"] is None
    assert [r["id"] for r in api.get(URL, {"state": "active"}).data["results"]] == [conn.pk]
    assert api.get(URL, {"state": "bogus"}).status_code == 400


def test_connections_updated_since(provider, conn, karl):
    later = timezone.now() + dt.timedelta(minutes=1)
    api = client_for(karl)
    assert api.get(URL, {"updated_since": later.isoformat()}).data["results"] == []
    CalendarConnection.objects.filter(pk=conn.pk).update(last_sync_at=later)
    [row] = api.get(URL, {"updated_since": later.isoformat()}).data["results"]
    assert row["id"] == conn.pk
    assert api.get(URL, {"updated_since": "2026-13-45T00:00:00Z"}).status_code == 400


# --- appointments: sync state, calendar events, iCalUID, updated_since -----------------------------
def test_appointments_carry_sync_state_and_calendar_events(provider, conn, cal, book, karl):
    appointment = book()
    [event] = cal.events()
    data = client_for(karl).get(f"/api/v1/appointments/{appointment.pk}/").data
    assert data["sync_state"] == "sent" and data["sync_error"] == ""
    [linked] = data["calendar_events"]
    assert linked["provider"] == provider and linked["event_id"] == event["id"]
    assert linked["web_link"].startswith("https://") or not actor_class(provider).web_links
    assert linked["ical_uid"]
    found = client_for(karl).get("/api/v1/appointments/", {"ical_uid": linked["ical_uid"]})
    assert [a["id"] for a in found.data["results"]] == [appointment.pk]
    missing = client_for(karl).get("/api/v1/appointments/", {"ical_uid": "nope@example"})
    assert missing.data["results"] == []


def test_a_waiting_change_is_waiting_in_the_list(
    provider, conn, cal, book, karl, django_capture_on_commit_callbacks
):
    appointment = book()
    with django_capture_on_commit_callbacks(execute=False):
        appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    [row] = client_for(karl).get("/api/v1/appointments/").data["results"]
    assert row["sync_state"] == "waiting"


def test_appointments_updated_since_includes_sync_changes(
    provider, conn, cal, book, karl, django_capture_on_commit_callbacks
):
    appointment = book()
    since = timezone.now()
    api = client_for(karl)
    assert (
        api.get("/api/v1/appointments/", {"updated_since": since.isoformat()}).data["results"] == []
    )
    with django_capture_on_commit_callbacks(execute=True):  # edited and pushed
        appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    Appointment.objects.filter(pk=appointment.pk).update(updated_at=since - dt.timedelta(1))
    # Only its calendar side changed since (the event was written): it is listed.
    [row] = api.get("/api/v1/appointments/", {"updated_since": since.isoformat()}).data["results"]
    assert row["id"] == appointment.pk


def test_the_schema_documents_the_status_endpoints(karl):
    schema = client_for(karl).get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert "/api/v1/calendar-connections/{id}/runs/" in paths
    assert "/api/v1/calendar-connections/{id}/skipped-events/" in paths
    appointment = schema["components"]["schemas"]["Appointment"]["properties"]
    assert {"sync_state", "sync_error", "calendar_events"} <= set(appointment)
    listing = paths["/api/v1/calendar-connections/"]["get"]
    example = listing["responses"]["200"]["content"]["application/json"]["examples"]
    assert example  # documented with an example
