"""E-mail when a calendar stops syncing: the rep and the admins hear once per incident (when the
connection is parked as "needs reconnect"), through Django's e-mail backend. The banner on every
page stays; a reconnect closes the incident, so the next one is told again."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from .models import CalendarConnection

log = logging.getLogger(__name__)


def admin_recipients() -> list[str]:
    """The people who look after every rep's connection: active staff with the permission to
    see them (superusers included), and ``settings.ADMINS``."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True)
            | Q(user_permissions__codename="view_calendarconnection")
            | Q(groups__permissions__codename="view_calendarconnection")
        )
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )
    admins = [a if isinstance(a, str) else a[1] for a in settings.ADMINS]  # (name, e-mail)
    emails = {e.lower() for e in users} | {e.lower() for e in admins}
    return sorted(emails)


def _url(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def send_needs_reconnect(connection_id: int) -> int:
    """Tell the rep (with the way back) and the admins (with the status page). Returns how many
    messages went out; a mail server that fails is logged, never raised into the sync."""
    from .selectors import provider_url_name

    connection = CalendarConnection.objects.select_related("user").get(pk=connection_id)
    app = connection.get_provider_display()
    rep = connection.user
    params = {
        "app": app,
        "email": connection.account_email,
        "name": rep.get_full_name() or rep.email,
        "reason": connection.last_error or _("no reason given"),
    }
    messages = [
        (
            [rep.email] if rep.email else [],
            _("Your %(app)s needs reconnecting") % params,
            _(
                "The CRM can no longer sync %(app)s (%(email)s): %(reason)s\n\n"
                "Meetings are not logged and bookings do not reach your calendar until you "
                "reconnect it:\n%(url)s\n"
            )
            % {**params, "url": _url(reverse(provider_url_name(connection.provider)))},
        ),
        (
            [e for e in admin_recipients() if e != (rep.email or "").lower()],
            _("%(name)s's %(app)s needs reconnecting") % params,
            _(
                "%(name)s's calendar %(app)s (%(email)s) stopped syncing: %(reason)s\n\n"
                "They have been asked to reconnect it. Every rep's connection:\n%(url)s\n"
            )
            % {**params, "url": _url(reverse("admin:calendar_sync_calendarconnection_changelist"))},
        ),
    ]
    sent = 0
    for recipients, subject, body in messages:
        if not recipients:
            continue
        try:
            sent += send_mail(subject, body, None, recipients)
        except Exception:  # the mail server is down: the banner still tells the rep
            log.exception("could not e-mail the alert for connection %s", connection_id)
    return sent
