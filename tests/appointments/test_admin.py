from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from appointments.models import Outcome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/contacts/company/",
        "/admin/contacts/contact/",
        "/admin/appointments/appointmenttype/",
        "/admin/appointments/appointment/",
    ],
)
def test_admin_changelists_render(admin_client_, upcoming, url):
    assert admin_client_.get(url).status_code == 200


def test_admin_change_forms_render(admin_client_, upcoming, contact):
    assert (
        admin_client_.get(f"/admin/appointments/appointment/{upcoming.pk}/change/").status_code
        == 200
    )
    assert admin_client_.get(f"/admin/contacts/contact/{contact.pk}/change/").status_code == 200
    assert (
        admin_client_.get(f"/admin/contacts/company/{contact.company_id}/change/").status_code
        == 200
    )


def test_admin_action_marks_not_completed_through_the_service(client, passed, organizer):
    organizer.is_staff = True
    organizer.save()
    organizer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_appointment", "change_appointment"])
    )
    client.force_login(organizer)
    response = client.post(
        "/admin/appointments/appointment/",
        {"action": "mark_not_completed", "_selected_action": [passed.pk]},
    )
    assert response.status_code == 302
    passed.refresh_from_db()
    assert passed.outcome == Outcome.NOT_COMPLETED


def test_admin_action_refuses_a_staff_user_who_is_not_a_participant(client, passed):
    stranger = UserFactory(is_staff=True)
    stranger.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_appointment", "change_appointment"])
    )
    client.force_login(stranger)
    client.post(
        "/admin/appointments/appointment/",
        {"action": "mark_not_completed", "_selected_action": [passed.pk]},
    )
    passed.refresh_from_db()
    assert passed.outcome == Outcome.PLANNED


@pytest.fixture
def staff_rep(client):
    """A staff user in the "Sales reps" role (view/add/change appointment), not a superuser."""
    rep = UserFactory(is_staff=True)
    client.force_login(rep)
    return rep


def test_admin_hides_appointments_a_staff_rep_may_not_see(client, staff_rep, upcoming):
    changelist = client.get("/admin/appointments/appointment/")
    assert changelist.status_code == 200
    assert upcoming.title not in changelist.content.decode()
    assert client.get(f"/appointments/{upcoming.pk}/").status_code == 404
    for url in (
        f"/admin/appointments/appointment/{upcoming.pk}/change/",
        f"/admin/appointments/appointment/{upcoming.pk}/history/",
    ):
        resp = client.get(url, follow=True)
        # The admin's "doesn't exist" answer: back to the index with a message, no details.
        assert resp.redirect_chain and resp.redirect_chain[-1][0] == "/admin/"
        assert upcoming.title not in resp.content.decode()
        assert "Sveavägen 44" not in resp.content.decode()
    assert client.get(f"/admin/appointments/appointment/{upcoming.pk}/delete/").status_code == 403


def test_admin_lists_a_staff_reps_own_appointments_read_only(client, organizer, upcoming):
    organizer.is_staff = True
    organizer.save()
    client.force_login(organizer)
    assert upcoming.title in client.get("/admin/appointments/appointment/").content.decode()
    change = client.get(f"/admin/appointments/appointment/{upcoming.pk}/change/")
    assert change.status_code == 200
    assert not change.context["has_change_permission"]
    assert client.get("/admin/appointments/appointment/add/").status_code == 403


def test_admin_refuses_a_staff_rep_changing_or_deleting_a_locked_appointment(
    client, organizer, locked, monkeypatch
):
    sent: list = []
    monkeypatch.setattr("appointments.admin.send_appointment_changed", lambda **kw: sent.append(kw))
    organizer.is_staff = True
    organizer.save()
    client.force_login(organizer)
    url = f"/admin/appointments/appointment/{locked.pk}/change/"
    resp = client.post(
        url,
        {
            "title": "changed by rep",
            "location": "rep's place",
            "attendees-TOTAL_FORMS": "0",
            "attendees-INITIAL_FORMS": "0",
            "attendees-MIN_NUM_FORMS": "0",
            "attendees-MAX_NUM_FORMS": "1000",
        },
    )
    assert resp.status_code == 403
    resp = client.post(f"/admin/appointments/appointment/{locked.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 403
    resp = client.post(
        "/admin/appointments/appointment/",
        {"action": "delete_selected", "_selected_action": [locked.pk], "post": "yes"},
    )
    locked.refresh_from_db()
    assert locked.title != "changed by rep" and locked.location != "rep's place"
    assert locked.locked
    assert sent == []


def test_admin_still_lets_a_superuser_edit(admin_client_, upcoming, monkeypatch):
    sent: list = []
    monkeypatch.setattr("appointments.admin.send_appointment_changed", lambda **kw: sent.append(kw))
    change = admin_client_.get(f"/admin/appointments/appointment/{upcoming.pk}/change/")
    assert change.context["has_change_permission"]
    assert (
        admin_client_.post(
            f"/admin/appointments/appointment/{upcoming.pk}/delete/", {"post": "yes"}
        ).status_code
        == 302
    )
    assert [s["action"] for s in sent] == ["deleted"]
