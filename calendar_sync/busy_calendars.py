"""More calendars for busy time: a rep picks other calendars of the connected account (a
"Personal" or "Side project" calendar) whose busy time counts wherever their availability is
shown. The main calendar always counts and is the only one that is synced: these calendars are
read as busy time (``CalendarAdapter.account_busy``), their events are never imported.

The choice is stored on the connection (``busy_calendars``: ids with the names the provider gave
them). Provider calls run outside any transaction; a calendar the provider no longer has is
dropped from the choice with a note for the rep (``busy_calendars_dropped``), never an error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import CalendarConnection, ConnectionState
from .providers import get_adapter
from .providers.base import AuthRevoked, CalendarInfo, ProviderError, interactive_calls
from .sync.rules import clean_text

log = logging.getLogger(__name__)

MAX_BUSY_CALENDARS = 49  # Google's freeBusy takes 50 calendars a query: the main one and 49
NAME_LENGTH = 255
ID_LENGTH = 1024
DROPPED_KEPT = 20  # names of dropped calendars kept for the note


@dataclass(frozen=True)
class CalendarChoice:
    """One calendar the rep may tick (the account's main calendar is never one)."""

    id: str
    name: str
    chosen: bool
    can_edit: bool
    owned: bool


@dataclass
class BusyCalendarOptions:
    calendars: list[CalendarChoice] = field(default_factory=list)
    # A sentence for the rep when the calendars could not be read; the saved choice is kept.
    error: str = ""


# --- reads ------------------------------------------------------------------------------------------
def _entries(value: object) -> list[dict]:
    """The stored ``[{"id", "name"}]`` (anything else, e.g. edited by hand, is left out)."""
    if not isinstance(value, list):
        return []
    return [c for c in value if isinstance(c, dict) and c.get("id")]


def chosen_ids(connection: CalendarConnection) -> list[str]:
    """The ids of the calendars the rep chose (besides the main one)."""
    return [str(c["id"]) for c in _entries(connection.busy_calendars)]


def chosen_names(connection: CalendarConnection) -> list[str]:
    return [str(c.get("name") or c["id"]) for c in _entries(connection.busy_calendars)]


def _check_owner(connection: CalendarConnection, actor) -> None:  # noqa: ANN001
    """Only the rep whose account it is chooses (and sees the names of) its calendars."""
    if actor is None or not actor.is_authenticated or actor.pk != connection.user_id:
        raise PermissionDenied(_("Only the rep whose calendar it is can choose its calendars."))


def _not_active_message(connection: CalendarConnection) -> str:
    return _("%(app)s (%(email)s) is not active: reconnect it before choosing its calendars.") % {
        "app": connection.get_provider_display(),
        "email": connection.account_email,
    }


def _error_message(exc: ProviderError, connection: CalendarConnection) -> str:
    app = connection.get_provider_display()
    if isinstance(exc, AuthRevoked):
        return _(
            "%(app)s has to be reconnected before its calendars can be read. "
            "Your saved choice is kept."
        ) % {"app": app}
    return _(
        "Could not read your calendars from %(app)s right now. Your saved choice is kept; "
        "try again in a moment."
    ) % {"app": app}


def _read_calendars(connection: CalendarConnection) -> list[CalendarInfo]:
    """The account's calendar list (a provider call: never inside ``atomic()``)."""
    with interactive_calls():  # the rep is waiting for the page
        return get_adapter(connection).list_calendars()


def _choices(listed: Iterable[CalendarInfo], chosen: Iterable[str]) -> list[CalendarChoice]:
    picked = set(chosen)
    return [
        CalendarChoice(c.id, clean_text(c.name, NAME_LENGTH), c.id in picked, c.can_edit, c.owned)
        for c in listed
        if not c.primary
    ]


def busy_calendar_options(*, connection: CalendarConnection, actor) -> BusyCalendarOptions:  # noqa: ANN001
    """The account's calendars other than the main one, read from the provider, the chosen ones
    ticked. Chosen calendars the provider no longer lists are dropped (with a note)."""
    _check_owner(connection, actor)
    if connection.state != ConnectionState.ACTIVE:
        return BusyCalendarOptions(error=_not_active_message(connection))
    try:
        listed = _read_calendars(connection)
    except ProviderError as exc:
        log.warning("calendar list of connection %s failed: %s", connection.pk, exc)
        return BusyCalendarOptions(error=_error_message(exc, connection))
    present = {c.id for c in listed if not c.primary}
    busy_calendars_drop(
        connection=connection, gone=[i for i in chosen_ids(connection) if i not in present]
    )
    return BusyCalendarOptions(calendars=_choices(listed, chosen_ids(connection)))


# --- changes ----------------------------------------------------------------------------------------
def _cleaned_ids(calendar_ids: Sequence[object]) -> list[str]:
    ids = [clean_text(str(i), ID_LENGTH).strip() for i in calendar_ids]
    ids = list(dict.fromkeys(i for i in ids if i))
    if len(ids) > MAX_BUSY_CALENDARS:
        raise ValidationError(
            _("Choose at most %(n)s calendars.") % {"n": MAX_BUSY_CALENDARS}, code="too_many"
        )
    return ids


def _check_choice(ids: list[str], listed: list[CalendarInfo]) -> dict[str, CalendarInfo]:
    by_id = {c.id: c for c in listed}
    if any(by_id[i].primary for i in ids if i in by_id):
        raise ValidationError(
            _("The main calendar always counts as busy: it cannot be chosen."), code="primary"
        )
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise ValidationError(
            _("Not a calendar of this account: %(ids)s.") % {"ids": ", ".join(unknown)},
            code="unknown",
        )
    return by_id


def busy_calendars_set(
    *,
    connection: CalendarConnection,
    actor,  # noqa: ANN001
    calendar_ids: Sequence[object],
) -> BusyCalendarOptions:
    """Save which calendars (ids from the provider's list; not the main one) count as busy.
    The ids are checked against the provider's list first, outside any transaction; when it
    cannot be read, nothing changes and the message says why."""
    _check_owner(connection, actor)
    ids = _cleaned_ids(calendar_ids)
    if connection.state != ConnectionState.ACTIVE:
        raise ValidationError(_not_active_message(connection), code="not_active")
    try:
        listed = _read_calendars(connection)
    except ProviderError as exc:
        log.warning("calendar list of connection %s failed: %s", connection.pk, exc)
        raise ValidationError(_error_message(exc, connection), code="provider") from exc
    by_id = _check_choice(ids, listed)
    chosen = [{"id": i, "name": clean_text(by_id[i].name, NAME_LENGTH)} for i in ids]
    with transaction.atomic():
        row = CalendarConnection.objects.select_for_update().get(pk=connection.pk)
        row.busy_calendars, row.busy_calendars_dropped = chosen, []
        row.save(update_fields=["busy_calendars", "busy_calendars_dropped"])
    connection.busy_calendars, connection.busy_calendars_dropped = chosen, []
    return BusyCalendarOptions(calendars=_choices(listed, ids))


def busy_calendars_drop(*, connection: CalendarConnection, gone: Sequence[str]) -> None:
    """Drop chosen calendars the provider no longer has (deleted, or no longer shared), keeping
    their names for the note the rep reads on the settings page."""
    if not gone:
        return
    with transaction.atomic():
        row = CalendarConnection.objects.select_for_update().get(pk=connection.pk)
        entries = _entries(row.busy_calendars)
        kept = [c for c in entries if c["id"] not in set(gone)]
        dropped = [str(c.get("name") or c["id"]) for c in entries if c not in kept]
        if not dropped:
            return
        row.busy_calendars = kept
        row.busy_calendars_dropped = [*(row.busy_calendars_dropped or []), *dropped][-DROPPED_KEPT:]
        row.save(update_fields=["busy_calendars", "busy_calendars_dropped"])
    connection.busy_calendars = row.busy_calendars
    connection.busy_calendars_dropped = row.busy_calendars_dropped
    log.info(
        "connection %s: %d calendar(s) gone at the provider dropped", connection.pk, len(dropped)
    )
