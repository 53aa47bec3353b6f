"""Shared fixtures. REQUIRE_SERVICES=1 (CI) turns a missing PostgreSQL/Redis/Chromium into a failure."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls in the same tests
# are still synchronous, so Django's async-safety guard must not fire.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require_service(available: bool, what: str) -> None:
    """Skip when a service is missing on a developer's machine; fail in CI."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} not available")


@pytest.fixture(scope="session")
def browser():
    require_service(os.path.exists(CHROMIUM), f"Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", timezone_id="Europe/Stockholm")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


# --- the provider emulator, on a free loopback port --------------------------------------------
@pytest.fixture(scope="session")
def emulator_server():
    import logging

    from provider_emulator import EmulatorServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = EmulatorServer().start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server):
    """The running emulator, reset to empty for each test. ``emulator.url``, ``emulator.state``."""
    emulator_server.state.reset()
    yield emulator_server
    emulator_server.state.reset()


@pytest.fixture(autouse=True)
def _fresh_user_directory():
    """Each test starts from an empty cached user directory: its rows were rolled back after the
    previous test, which sends no signal (production invalidates on every committed change)."""
    from contacts.selectors import user_directory_changed

    user_directory_changed()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a test client's request in Swedish leaves
    Swedish active in the test's thread, which would make a later test read Swedish."""
    from django.utils import translation

    with translation.override(None):
        yield


# --- Radicale, the real CalDAV server, on a free loopback port ----------------------------------
@pytest.fixture(scope="session")
def radicale_server():
    from provider_emulator.radicale_server import RadicaleServer

    server = RadicaleServer().start()  # a temporary storage folder, removed on stop
    yield server
    server.stop()


@pytest.fixture
def radicale(radicale_server):
    """The running Radicale, emptied for each test. ``radicale.url``, ``.account_create``."""
    radicale_server.reset()
    yield radicale_server
    radicale_server.reset()
