"""How every list endpoint of the API pages: a cursor (stable while rows are added or changed,
cheap at any depth), and ``updated_since`` so an integrator can follow changes without reading
everything again."""

from __future__ import annotations

import datetime as dt

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import pagination, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

UPDATED_SINCE = OpenApiParameter(
    "updated_since",
    OpenApiTypes.DATETIME,
    description="Only what changed at or after this moment (ISO 8601 with a time zone). Note "
    "the time before a request and pass it to the next one to follow changes.",
)


class CursorPagination(pagination.CursorPagination):
    """Ordered by the view's ``cursor_ordering`` (its natural order; per action in
    ``cursor_orderings``), ``page_size`` up to 200."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:  # noqa: ANN001
        per_action: dict[str, tuple[str, ...]] = getattr(view, "cursor_orderings", {})
        default: tuple[str, ...] = getattr(view, "cursor_ordering", ("pk",))
        return tuple(per_action.get(view.action) or default)


# Far-away years are a typo or a probe: before 1900 zones had local mean time offsets with
# seconds (not RFC 3339), and near year 9999 a zone conversion overflows.
MIN_YEAR, MAX_YEAR = 1900, 2999


def out_of_range(value: dt.datetime) -> str:
    """Why ``value`` cannot be used ("" when it can)."""
    if MIN_YEAR <= value.year <= MAX_YEAR:
        return ""
    return _("Dates between %(min)d and %(max)d only.") % {"min": MIN_YEAR, "max": MAX_YEAR}


class DateTimeField(serializers.DateTimeField):
    """A date-time input within the years the CRM handles."""

    def to_internal_value(self, value: dt.datetime | str) -> dt.datetime:
        parsed = super().to_internal_value(value)
        if problem := out_of_range(parsed):
            raise serializers.ValidationError(problem)
        return parsed


def datetime_param(request: Request, name: str) -> dt.datetime | None:
    """An aware date-time query parameter; anything else is a 400 that says why."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # an unescaped "+" arrives as a space
    except ValueError:  # well formed but impossible, e.g. month 13
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationError({name: _("Expected an ISO 8601 date-time with a time zone.")})
    if problem := out_of_range(value):
        raise ValidationError({name: problem})
    return value


def updated_since(request: Request) -> dt.datetime | None:
    return datetime_param(request, "updated_since")


class FollowChangesMixin:
    """``updated_since`` on a viewset's list; ``changed_since`` says what "changed" means."""

    cursor_ordering: tuple[str, ...] = ("pk",)

    def filter_queryset(self, queryset):  # noqa: ANN001, ANN201
        queryset = super().filter_queryset(queryset)  # type: ignore[misc]
        since = updated_since(self.request) if self.action == "list" else None  # type: ignore[attr-defined]
        return queryset if since is None else self.changed_since(queryset, since)

    def changed_since(self, queryset, since: dt.datetime):  # noqa: ANN001, ANN201
        return queryset.filter(updated_at__gte=since)
