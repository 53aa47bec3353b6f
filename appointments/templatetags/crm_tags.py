"""Small template helpers shared by the CRM pages."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def settings_menu_items(context) -> list[tuple[str, str, bool]]:
    """The Settings menu as (label, url, active), for pages (allauth's too) that lack it."""
    from upsales_crm.views import settings_menu

    request = context.get("request")
    entries = context.get("settings_menu") or (settings_menu(request) if request else [])
    items = []
    for label, url_name, active in entries:
        try:
            items.append((label, reverse(url_name), active))
        except NoReverseMatch:
            continue
    return items


@register.simple_tag(takes_context=True)
def query_replace(context, **changes) -> str:
    """The current query string with some parameters replaced (pagination, calendar navigation)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter
def https_url(value: object) -> str:
    """``value`` if it is an https:// URL safe to put in an href, else "" (a stored link that
    says ``javascript:`` or ``data:`` must never become a link)."""
    url = str(value or "").strip()
    if not url.lower().startswith("https://") or len(url) <= len("https://"):
        return ""
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return ""
    return url


@register.filter
def response_class(response: str) -> str:
    return {"accepted": "accepted", "declined": "declined", "tentative": "tentative"}.get(
        response, ""
    )


@register.filter(expects_localtime=False)
def calendar_date(value):  # noqa: ANN001, ANN201
    """An all-day appointment's date: its bound read in the organisation's zone, whatever the
    viewer's zone (all-day appointments are dates, see appointments.forms.appointment_zone)."""
    if not value:
        return value
    return timezone.localtime(value, timezone.get_default_timezone()).date()


@register.filter(expects_localtime=False)
def last_calendar_date(value):  # noqa: ANN001, ANN201
    """The last day of an all-day appointment ending (exclusive) at ``value``."""
    if not value:
        return value
    return calendar_date(value - timedelta(microseconds=1))
