"""Forms of the calendar settings pages and the App directory admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.models import AppointmentType

from .models import CalendarApp, PrivateEvents


class AppointmentTypeChoiceForm(forms.Form):
    """Step 6: the appointment type events created in the calendar get in the CRM."""

    appointment_type = forms.ModelChoiceField(
        label=_("Appointment type"),
        queryset=AppointmentType.objects.filter(active=True),
        required=True,
        empty_label=_("Choose an appointment type"),
        help_text=_("Appointments created in your calendar are registered with this type."),
    )
    # Not required: a form posted without it keeps the connection's setting.
    private_events = forms.ChoiceField(
        label=_("Private events in your calendar"),
        choices=PrivateEvents.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Events marked private by you or their organizer. As a private appointment, the "
            "customer card still shows that the meeting took place, without its title, "
            "description, place or video link. A change applies to what is logged already too."
        ),
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
