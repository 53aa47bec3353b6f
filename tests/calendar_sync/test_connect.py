"""Linking a calendar (Settings → Google Calendar / Office365) through social-auth, over the emulator.

The rep's browser is Django's test client; the provider's sign-in pages are played with requests
(the same code connect_calendar uses).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse
from social_django.models import UserSocialAuth

from calendar_sync import selectors, services
from calendar_sync.management.commands.connect_calendar import emulator_sign_in
from calendar_sync.management.commands.install_calendar_apps import install_demo
from calendar_sync.models import CalendarApp, CalendarConnection, ConnectionState
from calendar_sync.providers.base import AuthRevoked
from calendar_sync.providers.registry import PROVIDERS, get_provider
from tests.calendar_sync.actors import actor_class
from tests.calendar_sync.conftest import OAUTH_PROVIDERS
from tests.factories import AppointmentFactory, AppointmentTypeFactory, UserFactory

BACKEND = {"google": "google-oauth2", "microsoft": "microsoft-graph"}
# Demo accounts from install_calendar_apps: both have two-step verification on.
ACCOUNT = {"google": "karl.andersson@exempel.se", "microsoft": "eva.lind@exempel.se"}
PAGE = {"google": "calendar_sync:google", "microsoft": "calendar_sync:microsoft"}


# --- fixtures and helpers ------------------------------------------------------------------------
@pytest.fixture
def calendar_apps(db, settings, emulator):
    """Both apps installed against the emulator, clients registered for the test client's host."""
    settings.CALENDAR_EMULATOR_URL = emulator.url
    install_demo("http://testserver")
    return emulator


@pytest.fixture
def task_calls(monkeypatch):
    """Record calendar_sync.tasks.connection_activated/_disconnected instead of syncing."""
    import calendar_sync.tasks as tasks

    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks, "connection_activated", lambda cid: calls.append(("activated", cid)))
    monkeypatch.setattr(
        tasks, "connection_disconnected", lambda cid: calls.append(("disconnected", cid))
    )
    return calls


@pytest.fixture
def rep(db):
    return UserFactory(first_name="Karl", last_name="Andersson", email="karl.andersson@exempel.se")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def meeting(db):
    return AppointmentTypeFactory(name="Meeting")


def begin(client, provider: str):
    return client.post(reverse("social:begin", args=[BACKEND[provider]]))


def sign_in_at_provider(client, provider: str, account: str | None = None) -> str:
    """Begin in the CRM, sign in at the emulator; returns the callback path+query (not followed)."""
    resp = begin(client, provider)
    assert resp.status_code == 302, resp
    callback = emulator_sign_in(provider, resp["Location"], account or ACCOUNT[provider])
    parts = urlsplit(callback)
    assert parts.netloc == "testserver"
    return f"{parts.path}?{parts.query}"


def connect(client, provider: str, account: str | None = None):
    return client.get(sign_in_at_provider(client, provider, account))


def save_type(client, provider: str, appointment_type):
    return client.post(
        reverse("calendar_sync:save", args=[provider]), {"appointment_type": appointment_type.pk}
    )


def refresh_at_emulator(provider: str, app: CalendarApp, refresh_token: str) -> dict:
    url = get_provider(provider).oauth().token_url(app)
    return requests.post(
        url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
        timeout=10,
    ).json()


# The OAuth flow: every provider reps connect through OAuth (the registry's connect_kind).
providers = pytest.mark.parametrize("provider", OAUTH_PROVIDERS)


# --- the flow --------------------------------------------------------------------------------------
@providers
def test_connect_choose_type_save_activates_and_starts_first_sync(
    provider,
    calendar_apps,
    rep_client,
    rep,
    meeting,
    task_calls,
    django_capture_on_commit_callbacks,
):
    page = rep_client.get(reverse(PAGE[provider]))
    assert b"Activate" in page.content
    connect_page = rep_client.get(reverse("calendar_sync:connect", args=[provider]))
    label = actor_class(provider).connect_label.encode()
    assert label in connect_page.content

    resp = connect(rep_client, provider)

    assert resp.status_code == 302 and resp["Location"] == reverse(PAGE[provider])
    connection = CalendarConnection.objects.get(user=rep)
    assert connection.provider == provider
    assert connection.account_email == ACCOUNT[provider]
    assert connection.state == ConnectionState.ACTIVE
    assert connection.access_token and connection.refresh_token
    assert connection.appointment_type is None and not selectors.has_active_calendar(rep)
    # Step 6: the type is asked for.
    page = rep_client.get(reverse(PAGE[provider]))
    assert b"Choose an appointment type" in page.content and b"Save" in page.content

    with django_capture_on_commit_callbacks(execute=True):
        resp = save_type(rep_client, provider, meeting)

    assert resp.status_code == 302
    connection.refresh_from_db()
    assert connection.appointment_type == meeting and connection.activated_at is not None
    assert selectors.has_active_calendar(rep)
    assert selectors.connection_for_user(rep) == connection
    assert task_calls == [("activated", connection.pk)]
    status = rep_client.get(reverse(PAGE[provider])).content.decode()
    assert ACCOUNT[provider] in status and "Disconnect" in status


def test_type_is_required_and_changeable(
    calendar_apps, rep_client, rep, meeting, task_calls, django_capture_on_commit_callbacks
):
    connect(rep_client, "google")
    resp = rep_client.post(reverse("calendar_sync:save", args=["google"]), {})
    assert resp.status_code == 400
    assert CalendarConnection.objects.get(user=rep).appointment_type is None
    demo = AppointmentTypeFactory(name="Demo")
    with django_capture_on_commit_callbacks(execute=True):
        save_type(rep_client, "google", meeting)
        save_type(rep_client, "google", demo)
    connection = CalendarConnection.objects.get(user=rep)
    assert connection.appointment_type == demo
    assert [c for c in task_calls if c[0] == "activated"] == [("activated", connection.pk)]


@providers
def test_connected_address_becomes_a_verified_alias(provider, calendar_apps, rep_client, rep):
    from allauth.account.models import EmailAddress

    connect(rep_client, provider)
    alias = EmailAddress.objects.get(user=rep, email=ACCOUNT[provider])
    assert alias.verified


def test_microsoft_mail_on_another_domain_than_the_sign_in_name_is_not_trusted_as_an_alias(
    calendar_apps, rep_client, rep, monkeypatch
):
    """nOAuth: a tenant admin can set any `mail`; only the UPN's domain is verified."""
    from allauth.account.models import EmailAddress

    from calendar_sync.providers.microsoft.oauth import MicrosoftCalendarOAuth2

    real_user_data = MicrosoftCalendarOAuth2.user_data

    def spoofed(self, access_token, *args, **kwargs):
        data = real_user_data(self, access_token, *args, **kwargs)
        return {**data, "mail": "ceo@acme.se"}  # the UPN stays on exempel.se

    monkeypatch.setattr(MicrosoftCalendarOAuth2, "user_data", spoofed)
    connect(rep_client, "microsoft")
    assert not EmailAddress.objects.filter(email="ceo@acme.se").exists()
    assert CalendarConnection.objects.get(user=rep).account_email == "ceo@acme.se"


@pytest.mark.parametrize(
    ("provider", "email", "response", "trusted"),
    [
        ("google", "karl@exempel.se", {"email_verified": True}, True),
        ("google", "karl@exempel.se", {"email_verified": False}, False),
        ("microsoft", "karl@exempel.se", {"userPrincipalName": "karl@exempel.se"}, True),
        ("microsoft", "karl@exempel.se", {"userPrincipalName": "KARL@Exempel.se"}, True),
        ("microsoft", "cfo@exempel.se", {"userPrincipalName": "eve@evil.onmicrosoft.com"}, False),
        ("microsoft", "karl@exempel.se", {}, False),
    ],
)
def test_address_is_verified(provider, email, response, trusted):
    from calendar_sync.pipeline import address_is_verified

    assert address_is_verified(provider, email, response) is trusted


@providers
def test_authorize_request_has_state_pkce_exact_redirect_and_minimal_scopes(
    provider, calendar_apps, rep_client
):
    resp = begin(rep_client, provider)
    query = parse_qs(urlsplit(resp["Location"]).query)
    assert query["redirect_uri"] == [f"http://testserver/oauth/complete/{BACKEND[provider]}/"]
    assert len(query["state"][0]) >= 32
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    scopes = list(get_provider(provider).scopes)
    assert query["scope"][0].split() == scopes
    assert actor_class(provider).asks_offline_access(query)


def test_begin_is_post_only_with_csrf(calendar_apps, rep, client):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(rep)
    assert csrf_client.post(reverse("social:begin", args=["google-oauth2"])).status_code == 403
    client.force_login(rep)
    assert client.get(reverse("social:begin", args=["google-oauth2"])).status_code == 405


# --- security --------------------------------------------------------------------------------------
def test_state_mismatch_is_refused(calendar_apps, rep_client, rep):
    callback = sign_in_at_provider(rep_client, "google")
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "x" * 32
    resp = rep_client.get(f"{parts.path}?{urlencode(query)}", follow=True)
    assert not CalendarConnection.objects.filter(user=rep).exists()
    assert "could not be completed" in resp.content.decode()


def test_missing_state_is_refused(calendar_apps, rep_client, rep):
    callback = sign_in_at_provider(rep_client, "microsoft")
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items() if k != "state"}
    rep_client.get(f"{parts.path}?{urlencode(query)}")
    assert not CalendarConnection.objects.filter(user=rep).exists()


@providers
def test_replayed_callback_and_replayed_code_are_refused(provider, calendar_apps, rep_client, rep):
    callback = sign_in_at_provider(rep_client, provider)
    assert rep_client.get(callback).status_code == 302
    connection = CalendarConnection.objects.get(user=rep)
    services.connection_disconnect(connection=connection, actor=rep, revoke=False)

    # The same callback again: its state was single-use.
    resp = rep_client.get(callback, follow=True)
    assert "could not be completed" in resp.content.decode()
    # The old code with a fresh, valid state: the provider refuses the used code.
    fresh = parse_qs(urlsplit(begin(rep_client, provider)["Location"]).query)["state"][0]
    old_code = parse_qs(urlsplit(callback).query)["code"][0]
    path = urlsplit(callback).path
    resp = rep_client.get(f"{path}?{urlencode({'code': old_code, 'state': fresh})}", follow=True)
    assert "could not be completed" in resp.content.decode()
    assert not selectors.live_connections().filter(user=rep).exists()


def test_callback_of_another_users_flow_cannot_link_to_you(calendar_apps, client, rep, db):
    from django.test import Client

    victim_callback = sign_in_at_provider(_logged_in(client, rep), "google")
    attacker = UserFactory(email="mallory@exempel.se")
    attacker_client = Client()
    attacker_client.force_login(attacker)

    attacker_client.get(victim_callback)

    assert not CalendarConnection.objects.exists()


def _logged_in(client, user):
    client.force_login(user)
    return client


def test_anonymous_cannot_begin_or_complete(calendar_apps, client, rep):
    assert begin(client, "google").status_code == 403
    resp = client.get(
        reverse("social:complete", args=["google-oauth2"]), {"code": "4/0abc", "state": "x" * 32}
    )
    assert resp.status_code == 403
    assert not CalendarConnection.objects.exists()


def test_anonymous_with_a_valid_callback_is_refused(calendar_apps, client, rep):
    from django.test import Client

    callback = sign_in_at_provider(_logged_in(client, rep), "google")
    assert Client().get(callback).status_code == 403
    assert not CalendarConnection.objects.exists()


@providers
def test_pipeline_never_creates_users_nor_signs_anyone_in(provider, calendar_apps, client, rep):
    # Another user owns the provider account's address: linking must not sign in as them.
    owner = UserFactory(email=f"other.{ACCOUNT[provider]}")
    rep_client = _logged_in(client, rep)
    users_before = get_user_model().objects.count()

    connect(rep_client, provider)

    assert get_user_model().objects.count() == users_before
    assert int(rep_client.session["_auth_user_id"]) == rep.pk
    assert owner.pk != rep.pk
    assert not UserSocialAuth.objects.exists()  # tokens live only encrypted on the connection


def test_social_backends_are_not_login_backends(settings):
    from django.contrib.auth import authenticate

    assert not any("calendar_sync" in b for b in settings.AUTHENTICATION_BACKENDS)
    assert authenticate(None, response={"email": "x@y.z"}, backend=None) is None


@providers
def test_account_linked_by_another_rep_is_refused(provider, calendar_apps, client, rep):
    from django.test import Client

    connect(_logged_in(client, rep), provider)
    other = UserFactory(email="eva.lind@exempel.se")
    other_client = Client()
    other_client.force_login(other)

    resp = other_client.get(sign_in_at_provider(other_client, provider), follow=True)

    assert "already connected by another user" in resp.content.decode()
    assert not CalendarConnection.objects.filter(user=other).exists()


def test_a_refused_link_revokes_the_grant_it_just_received(calendar_apps, client, rep):
    """Google: the grant the second rep's flow produced is revoked at once (nobody keeps its
    tokens); the first rep's own grant stays valid. Microsoft has no revocation endpoint."""
    from django.test import Client

    connect(_logged_in(client, rep), "google")
    kept = CalendarConnection.objects.get(user=rep)
    other_client = Client()
    other_client.force_login(UserFactory(email="eva.lind@exempel.se"))

    other_client.get(sign_in_at_provider(other_client, "google"), follow=True)

    grants = [
        g
        for g in calendar_apps.state.grants.values()
        if g.provider == "google" and g.account_email == ACCOUNT["google"]
    ]
    assert len(grants) == 2
    refused = [g for g in grants if g.refresh_token != kept.refresh_token]
    assert [g.revoked for g in refused] == [True]
    app = CalendarApp.objects.get(provider="google")
    assert "access_token" in refresh_at_emulator("google", app, kept.refresh_token)


def test_one_live_connection_per_rep(calendar_apps, rep_client, rep, meeting, task_calls):
    connect(rep_client, "google")
    save_type(rep_client, "google", meeting)

    page = rep_client.get(reverse("calendar_sync:connect", args=["microsoft"])).content.decode()
    assert "disconnect Google Calendar before you connect Office365" in page
    resp = rep_client.get(sign_in_at_provider(rep_client, "microsoft"), follow=True)

    assert "before connecting another calendar" in resp.content.decode()
    assert list(
        selectors.live_connections().filter(user=rep).values_list("provider", flat=True)
    ) == ["google"]


@pytest.mark.parametrize("provider", OAUTH_PROVIDERS)
def test_uninstalled_app_page_explains_it_and_the_oauth_flow_is_404(
    provider, calendar_apps, rep_client
):
    CalendarApp.objects.filter(provider=provider).update(installed=False)

    page = rep_client.get(reverse(PAGE[provider]))
    assert page.status_code == 200
    assert b'id="calendar-app-uninstalled"' in page.content
    assert b"Activate" not in page.content
    assert rep_client.get(reverse("calendar_sync:connect", args=[provider])).status_code == 404
    assert begin(rep_client, provider).status_code == 404
    complete = reverse("social:complete", args=[BACKEND[provider]])
    assert rep_client.get(complete, {"code": "c", "state": "s"}).status_code == 404


def test_unknown_backend_is_404(calendar_apps, rep_client):
    assert rep_client.post("/oauth/login/github/").status_code == 404
    assert rep_client.get("/oauth/complete/github/").status_code == 404


def test_settings_menu_lists_installed_apps_only(calendar_apps, rep_client, rep):
    from django.test import RequestFactory

    from calendar_sync.views import settings_menu_entries

    request = RequestFactory().get("/")
    request.user = rep
    # In the registry's order; CalDAV needs no client, so install_calendar_apps installs it too.
    assert [e[1] for e in settings_menu_entries(request)] == [
        *(PROVIDERS[p].url_name() for p in PROVIDERS),
        "calendar_sync:exclusions",  # the exclusion lists, whatever is installed
    ]
    CalendarApp.objects.exclude(provider="microsoft").update(installed=False)
    assert [e[0] for e in settings_menu_entries(request)] == ["Office365", "Exclusion list"]
    profile = rep_client.get(reverse("settings_profile")).content.decode()
    assert "Office365" in profile and "Google Calendar" not in profile


def test_no_app_installed_says_ask_the_administrator(db, rep_client):
    page = rep_client.get(reverse("calendar_sync:index")).content.decode()
    assert "Ask your administrator to install the app in the App directory" in page
    profile = rep_client.get(reverse("settings_profile")).content.decode()
    assert reverse("calendar_sync:index") in profile


def test_denying_access_connects_nothing(calendar_apps, rep_client, rep):
    resp = begin(rep_client, "google")
    callback = resp["Location"]
    query = parse_qs(urlsplit(callback).query)
    denied = reverse("social:complete", args=["google-oauth2"])
    resp = rep_client.get(
        denied, {"error": "access_denied", "state": query["state"][0]}, follow=True
    )
    assert "did not allow access" in resp.content.decode()
    assert not CalendarConnection.objects.exists()


# --- disconnect, revocation, reconnect ---------------------------------------------------------------
@providers
def test_uninstalling_the_app_shows_each_affected_rep_a_banner_not_a_404(
    provider, calendar_apps, client, rep, meeting, task_calls, django_capture_on_commit_callbacks
):
    client.force_login(rep)
    connect(client, provider)
    save_type(client, provider, meeting)
    admin = UserFactory(email="admin@exempel.se", is_staff=True, is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.calendar_app_uninstall(app=CalendarApp.objects.get(provider=provider), actor=admin)

    page = client.get(reverse("appointments:list"))
    assert b'id="calendar-uninstalled-banner"' in page.content
    assert ACCOUNT[provider].encode() in page.content
    assert client.get(reverse(PAGE[provider])).status_code == 200
    # A rep who never had the app is not bothered.
    other = UserFactory(email="eva.lind@exempel.se")
    client.force_login(other)
    assert b"calendar-uninstalled-banner" not in client.get(reverse("appointments:list")).content


@providers
def test_disconnect_asks_for_confirmation_first(
    provider, calendar_apps, rep_client, rep, meeting, task_calls
):
    connect(rep_client, provider)
    save_type(rep_client, provider, meeting)
    status = rep_client.get(reverse(PAGE[provider])).content.decode()
    confirm_url = reverse("calendar_sync:disconnect", args=[provider])
    assert f'href="{confirm_url}"' in status  # a link to the question, not a one-click POST

    page = rep_client.get(confirm_url)
    assert page.status_code == 200 and b'id="disconnect-confirm"' in page.content
    assert CalendarConnection.objects.get(user=rep).state == ConnectionState.ACTIVE


@providers
def test_reconnecting_the_same_account_resumes_the_connection(
    provider,
    calendar_apps,
    rep_client,
    rep,
    meeting,
    task_calls,
    django_capture_on_commit_callbacks,
):
    connect(rep_client, provider)
    save_type(rep_client, provider, meeting)
    first = CalendarConnection.objects.get(user=rep)
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post(reverse("calendar_sync:disconnect", args=[provider]))
    task_calls.clear()

    with django_capture_on_commit_callbacks(execute=True):
        connect(rep_client, provider)

    again = CalendarConnection.objects.get(user=rep)  # still one row: the same connection
    assert again.pk == first.pk and again.state == ConnectionState.ACTIVE
    assert again.activated_at == first.activated_at and again.appointment_type == meeting
    assert ("activated", again.pk) in task_calls  # the sync picks up, no type step again


@providers
def test_connect_page_says_what_happens_to_the_meetings_of_a_disconnected_account(
    provider,
    calendar_apps,
    rep_client,
    rep,
    meeting,
    task_calls,
    django_capture_on_commit_callbacks,
):
    from calendar_sync.models import EventLink

    connect(rep_client, provider)
    save_type(rep_client, provider, meeting)
    connection = CalendarConnection.objects.get(user=rep)
    upcoming = AppointmentFactory(organizer=rep, appointment_type=meeting)  # in two days
    EventLink.objects.create(connection=connection, appointment=upcoming, provider_event_id="e1")
    with django_capture_on_commit_callbacks(execute=True):
        rep_client.post(reverse("calendar_sync:disconnect", args=[provider]))

    page = rep_client.get(reverse("calendar_sync:connect", args=[provider])).content.decode()
    assert "1 upcoming appointment was sent from " + ACCOUNT[provider] in page
    assert "nobody is invited twice" in page


@providers
def test_disconnect_stops_push_revokes_and_keeps_appointments(
    provider,
    calendar_apps,
    rep_client,
    rep,
    meeting,
    task_calls,
    django_capture_on_commit_callbacks,
):
    connect(rep_client, provider)
    save_type(rep_client, provider, meeting)
    connection = CalendarConnection.objects.get(user=rep)
    refresh_token = connection.refresh_token
    appointment = AppointmentFactory(organizer=rep, appointment_type=meeting)

    with django_capture_on_commit_callbacks(execute=True):
        resp = rep_client.post(reverse("calendar_sync:disconnect", args=[provider]))

    assert resp.status_code == 302
    connection.refresh_from_db()
    assert connection.state == ConnectionState.DISCONNECTED
    assert connection.access_token == "" and connection.refresh_token == ""
    assert ("disconnected", connection.pk) in task_calls
    assert appointment.__class__.objects.filter(pk=appointment.pk).exists()
    assert not selectors.has_active_calendar(rep)
    if actor_class(provider).revokes_grant:
        app = CalendarApp.objects.get(provider=provider)
        assert refresh_at_emulator(provider, app, refresh_token)["error"] == "invalid_grant"
    assert b"Activate" in rep_client.get(reverse(PAGE[provider])).content


@providers
def test_refresh_tokens_gives_a_new_access_token(provider, calendar_apps, rep_client, rep):
    connect(rep_client, provider)
    connection = CalendarConnection.objects.get(user=rep)
    old_access, old_refresh = connection.access_token, connection.refresh_token

    tokens = services.connection_refresh_tokens(connection=connection)

    connection.refresh_from_db()
    assert tokens.access_token != old_access and connection.access_token == tokens.access_token
    assert connection.token_expires_at is not None
    if actor_class(provider).rotates_refresh_token:
        assert connection.refresh_token != old_refresh
    else:
        assert connection.refresh_token == old_refresh


@providers
def test_invalid_grant_marks_needs_reconnect_and_reconnect_restores(
    provider,
    calendar_apps,
    rep_client,
    rep,
    meeting,
    task_calls,
    django_capture_on_commit_callbacks,
):
    connect(rep_client, provider)
    with django_capture_on_commit_callbacks(execute=True):
        save_type(rep_client, provider, meeting)
    connection = CalendarConnection.objects.get(user=rep)
    requests.post(
        f"{calendar_apps.url}/_emulator/accounts/{provider}/{ACCOUNT[provider]}/revoke", timeout=5
    )

    with pytest.raises(AuthRevoked):
        services.connection_refresh_tokens(connection=connection)

    connection.refresh_from_db()
    assert connection.state == ConnectionState.NEEDS_RECONNECT
    assert "revoked" in connection.last_error
    assert not selectors.has_active_calendar(rep)
    # The banner shows on every page, with a Reconnect button into the OAuth flow.
    page = rep_client.get(reverse("appointments:calendar")).content.decode()
    assert 'id="calendar-reconnect-banner"' in page and "Reconnect" in page
    assert reverse("social:begin", args=[BACKEND[provider]]) in page

    with django_capture_on_commit_callbacks(execute=True):
        connect(rep_client, provider)

    connection.refresh_from_db()
    assert connection.state == ConnectionState.ACTIVE and connection.appointment_type == meeting
    assert task_calls.count(("activated", connection.pk)) == 2  # the sync resumes
    page = rep_client.get(reverse("appointments:calendar")).content.decode()
    assert 'id="calendar-reconnect-banner"' not in page


def test_needs_reconnect_is_parked_no_retry(calendar_apps, rep_client, rep, monkeypatch):
    connect(rep_client, "google")
    connection = CalendarConnection.objects.get(user=rep)
    calls = []
    import calendar_sync.providers.google.oauth as google_oauth

    def revoked(conn):
        calls.append(conn.pk)
        raise AuthRevoked("invalid_grant: Token has been expired or revoked.")

    monkeypatch.setattr(google_oauth, "refresh_tokens", revoked)
    with pytest.raises(AuthRevoked):
        services.connection_refresh_tokens(connection=connection)
    assert calls == [connection.pk]
    assert AuthRevoked("x").permanent


def test_connect_calendar_command(calendar_apps, rep, meeting, task_calls, settings):
    from django.core.management import call_command

    settings.PUBLIC_BASE_URL = "http://testserver"
    call_command(
        "connect_calendar",
        user=rep.email,
        provider="microsoft",
        account="eva.lind@exempel.se",
        appointment_type="Meeting",
    )
    connection = CalendarConnection.objects.get(user=rep)
    assert connection.provider == "microsoft" and connection.is_active
    assert connection.refresh_token


def test_connect_calendar_command_refuses_without_emulator(db, settings, rep, meeting):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    settings.CALENDAR_EMULATOR_URL = ""
    with pytest.raises(CommandError, match="emulator only"):
        call_command(
            "connect_calendar",
            user=rep.email,
            provider="google",
            account="x@gmail.example",
            appointment_type="Meeting",
        )
