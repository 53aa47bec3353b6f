"""Attendee: user_id and contact_id each lead an index in Meta ((user, appointment) and
(contact, appointment)), so the foreign keys' own indexes are dropped; the constraints stay as
they are (no re-validation)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "appointments_attendee"
DROPPED = {
    "appointments_attendee_contact_id_149fce5c": "contact_id",
    "appointments_attendee_user_id_25f43310": "user_id",
}


def drop(apps, schema_editor):
    for name in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor):
    for name, column in DROPPED.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" ("{column}")')


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0009_caldav_provider"),
        ("contacts", "0002_user_profile"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="attendee",
                    name="contact",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="attendances", to="contacts.contact"),
                ),
                migrations.AlterField(
                    model_name="attendee",
                    name="user",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="attended_appointments",
                                            to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[migrations.RunPython(drop, restore)],
        ),
    ]  # fmt: skip
