"""The polling backstop becomes a tick every minute that enqueues the connections due in it
(``calendar_sync.sync.polling``), instead of every connection at once every 10 minutes."""

from django.db import migrations

NAME = "calendar_sync: poll all connections"


def forwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "calendar_sync.tasks.poll_tick",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def backwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=NAME).update(func="calendar_sync.tasks.sync_all", minutes=10)


class Migration(migrations.Migration):
    dependencies = [("calendar_sync", "0007_sync_status")]

    operations = [migrations.RunPython(forwards, backwards)]
