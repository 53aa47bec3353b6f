"""The calendar admin's actions need the change right, not only staff status."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from calendar_sync import services
from calendar_sync.models import CalendarApp, CalendarConnection, ConnectionState
from tests.factories import AppointmentTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

APPS_URL = "/admin/calendar_sync/calendarapp/"
CONNECTIONS_URL = "/admin/calendar_sync/calendarconnection/"


@pytest.fixture
def app_and_connection():
    app = CalendarApp.objects.create(
        provider="google", installed=True, client_id="x", client_secret="s3cret-value-123"
    )
    conn = CalendarConnection.objects.create(
        user=UserFactory(),
        provider="google",
        account_email="rep@g.se",
        appointment_type=AppointmentTypeFactory(name="Möte"),
        refresh_token="rt",
        access_token="at",
    )
    return app, conn


def _staff(client, *codenames: str):
    user = UserFactory(is_staff=True, sales_rep=False)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return user


def test_view_only_staff_cannot_uninstall_or_install_an_app(client, app_and_connection):
    app, conn = app_and_connection
    _staff(client, "view_calendarapp")
    changelist = client.get(APPS_URL).content.decode()
    assert 'value="uninstall"' not in changelist and 'value="install"' not in changelist
    client.post(APPS_URL, {"action": "uninstall", "_selected_action": [app.pk]})
    app.refresh_from_db()
    conn.refresh_from_db()
    assert app.installed and conn.state != ConnectionState.DISCONNECTED
    CalendarApp.objects.filter(pk=app.pk).update(installed=False)
    client.post(APPS_URL, {"action": "install", "_selected_action": [app.pk]})
    app.refresh_from_db()
    assert not app.installed


def test_view_only_staff_cannot_disconnect_a_connection(client, app_and_connection):
    _, conn = app_and_connection
    _staff(client, "view_calendarconnection")
    assert 'value="disconnect"' not in client.get(CONNECTIONS_URL).content.decode()
    client.post(CONNECTIONS_URL, {"action": "disconnect", "_selected_action": [conn.pk]})
    conn.refresh_from_db()
    assert conn.state != ConnectionState.DISCONNECTED and conn.refresh_token == "rt"


def test_staff_with_the_change_right_can_uninstall_and_disconnect(client, app_and_connection):
    app, conn = app_and_connection
    _staff(client, "view_calendarapp", "change_calendarapp")
    client.post(APPS_URL, {"action": "uninstall", "_selected_action": [app.pk]})
    app.refresh_from_db()
    conn.refresh_from_db()
    assert not app.installed and conn.state == ConnectionState.DISCONNECTED

    other = CalendarConnection.objects.create(
        user=UserFactory(), provider="microsoft", account_email="rep@m.se", refresh_token="rt"
    )
    _staff(client, "view_calendarconnection", "change_calendarconnection")
    client.post(CONNECTIONS_URL, {"action": "disconnect", "_selected_action": [other.pk]})
    other.refresh_from_db()
    assert other.state == ConnectionState.DISCONNECTED


def test_disconnect_service_needs_the_change_right_for_someone_elses_connection(
    app_and_connection,
):
    app, conn = app_and_connection
    viewer = UserFactory(is_staff=True, sales_rep=False)
    with pytest.raises(PermissionError):
        services.connection_disconnect(connection=conn, actor=viewer)
    with pytest.raises(PermissionError):
        services.calendar_app_uninstall(app=app, actor=viewer)
    app.refresh_from_db()
    conn.refresh_from_db()
    assert app.installed and conn.state != ConnectionState.DISCONNECTED
    # The rep may always disconnect their own calendar.
    services.connection_disconnect(connection=conn, actor=conn.user)
    conn.refresh_from_db()
    assert conn.state == ConnectionState.DISCONNECTED


def test_masked_secret_shows_only_whether_a_secret_is_stored(client, app_and_connection):
    app, _ = app_and_connection
    blank = CalendarApp.objects.create(provider="microsoft", installed=False, client_id="y")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    change = client.get(f"{APPS_URL}{app.pk}/change/").content.decode()
    assert "s3cret-value-123" not in change and "-123" not in change and "•" not in change
    assert ">set<" in change.replace("\n", "").replace(" ", "")
    other = client.get(f"{APPS_URL}{blank.pk}/change/").content.decode()
    assert "not set" in other
    listing = client.get(APPS_URL).content.decode()
    assert "-123" not in listing and "not set" in listing


def test_masked_secret_is_translated(app_and_connection):
    from django.contrib import admin
    from django.utils import translation

    app, _ = app_and_connection
    model_admin = admin.site._registry[CalendarApp]
    with translation.override("sv"):
        assert model_admin.masked_secret(app) == "angiven"
        assert model_admin.masked_secret(CalendarApp(provider="microsoft")) == "inte angiven"
