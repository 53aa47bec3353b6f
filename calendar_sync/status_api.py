"""REST endpoints for what the sync sees: reps' calendar connections with their state and counts,
their sync runs and the upcoming events that were not logged; "sync now" and "disconnect".

Who sees what is decided by the selectors and services (as on the rep's page and in the admin):
a rep sees their own connections; ``calendar_sync.view_calendarconnection`` sees every rep's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from upsales_crm.pagination import UPDATED_SINCE, FollowChangesMixin

from . import busy_calendars, selectors, services
from .busy_calendars import MAX_BUSY_CALENDARS
from .models import CalendarConnection, ConnectionState, EventLink, SyncRun
from .providers.registry import PROVIDERS
from .sync.rules import SKIP_LABELS


# --- shapes -------------------------------------------------------------------------------------------
class ConnectionCountsSerializer(serializers.Serializer):
    linked = serializers.IntegerField(help_text="Calendar events logged as appointments.")
    skipped_upcoming = serializers.IntegerField(help_text="Upcoming events not logged.")
    waiting = serializers.IntegerField(help_text="Appointments waiting to be sent.")
    failed = serializers.IntegerField(help_text="Appointments whose last push failed.")


class LastRunSerializer(serializers.Serializer):
    read = serializers.IntegerField(source="fetched", default=0)
    created = serializers.IntegerField(default=0)
    updated = serializers.IntegerField(default=0)
    cancelled = serializers.IntegerField(default=0)
    exported = serializers.IntegerField(default=0)
    skipped = serializers.DictField(child=serializers.IntegerField(), default=dict)
    provider_requests = serializers.IntegerField(default=0)


class BusyCalendarSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=1024, help_text="The calendar's id at the provider.")
    name = serializers.CharField(
        read_only=True, help_text="Its name, as the provider listed it when it was chosen."
    )


class BusyCalendarsUpdateSerializer(serializers.Serializer):
    busy_calendars = serializers.ListField(
        child=BusyCalendarSerializer(),
        max_length=MAX_BUSY_CALENDARS,
        help_text="Other calendars of the connected account whose busy time counts in "
        "availability (ids from the `calendars` list; not the main calendar, which always "
        "counts). Their events are never logged. The whole choice: an empty list clears it.",
    )


class CalendarOptionSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    chosen = serializers.BooleanField(help_text="Its busy time counts now.")
    can_edit = serializers.BooleanField(help_text="The account may write events in it.")
    owned = serializers.BooleanField(help_text="The account's own, not shared with it.")


class CalendarOptionsSerializer(serializers.Serializer):
    calendars = CalendarOptionSerializer(
        many=True, help_text="The account's calendars other than the main one, from the provider."
    )
    error = serializers.CharField(
        help_text="Why the calendars could not be read (the saved choice is kept); else empty."
    )


class CalendarConnectionSerializer(serializers.ModelSerializer):
    """A connection annotated by ``selectors.connection_status_queryset``."""

    user = serializers.EmailField(source="user.email", read_only=True)
    provider_label = serializers.CharField(source="get_provider_display", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    needs_attention = serializers.BooleanField(
        read_only=True, help_text="Needs reconnecting, or the last sync failed."
    )
    push_expires_at = serializers.DateTimeField(
        source="channel_expires_at",
        read_only=True,
        allow_null=True,
        help_text="When the push channel / subscription expires (renewed before); null: none.",
    )
    next_poll_at = serializers.SerializerMethodField(
        help_text="When the polling backstop next syncs it; null when it is not polled."
    )
    syncing = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    last_run = serializers.SerializerMethodField(help_text="The counts of the last sync.")
    busy_calendars = serializers.SerializerMethodField(
        help_text="Other calendars of the account whose busy time counts in availability "
        "(never logged). The rep sets them with PATCH."
    )
    busy_calendars_dropped = serializers.SerializerMethodField(
        help_text="Names of chosen calendars the provider no longer had, so they were dropped "
        "(until the choice is saved again)."
    )

    class Meta:
        model = CalendarConnection
        fields = [
            "id",
            "user",
            "provider",
            "provider_label",
            "account_email",
            "state",
            "state_label",
            "needs_attention",
            "appointment_type",
            "connected_at",
            "activated_at",
            "disconnected_at",
            "last_sync_at",
            "last_error",
            "last_error_at",
            "push_expires_at",
            "next_poll_at",
            "syncing",
            "counts",
            "last_run",
            "busy_calendars",
            "busy_calendars_dropped",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_poll_at(self, obj: CalendarConnection) -> dt.datetime | None:
        return selectors.next_poll_at(obj)

    @extend_schema_field(serializers.BooleanField())
    def get_syncing(self, obj: CalendarConnection) -> bool:
        return obj.sync_started_at is not None

    @extend_schema_field(ConnectionCountsSerializer)
    def get_counts(self, obj: Any) -> dict[str, int]:
        status_ = selectors.connection_status_of(obj, None)
        return ConnectionCountsSerializer(status_.counts).data

    @extend_schema_field(LastRunSerializer)
    def get_last_run(self, obj: CalendarConnection) -> dict[str, Any]:
        return LastRunSerializer(obj.last_sync_summary or {}).data

    @extend_schema_field(BusyCalendarSerializer(many=True))
    def get_busy_calendars(self, obj: CalendarConnection) -> list[dict[str, str]]:
        ids, names = busy_calendars.chosen_ids(obj), busy_calendars.chosen_names(obj)
        return [{"id": i, "name": n} for i, n in zip(ids, names, strict=True)]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_busy_calendars_dropped(self, obj: CalendarConnection) -> list[str]:
        dropped = obj.busy_calendars_dropped
        return [str(n) for n in dropped] if isinstance(dropped, list) else []


class SyncRunSerializer(serializers.ModelSerializer):
    read = serializers.IntegerField(source="fetched", read_only=True)
    duration_seconds = serializers.SerializerMethodField()
    skipped = serializers.DictField(
        child=serializers.IntegerField(), read_only=True, help_text="Reason code → count."
    )

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "kind",
            "trigger",
            "started_at",
            "finished_at",
            "duration_seconds",
            "provider_requests",
            "read",
            "created",
            "updated",
            "cancelled",
            "exported",
            "skipped",
            "error",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_duration_seconds(self, obj: SyncRun) -> float | None:
        if obj.finished_at is None:
            return None
        return round((obj.finished_at - obj.started_at).total_seconds(), 3)


class SkippedEventSerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="provider_event_id", read_only=True)
    title = serializers.SerializerMethodField(
        help_text="Only for the rep whose calendar it is (others see null)."
    )
    reason = serializers.CharField(source="skip_reason", read_only=True)
    reason_label = serializers.SerializerMethodField()
    detail = serializers.CharField(source="skip_detail", read_only=True)

    class Meta:
        model = EventLink
        fields = [
            "event_id",
            "ical_uid",
            "title",
            "start",
            "reason",
            "reason_label",
            "detail",
            "web_link",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_title(self, obj: EventLink) -> str | None:
        return obj.title if self.context.get("own_calendar") else None

    @extend_schema_field(serializers.CharField())
    def get_reason_label(self, obj: EventLink) -> str:
        return str(SKIP_LABELS.get(obj.skip_reason, obj.skip_reason))


SyncQueuedSerializer = inline_serializer(
    "SyncQueued",
    {
        "queued": serializers.BooleanField(
            help_text="False when a sync was already queued: it covers this request."
        )
    },
)

# The examples show the first provider of the registry (the API is the same for each).
EXAMPLE_PROVIDER = next(iter(PROVIDERS.values()))
CONNECTION_EXAMPLE = OpenApiExample(
    "An active connection",
    value={
        "id": 7,
        "user": "karl.andersson@exempel.se",
        "provider": EXAMPLE_PROVIDER.id,
        "provider_label": str(EXAMPLE_PROVIDER.label),
        "account_email": "karl.andersson@exempel.se",
        "state": "active",
        "state_label": "Active",
        "needs_attention": False,
        "appointment_type": 1,
        "connected_at": "2026-11-30T08:12:03Z",
        "activated_at": "2026-11-30T08:13:40Z",
        "disconnected_at": None,
        "last_sync_at": "2026-12-01T09:40:02Z",
        "last_error": "",
        "last_error_at": None,
        "push_expires_at": "2026-12-08T08:13:41Z",
        "next_poll_at": "2026-12-01T09:50:00Z",
        "syncing": False,
        "busy_calendars": [{"id": "c_4f1e0a9b@group.calendar.example.com", "name": "Privat"}],
        "busy_calendars_dropped": [],
        "counts": {"linked": 42, "skipped_upcoming": 5, "waiting": 0, "failed": 0},
        "last_run": {
            "read": 3,
            "created": 1,
            "updated": 1,
            "cancelled": 0,
            "exported": 0,
            "skipped": {"only_internal": 1},
            "provider_requests": 1,
        },
    },
    response_only=True,
)
RUN_EXAMPLE = OpenApiExample(
    "A push-triggered sync",
    value={
        "id": 311,
        "kind": "incremental",
        "trigger": "push",
        "started_at": "2026-12-01T09:40:01Z",
        "finished_at": "2026-12-01T09:40:02Z",
        "duration_seconds": 0.412,
        "provider_requests": 1,
        "read": 2,
        "created": 1,
        "updated": 0,
        "cancelled": 0,
        "exported": 0,
        "skipped": {"no_participants": 1},
        "error": "",
    },
    response_only=True,
)
SKIPPED_EXAMPLE = OpenApiExample(
    "An internal meeting",
    value={
        "event_id": "4kq1n8s0c1v3e9o2",
        "ical_uid": "4kq1n8s0c1v3e9o2@calendar.example.com",
        "title": "Säljmöte",
        "start": "2026-12-03T08:00:00Z",
        "reason": "only_internal",
        "reason_label": "Only users and/or colleagues",
        "detail": "",
        "web_link": "https://calendar.example.com/event?eid=NGtxMW44czBjMXYzZTlvMg",
    },
    response_only=True,
)

STATE_PARAMETER = OpenApiParameter(
    "state", str, enum=ConnectionState.values, description="Only connections in this state."
)
ATTENTION_PARAMETER = OpenApiParameter(
    "needs_attention", bool, description="Only connections needing reconnect or with an error."
)


# --- views --------------------------------------------------------------------------------------------
@extend_schema_view(
    list=extend_schema(
        parameters=[STATE_PARAMETER, ATTENTION_PARAMETER, UPDATED_SINCE],
        examples=[CONNECTION_EXAMPLE],
    ),
    retrieve=extend_schema(examples=[CONNECTION_EXAMPLE]),
)
class CalendarConnectionViewSet(
    FollowChangesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Your calendar connections (all reps' with ``calendar_sync.view_calendarconnection``):
    state, last sync, last error, push channel expiry, next poll and counts.
    ``updated_since`` returns the connections connected, activated, synced, failed or
    disconnected since then."""

    serializer_class = CalendarConnectionSerializer
    queryset = CalendarConnection.objects.none()
    cursor_ordering = ("pk",)
    cursor_orderings = {"runs": ("-started_at", "-pk"), "skipped_events": ("start", "pk")}

    def get_queryset(self) -> QuerySet[CalendarConnection]:
        visible = selectors.connection_visible_queryset(user=self.request.user)
        if self.action in ("list", "retrieve"):
            return self._filtered(selectors.connection_status_queryset(visible))
        return visible

    def _filtered(self, qs: QuerySet[CalendarConnection]) -> QuerySet[CalendarConnection]:
        if self.action != "list":
            return qs
        params = self.request.query_params
        if params.get("state"):
            if params["state"] not in ConnectionState.values:
                raise ValidationError({"state": f"One of {', '.join(ConnectionState.values)}."})
            qs = qs.filter(state=params["state"])
        attention = params.get("needs_attention", "").lower()
        if attention in ("1", "true", "yes"):
            qs = qs.filter(selectors.NEEDS_ATTENTION)
        elif attention in ("0", "false", "no"):
            qs = qs.exclude(selectors.NEEDS_ATTENTION)
        return qs

    def changed_since(self, queryset, since: dt.datetime):  # noqa: ANN001, ANN201
        return selectors.connections_changed_since(queryset, since)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, PermissionError):
            exc = PermissionDenied(detail=str(exc))
        elif isinstance(exc, DjangoValidationError):
            exc = ValidationError(detail=exc.messages)
        return super().handle_exception(exc)

    @extend_schema(
        request=BusyCalendarsUpdateSerializer,
        responses={200: CalendarConnectionSerializer},
        examples=[CONNECTION_EXAMPLE],
    )
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Choose which other calendars of the account count as busy (the rep whose connection
        it is; the ids are checked with the provider). A provider error changes nothing."""
        data = BusyCalendarsUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        connection = self.get_object()
        busy_calendars.busy_calendars_set(
            connection=connection,
            actor=request.user,
            calendar_ids=[c["id"] for c in data.validated_data["busy_calendars"]],
        )
        fresh = selectors.connection_status_queryset(self.get_queryset()).get(pk=connection.pk)
        return Response(CalendarConnectionSerializer(fresh).data)

    @extend_schema(request=None, responses=CalendarOptionsSerializer)
    @action(detail=True, methods=["get"])
    def calendars(self, request: Request, pk: str | None = None) -> Response:
        """The account's calendars other than the main one, read from the provider, with which
        count as busy now (only for the rep whose connection it is)."""
        options = busy_calendars.busy_calendar_options(
            connection=self.get_object(), actor=request.user
        )
        return Response(CalendarOptionsSerializer(options).data)

    @extend_schema(request=None, responses={202: SyncQueuedSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str | None = None) -> Response:
        """Queue a sync now: the calendar's changes are read, then pending CRM changes pushed.
        The rep's own connection, or any with ``calendar_sync.change_calendarconnection``."""
        queued = services.connection_sync_now(connection=self.get_object(), actor=request.user)
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def disconnect(self, request: Request, pk: str | None = None) -> Response:
        """Stop syncing, stop push, revoke the grant; appointments are kept. The rep's own
        connection, or any with ``calendar_sync.change_calendarconnection`` (staff)."""
        services.connection_disconnect(connection=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        parameters=[UPDATED_SINCE],
        responses=SyncRunSerializer(many=True),
        examples=[RUN_EXAMPLE],
    )
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, pk: str | None = None) -> Response:
        """Recent sync runs, newest first: trigger, duration, provider requests, counts
        (read / created / updated / cancelled / exported / skipped by reason) and error."""
        runs = selectors.sync_runs(self.get_object())
        since = self._since()
        if since is not None:
            runs = runs.filter(Q(started_at__gte=since) | Q(finished_at__gte=since))
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(SyncRunSerializer(page, many=True).data)

    @extend_schema(
        parameters=[UPDATED_SINCE],
        responses=SkippedEventSerializer(many=True),
        examples=[SKIPPED_EXAMPLE],
    )
    @action(detail=True, methods=["get"], url_path="skipped-events")
    def skipped_events(self, request: Request, pk: str | None = None) -> Response:
        """Upcoming events of the calendar that were not logged, soonest first, with the
        reason code and its readable label. Titles only for the rep whose calendar it is."""
        connection = self.get_object()
        links = selectors.skipped_event_links(connection)
        since = self._since()
        if since is not None:
            links = links.filter(updated_at__gte=since)
        page = self.paginate_queryset(links)
        context = {"own_calendar": connection.user_id == request.user.pk}
        return self.get_paginated_response(
            SkippedEventSerializer(page, many=True, context=context).data
        )

    def _since(self) -> dt.datetime | None:
        from upsales_crm.pagination import updated_since

        return updated_since(self.request)
