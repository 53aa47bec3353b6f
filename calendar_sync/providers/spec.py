"""What a calendar provider is to the CRM: one class per provider, everything provider-specific
as class attributes (django-allauth's ``Provider`` classes; Sentry's capability ClassVars).

A provider package (``calendar_sync/providers/<id>/``) defines a subclass in ``provider.py`` and
``registry.PROVIDERS`` lists it. Dotted paths (``"module:attr"``) point at the heavy parts
(adapter, OAuth, webhook) so the registry imports no client library and no Django model, and
can be read at settings and model-definition time.

Every attribute below without a default must be set by the subclass: ``registry.problems()``
(a Django system check at start-up) reports a provider that leaves one out, so nothing ever
falls back to another provider's behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from ..models import CalendarApp, CalendarConnection
    from .base import CalendarAdapter

    Label: TypeAlias = str | Promise

PushKind = Literal["channel", "subscription"]
# How a rep connects: "oauth" (sent to the provider to allow access; social-auth), or
# "credentials" (a server URL, username and app-specific password typed into our form).
ConnectKind = Literal["oauth", "credentials"]


@dataclass(frozen=True)
class PushCapability:
    """How the provider tells us a calendar changed.

    ``channel``: a watch channel whose notifications carry the channel id and token in headers
    and cannot be extended (a renewal is a new channel). ``subscription``: a subscription that is
    extended in place, validated by a handshake, notified with a JSON body."""

    kind: PushKind
    channel_ttl_seconds: int  # how long we ask a channel to live (the provider's maximum or less)


def load(path: str) -> Any:
    """``"package.module:attr"`` -> the attribute (a plain ``"package.module"`` is the module)."""
    module_name, _, attr = path.partition(":")
    module = import_module(module_name)
    return getattr(module, attr) if attr else module


class CalendarProvider:
    """A calendar provider. Subclasses set every attribute; see ``registry.REQUIRED``."""

    # identity and labels
    id: ClassVar[str]  # stored in CalendarApp/CalendarConnection.provider and Appointment.source
    label: ClassVar[Label]  # the App directory, the settings menu and the settings page
    connect_label: ClassVar[Label]  # the button that starts the OAuth flow / the form's title
    # The appointment form's "add a video meeting" box; None: the provider makes no video
    # meetings, and the box is not shown for it.
    video_label: ClassVar[Label | None]
    settings_slug: ClassVar[str]  # /settings/calendar/<slug>/ (the URL name is the id)
    has_rooms: ClassVar[bool]  # a room directory (list_rooms); False: no rooms to book

    # how a rep connects (see ConnectKind); the OAuth attributes below are for "oauth" only
    connect_kind: ClassVar[ConnectKind]
    # "credentials": "module:function(server_url, username, password) -> base.LinkedAccount",
    # raising base.CredentialsRefused with a message for the rep.
    credentials_connect: ClassVar[str] = ""

    # OAuth (social-auth) linking and token upkeep
    oauth_backend: ClassVar[str]  # dotted path of the social-auth backend class
    backend_name: ClassVar[str]  # that backend's ``name``: /oauth/login|complete/<name>/
    scopes: ClassVar[tuple[str, ...]]
    # A module with refresh_tokens(connection, app=None) -> Tokens, authorize_url(app), token_url(app) and
    # profile(access_token) -> (id, email). Revoking is the adapter's (CalendarAdapter.revoke).
    oauth_module: ClassVar[str]
    # True: the provider vouches for the account's e-mail (its ``email_verified`` claim is
    # believed); False: the claim is the tenant's say-so and ``email_is_verified`` must check it.
    trusts_email_claim: ClassVar[bool]

    # the sync
    adapter_factory: ClassVar[str]  # "module:function(connection) -> CalendarAdapter"
    push: ClassVar[PushCapability | None]  # None: polling only
    webhook_handler: ClassVar[str | None]  # "module:view" mounted at /webhooks/calendar/<id>/
    recurring_delete_removes: ClassVar[bool]  # a deleted series removes its appointments
    all_day_recurring_supported: ClassVar[bool]  # all-day recurring events are imported
    # How often the poller looks at a connection without live push, in minutes (the sync's
    # SYNC_POLL_MINUTES caps it from above: a provider may ask to be polled more often).
    poll_minutes: ClassVar[int]

    # the App directory
    uses_tenant: ClassVar[bool]  # the App directory's "tenant" applies
    env_prefix: ClassVar[str]  # install_calendar_apps reads <PREFIX>_CLIENT_ID/_SECRET(/_TENANT)
    default_tenant: ClassVar[str] = ""

    # the emulator (demo and tests)
    demo_client: ClassVar[dict[str, str]]  # client_id / client_secret / tenant
    demo_accounts: ClassVar[tuple[dict[str, object], ...]] = ()
    emulator_sign_in: ClassVar[str]  # "module:function(session, authorize_url, account) -> url"
    emulator_auth_params: ClassVar[dict[str, str]] = {}  # connect_calendar's extra parameters

    # --- behaviour derived from the attributes ----------------------------------------------
    @classmethod
    def adapter(cls, connection: CalendarConnection) -> CalendarAdapter:
        adapter: CalendarAdapter = load(cls.adapter_factory)(connection)
        return adapter

    @classmethod
    def oauth(cls) -> Any:
        return load(cls.oauth_module)

    @classmethod
    def uses_oauth(cls) -> bool:
        return cls.connect_kind == "oauth"

    @classmethod
    def has_video(cls) -> bool:
        return cls.video_label is not None

    @classmethod
    def url_name(cls) -> str:
        """The settings page's URL name."""
        return f"calendar_sync:{cls.id}"

    @classmethod
    def email_is_verified(cls, email: str, response: dict[str, Any]) -> bool:
        """May the connected account's address become one of the rep's verified addresses?"""
        if not email or "@" not in email:
            return False
        if cls.trusts_email_claim:
            return response.get("email_verified", True) not in (False, "false")
        return cls.email_claim_checked(email, response)

    @classmethod
    def email_claim_checked(cls, email: str, response: dict[str, Any]) -> bool:
        """For a provider that does not vouch for the address: its own check (none: refused)."""
        return False

    @classmethod
    def tenant(cls, app: CalendarApp) -> str:
        return (app.tenant or cls.default_tenant).strip()
