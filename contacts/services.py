"""Changes to companies, contacts, users' e-mail aliases and API tokens."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import available_timezones

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from contacts.models import Company, Contact, ContactEmail, UserProfile, normalize_email

COMPANY_FIELDS = frozenset({"name", "website", "phone", "address", "email_domains"})
CONTACT_FIELDS = frozenset({"name", "title", "phone", "company"})


def _require_perm(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do that."))


def _clean_emails(emails: Iterable[str]) -> list[str]:
    cleaned: list[str] = []
    for raw in emails:
        email = normalize_email(raw)
        if not email:
            continue
        validate_email(email)
        if email not in cleaned:
            cleaned.append(email)
    return cleaned


def _apply_fields(obj, allowed: frozenset[str], fields: dict) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()


def company_create(
    *,
    actor,
    name: str,
    website: str = "",
    phone: str = "",
    address: str = "",
    email_domains: str = "",
) -> Company:
    _require_perm(actor, "contacts.add_company")
    company = Company(
        name=name, website=website, phone=phone, address=address, email_domains=email_domains
    )
    company.full_clean()
    company.save()
    return company


def company_update(*, actor, company: Company, **fields) -> Company:
    _require_perm(actor, "contacts.change_company")
    _apply_fields(company, COMPANY_FIELDS, fields)
    return company


def company_delete(*, actor, company: Company) -> None:
    _require_perm(actor, "contacts.delete_company")
    company.delete()


def _set_contact_emails(contact: Contact, emails: list[str]) -> None:
    contact.emails.all().delete()
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=contact, email=email, is_primary=(i == 0))
        for i, email in enumerate(emails)
    )


@transaction.atomic
def contact_create(
    *,
    actor,
    name: str,
    title: str = "",
    phone: str = "",
    company: Company | None = None,
    emails: Iterable[str] = (),
) -> Contact:
    """Create a contact; the first e-mail is the primary one."""
    _require_perm(actor, "contacts.add_contact")
    cleaned = _clean_emails(emails)
    contact = Contact(name=name, title=title, phone=phone, company=company)
    contact.full_clean()
    contact.save()
    _set_contact_emails(contact, cleaned)
    return contact


@transaction.atomic
def contact_update(
    *, actor, contact: Contact, emails: Iterable[str] | None = None, **fields
) -> Contact:
    """Update fields; `emails`, when given, replaces the addresses (first one primary)."""
    _require_perm(actor, "contacts.change_contact")
    cleaned = _clean_emails(emails) if emails is not None else None
    _apply_fields(contact, CONTACT_FIELDS, fields)
    if cleaned is not None:
        _set_contact_emails(contact, cleaned)
    return contact


def contact_delete(*, actor, contact: Contact) -> None:
    _require_perm(actor, "contacts.delete_contact")
    contact.delete()


def user_alias_add(*, user, email: str) -> None:
    """Add a verified alias address; primary only if the user has no primary address yet."""
    email = normalize_email(email)
    validate_email(email)
    taken = EmailAddress.objects.filter(email__iexact=email).exclude(user=user).exists()
    if taken:
        raise ValidationError(_("That e-mail address belongs to another user."))
    has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
    alias, created = EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": not has_primary}
    )
    if not created and not alias.verified:
        alias.verified = True
        alias.save(update_fields=["verified"])


@transaction.atomic
def api_token_create_or_rotate(*, user) -> str:
    """Give the user a fresh API token, invalidating any previous one."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user).key


def time_zone_choices() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def user_time_zone_set(*, user, time_zone: str) -> UserProfile:
    """Set the zone the user's times are shown in ("" = the organisation's)."""
    if time_zone and time_zone not in available_timezones():
        raise ValidationError({"time_zone": _("Unknown time zone: %(zone)s") % {"zone": time_zone}})
    profile, _created = UserProfile.objects.update_or_create(
        user=user, defaults={"time_zone": time_zone}
    )
    return profile
