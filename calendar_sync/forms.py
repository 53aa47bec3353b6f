"""Forms of the calendar settings pages and the App directory admin."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from appointments.models import AppointmentType

from .models import CalendarApp, ExclusionEntry, PrivateEvents
from .sync import rules


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


class CredentialsConnectForm(forms.Form):
    """Connecting a calendar server with a password (``connect_kind = "credentials"``)."""

    server_url = forms.CharField(
        label=_("Server address"),
        max_length=1024,
        help_text=_("For example https://caldav.icloud.com or https://caldav.fastmail.com/dav/"),
        widget=forms.URLInput(attrs={"autocomplete": "url", "placeholder": "https://"}),
    )
    username = forms.CharField(
        label=_("Username"),
        max_length=255,
        help_text=_("Usually your e-mail address."),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("App-specific password"),
        max_length=255,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
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


class ExclusionEntryForm(forms.Form):
    """An entry for the rep's exclusion list (or, for an administrator, the organisation's)."""

    value = forms.CharField(
        label=_("Address or domain"),
        max_length=254,
        help_text=_("e.g. ceo@client.test, @lawfirm.test or *.bank.test"),
    )
    organisation = forms.ChoiceField(
        label=_("List"),
        choices=[("", _("My list")), ("1", _("The organisation's list"))],
        required=False,
    )

    def __init__(self, *args, can_edit_organisation: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_edit_organisation:
            del self.fields["organisation"]


class ExclusionEntryAdminForm(forms.ModelForm):
    """The value is checked and normalised as the settings page and the API do."""

    class Meta:
        model = ExclusionEntry
        fields = ["owner", "value"]

    def clean_value(self) -> str:
        try:
            value, self.instance.kind = rules.exclusion_parse(self.cleaned_data["value"])
        except rules.InvalidExclusion as exc:
            raise forms.ValidationError(str(exc)) from exc
        return value
