"""Security rules shared by the admin gate and its tests."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def staff_mfa_missing(user: Any) -> bool:
    """Staff and superusers must have two-factor authentication when MFA_REQUIRED_FOR_STAFF."""
    if not getattr(settings, "MFA_REQUIRED_FOR_STAFF", False):
        return False
    if not user.is_authenticated or not (user.is_staff or user.is_superuser):
        return False
    from allauth.mfa.models import Authenticator

    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
