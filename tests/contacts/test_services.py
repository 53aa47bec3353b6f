from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.authtoken.models import Token

from contacts import services
from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_contact_create_stores_lower_cased_emails_first_one_primary():
    rep = UserFactory()
    contact = services.contact_create(
        actor=rep, name="Maria Holm", emails=["Maria.Holm@Acme.se", "maria@acme.com"]
    )
    assert list(contact.emails.values_list("email", "is_primary")) == [
        ("maria.holm@acme.se", True),
        ("maria@acme.com", False),
    ]


def test_contact_create_rejects_an_invalid_email():
    with pytest.raises(ValidationError):
        services.contact_create(actor=UserFactory(), name="X", emails=["inte-en-adress"])


def test_contact_update_replaces_emails_and_fields():
    rep = UserFactory()
    contact = ContactFactory(emails=["old@kund.se"])
    services.contact_update(actor=rep, contact=contact, title="VD", emails=["new@kund.se"])
    contact.refresh_from_db()
    assert contact.title == "VD"
    assert contact.primary_email == "new@kund.se"


def test_contact_update_without_emails_keeps_them():
    contact = ContactFactory(emails=["keep@kund.se"])
    services.contact_update(actor=UserFactory(), contact=contact, phone="08-123")
    assert contact.primary_email == "keep@kund.se"


def test_company_services_require_model_permissions():
    stranger = UserFactory(sales_rep=False)
    with pytest.raises(PermissionDenied):
        services.company_create(actor=stranger, name="Nope AB")
    company = CompanyFactory()
    with pytest.raises(PermissionDenied):
        services.company_update(actor=stranger, company=company, name="Hacked")
    with pytest.raises(PermissionDenied):
        services.contact_create(actor=stranger, name="Nope")


def test_sales_reps_cannot_delete_companies():
    with pytest.raises(PermissionDenied):
        services.company_delete(actor=UserFactory(), company=CompanyFactory())


def test_company_update_changes_fields():
    company = CompanyFactory()
    services.company_update(actor=UserFactory(), company=company, email_domains="a.se b.se")
    company.refresh_from_db()
    assert company.domain_list == ["a.se", "b.se"]


def test_user_alias_add_is_verified_and_not_primary_when_user_has_one():
    user = UserFactory(email="karl.andersson@exempel.se")
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    services.user_alias_add(user=user, email="Karl@Exempel.se")
    alias = EmailAddress.objects.get(email="karl@exempel.se")
    assert alias.verified and not alias.primary


def test_user_alias_add_is_primary_when_user_has_none():
    user = UserFactory()
    services.user_alias_add(user=user, email="only@exempel.se")
    assert EmailAddress.objects.get(user=user).primary


def test_user_alias_add_refuses_another_users_address():
    services.user_alias_add(user=UserFactory(), email="shared@exempel.se")
    with pytest.raises(ValidationError):
        services.user_alias_add(user=UserFactory(), email="shared@exempel.se")


def test_api_token_rotation_replaces_the_old_token():
    user = UserFactory()
    first = services.api_token_create_or_rotate(user=user)
    second = services.api_token_create_or_rotate(user=user)
    assert first != second
    assert list(Token.objects.filter(user=user).values_list("key", flat=True)) == [second]
