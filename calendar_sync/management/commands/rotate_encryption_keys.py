"""Re-encrypt every encrypted field with the newest key of FIELD_ENCRYPTION_KEYS.

Rotation: prepend a new key to FIELD_ENCRYPTION_KEYS (keep the old ones after it), deploy, run
this command, then drop the old keys.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from calendar_sync.crypto import EncryptedTextField, fernet


class Command(BaseCommand):
    help = "Re-encrypt tokens and secrets at rest with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: object, **options: object) -> None:
        fernet()  # fails early when the keys are misconfigured
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if fields:
                total += self._rotate_model(model, [f.name for f in fields])
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total} values."))

    def _rotate_model(self, model, names: list[str]) -> int:  # noqa: ANN001
        count = 0
        manager = model._base_manager
        for pk in manager.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                # values() decrypts with any configured key (MultiFernet) ...
                row = manager.select_for_update().filter(pk=pk).values(*names).first()
                if row is None:
                    continue
                changes = {name: value for name, value in row.items() if value}
                if changes:
                    # ... and update() encrypts again with the newest one.
                    manager.filter(pk=pk).update(**changes)
                    count += len(changes)
        return count
