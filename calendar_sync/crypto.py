"""Encryption at rest for OAuth tokens and client secrets (Fernet, rotatable with MultiFernet).

Keys come from ``FIELD_ENCRYPTION_KEYS`` (newest first). To rotate: prepend a new key, run
``python manage.py rotate_encryption_keys``, then drop the old key. Without configured keys (local
development only) a key is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    keys = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ())
    if not keys:
        if not settings.DEBUG:
            raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set in production")
        digest = hashlib.sha256(("field-encryption:" + settings.SECRET_KEY).encode()).digest()
        keys = (base64.urlsafe_b64encode(digest).decode(),)
    return _fernet(keys)


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    return fernet().decrypt(value.encode()).decode()


def rotate(value: str) -> str:
    return fernet().rotate(value.encode()).decode()


class EncryptedTextField(models.TextField):
    """A text field stored as a Fernet token; the Python value is the plain string."""

    description = "Text encrypted at rest with Fernet"

    def from_db_value(self, value, expression, connection):  # noqa: ANN001, ANN201
        if value is None or value == "":
            return value
        try:
            return decrypt(value)
        except InvalidToken as exc:
            raise ImproperlyConfigured(
                "An encrypted value could not be decrypted: FIELD_ENCRYPTION_KEYS lacks its key"
            ) from exc

    def get_prep_value(self, value):  # noqa: ANN001, ANN201
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def value_from_object(self, obj):  # noqa: ANN001, ANN201
        # What serializers (dumpdata) and model_to_dict see: the ciphertext, never the secret.
        value = super().value_from_object(obj)
        if value is None or value == "":
            return value
        return encrypt(value)

    def to_python(self, value):  # noqa: ANN001, ANN201
        # loaddata hands back the ciphertext from value_from_object: decrypt it once, so that
        # saving does not encrypt it twice. A plain value (not a Fernet token) passes through.
        value = super().to_python(value)
        if isinstance(value, str) and value.startswith("gAAAAA"):
            try:
                return decrypt(value)
            except InvalidToken:
                return value
        return value
