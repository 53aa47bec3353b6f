from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactsConfig(AppConfig):
    name = "contacts"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Contacts")

    def ready(self) -> None:
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from .receivers import directory_row_changed, user_saved

        user = get_user_model()
        post_save.connect(user_saved, sender=user, dispatch_uid="contacts_directory_user")
        post_delete.connect(directory_row_changed, sender=user, dispatch_uid="contacts_dir_user_d")
        for signal, uid in (
            (post_save, "contacts_dir_alias"),
            (post_delete, "contacts_dir_alias_d"),
        ):
            signal.connect(directory_row_changed, sender=EmailAddress, dispatch_uid=uid)
