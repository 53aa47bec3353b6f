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
