"""Forms of the calendar settings pages and the App directory admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.models import AppointmentType

from .models import CalendarApp


class AppointmentTypeChoiceForm(forms.Form):
    """Step 6: the appointment type events created in the calendar get in the CRM."""

    appointment_type = forms.ModelChoiceField(
        label=_("Appointment type"),
        queryset=AppointmentType.objects.filter(active=True),
        required=True,
        empty_label=_("Choose an appointment type"),
        help_text=_("Appointments created in your calendar are registered with this type."),
    )


class CalendarAppAdminForm(forms.ModelForm):
    """The client secret is write-only: never rendered back, blank keeps the stored one."""

    client_secret = forms.CharField(
        label=_("OAuth client secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted. Leave blank to keep the current secret."),
    )

    class Meta:
        model = CalendarApp
        fields = ["provider", "installed", "client_id", "client_secret", "tenant"]

    def clean_client_secret(self) -> str:
        value = self.cleaned_data.get("client_secret") or ""
        if not value and self.instance.pk:
            return self.instance.client_secret
        return value
