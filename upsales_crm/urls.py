from __future__ import annotations

from importlib.util import find_spec

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from upsales_crm import views

# The admin's own login form asks only for the password; send it through allauth's login, which
# asks for the second factor (TOTP) too. Signed-in staff pass; anyone else is sent to log in.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("upsales_crm.api_urls")),
    path("webhooks/calendar/", include("calendar_sync.webhook_urls")),
    path("settings/profile/", views.settings_profile, name="settings_profile"),
    path("settings/api-token/", views.settings_api_token, name="settings_api_token"),
    path("", include("appointments.urls")),
    path("", include("contacts.urls")),
]

# calendar_sync's pages (settings, OAuth callbacks, webhooks) mount themselves once they exist.
if find_spec("calendar_sync.urls") is not None:
    urlpatterns.append(path("", include("calendar_sync.urls")))
