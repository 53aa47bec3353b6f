from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from appointments.models import AppointmentType
from contacts.models import Company, Contact
from tests.api.conftest import client_for
from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep():
    return client_for(UserFactory())


@pytest.fixture
def stranger():
    """Signed in, but without any permission on the customer register."""
    return client_for(UserFactory(sales_rep=False))


def test_company_crud_for_a_sales_rep(rep):
    created = rep.post(
        "/api/v1/companies/", {"name": "Acme Sverige AB", "email_domains": "acme.se"}
    )
    assert created.status_code == 201, created.data
    pk = created.data["id"]
    assert rep.get(f"/api/v1/companies/{pk}/").data["name"] == "Acme Sverige AB"
    assert rep.patch(f"/api/v1/companies/{pk}/", {"phone": "08-1"}).data["phone"] == "08-1"
    assert len(rep.get("/api/v1/companies/?search=acme").data["results"]) == 1
    # Reps may not delete customers.
    assert rep.delete(f"/api/v1/companies/{pk}/").status_code == 403
    assert Company.objects.filter(pk=pk).exists()


def test_contact_crud_with_emails(rep):
    company = CompanyFactory()
    created = rep.post(
        "/api/v1/contacts/",
        {"name": "Maria Holm", "company": company.pk, "emails": ["Maria@Acme.se", "m@acme.com"]},
        format="json",
    )
    assert created.status_code == 201, created.data
    assert created.data["emails"] == ["maria@acme.se", "m@acme.com"]
    pk = created.data["id"]
    updated = rep.patch(f"/api/v1/contacts/{pk}/", {"emails": ["ny@acme.se"]}, format="json")
    assert updated.data["emails"] == ["ny@acme.se"]
    assert len(rep.get(f"/api/v1/contacts/?company={company.pk}").data["results"]) == 1


def test_contact_create_with_invalid_email_is_400(rep):
    response = rep.post("/api/v1/contacts/", {"name": "X", "emails": ["nope"]}, format="json")
    assert response.status_code == 400


def test_user_without_register_permissions_cannot_see_or_change_companies(stranger):
    company = CompanyFactory()
    assert len(stranger.get("/api/v1/companies/").data["results"]) == 0
    assert stranger.get(f"/api/v1/companies/{company.pk}/").status_code == 404
    assert stranger.patch(f"/api/v1/companies/{company.pk}/", {"name": "x"}).status_code == 404
    assert stranger.delete(f"/api/v1/companies/{company.pk}/").status_code == 404
    assert stranger.post("/api/v1/companies/", {"name": "Ny AB"}).status_code == 403
    company.refresh_from_db()
    assert company.name != "x"


def test_user_without_register_permissions_cannot_see_or_change_contacts(stranger):
    contact = ContactFactory(name="Hemlig")
    assert len(stranger.get("/api/v1/contacts/").data["results"]) == 0
    assert stranger.get(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert stranger.patch(f"/api/v1/contacts/{contact.pk}/", {"name": "x"}).status_code == 404
    assert stranger.delete(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert Contact.objects.get(pk=contact.pk).name == "Hemlig"


def test_view_only_user_cannot_change_a_company(db):
    viewer = UserFactory(sales_rep=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_company"))
    client = client_for(viewer)
    company = CompanyFactory(name="Orört AB")
    assert client.get(f"/api/v1/companies/{company.pk}/").status_code == 200
    assert client.patch(f"/api/v1/companies/{company.pk}/", {"name": "x"}).status_code == 403
    company.refresh_from_db()
    assert company.name == "Orört AB"


def test_appointment_types_are_read_only_for_non_staff(rep):
    assert rep.get("/api/v1/appointment-types/").status_code == 200
    assert rep.post("/api/v1/appointment-types/", {"name": "Fika"}).status_code == 403


def test_staff_can_manage_appointment_types(db):
    # The model permissions decide, as in the admin (being staff alone is not enough).
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["add_appointmenttype", "change_appointmenttype", "delete_appointmenttype"]
        )
    )
    staff = client_for(user)
    created = staff.post("/api/v1/appointment-types/", {"name": "Fika"})
    assert created.status_code == 201
    pk = created.data["id"]
    assert (
        staff.patch(f"/api/v1/appointment-types/{pk}/", {"active": False}).data["active"] is False
    )
    assert staff.delete(f"/api/v1/appointment-types/{pk}/").status_code == 204


def test_non_staff_cannot_change_or_delete_an_appointment_type(rep):
    from tests.factories import AppointmentTypeFactory

    kind = AppointmentTypeFactory(name="Demo")
    assert rep.patch(f"/api/v1/appointment-types/{kind.pk}/", {"name": "x"}).status_code == 403
    assert rep.delete(f"/api/v1/appointment-types/{kind.pk}/").status_code == 403


def test_appointment_types_need_the_model_permissions_not_staff_status(db):
    staff = client_for(UserFactory(is_staff=True, sales_rep=False))
    assert staff.get("/api/v1/appointment-types/").status_code == 200
    assert staff.post("/api/v1/appointment-types/", {"name": "Hacked"}).status_code == 403
    from tests.factories import AppointmentTypeFactory

    kind = AppointmentTypeFactory(name="Demo")
    assert staff.patch(f"/api/v1/appointment-types/{kind.pk}/", {"name": "x"}).status_code == 403
    assert staff.delete(f"/api/v1/appointment-types/{kind.pk}/").status_code == 403
    kind.refresh_from_db()
    assert kind.name == "Demo"
    assert not AppointmentType.objects.filter(name="Hacked").exists()
    # One permission grants only its own action.
    user = UserFactory(is_staff=False, sales_rep=False)
    user.user_permissions.add(Permission.objects.get(codename="add_appointmenttype"))
    adder = client_for(user)
    assert adder.post("/api/v1/appointment-types/", {"name": "Fika"}).status_code == 201
    assert adder.delete(f"/api/v1/appointment-types/{kind.pk}/").status_code == 403


def test_deleting_an_appointment_type_in_use_is_409_suggesting_to_deactivate(db):
    from tests.factories import AppointmentFactory, AppointmentTypeFactory

    user = UserFactory(sales_rep=False)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["change_appointmenttype", "delete_appointmenttype"]
        )
    )
    manager = client_for(user)
    kind = AppointmentTypeFactory(name="Demo")
    AppointmentFactory(appointment_type=kind)
    resp = manager.delete(f"/api/v1/appointment-types/{kind.pk}/")
    assert resp.status_code == 409
    assert "Deactivate it instead" in resp.data["detail"]
    assert AppointmentType.objects.filter(pk=kind.pk).exists()
    assert (
        manager.patch(f"/api/v1/appointment-types/{kind.pk}/", {"active": False}).status_code == 200
    )


def test_appointment_type_in_use_message_is_translated(db):
    from tests.factories import AppointmentFactory, AppointmentTypeFactory

    user = UserFactory(sales_rep=False)
    user.user_permissions.add(Permission.objects.get(codename="delete_appointmenttype"))
    kind = AppointmentTypeFactory(name="Demo")
    AppointmentFactory(appointment_type=kind)
    resp = client_for(user).delete(
        f"/api/v1/appointment-types/{kind.pk}/", HTTP_ACCEPT_LANGUAGE="sv"
    )
    assert resp.status_code == 409
    assert "Inaktivera den i stället" in resp.data["detail"]
