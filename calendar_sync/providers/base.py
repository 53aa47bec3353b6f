"""The one interface every provider adapter implements, in provider-neutral dataclasses.

The sync engine speaks only these types. Adapters (``providers/google``, ``providers/microsoft``)
map wire JSON to and from them and translate the providers' errors into ``ProviderError``s.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_base

log = logging.getLogger(__name__)

ResponseStatus = Literal["accepted", "declined", "tentative", "needs_action"]
# What a calendar entry is. Google's status events (``eventType`` focusTime, outOfOffice,
# workingLocation) and Graph's "show as: away" (``showAs`` oof) are not meetings; every other
# entry is (Google's birthdays and events from Gmail included: they have no other participants).
EventKind = Literal["meeting", "focus_time", "out_of_office", "working_location"]
T = TypeVar("T")


# --- errors ----------------------------------------------------------------------------------------
# A provider's say on a status before the common mapping: an error, or None to let it map.
StatusHook = Callable[[int, str, "str | None"], "ProviderError | None"]


class ProviderError(Exception):
    """A provider call failed. ``permanent`` errors are not retried; one that reaches the sync's
    error boundary parks the connection with its message (``engine.record_error``)."""

    permanent: bool = False

    def __init__(self, message: str, *, permanent: bool | None = None, status: int | None = None):
        super().__init__(message)
        if permanent is not None:
            self.permanent = permanent
        self.status = status

    @classmethod
    def from_status(
        cls,
        status: int,
        message: str,
        *,
        retry_after: str | None = None,
        gone: type[ProviderError] | None = None,
        hook: StatusHook | None = None,
    ) -> ProviderError:
        """THE status -> error mapping, shared by every provider (as Sentry's
        ``ApiError.from_response``). ``hook`` lets a provider claim a status first (Google's 403
        rate limits, Graph's 503 with Retry-After and changeKey conflicts); ``gone`` is what a
        410 means where it is asked (a dead sync cursor, or a deleted event)."""
        if hook is not None:
            special = hook(status, message, retry_after)
            if special is not None:
                return special
        if status == 429:
            return RateLimited(message, retry_after=parse_retry_after(retry_after), status=429)
        if status >= 500:
            return ProviderError(message, permanent=False, status=status)
        if status == 401:
            return AuthRevoked(message, status=401)
        if status == 404:
            return EventNotFound(message, status=404)
        if status == 410:
            return (gone or EventNotFound)(message, status=410)
        if status == 412:
            return PreconditionFailed(message, status=412)
        return ProviderError(message, permanent=True, status=status)


class AuthRevoked(ProviderError):
    """The grant is gone (invalid_grant / revoked): the rep must reconnect."""

    permanent = True


class RateLimited(ProviderError):
    """429 / 403 rate limit: retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float = 1.0, status: int | None = 429):
        super().__init__(message, permanent=False, status=status)
        self.retry_after = retry_after


class CursorExpired(ProviderError):
    """The sync token / delta link is dead (410): drop it and sync the window in full."""

    permanent = False


class EventNotFound(ProviderError):
    permanent = True


class PreconditionFailed(ProviderError):
    """The event changed at the provider since we read it (stale etag)."""

    permanent = False


class CredentialsRefused(Exception):
    """Connecting with credentials failed (a wrong password, a URL that is no calendar server,
    an unreachable server): the message is for the rep, and nothing is stored."""


# --- data ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LinkedAccount:
    """What a credentials connect (``CalendarProvider.connect_kind == "credentials"``) found:
    the account, the secret to store (encrypted, like tokens) and where its main calendar is."""

    email: str
    account_id: str  # the username the server signs in
    secret: str  # the (app-specific) password
    server_url: str
    calendar_url: str


@dataclass(frozen=True)
class ExternalAttendee:
    email: str
    name: str = ""
    response: ResponseStatus = "needs_action"
    is_self: bool = False
    is_organizer: bool = False
    is_resource: bool = False  # a room or other resource: never a participant


@dataclass
class ExternalEvent:
    id: str
    ical_uid: str
    title: str
    start: dt.datetime | None  # None when the provider sent no usable start (skipped, reason kept)
    end: dt.datetime | None
    all_day: bool = False
    timezone: str = "UTC"
    description: str = ""
    location: str = ""
    organizer_email: str = ""
    organizer_is_self: bool = False
    organizer_name: str = ""
    # This account's own answer to the invitation (Google: the attendee marked self; Graph:
    # the event's responseStatus, since an invitee's copy does not track attendees' answers).
    own_response: ResponseStatus = "needs_action"
    attendees: list[ExternalAttendee] = field(default_factory=list)
    cancelled: bool = False
    updated: dt.datetime | None = None
    etag: str = ""
    series_id: str = ""  # the recurring series' id, for an instance
    original_start: dt.datetime | None = None
    is_recurring: bool = False  # an instance of a series (or the series itself)
    video_link: str = ""
    web_link: str = ""  # the event's page in the provider's web calendar
    video_pending: bool = False  # Meet link requested, not ready yet
    crm_id: str = ""  # our appointment id, from extended properties (echo suppression)
    # The idempotency key our create carried, where the provider hands it back (Graph
    # ``transactionId``, which delta returns while it omits extended properties).
    idempotency_key: str = ""
    room_emails: list[str] = field(default_factory=list)
    kind: EventKind = "meeting"
    # Shown as free in this calendar (Google ``transparency: transparent``, Graph ``showAs:
    # free``): it takes none of the rep's time, and the providers' free/busy leaves it out.
    free: bool = False
    # Marked private by its organizer (Google visibility private/confidential, Graph
    # sensitivity private/confidential); every attendee's copy says so too.
    private: bool = False
    # Set when the adapter could not map the provider's item: the importer records it as
    # "could not be read" instead of losing the page.
    unreadable: str = ""


@dataclass
class ChangePage:
    events: list[ExternalEvent]
    # The cursor to store once the LAST page has been processed (None on earlier pages).
    next_cursor: str | None = None
    removed_ids: list[str] = field(default_factory=list)  # deletions reported without a body
    pages: int = 1  # provider pages it holds (the engine imports several in one transaction)


@dataclass(frozen=True)
class BusyBlock:
    start: dt.datetime
    end: dt.datetime
    status: str = "busy"  # busy / tentative / oof


@dataclass(frozen=True)
class CalendarInfo:
    """One calendar in the connected account's calendar list."""

    id: str
    name: str
    primary: bool = False  # the account's main calendar: the one that is synced (logged)
    can_edit: bool = False  # the account may write events in it
    owned: bool = False  # the account's own calendar, not one shared with it


@dataclass
class AccountBusy:
    """The connected account's busy time: its main calendar and the extra calendars asked for."""

    main: list[BusyBlock] = field(default_factory=list)  # the main (synced) calendar's
    extra: list[BusyBlock] = field(default_factory=list)  # the extra calendars', together
    # Extra calendars the provider no longer has (deleted, or no longer shared with the account).
    gone: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Room:
    email: str
    name: str
    capacity: int = 0
    building: str = ""


@dataclass
class EventDraft:
    """What the CRM wants the provider event to be."""

    crm_id: str
    title: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool = False
    timezone: str = "UTC"
    description: str = ""
    location: str = ""
    attendee_emails: list[str] = field(default_factory=list)
    # Updates only. False: the event's attendees are left exactly as they are. True: they are
    # merged: ``attendees_removed`` (people, or the old room) go, ``attendee_emails`` and the
    # room are added if missing, everyone else stays with their response (colleagues the CRM
    # does not store, people added in the calendar).
    write_attendees: bool = True
    attendees_removed: list[str] = field(default_factory=list)
    room_email: str = ""
    room_name: str = ""
    send_invitations: bool = True
    add_video: bool = False
    # Client-chosen idempotency key (Google event id / Graph transactionId), stable per appointment.
    idempotency_key: str = ""
    video_request_id: str = ""
    private: bool = False  # Google visibility private / Graph sensitivity private


@dataclass
class Channel:
    id: str
    resource_id: str
    expires_at: dt.datetime
    token: str = ""


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime | None


# Called by an adapter whenever it refreshed the access token, so the caller can persist it.
TokenSaver = Callable[[Tokens], None]


class CalendarAdapter(ABC):
    """A rep's primary calendar at one provider."""

    provider: str

    @abstractmethod
    def list_changes(
        self, *, cursor: str | None, window_start: dt.datetime, window_end: dt.datetime
    ) -> Iterator[ChangePage]:
        """Pages of changes since ``cursor`` (all events in the window when None).

        Raises CursorExpired for a dead cursor. Recurring events come expanded into instances.
        """

    @abstractmethod
    def get_event(self, event_id: str) -> ExternalEvent: ...

    @abstractmethod
    def create_event(self, draft: EventDraft) -> ExternalEvent:
        """Idempotent on ``draft.idempotency_key``: a retry returns the existing event."""

    @abstractmethod
    def update_event(
        self, event_id: str, draft: EventDraft, *, etag: str = ""
    ) -> ExternalEvent: ...

    @abstractmethod
    def free_busy(
        self, emails: list[str], start: dt.datetime, end: dt.datetime
    ) -> dict[str, list[BusyBlock]]: ...

    @abstractmethod
    def list_rooms(self) -> list[Room]: ...

    @abstractmethod
    def list_calendars(self) -> list[CalendarInfo]:
        """The account's calendar list (its main calendar among them, ``primary=True``)."""

    @abstractmethod
    def account_busy(
        self, start: dt.datetime, end: dt.datetime, *, extra_calendars: Sequence[str] = ()
    ) -> AccountBusy:
        """Busy time of the account's main calendar plus ``extra_calendars`` (ids from
        ``list_calendars``): busy time only, never events. Free/transparent events do not count.
        An extra calendar the provider no longer has is reported in ``gone``, not raised; at
        most one request per calendar, never one per event."""

    @abstractmethod
    def watch(self, *, callback_url: str, token: str, ttl_seconds: int) -> Channel: ...

    @abstractmethod
    def renew_watch(self, channel: Channel, *, callback_url: str, ttl_seconds: int) -> Channel:
        """The channel, extended. A channel with another id is a new one (Google cannot extend):
        the caller saves it, then stops the old one."""

    @abstractmethod
    def stop_watch(self, channel: Channel) -> None: ...

    @abstractmethod
    def revoke(self) -> None:
        """Revoke the grant at the provider (disconnect)."""

    def request_count(self) -> int:
        """Provider HTTP requests this adapter made (for sync summaries and benchmarks)."""
        return 0

    def request_seconds(self) -> float:
        """Seconds spent waiting for the provider's answers, over all of this adapter's requests
        (the provider's share of a sync's wall time)."""
        return 0.0


# --- retries (shared by the adapters) --------------------------------------------------------------
# A background call (a sync, an export) is bounded by a time budget, not by a count: it retries
# rate limits and transient errors, honouring Retry-After plus a little jitter (so workers that
# were throttled together do not come back together), until RETRY_BUDGET_SECONDS are spent or the
# error is permanent. No single wait is longer than RETRY_WAIT_CAP; RETRY_MAX_ATTEMPTS is only a
# safety net against a provider that fails instantly forever. Tests swap RETRY_SLEEP (the budget
# counts the waits asked for, so a recorded wait spends it like a real one).
RETRY_WAIT_CAP: float = 30.0
RETRY_BUDGET_SECONDS: float = 120.0
RETRY_JITTER: float = 1.0
RETRY_MAX_ATTEMPTS: int = 100


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


RETRY_SLEEP: Callable[[float], None] = _sleep


def is_retryable(exc: BaseException) -> bool:
    """Rate limits and transient provider errors; not dead cursors, stale etags or 404s."""
    if isinstance(exc, RateLimited):
        return True
    return type(exc) is ProviderError and not exc.permanent


def retry_budget_spent(retry_state: RetryCallState) -> float:
    """Seconds of the budget used: wall time, or the waits asked for if more (a swapped sleep)."""
    return max(retry_state.seconds_since_start or 0.0, retry_state.idle_for)


class _WaitRetryAfter(wait_base):
    """The provider's Retry-After plus jitter when it gave one (the provider knows when it will
    be ready; backing off beyond that only spends the budget), else exponential with jitter."""

    def __init__(self, jitter: float) -> None:
        self._jitter = jitter
        self._exponential = wait_exponential_jitter(
            multiplier=0.5, max=RETRY_WAIT_CAP, jitter=jitter
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            wait = retry_after + random.uniform(0, self._jitter)  # noqa: S311
        else:
            wait = self._exponential(retry_state)
        return min(wait, RETRY_WAIT_CAP)


class _BudgetSpent(stop_base):
    """Stop when the next wait would end past the budget (tenacity's stop_before_delay, counting
    the waits asked for as well as the wall clock)."""

    def __init__(self, budget: float) -> None:
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_budget_spent(retry_state) + retry_state.upcoming_sleep > self.budget


class _RetryWhileWorthIt(retry_base):
    """Retry a retryable error, unless its Retry-After is longer than what is left of the budget
    (retrying earlier than asked only burns attempts)."""

    def __init__(self, budget: float, longest_wait: float) -> None:
        self.budget, self.longest_wait = budget, longest_wait
        self.refused_wait = False  # the last error asked for a wait we would not make

    def __call__(self, retry_state: RetryCallState) -> bool:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if exc is None or not is_retryable(exc):
            return False
        left = min(self.longest_wait, self.budget - retry_budget_spent(retry_state))
        self.refused_wait = isinstance(exc, RateLimited) and exc.retry_after > left
        return not self.refused_wait


# A person is waiting (availability view, room picker): retry once, briefly, then report.
INTERACTIVE_MAX_ATTEMPTS: int = 2
INTERACTIVE_MAX_SECONDS: float = 3.0
_interactive: ContextVar[bool] = ContextVar("provider_calls_interactive", default=False)


@contextmanager
def interactive_calls() -> Iterator[None]:
    """Provider calls made inside this block use the short, interactive retry budget."""
    token = _interactive.set(True)
    try:
        yield
    finally:
        _interactive.reset(token)


def call_with_retries(fn: Callable[[], T]) -> T:
    """Run one provider call, retrying rate limits and transient errors (tenacity) within the
    time budget (RETRY_BUDGET_SECONDS; a short one when a person is waiting).

    A Retry-After longer than what is left of the budget (one wait is at most RETRY_WAIT_CAP)
    is not waited out. It is raised as ``RateLimited`` with a message the rep can read; the next
    poll or push tries again."""
    interactive = _interactive.get()
    attempts = INTERACTIVE_MAX_ATTEMPTS if interactive else RETRY_MAX_ATTEMPTS
    budget = INTERACTIVE_MAX_SECONDS if interactive else RETRY_BUDGET_SECONDS
    longest_wait = INTERACTIVE_MAX_SECONDS if interactive else RETRY_WAIT_CAP
    policy = _RetryWhileWorthIt(budget, longest_wait)
    retrying = Retrying(
        retry=policy,
        wait=_WaitRetryAfter(0.0 if interactive else RETRY_JITTER),
        stop=stop_after_attempt(attempts) | _BudgetSpent(budget),
        sleep=lambda seconds: RETRY_SLEEP(seconds),
        reraise=True,
    )
    try:
        return retrying(fn)
    except RateLimited as exc:
        if not policy.refused_wait:
            raise
        after = round(exc.retry_after)
        raise RateLimited(
            f"rate limited, retry after {after} s", retry_after=exc.retry_after, status=exc.status
        ) from exc


def parse_retry_after(value: str | None, default: float = 1.0) -> float:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)


# --- helpers shared by the adapters ------------------------------------------------------------
def merged_attendees(
    current: list[T], address: Callable[[T], str], draft: EventDraft, make: Callable[[str], T]
) -> list[T]:
    """An update's attendee list: the event's own rows minus ``draft.attendees_removed``, plus
    ``draft.attendee_emails`` not there yet (rows that stay keep their responses)."""
    removed = {e.strip().lower() for e in draft.attendees_removed}
    kept = [row for row in current if address(row).strip().lower() not in removed]
    present = {address(row).strip().lower() for row in kept}
    for email in dict.fromkeys(e.strip().lower() for e in draft.attendee_emails if e.strip()):
        if email not in present:
            kept.append(make(email))
            present.add(email)
    return kept


def chunks(items: list[str], size: int) -> Iterator[list[str]]:
    """``items`` in lists of at most ``size`` (providers cap calendars per free/busy call)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def time_windows(
    start: dt.datetime, end: dt.datetime, days: int
) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """[start, end) cut into windows of at most ``days`` (providers cap free/busy ranges)."""
    step = dt.timedelta(days=days)
    while start < end:
        yield start, min(start + step, end)
        start += step


def map_or_unreadable(
    to_external: Callable[[dict[str, Any]], ExternalEvent], item: dict[str, Any]
) -> ExternalEvent:
    """Map one wire item; an item the adapter cannot map becomes an unreadable stub (with its id,
    so a known event keeps its appointment) rather than sinking the whole page."""
    try:
        return to_external(item)
    except Exception as exc:  # noqa: BLE001 - any mapping failure is recorded, never raised
        log.warning("could not map provider event %r: %s", item.get("id"), exc, exc_info=True)
        return ExternalEvent(
            id=str(item.get("id") or ""),
            ical_uid=str(item.get("iCalUID") or item.get("iCalUId") or ""),
            title=str(item.get("summary") or item.get("subject") or "")[:255],
            start=None,
            end=None,
            unreadable=f"{exc.__class__.__name__}: {exc}"[:255],
        )
