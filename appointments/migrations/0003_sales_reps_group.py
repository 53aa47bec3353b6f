"""The "Sales reps" group: view/add/change on companies, contacts and appointments."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Sales reps"
PERMS = [
    ("contacts", "company", ("view", "add", "change")),
    ("contacts", "contact", ("view", "add", "change")),
    ("appointments", "appointment", ("view", "add", "change")),
]


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations; make sure they exist now.
    for label in ("contacts", "appointments"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None


def add_group(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    for app_label, model, actions in PERMS:
        for action in actions:
            perm = Permission.objects.get(
                content_type__app_label=app_label, codename=f"{action}_{model}"
            )
            group.permissions.add(perm)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0002_view_all_permission"),
        ("contacts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(add_group, remove_group)]
