"""API token keys are never shown in, or minted from, the admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from rest_framework.authtoken.models import Token, TokenProxy

from contacts.services import api_token_create_or_rotate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_token_admin_is_not_registered():
    assert not admin.site.is_registered(TokenProxy)
    assert not admin.site.is_registered(Token)


def test_token_admin_pages_are_404_for_a_superuser(client):
    victim = UserFactory()
    key = api_token_create_or_rotate(user=victim)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404
    assert client.get("/admin/authtoken/tokenproxy/add/").status_code == 404
    other = UserFactory()
    assert client.post("/admin/authtoken/tokenproxy/add/", {"user": other.pk}).status_code == 404
    assert not Token.objects.filter(user=other).exists()
    index = client.get("/admin/").content.decode()
    assert "/admin/authtoken/" not in index and key not in index
