"""EventLink: every index once. The foreign keys' own indexes repeated the ones in Meta
(connection_id leads the unique key and the skip-reason index, appointment_id had two), and
ical_uid had a LIKE-pattern twin (PostgreSQL) it is never searched with. Only the redundant
indexes are dropped: the foreign key constraints stay as they are (no re-validation)."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "calendar_sync_eventlink"
DROPPED = {  # name -> column; the *_like twin exists on PostgreSQL only
    "calendar_sync_eventlink_appointment_id_21ac418a": "appointment_id",
    "calendar_sync_eventlink_connection_id_0908b674": "connection_id",
    "calendar_sync_eventlink_ical_uid_0a18d820": "ical_uid",
    "calendar_sync_eventlink_ical_uid_0a18d820_like": "ical_uid varchar_pattern_ops",
}


def drop(apps, schema_editor):
    for name in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


def restore(apps, schema_editor):
    for name, column in DROPPED.items():
        if name.endswith("_like") and schema_editor.connection.vendor != "postgresql":
            continue
        column, _, ops = column.partition(" ")
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{TABLE}" ("{column}" {ops})'.replace(" )", ")")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0010_fewer_indexes"),
        ("calendar_sync", "0013_caldav_provider"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="eventlink",
                    name="appointment",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL,
                                            related_name="event_links",
                                            to="appointments.appointment"),
                ),
                migrations.AlterField(
                    model_name="eventlink",
                    name="connection",
                    field=models.ForeignKey(db_index=False,
                                            on_delete=django.db.models.deletion.CASCADE,
                                            related_name="event_links",
                                            to="calendar_sync.calendarconnection"),
                ),
                migrations.AlterField(
                    model_name="eventlink",
                    name="ical_uid",
                    field=models.CharField(blank=True, max_length=1024),
                ),
            ],
            database_operations=[migrations.RunPython(drop, restore)],
        ),
        migrations.AddIndex(
            model_name="eventlink",
            index=models.Index(fields=["ical_uid"], name="event_link_ical_uid"),
        ),
    ]  # fmt: skip
