"""API token authentication that also shows times in the token owner's time zone (the
middleware only sees session users; DRF authenticates tokens later, per view)."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.authentication import TokenAuthentication

from contacts.selectors import user_time_zone


class ZonedTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):  # noqa: ANN001, ANN201 - DRF's signature
        user, token = super().authenticate_credentials(key)
        timezone.activate(user_time_zone(user))
        return user, token
