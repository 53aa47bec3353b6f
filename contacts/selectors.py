"""Reads for companies, contacts and the CRM users' addresses (aliases included)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import NamedTuple

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from calendar_sync.sync.rules import colleague_domains
from contacts.models import (
    Company,
    Contact,
    ContactEmail,
    UserProfile,
    email_domain,
    normalize_email,
)
from upsales_crm import lookups  # noqa: F401 - registers ``__any``

User = get_user_model()


def _normalized(emails: Iterable[str]) -> set[str]:
    return {e for e in (normalize_email(x) for x in emails) if e}


def company_list(*, user, search: str = "") -> QuerySet[Company]:
    if not user.has_perm("contacts.view_company"):
        return Company.objects.none()
    qs = Company.objects.all()
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(email_domains__icontains=search))
    return qs


def company_get(*, user, pk) -> Company:
    try:
        return company_list(user=user).get(pk=pk)
    except (Company.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such company.") from exc


def contact_list(*, user, search: str = "", company=None) -> QuerySet[Contact]:
    if not user.has_perm("contacts.view_contact"):
        return Contact.objects.none()
    qs = Contact.objects.select_related("company").prefetch_related("emails")
    if company is not None:
        qs = qs.filter(company=company)
    if search:
        term = search.strip()
        matching_emails = ContactEmail.objects.filter(email__icontains=term.lower())
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(title__icontains=term)
            | Q(company__name__icontains=term)
            | Q(pk__in=matching_emails.values("contact_id"))
        )
    return qs


def contact_get(*, user, pk) -> Contact:
    try:
        return contact_list(user=user).get(pk=pk)
    except (Contact.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such contact.") from exc


def contacts_by_emails(emails: Iterable[str]) -> dict[str, Contact]:
    """Contacts keyed by lower-cased address, in one query (addresses are stored lower-cased)."""
    wanted = _normalized(emails)
    if not wanted:
        return {}
    rows = ContactEmail.objects.filter(email__any=wanted).select_related("contact")
    return {row.email: row.contact for row in rows}


def users_by_emails(emails: Iterable[str]) -> dict[str, AbstractBaseUser]:
    """Active users keyed by lower-cased address (login e-mail or alias), in two queries."""
    wanted = _normalized(emails)
    if not wanted:
        return {}
    result: dict[str, AbstractBaseUser] = {}
    aliases = (
        EmailAddress.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__any=wanted, user__is_active=True)
        .select_related("user")
    )
    for alias in aliases:
        result[alias.email_lower] = alias.user
    users = User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__any=wanted, is_active=True
    )
    for user in users:
        result[user.email_lower] = user  # the login address wins over an alias row
    return result


class UserDirectory(NamedTuple):
    """What a sync reads of the CRM users' addresses (cached: see ``_directory``)."""

    addresses: set[str]  # the rep's login e-mail and every allauth alias, lower-cased
    # The exact domains of every active user's addresses; no parent or sub-domain matching,
    # and no free-mail domain (``calendar_sync.sync.rules.colleague_domains``).
    colleague_domains: set[str]
    # The same with free-mail domains: an address at any other domain is no user's, so
    # ``users_by_emails`` need not look it up.
    address_domains: set[str]


def sync_directory(user_id: int) -> UserDirectory:
    """The directory as the sync of ``user_id``'s calendar reads it. Every sync classifies
    attendees against it, so it is cached rather than read from every user's addresses each
    time: two cache round trips (the generation, then the three entries); when not cached,
    one statement for both domain sets and one for the rep's addresses."""
    name = f"addresses:{user_id}"
    found = _directory(name, COLLEAGUE_DOMAINS, ADDRESS_DOMAINS)
    return UserDirectory(found[name], found[COLLEAGUE_DOMAINS], found[ADDRESS_DOMAINS])


def _active_user_address_domains() -> list[str]:
    # One statement: a cold directory cache costs a sync one round trip, not two.
    logins = User.objects.filter(is_active=True).values_list("email", flat=True)
    aliases = EmailAddress.objects.filter(user__is_active=True).values_list("email", flat=True)
    return [email_domain(e) for e in logins.union(aliases, all=True)]


def user_time_zone(user) -> str:
    """The zone the user's times are shown in: their own, else the organisation's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return settings.TIME_ZONE
    own = UserProfile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return own or settings.TIME_ZONE


def _read_user_addresses(user_id: int) -> set[str]:
    logins = User.objects.filter(pk=user_id).values_list("email", flat=True)
    aliases = EmailAddress.objects.filter(user_id=user_id).values_list("email", flat=True)
    return _normalized(logins.union(aliases, all=True))


# --- the cached user directory --------------------------------------------------------------------
# Entries live under a generation that any change to a user's login e-mail, active flag or
# aliases replaces (``contacts.receivers``, on commit), so a worker on any host reads either the
# current data or misses. The TTL only bounds what a bulk ``QuerySet.update`` (which sends no
# signal) could leave behind.
DIRECTORY_GENERATION_KEY = "contacts:user-directory:generation"
DIRECTORY_TTL = 60 * 60


def user_directory_changed() -> None:
    """Forget every cached domain set and address set (a new generation)."""
    cache.set(DIRECTORY_GENERATION_KEY, uuid.uuid4().hex, None)


# Named apart from the sets cached before free-mail domains were left out (issue 15), so a
# release never reads one of those in the hour they live.
COLLEAGUE_DOMAINS = "colleague-domains"
ADDRESS_DOMAINS = "address-domains"


def _generation() -> str:
    generation = cache.get(DIRECTORY_GENERATION_KEY)
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(DIRECTORY_GENERATION_KEY, generation, None):
            generation = cache.get(DIRECTORY_GENERATION_KEY, generation)
    return str(generation)


def _read_directory(names: Iterable[str]) -> dict[str, set[str]]:
    """The entries ``names`` from the database; both domain sets come from one statement, so
    either one read fills the other's entry too."""
    found: dict[str, set[str]] = {}
    for name in names:
        if name in (COLLEAGUE_DOMAINS, ADDRESS_DOMAINS) and name not in found:
            domains = _active_user_address_domains()
            found[COLLEAGUE_DOMAINS] = colleague_domains(domains)
            found[ADDRESS_DOMAINS] = set(domains)
        elif name.startswith("addresses:"):
            found[name] = _read_user_addresses(int(name.removeprefix("addresses:")))
    return found


def _directory(*names: str) -> dict[str, set[str]]:
    """Directory entries by name, from the cache under the current generation (one round trip
    for the generation, one for the entries), the missing ones read and cached."""
    prefix = f"contacts:user-directory:{_generation()}:"
    cached = cache.get_many([prefix + name for name in names])
    found = {name: cached[prefix + name] for name in names if prefix + name in cached}
    missing = [name for name in names if name not in found]
    if missing:
        read = _read_directory(missing)
        cache.set_many({prefix + name: value for name, value in read.items()}, DIRECTORY_TTL)
        found.update(read)
    return {name: set(found[name]) for name in names}
