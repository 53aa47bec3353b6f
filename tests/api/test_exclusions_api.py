"""/api/v1/exclusions/: a rep's own list and the organisation's, authorised in the services as
the settings page is; bad entries are 400s with a reason, on PostgreSQL as on SQLite."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from appointments.models import Appointment, AppointmentType
from calendar_sync import services
from calendar_sync.models import EventLink, ExclusionEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/exclusions/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def karl():
    return UserFactory(email="karl.andersson@exempel.se")


@pytest.fixture
def eva():
    return UserFactory(email="eva.lind@exempel.se")


@pytest.fixture
def admin():
    """An administrator: staff with the permission to change exclusion entries (not a
    superuser, so the permission is what counts)."""
    user = UserFactory(email="admin@exempel.se", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_exclusionentry"))
    return type(user).objects.get(pk=user.pk)


def test_a_rep_adds_reads_and_removes_their_own_entries(karl):
    api = client_for(karl)
    created = api.post(URL, {"value": " CEO@Client.TEST "}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["value"], body["kind"], body["list"], body["can_delete"]) == (
        "ceo@client.test", "address", "personal", True,
    )  # fmt: skip
    listed = api.get(URL).json()
    assert [e["value"] for e in listed["results"]] == ["ceo@client.test"]
    assert listed["next"] is None
    assert api.delete(f"{URL}{body['id']}/").status_code == 204
    assert not ExclusionEntry.objects.exists()


def test_the_same_entry_twice_is_a_400_with_a_reason(karl):
    api = client_for(karl)
    assert api.post(URL, {"value": "@lawfirm.test"}, format="json").status_code == 201
    again = api.post(URL, {"value": "LAWFIRM.test"}, format="json")
    assert again.status_code == 400
    assert "already on this list" in again.json()["value"][0]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b.test", "null"),  # PostgreSQL refuses NUL in text: refused before it gets there
        ("ceo@client.test\x07", "control characters"),
        ("x" * 300 + ".test", "254"),
        ("@com", "not a domain"),
        ("not an entry", "spaces"),
        ("", "blank"),
    ],
)
def test_bad_entries_are_400s_not_500s(karl, value, reason):
    response = client_for(karl).post(URL, {"value": value}, format="json")
    assert response.status_code == 400, response.content
    assert reason in str(response.json()).lower()
    assert not ExclusionEntry.objects.exists()


def test_the_list_parameter_is_checked(karl):
    assert client_for(karl).get(URL, {"list": "everyone"}).status_code == 400


def test_a_rep_reads_the_organisation_list_but_cannot_edit_it(karl, admin):
    entry = services.exclusion_add(actor=admin, value="*.bank.test", organisation=True)
    api = client_for(karl)
    listed = api.get(URL, {"list": "organisation"}).json()["results"]
    assert [(e["value"], e["list"], e["can_delete"]) for e in listed] == [
        ("*.bank.test", "organisation", False)
    ]
    refused = api.post(URL, {"value": "@other.test", "list": "organisation"}, format="json")
    assert refused.status_code == 403
    assert api.delete(f"{URL}{entry.pk}/").status_code == 403
    assert ExclusionEntry.objects.filter(owner=None).count() == 1


def test_an_admin_edits_the_organisation_list(admin):
    api = client_for(admin)
    created = api.post(URL, {"value": "@lawfirm.test", "list": "organisation"}, format="json")
    assert created.status_code == 201
    assert created.json()["list"] == "organisation"
    assert ExclusionEntry.objects.get().owner is None
    assert api.delete(f"{URL}{created.json()['id']}/").status_code == 204


def test_a_rep_neither_sees_nor_removes_another_reps_entries(karl, eva, admin):
    evas = services.exclusion_add(actor=eva, value="doktor@vard.test")
    api = client_for(karl)
    assert api.get(URL).json()["results"] == []
    assert api.get(f"{URL}{evas.pk}/").status_code == 404
    assert api.delete(f"{URL}{evas.pk}/").status_code == 404
    assert client_for(admin).get(f"{URL}{evas.pk}/").status_code == 404  # personal is personal
    assert ExclusionEntry.objects.filter(pk=evas.pk).exists()


def test_services_refuse_what_the_api_refuses(karl, eva):
    from django.core.exceptions import PermissionDenied

    evas = services.exclusion_add(actor=eva, value="doktor@vard.test")
    with pytest.raises(PermissionDenied):
        services.exclusion_delete(actor=karl, entry=evas)
    with pytest.raises(PermissionDenied):
        services.exclusion_add(actor=karl, value="@x.test", organisation=True)


def test_updated_since_returns_entries_added_since(karl):
    services.exclusion_add(actor=karl, value="@old.test")
    since = timezone.now()
    services.exclusion_add(actor=karl, value="@new.test")
    listed = client_for(karl).get(URL, {"updated_since": since.isoformat()}).json()
    assert [e["value"] for e in listed["results"]] == ["@new.test"]


def test_logged_preview_and_remove_logged(karl):
    kind = AppointmentType.objects.get_or_create(name="Kundmöte")[0]
    start = timezone.now() + dt.timedelta(days=2)
    imported = Appointment.objects.create(
        organizer=karl, title="Privat", appointment_type=kind, start=start,
        end=start + dt.timedelta(hours=1), source="google",
    )  # fmt: skip
    imported.attendees.create(kind="external", email="doktor@vard.test")
    from calendar_sync.models import CalendarConnection

    conn = CalendarConnection.objects.create(
        user=karl, provider="google", account_email=karl.email, appointment_type=kind,
        state="needs_reconnect",
    )  # fmt: skip
    link = EventLink.objects.create(connection=conn, appointment=imported, provider_event_id="e1")
    api = client_for(karl)
    empty = {"count": 0, "appointments": [], "participants_on": 0}
    assert api.get(f"{URL}logged/").json() == empty
    api.post(URL, {"value": "@vard.test"}, format="json")
    preview = api.get(f"{URL}logged/").json()
    assert preview["count"] == 1 and preview["appointments"][0]["id"] == imported.pk
    removed = api.post(f"{URL}remove-logged/").json()
    assert removed == {"removed": 1, "participants_removed_from": 0}
    assert not Appointment.objects.exists()
    link.refresh_from_db()
    assert link.skip_reason == "deleted_in_crm"  # the sync does not bring it back
