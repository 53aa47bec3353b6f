"""Connecting a CalDAV account: server URL + username + app-specific password.

``discover`` signs in (one PROPFIND for the current user's principal), finds the calendar home
(``calendar-home-set``) and picks the MAIN calendar, the one the spec's main-calendar rule syncs:

1. the calendar the server names as the scheduling default (RFC 6638
   ``schedule-default-calendar-URL`` on the schedule inbox: iCloud, Nextcloud), else
2. the first calendar of the home that takes events (VEVENT) - on Radicale, Fastmail and a
   fresh Nextcloud the account's first (or only) calendar.

The account's e-mail address is the principal's ``calendar-user-address-set`` (``mailto:``),
else the username when it is an address. A wrong password (401), a URL that is no CalDAV
server, or a server that cannot be reached, is a ``CredentialsRefused`` with a message for the
rep; nothing is stored then.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from caldav.elements.base import ValuedBaseElement
from caldav.lib import error
from caldav.lib.namespace import ns
from django.utils.translation import gettext as _

from ..base import AuthRevoked, CredentialsRefused, LinkedAccount, ProviderError
from .client import CountingDAVClient, translate

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ScheduleDefaultCalendarURL(ValuedBaseElement):
    tag = ns("C", "schedule-default-calendar-URL")  # RFC 6638 9.2


def check_url(server_url: str) -> str:
    """HTTPS, or plain HTTP on this machine only (the password travels with every request)."""
    url = server_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsRefused(_("Enter the server's address, starting with https://."))
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise CredentialsRefused(
            _(
                "The server address must start with https:// (the password is sent with every request)."
            )
        )
    return url if url.endswith("/") else url + "/"


def discover(server_url: str, username: str, password: str) -> LinkedAccount:
    url = check_url(server_url)
    client = CountingDAVClient(url, username.strip(), password)
    try:
        principal = client.principal()
        calendar_url = _default_calendar(principal)
        email = _address(principal) or _address_from(username)
    except error.DAVError as exc:
        raise _refusal(translate(exc)) from exc
    except ProviderError as exc:
        raise _refusal(exc) from exc
    if not email:
        raise CredentialsRefused(
            _(
                "The server does not say which e-mail address this account has: sign in with "
                "your e-mail address as the username."
            )
        )
    return LinkedAccount(
        email=email,
        account_id=username.strip(),
        secret=password,
        server_url=url,
        calendar_url=calendar_url,
    )


def _refusal(exc: ProviderError) -> CredentialsRefused:
    # 401: the password; 403 (the password was right, the address is not this account's),
    # 404, a server that is no CalDAV server: the URL.
    if isinstance(exc, AuthRevoked) or exc.status == 401:
        return CredentialsRefused(
            _(
                "The server refused the username or password. Use an app-specific password "
                "if your provider asks for one."
            )
        )
    unreachable = exc.status is None and not exc.permanent
    if not unreachable and (exc.status in (403, 404, 405, 501) or exc.permanent):
        return CredentialsRefused(
            _("No CalDAV calendar was found at that address. Check the server URL.")
        )
    return CredentialsRefused(
        _("The server could not be reached (%(reason)s). Try again later.") % {"reason": exc}
    )


def _default_calendar(principal: Any) -> str:
    try:
        inbox = principal.schedule_inbox()
        named = inbox.get_property(ScheduleDefaultCalendarURL())
    except Exception:  # noqa: BLE001 - a server without scheduling: the first calendar is it
        named = None
    calendars = principal.calendars()
    if named:
        for cal in calendars:
            if str(cal.url).rstrip("/").endswith(str(named).rstrip("/")):
                return str(cal.url)
    for cal in calendars:
        try:
            components = cal.get_supported_components()
        except error.DAVError:
            components = ["VEVENT"]
        if not components or "VEVENT" in components:
            return str(cal.url)
    raise CredentialsRefused(_("This account has no calendar for events."))


def _address(principal: Any) -> str:
    try:
        addresses = principal.calendar_user_address_set()
    except (error.DAVError, AttributeError, ValueError, KeyError):
        return ""
    for address in addresses or []:
        text = str(address)
        if text.lower().startswith("mailto:"):
            return text[7:].strip().lower()
    return ""


def _address_from(username: str) -> str:
    name = username.strip().lower()
    return name if "@" in name and "." in name.rsplit("@", 1)[1] else ""
