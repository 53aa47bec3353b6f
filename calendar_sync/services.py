"""Changes to the App directory and to reps' calendar connections.

Provider calls (revoke, stopping push) never run inside ``atomic()``; background work is enqueued
with ``transaction.on_commit``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import partial
from importlib import import_module

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import alerts, selectors
from .models import (
    CalendarApp,
    CalendarConnection,
    ConnectionState,
    EventLink,
    ExclusionEntry,
    PrivateEvents,
)
from .providers import get_adapter
from .providers.base import AuthRevoked, Tokens
from .providers.registry import get_provider
from .sync import rules

log = logging.getLogger(__name__)


class LinkRefused(Exception):
    """The provider account cannot be linked to this rep; the message is for the rep."""


def _oauth(provider: str):  # noqa: ANN202
    return get_provider(provider).oauth()


def _sync_task(name: str) -> Callable[[int], object] | None:
    """``calendar_sync.tasks.<name>`` if the sync engine provides it (it is written separately)."""
    try:
        tasks = import_module("calendar_sync.tasks")
    except ImportError:
        log.warning("calendar_sync.tasks is missing: %s not run", name)
        return None
    func = getattr(tasks, name, None)
    if func is None:
        log.warning("calendar_sync.tasks.%s does not exist yet: not run", name)
    return func


# --- App directory ----------------------------------------------------------------------------
def calendar_app_install(
    *,
    provider: str,
    client_id: str | None = None,
    client_secret: str | None = None,
    tenant: str | None = None,
) -> CalendarApp:
    app, _created = CalendarApp.objects.get_or_create(provider=provider)
    if client_id is not None:
        app.client_id = client_id
    if client_secret is not None:
        app.client_secret = client_secret
    if tenant is not None:
        app.tenant = tenant
    if not app.installed:
        app.installed = True
        app.installed_at = timezone.now()
    app.save()
    return app


def calendar_app_uninstall(*, app: CalendarApp, actor=None) -> int:  # noqa: ANN001
    """Hide the app from reps and disconnect its live connections (appointments are kept).

    ``actor`` None is the system (a management command); a person needs
    ``calendar_sync.change_calendarapp``, which is what allows disconnecting the app's reps.
    """
    if actor is not None and not actor.has_perm("calendar_sync.change_calendarapp"):
        raise PermissionError("only an administrator who may change the apps can uninstall one")
    app.installed = False
    app.save(update_fields=["installed", "updated_at"])
    connections = list(selectors.live_connections().filter(provider=app.provider))
    for connection in connections:
        connection_disconnect(connection=connection, actor=None, revoke=True)
    return len(connections)


# --- connections --------------------------------------------------------------------------------
def connection_link(
    *,
    user,  # noqa: ANN001
    provider: str,
    account_email: str,
    account_id: str,
    tokens: Tokens,
    scopes: str = "",
    server_url: str = "",
    calendar_url: str = "",
) -> CalendarConnection:
    """Store a freshly authorised account for ``user`` (called by the OAuth pipeline).

    A rep has one live connection; an account belongs to one rep. Reconnecting the same account
    (after a revoked grant, or after a Disconnect) refreshes the tokens and makes the same
    connection active again: its event links and its first activation stay, so no event is
    made twice and nobody is invited twice. Another account starts a new connection.
    """
    if not account_email:
        raise LinkRefused(_("The provider did not tell us the account's e-mail address."))
    if selectors.connection_linked_elsewhere(
        provider=provider, account_email=account_email, account_id=account_id, user=user
    ):
        raise LinkRefused(
            _("%(email)s is already connected by another user.") % {"email": account_email}
        )
    current = selectors.connection_for_user(user)
    if current and (current.provider != provider or current.account_email != account_email):
        raise LinkRefused(
            _("Disconnect %(app)s (%(email)s) before connecting another calendar.")
            % {"app": current.get_provider_display(), "email": current.account_email}
        )
    oauth = get_provider(provider).uses_oauth()
    if oauth and not tokens.refresh_token and not (current and current.refresh_token):
        raise LinkRefused(_("The provider did not grant offline access. Please try again."))
    # A reconnect is not a new activation: the same account resumes its old connection.
    current = current or selectors.connection_to_resume(
        user=user, provider=provider, account_email=account_email, account_id=account_id
    )
    try:
        with transaction.atomic():
            connection = current or CalendarConnection(user=user, provider=provider)
            if connection.state == ConnectionState.DISCONNECTED:
                # Events may have changed meanwhile: re-read the window (links keep it free
                # of duplicates); push starts afresh.
                connection.sync_cursor = ""
                connection.channel_id = connection.channel_resource_id = ""
                connection.channel_expires_at = None
            connection.account_email = account_email
            connection.account_id = account_id
            connection.access_token = tokens.access_token
            if tokens.refresh_token:
                connection.refresh_token = tokens.refresh_token
            connection.token_expires_at = tokens.expires_at
            connection.scopes = scopes
            connection.server_url, connection.calendar_url = server_url, calendar_url
            connection.state = ConnectionState.ACTIVE
            connection.last_error = ""
            connection.attention_alerted_at = None  # the incident is over
            connection.disconnected_at = None
            connection.save()
    except IntegrityError as exc:  # a concurrent link won the race
        raise LinkRefused(_("This calendar is already connected.")) from exc
    if current and current.activated_at and connection.is_active:
        # A reconnect: the sync picks up again where it stopped.
        _enqueue_on_commit("connection_activated", connection.pk)
    return connection


def connection_link_credentials(
    *,
    user,  # noqa: ANN001
    provider: str,
    server_url: str,
    username: str,
    password: str,
) -> CalendarConnection:
    """Connect a calendar server with a password (``connect_kind = "credentials"``): the
    provider's ``credentials_connect`` signs in and finds the main calendar (outside any
    transaction), then the account is linked like an OAuth grant, the password stored encrypted
    as its token. ``CredentialsRefused`` / ``LinkRefused`` carry a message for the rep."""
    from .providers.spec import load

    spec = get_provider(provider)
    if spec.uses_oauth():
        raise LinkRefused(_("%(app)s is connected by signing in there.") % {"app": spec.label})
    account = load(spec.credentials_connect)(server_url, username, password)
    return connection_link(
        user=user,
        provider=provider,
        account_email=account.email,
        account_id=account.account_id,
        tokens=Tokens(account.secret, "", None),
        server_url=account.server_url,
        calendar_url=account.calendar_url,
    )


def grant_discard(*, provider: str, tokens: Tokens) -> bool:
    """Revoke a grant we were just given but will not keep (a refused link), best effort: the
    rep already gets the refusal, and an unreachable provider must not turn it into an error."""
    try:
        return bool(_oauth(provider).revoke_tokens(tokens.refresh_token, tokens.access_token))
    except Exception:  # noqa: BLE001 - logged; the tokens are dropped either way
        log.warning("revoking a refused %s grant failed", provider, exc_info=True)
        return False


def connection_alias_add(*, connection: CalendarConnection) -> bool:
    """The connected account's address counts as one of the rep's addresses from now on.

    False when the address belongs to another user (the link stays, the alias is not added)."""
    from contacts.services import user_alias_add

    try:
        user_alias_add(user=connection.user, email=connection.account_email)
    except ValidationError:
        return False
    return True


def connection_activate(*, connection: CalendarConnection, actor, appointment_type) -> None:  # noqa: ANN001
    """Save on step 7: the type synced events get; the first import and export start."""
    if actor is not None and actor.pk != connection.user_id:
        raise PermissionError("only the rep can activate their calendar")
    first_time = connection.activated_at is None
    with transaction.atomic():
        connection.appointment_type = appointment_type
        fields = ["appointment_type"]
        if first_time:
            connection.activated_at = timezone.now()
            fields.append("activated_at")
        connection.save(update_fields=fields)
        if first_time:
            _enqueue_on_commit("connection_activated", connection.pk)


def connection_set_private_events(*, connection: CalendarConnection, actor, mode: str) -> bool:  # noqa: ANN001
    """The rep's choice of what happens to events marked private in their calendar. It applies
    to what is logged already too: the window is read again in full (cursor and echo hashes
    cleared), and on "private appointment" or "not logged" every private appointment from
    this calendar loses its details at once (``sync.privacy``). "Not logged" keeps the ones
    already logged, without details: the CRM's own notes and outcomes on them are not lost.
    False when the setting did not change."""
    if actor is not None and actor.pk != connection.user_id:
        raise PermissionDenied(_("Only the rep chooses what happens to their private events."))
    if mode not in PrivateEvents.values:
        raise ValidationError({"private_events": _("Choose one of the options.")})
    if mode == connection.private_events:
        return False
    from .sync.privacy import hide_logged_private_details

    with transaction.atomic():
        connection.private_events = mode
        connection.sync_cursor = ""
        connection.save(update_fields=["private_events", "sync_cursor"])
        EventLink.objects.filter(connection=connection, appointment__isnull=False).update(
            synced_hash=""
        )
        if mode != PrivateEvents.NORMAL:
            hide_logged_private_details(connection)
    if connection.is_active:
        from .sync.engine import request_sync

        transaction.on_commit(partial(request_sync, connection.pk, trigger="settings", full=True))
    return True


def _enqueue_on_commit(task_name: str, connection_id: int) -> None:
    def enqueue() -> None:
        if _sync_task(task_name) is None:
            return
        from django_q.tasks import async_task

        async_task(f"calendar_sync.tasks.{task_name}", connection_id)

    transaction.on_commit(enqueue)


def connection_update_tokens(*, connection: CalendarConnection, tokens: Tokens) -> None:
    """Persist refreshed tokens (some providers rotate the refresh token, others keep it)."""
    connection.store_tokens(tokens)


def connection_mark_needs_reconnect(*, connection: CalendarConnection, reason: str) -> None:
    """The grant is gone: stop syncing this connection until the rep reconnects (no retries)."""
    if connection.state == ConnectionState.DISCONNECTED:
        return
    now = timezone.now()
    connection.state = ConnectionState.NEEDS_RECONNECT
    connection.last_error = reason[:1000]
    connection.last_error_at = now
    connection.sync_started_at = None
    connection.sync_requested_at = None
    connection.save(
        update_fields=[
            "state",
            "last_error",
            "last_error_at",
            "sync_started_at",
            "sync_requested_at",
        ]
    )
    log.warning("calendar connection %s needs reconnect", connection.pk)
    _alert_once(connection, now)


def _alert_once(connection: CalendarConnection, now: dt.datetime) -> None:
    """E-mail the rep and the admins once per incident: the first parking claims the alert
    (a conditional UPDATE, so concurrent workers send one), a reconnect clears it."""
    claimed = CalendarConnection.objects.filter(
        pk=connection.pk, attention_alerted_at__isnull=True
    ).update(attention_alerted_at=now)
    if claimed:
        connection.attention_alerted_at = now
        transaction.on_commit(partial(alerts.send_needs_reconnect, connection.pk))


def connection_refresh_tokens(*, connection: CalendarConnection) -> Tokens:
    """Refresh and persist; on ``invalid_grant`` mark the connection and re-raise AuthRevoked."""
    try:
        tokens = _oauth(connection.provider).refresh_tokens(connection)
    except AuthRevoked as exc:
        connection_mark_needs_reconnect(
            connection=connection,
            reason=_("Access to %(app)s was revoked or has expired (%(detail)s).")
            % {"app": connection.get_provider_display(), "detail": str(exc)[:200]},
        )
        raise
    connection_update_tokens(connection=connection, tokens=tokens)
    return tokens


def can_disconnect_any(user) -> bool:  # noqa: ANN001
    """May ``user`` disconnect other reps' connections (the admin's action)? Being staff is not
    enough: a view-only administrator must not cut a rep off."""
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm("calendar_sync.change_calendarconnection")
    )


def can_sync_any(user) -> bool:  # noqa: ANN001
    """May ``user`` start a sync of other reps' connections (the admin's bulk "Sync now")?"""
    return bool(user.is_active and user.has_perm("calendar_sync.change_calendarconnection"))


class NotSyncable(ValidationError):
    """The connection cannot sync now; the message says why (for the rep or the admin)."""


def connection_sync_now(*, connection: CalendarConnection, actor) -> bool:  # noqa: ANN001
    """Queue a sync now (import, then the pending CRM changes are pushed). The rep may sync
    their own calendar; someone else needs ``calendar_sync.change_calendarconnection``.
    False when a sync is already queued (it covers this request)."""
    if actor is not None and actor.pk != connection.user_id and not can_sync_any(actor):
        raise PermissionError("only the rep or an administrator can sync this calendar")
    if not connection.is_active:
        raise NotSyncable(
            _("%(app)s (%(email)s) is not active (%(state)s): it cannot sync.")
            % {
                "app": connection.get_provider_display(),
                "email": connection.account_email,
                "state": connection.get_state_display(),
            }
        )
    from .sync.engine import request_sync

    return request_sync(connection.pk, trigger="manual")


def connection_disconnect(
    *,
    connection: CalendarConnection,
    actor,  # noqa: ANN001
    revoke: bool = True,
) -> None:
    """Stop the sync and push, revoke the grant at the provider, forget the tokens.

    Appointments (and their event links) are kept.
    """
    if actor is not None and actor.pk != connection.user_id and not can_disconnect_any(actor):
        raise PermissionError("only the rep or an administrator can disconnect")
    if connection.state == ConnectionState.DISCONNECTED:
        return
    with transaction.atomic():
        connection.state = ConnectionState.DISCONNECTED
        connection.disconnected_at = timezone.now()
        connection.sync_started_at = None
        connection.sync_requested_at = None
        connection.save(
            update_fields=["state", "disconnected_at", "sync_started_at", "sync_requested_at"]
        )
        transaction.on_commit(lambda: _after_disconnect(connection.pk, revoke=revoke))


def _after_disconnect(connection_id: int, *, revoke: bool) -> None:
    """Outside the transaction: stop push (needs the tokens), revoke, then wipe the tokens."""
    stop_push = _sync_task("connection_disconnected")
    if stop_push is not None:
        try:
            stop_push(connection_id)
        except Exception:  # the channel expires by itself; disconnecting must not fail
            log.exception("stopping push for connection %s failed", connection_id)
    connection = CalendarConnection.objects.get(pk=connection_id)
    if revoke:  # (a provider with nothing to revoke, CalDAV, does nothing: the password goes)
        try:
            get_adapter(connection).revoke()  # the one revoke path: the adapter's
        except Exception:  # an unreachable provider must not keep the rep connected
            log.exception("revoking the grant of connection %s failed", connection_id)
    CalendarConnection.objects.filter(pk=connection_id).update(
        access_token="", refresh_token="", token_expires_at=None, channel_token=""
    )


# --- pushing one appointment again --------------------------------------------------------------
def appointment_push_retry(*, appointment, actor) -> None:  # noqa: ANN001
    """The organizer's "Retry" after a failed push: send the appointment to their calendar
    again (after the commit, in the worker), through the same export as every change."""
    if actor is None or actor.pk != appointment.organizer_id:
        raise PermissionDenied(_("Only the organizer can send this appointment to the calendar."))
    appointment_id = appointment.pk

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task("calendar_sync.tasks.export_appointment", appointment_id)

    transaction.on_commit(enqueue)


# --- exclusion lists ---------------------------------------------------------------------------
def exclusion_add(*, actor, value: str, organisation: bool = False) -> ExclusionEntry:  # noqa: ANN001
    """Add an entry to ``actor``'s personal list, or (``organisation``, administrators only:
    ``selectors.can_edit_organisation_exclusions``) to the organisation's. The value is
    normalised and checked (``rules.exclusion_parse``); the same entry twice on one list is
    refused with a reason. What was already logged is left alone: see
    ``exclusion_remove_logged``."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("Sign in to edit an exclusion list."))
    if organisation and not selectors.can_edit_organisation_exclusions(actor):
        raise PermissionDenied(_("Only an administrator can edit the organisation's list."))
    try:
        normalised, kind = rules.exclusion_parse(value)
    except rules.InvalidExclusion as exc:
        raise ValidationError({"value": [str(exc)]}) from exc
    owner_id = None if organisation else actor.pk
    on_list = _("%(value)s is already on this list.") % {"value": normalised}
    if ExclusionEntry.objects.filter(owner_id=owner_id, value=normalised).exists():
        raise ValidationError({"value": [on_list]})
    try:
        with transaction.atomic():
            return ExclusionEntry.objects.create(
                owner_id=owner_id, value=normalised, kind=kind, created_by=actor
            )
    except IntegrityError as exc:  # added at the same moment elsewhere
        raise ValidationError({"value": [on_list]}) from exc


def can_delete_exclusion(entry: ExclusionEntry, user) -> bool:  # noqa: ANN001
    if entry.owner_id is None:
        return selectors.can_edit_organisation_exclusions(user)
    return bool(getattr(user, "is_active", False) and entry.owner_id == user.pk)


def exclusion_delete(*, actor, entry: ExclusionEntry) -> None:  # noqa: ANN001
    """Remove an entry: one's own, or an organisation entry as an administrator. Meetings it
    kept out are logged by the next sync that reads them changed (skipped events are always
    looked at again); appointments removed because of it stay removed."""
    if not can_delete_exclusion(entry, actor):
        raise PermissionDenied(_("Only an administrator can edit the organisation's list."))
    entry.delete()


def exclusion_remove_logged(*, actor) -> tuple[int, int]:  # noqa: ANN001
    """Remove what ``actor``'s lists exclude now from what was logged from their calendar
    (``selectors.excluded_logged``): the appointments whose externals are all excluded are
    deleted in the CRM only, as any delete in the CRM (the calendar events stay; the sync does
    not import them again: their links are marked "deleted in the CRM"), and excluded people
    are taken off the others (a calendar-side change: nothing is sent to the calendar or to
    anyone). Meetings booked in the CRM are never touched. Returns (appointments removed,
    appointments that lost excluded participants)."""
    from appointments.calendar_changes import CalendarChanges
    from appointments.services import appointment_apply_calendar_changes, appointment_delete

    found = selectors.excluded_logged(user=actor)
    with transaction.atomic():
        for appointment in found.appointments:
            appointment_delete(appointment=appointment, actor=actor)
        if found.attendee_ids:
            appointment_apply_calendar_changes(
                changes=CalendarChanges(attendees_remove=set(found.attendee_ids))
            )
    return len(found.appointments), found.others
