"""The provider registry: the one place that knows the providers. A missing or incomplete entry
fails at start-up, an unknown id never borrows another provider's behaviour, and no code outside
the provider packages names a provider id."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse

from calendar_sync.providers import registry
from calendar_sync.providers.registry import PROVIDERS, UnknownProvider, get_provider
from calendar_sync.providers.spec import CalendarProvider

ROOT = Path(__file__).resolve().parents[2]


# --- start-up check ----------------------------------------------------------------------------
class Incomplete(CalendarProvider):
    id = "incomplete"
    label = "Incomplete"


def test_registry_of_this_release_passes_the_system_check():
    assert registry.problems() == []
    call_command("check")


def test_provider_missing_attributes_fails_the_system_check(monkeypatch):
    monkeypatch.setitem(registry.PROVIDERS, "incomplete", Incomplete)
    with pytest.raises(SystemCheckError, match=r"Incomplete \('incomplete'\) does not set"):
        call_command("check")
    assert "trusts_email_claim" in registry.problems()[0]


def test_provider_registered_under_another_id_fails_the_check(monkeypatch):
    monkeypatch.setitem(registry.PROVIDERS, "other", PROVIDERS["google"])
    assert any("registered as 'other'" in p for p in registry.problems())


def test_provider_with_an_unloadable_adapter_fails_the_check(monkeypatch):
    class Broken(PROVIDERS["google"]):  # type: ignore[misc,valid-type]
        id = "broken"
        backend_name = "broken-oauth2"
        settings_slug = "broken"
        adapter_factory = "calendar_sync.providers.nowhere:factory"

    monkeypatch.setitem(registry.PROVIDERS, "broken", Broken)
    assert any("cannot load calendar_sync.providers.nowhere" in p for p in registry.problems())


def test_credentials_provider_needs_its_connect_function_not_oauth(monkeypatch):
    class NoConnect(PROVIDERS["caldav"]):  # type: ignore[misc,valid-type]
        id = "noconnect"
        settings_slug = "noconnect"
        credentials_connect = ""

    monkeypatch.setitem(registry.PROVIDERS, "noconnect", NoConnect)
    assert registry.problems() == ["NoConnect ('noconnect') does not set credentials_connect"]


def test_unknown_connect_kind_fails_the_check(monkeypatch):
    class Telepathy(PROVIDERS["caldav"]):  # type: ignore[misc,valid-type]
        id = "telepathy"
        settings_slug = "telepathy"
        connect_kind = "telepathy"

    monkeypatch.setitem(registry.PROVIDERS, "telepathy", Telepathy)
    assert any("connect_kind 'telepathy'" in p for p in registry.problems())


def test_push_without_webhook_fails_the_check(monkeypatch):
    class NoWebhook(PROVIDERS["microsoft"]):  # type: ignore[misc,valid-type]
        id = "nowebhook"
        backend_name = "nowebhook-oauth2"
        settings_slug = "nowebhook"
        webhook_handler = None

    monkeypatch.setitem(registry.PROVIDERS, "nowebhook", NoWebhook)
    assert any("push and webhook_handler go together" in p for p in registry.problems())


# --- no fallback -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_unknown_provider_is_refused_not_treated_as_another(django_user_model):
    from calendar_sync.models import CalendarConnection
    from calendar_sync.pipeline import address_is_verified
    from calendar_sync.providers import get_adapter
    from calendar_sync.sync import engine, push

    user = django_user_model.objects.create_user(username="rep", email="rep@exempel.se")
    connection = CalendarConnection.objects.create(
        user=user, provider="zimbra", account_email="rep@exempel.se"
    )
    with pytest.raises(UnknownProvider, match="zimbra"):
        get_adapter(connection)
    with pytest.raises(UnknownProvider):
        engine.build_context(connection)
    with pytest.raises(UnknownProvider):
        push.ttl(connection)
    with pytest.raises(UnknownProvider):
        address_is_verified("zimbra", "rep@exempel.se", {"email_verified": True})
    with pytest.raises(UnknownProvider):
        get_provider("zimbra")


# --- everything derives from the registry ----------------------------------------------------------
def test_settings_pages_oauth_backends_and_webhooks_come_from_the_registry():
    oauth = [p for p in PROVIDERS.values() if p.connect_kind == "oauth"]
    assert oauth == registry.with_oauth() and len(oauth) >= 2
    assert settings.SOCIAL_AUTH_AUTHENTICATION_BACKENDS == [p.oauth_backend for p in oauth]
    for provider in PROVIDERS.values():
        assert reverse(provider.url_name()) == f"/settings/calendar/{provider.settings_slug}/"
        if provider in oauth:
            setting = f"SOCIAL_AUTH_{provider.backend_name.upper().replace('-', '_')}_USE_PKCE"
            assert getattr(settings, setting) is True
        if provider.push is not None:
            assert (
                reverse(f"calendar_webhooks:{provider.id}") == f"/webhooks/calendar/{provider.id}/"
            )


def test_model_choices_are_the_registry():
    from appointments.models import Source
    from calendar_sync.models import CalendarApp, CalendarConnection, Room

    expected = [(p.id, p.label) for p in PROVIDERS.values()]
    for model in (CalendarApp, CalendarConnection, Room):
        assert model._meta.get_field("provider").choices == expected
    assert Source.choices == [("crm", "CRM"), *expected]


@pytest.mark.django_db
def test_a_provider_without_push_starts_no_channel_and_is_never_renewed(monkeypatch, sync_type):
    """A polling-only provider (a CalDAV server, say) is one registry entry with push = None."""
    from calendar_sync.models import CalendarConnection
    from calendar_sync.sync import push
    from tests.factories import UserFactory

    class PollOnly(PROVIDERS["google"]):  # type: ignore[misc,valid-type]
        id = "pollonly"
        backend_name = "pollonly-oauth2"
        settings_slug = "pollonly"
        push = None
        webhook_handler = None

    monkeypatch.setitem(registry.PROVIDERS, "pollonly", PollOnly)
    assert registry.problems() == []
    connection = CalendarConnection.objects.create(
        user=UserFactory(),
        provider="pollonly",
        account_email="rep@exempel.se",
        appointment_type=sync_type,
    )
    assert push.start_push(connection) is None
    assert connection not in push.due_for_renewal()
    assert "pollonly" not in [p.id for p in registry.with_push()]


# --- no provider id outside the provider packages --------------------------------------------------
SCANNED = ["calendar_sync", "appointments", "contacts", "upsales_crm", "templates", "scripts"]
ALLOWED = [
    "calendar_sync/providers/google/",
    "calendar_sync/providers/microsoft/",
    "calendar_sync/providers/caldav/",
    "calendar_sync/providers/registry.py",
    "/migrations/",
    # Seeds the emulator's own stores (emulator-side code, like the tests), not the CRM.
    "scripts/bench.py",
]
IDS = "|".join(re.escape(i) for i in PROVIDERS)
# A provider id as a token of its own: "google", "calendar_sync:google", "/google/", a dotted
# path through providers.google; not "googleapiclient" or "Google Calendar".
ID_TOKEN = re.compile(rf"(?<![A-Za-z0-9_])({IDS})(?![A-Za-z0-9_])")
TEMPLATE_LITERAL = re.compile(rf"""["']({IDS})["']|:({IDS})["']""")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def provider_id_literals(path: Path) -> list[str]:
    """Where ``path`` names a provider id in code (docstrings and comments are prose)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        return [f"{path}: {m.group(0)}" for m in TEMPLATE_LITERAL.finditer(text)]
    tree = ast.parse(text)
    docs = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            if ID_TOKEN.search(node.value) and " " not in node.value.strip():
                hits.append(f"{path}:{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.ImportFrom | ast.Import):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names]
            hits += [f"{path}:{node.lineno}: import {n}" for n in names if ID_TOKEN.search(n)]
        elif isinstance(node, ast.Attribute) and ID_TOKEN.fullmatch(node.attr):
            hits.append(f"{path}:{node.lineno}: .{node.attr}")
    return hits


def test_no_code_outside_the_provider_packages_names_a_provider_id():
    files = [
        f
        for top in SCANNED
        for f in sorted((ROOT / top).rglob("*"))
        if f.suffix in (".py", ".html") and ".venv" not in f.parts
    ]
    assert len(files) > 50
    offenders = [
        hit
        for f in files
        if not any(allowed in f.relative_to(ROOT).as_posix() for allowed in ALLOWED)
        for hit in provider_id_literals(f)
    ]
    assert offenders == []


def test_the_provider_id_scan_finds_what_it_must(tmp_path):
    """The scan above can fail: each way of naming a provider is caught."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Docstrings may say google."""\n'
        'A = "google"\n'
        'B = reverse("calendar_sync:microsoft")\n'
        "from calendar_sync.providers.google import oauth\n"
        'C = settings.X if provider == "microsoft" else 1\n'
        "D = Provider.GOOGLE.google\n"
        'E = "googleapiclient.discovery"\n'
        'F = "Google Calendar"\n'
    )
    hits = provider_id_literals(sample)
    assert sorted(h.split(": ", 1)[1] for h in hits) == sorted(
        [
            "'google'",
            "'calendar_sync:microsoft'",
            "import calendar_sync.providers.google",
            "'microsoft'",
            ".google",
        ]
    )
    template = tmp_path / "t.html"
    template.write_text("{% if p == 'google' %}{% url 'calendar_sync:microsoft' %}{% endif %}")
    assert len(provider_id_literals(template)) == 2


@pytest.mark.django_db
def test_calendar_index_names_every_provider_of_the_registry(client, django_user_model):
    from django.utils import translation

    user = django_user_model.objects.create_user(username="rep", email="rep@exempel.se")
    client.force_login(user)
    labels = [str(p.label) for p in PROVIDERS.values()]
    page = client.get(reverse("calendar_sync:index")).content.decode()
    assert len(labels) == 3
    assert f"Sync your appointments with {labels[0]}, {labels[1]} or {labels[2]}." in page
    assert f"The {labels[0]}, {labels[1]} and {labels[2]} apps are not installed." in page
    with translation.override("sv"):
        page = client.get(reverse("calendar_sync:index"), HTTP_ACCEPT_LANGUAGE="sv").content
    assert (
        "Synkronisera dina möten med Google Kalender, Office365 eller CalDAV-kalender."
        in page.decode()
    )


def test_every_registered_provider_has_a_test_actor():
    """Fixtures pick the per-provider actor by registry id; a new provider without one fails."""
    from tests.calendar_sync.actors import ACTORS, actor_class

    assert set(ACTORS) == set(PROVIDERS)
    with pytest.raises(AssertionError, match="not in the provider registry"):
        actor_class("zimbra")
