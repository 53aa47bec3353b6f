"""Register the sync's django-q2 schedules, idempotently (by name)."""

from django.db import migrations

SCHEDULES = [
    # name, func, schedule_type, minutes
    ("calendar_sync: poll all connections", "calendar_sync.tasks.sync_all", "I", 10),
    ("calendar_sync: renew push channels", "calendar_sync.tasks.renew_channels", "I", 60),
    ("calendar_sync: push window entries", "calendar_sync.tasks.export_window_entries", "D", None),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": schedule_type,
                "minutes": minutes,
                "repeats": -1,
            },
        )


def remove(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_sync", "0002_eventlink_crm_updated_at"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
