"""Companies (the customer card) and contacts, with case-insensitive e-mail look-up."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def normalize_email(value: str) -> str:
    return (value or "").strip().lower()


def email_domain(value: str) -> str:
    value = normalize_email(value)
    return value.rsplit("@", 1)[1] if "@" in value else ""


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200, db_index=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address = models.TextField(_("address"), blank=True)
    # Space or comma separated e-mail domains of the customer, e.g. "acme.se acme.com".
    email_domains = models.CharField(_("e-mail domains"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contacts:company_detail", args=[self.pk])

    @property
    def domain_list(self) -> list[str]:
        return [d.lower() for d in self.email_domains.replace(",", " ").split() if d]


class Contact(models.Model):
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(_("title"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["company", "name"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contacts:contact_detail", args=[self.pk])

    @property
    def primary_email(self) -> str:
        # Uses the prefetched list when there is one.
        emails = list(self.emails.all())
        for e in emails:
            if e.is_primary:
                return e.email
        return emails[0].email if emails else ""


class ContactEmail(models.Model):
    """One of a contact's addresses; stored lower-cased so look-ups are case-insensitive."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.EmailField(_("e-mail"), max_length=254, db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        ordering = ["-is_primary", "email"]
        verbose_name = _("contact e-mail")
        verbose_name_plural = _("contact e-mails")
        constraints = [
            models.UniqueConstraint(fields=["contact", "email"], name="contact_email_unique"),
            models.UniqueConstraint(
                fields=["contact"],
                condition=models.Q(is_primary=True),
                name="contact_one_primary_email",
            ),
        ]
        indexes = [models.Index(Lower("email"), name="contact_email_lower_idx")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)


class UserProfile(models.Model):
    """A user's own settings. ``time_zone`` blank means the organisation's (settings.TIME_ZONE)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone or '-'})"
