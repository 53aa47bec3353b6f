"""Placeholder until the google emulator lands: every request answers 404."""

from __future__ import annotations

from werkzeug.exceptions import NotFound


def create_app(state):  # noqa: ANN001, ANN201
    return NotFound()
