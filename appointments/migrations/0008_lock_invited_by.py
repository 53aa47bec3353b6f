"""A locked invitation's reason was stored as English text ("Invited by x@y.se: only the
organizer can change it"); it is now stored as its part (``lock_invited_by``) and said in the
reader's language. Existing rows move over; going back writes the English text again."""

import re

from django.db import migrations, models

ENGLISH = "Invited by {}: only the organizer can change it"
PATTERN = re.compile(r"^Invited by (\S+@\S+): only the organizer can change it$")


def to_parts(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    rows = Appointment.objects.filter(lock_reason__startswith="Invited by ").only("lock_reason")
    changed = []
    for row in rows.iterator():
        match = PATTERN.match(row.lock_reason)
        if match and len(match.group(1)) <= 254:  # anything else stays as it was written
            row.lock_invited_by, row.lock_reason = match.group(1), ""
            changed.append(row)
    Appointment.objects.bulk_update(changed, ["lock_invited_by", "lock_reason"], batch_size=500)


def to_text(apps, schema_editor):
    Appointment = apps.get_model("appointments", "Appointment")
    rows = Appointment.objects.exclude(lock_invited_by="").only("lock_invited_by", "lock_reason")
    changed = []
    for row in rows.iterator():
        row.lock_reason = ENGLISH.format(row.lock_invited_by)[:255]
        changed.append(row)
    Appointment.objects.bulk_update(changed, ["lock_reason"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0007_appointment_private"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="lock_invited_by",
            field=models.EmailField(blank=True, max_length=254, verbose_name="locked: invited by"),
        ),
        migrations.RunPython(to_parts, to_text),
    ]
