"""The Room cache, and the django-q2 schedule that refreshes it (hourly, by name, idempotent)."""

from django.db import migrations, models

SCHEDULE_NAME = "calendar_sync: refresh room lists"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "calendar_sync.tasks.refresh_rooms",
            "schedule_type": "H",
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calendar_sync", "0003_sync_schedules"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="Room",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "provider",
                    models.CharField(
                        choices=[("google", "Google Calendar"), ("microsoft", "Office365")],
                        max_length=20,
                        verbose_name="provider",
                    ),
                ),
                ("email", models.EmailField(max_length=254, verbose_name="e-mail")),
                ("name", models.CharField(max_length=255, verbose_name="name")),
                ("capacity", models.PositiveIntegerField(default=0, verbose_name="capacity")),
                ("building", models.CharField(blank=True, max_length=255, verbose_name="building")),
                ("refreshed_at", models.DateTimeField(verbose_name="refreshed at")),
            ],
            options={
                "verbose_name": "room",
                "verbose_name_plural": "rooms",
                "ordering": ["provider", "building", "name"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("provider", "email"), name="room_unique_per_provider"
                    )
                ],
            },
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
