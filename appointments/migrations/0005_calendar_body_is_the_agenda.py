"""The provider event's body is the agenda (what invitees read); the description is the CRM's
internal note and never goes to the calendar. Appointments imported from a calendar kept the
event's body in the description until now: it moves to the agenda (when that is empty)."""

from __future__ import annotations

from django.db import migrations
from django.db.models import F, Value


def forwards(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    Appointment.objects.exclude(source="crm").filter(agenda="").exclude(description="").update(
        agenda=F("description"), description=Value("")
    )


class Migration(migrations.Migration):
    dependencies = [("appointments", "0004_video_requested")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
