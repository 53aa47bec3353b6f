"""REST endpoints for integrators (and the appointment form): availability and rooms, read live
from the provider. Thin: parse, call one service, serialize."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts.selectors import users_by_emails
from upsales_crm.pagination import out_of_range

from . import availability, rooms


# --- shapes -------------------------------------------------------------------------------------------
class BusyBlockSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    status = serializers.CharField(help_text="busy, tentative or oof")


class PersonAvailabilitySerializer(serializers.Serializer):
    user = serializers.EmailField(source="email")
    name = serializers.CharField()
    busy = BusyBlockSerializer(many=True)
    error = serializers.CharField(
        help_text="Why the busy blocks are unknown (provider error, no calendar); else empty."
    )


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class AvailabilitySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    duration = serializers.IntegerField(help_text="Minutes.")
    people = PersonAvailabilitySerializer(many=True)
    suggestions = SlotSerializer(many=True, help_text="The next free slots common to all users.")


class RoomOptionSerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField()
    capacity = serializers.IntegerField()
    building = serializers.CharField()
    free = serializers.BooleanField(
        allow_null=True, help_text="Free for the whole [start, end); null when unknown."
    )


class RoomListSerializer(serializers.Serializer):
    provider = serializers.CharField()
    rooms = RoomOptionSerializer(many=True)
    error = serializers.CharField()


# --- parsing ------------------------------------------------------------------------------------------
def _when(params, name: str, default: dt.datetime | None = None) -> dt.datetime | None:
    raw = params.get(name)
    if not raw:
        return default
    try:
        value = parse_datetime(raw.replace(" ", "+"))  # an unescaped "+" arrives as a space
    except ValueError:  # well formed but impossible, e.g. month 13
        value = None
    if value is None or timezone.is_naive(value):
        raise ValidationError({name: _("Expected an ISO 8601 date-time with a time zone.")})
    if problem := out_of_range(value):
        raise ValidationError({name: problem})
    return value


def _duration(params) -> dt.timedelta:
    try:
        return dt.timedelta(minutes=int(params.get("duration") or 60))
    except ValueError as exc:
        raise ValidationError({"duration": _("Minutes, as a whole number.")}) from exc


def _user_ids(request: Request) -> list[int]:
    emails = [e.strip().lower() for e in request.query_params.get("users", "").split(",")]
    emails = [e for e in emails if e]
    if not emails:
        return [int(request.user.pk or 0)]
    found = users_by_emails(emails)
    missing = [e for e in emails if e not in found]
    if missing:
        raise ValidationError({"users": _("No such user: %(e)s") % {"e": ", ".join(missing)}})
    return [found[e].pk for e in emails]


def _today() -> dt.datetime:
    return dt.datetime.combine(timezone.localdate(), dt.time.min, timezone.get_current_timezone())


class _ServiceErrors:
    def handle_exception(self, exc):  # noqa: ANN001, ANN201
        if isinstance(exc, DjangoPermissionDenied):
            exc = PermissionDenied(detail=str(exc) or None)
        elif isinstance(exc, DjangoValidationError):
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            exc = ValidationError(detail=detail)
        return super().handle_exception(exc)  # type: ignore[misc]


# --- views --------------------------------------------------------------------------------------------
WHEN = "ISO 8601 with a time zone, e.g. 2026-11-30T08:00:00+01:00"


class AvailabilityView(_ServiceErrors, APIView):
    """Busy blocks per user, live from Google freeBusy / Graph getSchedule (meetings outside
    the CRM included), and the next free slots of ``duration`` minutes in working hours
    (08–18 Europe/Stockholm, weekdays). You may see yourself, users sharing a team with you,
    or anyone when staff. A provider failure is reported per user in ``error`` (HTTP 200)."""

    @extend_schema(
        operation_id="availability_retrieve",
        parameters=[
            OpenApiParameter(
                "users", str, description="Comma-separated user e-mails (default: you)."
            ),
            OpenApiParameter("start", OpenApiTypes.DATETIME, description=f"Default: today. {WHEN}"),
            OpenApiParameter("end", OpenApiTypes.DATETIME, description="Default: start + 7 days."),
            OpenApiParameter("duration", int, description="Slot length in minutes (default 60)."),
            OpenApiParameter(
                "after", OpenApiTypes.DATETIME, description="Suggest slots from here on."
            ),
        ],
        responses=AvailabilitySerializer,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        start = _when(params, "start", _today())
        assert start is not None
        end = _when(params, "end", start + dt.timedelta(days=7))
        assert end is not None
        result = availability.availability_get(
            actor=request.user,
            user_ids=_user_ids(request),
            start=start,
            end=end,
            duration=_duration(params),
            after=_when(params, "after"),
        )
        data = {
            "start": result.start,
            "end": result.end,
            "duration": int(result.duration.total_seconds() // 60),
            "people": result.people,
            "suggestions": [{"start": s, "end": e} for s, e in result.suggestions],
        }
        return Response(AvailabilitySerializer(data).data)


class RoomListView(_ServiceErrors, APIView):
    """The rooms of your calendar provider (Google Directory calendar resources / Graph
    places), with whether each is free for [start, end) when both are given."""

    @extend_schema(
        operation_id="rooms_list",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, description=WHEN),
            OpenApiParameter("end", OpenApiTypes.DATETIME, description=WHEN),
        ],
        responses=RoomListSerializer,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        choices = rooms.room_availability(
            actor=request.user, start=_when(params, "start"), end=_when(params, "end")
        )
        return Response(RoomListSerializer(choices).data)
