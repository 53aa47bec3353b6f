"""The admin may show that a user has two-factor set up, never the TOTP secret."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_the_totp_secret_is_not_shown_in_the_admin(client):
    owner = UserFactory()
    auth = Authenticator.objects.create(
        user=owner, type=Authenticator.Type.TOTP, data={"secret": SECRET}
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    listing = client.get("/admin/mfa/authenticator/")
    change = client.get(f"/admin/mfa/authenticator/{auth.pk}/change/")
    assert listing.status_code == 200 and change.status_code == 200
    assert owner.email in listing.content.decode()
    assert SECRET not in listing.content.decode() and SECRET not in change.content.decode()
    assert client.get("/admin/mfa/authenticator/add/").status_code == 403
