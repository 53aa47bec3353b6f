"""A log filter that blanks anything that looks like a secret: OAuth tokens and codes, bearer
tokens, client secrets, Graph's ``clientState`` and Google's channel token, as ``name=value``
(query strings, access logs), ``name: value`` (headers) or ``"name": "value"`` (JSON)."""

from __future__ import annotations

import logging
import re

SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "code",
    "clientState",
    "client_state",
    "channel_token",
    "X-Goog-Channel-Token",
    "HTTP_X_GOOG_CHANNEL_TOKEN",
    "token",
    "validationToken",
)
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(
        r"(?i)((?<![A-Za-z0-9_-])(?:"
        + "|".join(re.escape(name) for name in SECRET_NAMES)
        + r")[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}\])]+"
    ),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(r"\1[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
