"""Reads for companies, contacts and the CRM users' addresses (aliases included)."""

from __future__ import annotations

from collections.abc import Iterable

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from contacts.models import (
    Company,
    Contact,
    ContactEmail,
    UserProfile,
    email_domain,
    normalize_email,
)

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
    rows = ContactEmail.objects.filter(email__in=wanted).select_related("contact")
    return {row.email: row.contact for row in rows}


def user_addresses(user: AbstractBaseUser) -> set[str]:
    """The user's login e-mail plus every allauth alias, lower-cased."""
    aliases = EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    return _normalized([getattr(user, "email", ""), *aliases])


def users_by_emails(emails: Iterable[str]) -> dict[str, AbstractBaseUser]:
    """Active users keyed by lower-cased address (login e-mail or alias), in two queries."""
    wanted = _normalized(emails)
    if not wanted:
        return {}
    result: dict[str, AbstractBaseUser] = {}
    aliases = (
        EmailAddress.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=wanted, user__is_active=True)
        .select_related("user")
    )
    for alias in aliases:
        result[alias.email_lower] = alias.user
    users = User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=wanted, is_active=True
    )
    for user in users:
        result[user.email_lower] = user  # the login address wins over an alias row
    return result


def user_domains() -> set[str]:
    """The exact domains of every active user's addresses; no parent or sub-domain matching."""
    logins = User.objects.filter(is_active=True).values_list("email", flat=True)
    aliases = EmailAddress.objects.filter(user__is_active=True).values_list("email", flat=True)
    return {d for d in (email_domain(e) for e in [*logins, *aliases]) if d}


def user_time_zone(user) -> str:
    """The zone the user's times are shown in: their own, else the organisation's."""
    if user is None or not getattr(user, "is_authenticated", False):
        return settings.TIME_ZONE
    own = UserProfile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return own or settings.TIME_ZONE
