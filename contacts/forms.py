"""Forms for the company and contact pages; saving goes through contacts.services."""

from __future__ import annotations

import re

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from contacts.models import Company


def split_emails(value: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines, lower-cased, de-duplicated."""
    seen: dict[str, None] = {}
    for part in re.split(r"[\s,;]+", value or ""):
        if part:
            seen.setdefault(part.strip().lower(), None)
    return list(seen)


EMAIL_MAX_LENGTH = 254  # RFC 5321; every e-mail column is this long


class EmailListField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value):
        return split_emails(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        for address in value:
            if len(address) > EMAIL_MAX_LENGTH:
                raise forms.ValidationError(
                    _(
                        "%(address)s is longer than %(limit)d characters, the longest e-mail "
                        "address there is."
                    ),
                    code="max_length",
                    params={"address": address[:40] + "…", "limit": EMAIL_MAX_LENGTH},
                )
            try:
                validate_email(address)
            except forms.ValidationError as err:
                raise forms.ValidationError(
                    _("%(address)s is not a valid e-mail address."),
                    code="invalid",
                    params={"address": address},
                ) from err

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value


class CompanyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    email_domains = forms.CharField(
        label=_("E-mail domains"),
        max_length=500,
        required=False,
        help_text=_("Separated by spaces or commas, e.g. acme.se acme.com"),
    )

    @staticmethod
    def initial_for(company: Company) -> dict:
        return {f: getattr(company, f) for f in CompanyForm.base_fields}


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=50, required=False)
    company = forms.ModelChoiceField(
        label=_("Company"), queryset=Company.objects.none(), required=False
    )
    emails = EmailListField(
        label=_("E-mail addresses"),
        required=False,
        help_text=_("One per line or separated by commas; the first is the primary address."),
    )

    def __init__(self, *args, companies=None, **kwargs):
        super().__init__(*args, **kwargs)
        if companies is not None:
            self.fields["company"].queryset = companies
