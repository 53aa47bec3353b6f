"""Keeps the cached user directory (``selectors.sync_directory``) true:
a change to a user's login e-mail, active flag or aliases starts a new generation at once and
again on commit (a worker that re-read the rows before the commit filled the first one)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .selectors import user_directory_changed

# A save that writes only these fields (a login's ``last_login``) changes no address.
DIRECTORY_FIELDS = {"email", "is_active"}


def user_saved(sender: Any, update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    if update_fields is not None and not (set(update_fields) & DIRECTORY_FIELDS):
        return
    _changed()


def directory_row_changed(sender: Any, **kwargs: Any) -> None:
    _changed()


def _changed() -> None:
    user_directory_changed()
    transaction.on_commit(user_directory_changed)
