"""REST endpoints for the exclusion lists: your personal list and the organisation's (every rep
reads it; administrators edit it), and removing what was logged before an entry was added.

Who may do what is decided by the selectors and services, as on the settings page: a rep sees
and edits their own entries and reads the organisation's; ``calendar_sync.change_exclusionentry``
edits the organisation's.
"""

from __future__ import annotations

from django.db.models import QuerySet
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
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from contacts.api import ServiceErrorsMixin
from upsales_crm.pagination import UPDATED_SINCE, FollowChangesMixin

from . import selectors, services
from .models import ExclusionEntry, ExclusionKind
from .sync.rules import EXCLUSION_MAX_LENGTH

LISTS = {"personal": "Your own list.", "organisation": "The organisation's list (every rep's)."}


class ExclusionEntrySerializer(serializers.ModelSerializer):
    value = serializers.CharField(
        max_length=EXCLUSION_MAX_LENGTH,
        help_text="An address (`ceo@client.test`), a domain (`@lawfirm.test`, or just "
        "`lawfirm.test`) or a domain with all its subdomains (`*.bank.test`, which covers "
        "bank.test itself too). Stored lower-cased and trimmed.",
    )
    list = serializers.ChoiceField(
        choices=list(LISTS),
        default="personal",
        help_text="`personal` (default) or `organisation` (administrators only).",
    )
    kind = serializers.ChoiceField(choices=ExclusionKind.choices, read_only=True)
    can_delete = serializers.SerializerMethodField(
        help_text="Whether you may remove this entry (yours, or any as an administrator)."
    )

    class Meta:
        model = ExclusionEntry
        fields = ["id", "value", "kind", "list", "can_delete", "created_at", "updated_at"]
        read_only_fields = ["id", "kind", "can_delete", "created_at", "updated_at"]

    def to_representation(self, instance: ExclusionEntry) -> dict:
        data = super().to_representation(instance)
        data["list"] = "organisation" if instance.owner_id is None else "personal"
        return data

    @extend_schema_field(serializers.BooleanField())
    def get_can_delete(self, obj: ExclusionEntry) -> bool:
        return services.can_delete_exclusion(obj, self.context["request"].user)


class LoggedAppointmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    start = serializers.DateTimeField()


LoggedSerializer = inline_serializer(
    "ExcludedLogged",
    {
        "count": serializers.IntegerField(
            help_text="Appointments logged from your calendar whose external participants are "
            "all excluded now."
        ),
        "appointments": LoggedAppointmentSerializer(many=True),
        "participants_on": serializers.IntegerField(
            help_text="Other appointments logged from your calendar that show excluded people "
            "as participants (they are taken off them)."
        ),
    },
)
RemovedSerializer = inline_serializer(
    "ExcludedRemoved",
    {
        "removed": serializers.IntegerField(help_text="Appointments removed."),
        "participants_removed_from": serializers.IntegerField(
            help_text="Appointments excluded participants were taken off."
        ),
    },
)

LIST_PARAMETER = OpenApiParameter(
    "list", str, enum=list(LISTS), description="Only this list: personal or organisation."
)
ENTRY_EXAMPLE = OpenApiExample(
    "A domain on your list",
    value={
        "id": 12,
        "value": "@lawfirm.test",
        "kind": "domain",
        "list": "personal",
        "can_delete": True,
        "created_at": "2026-12-01T09:40:02+01:00",
        "updated_at": "2026-12-01T09:40:02+01:00",
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(parameters=[LIST_PARAMETER, UPDATED_SINCE], examples=[ENTRY_EXAMPLE]),
    retrieve=extend_schema(examples=[ENTRY_EXAMPLE]),
    create=extend_schema(examples=[ENTRY_EXAMPLE]),
    destroy=extend_schema(responses={204: None}),
)
class ExclusionViewSet(
    FollowChangesMixin,
    ServiceErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Exclusion lists: meetings whose external participants are all on your list or the
    organisation's are not logged from your calendar, and excluded people are never matched to
    contacts or shown as participants. The list holds your entries and the organisation's
    (``list`` tells which); ``updated_since`` returns the entries added since then (a removed
    entry is gone: read the whole list to notice removals)."""

    serializer_class = ExclusionEntrySerializer
    queryset = ExclusionEntry.objects.none()
    cursor_ordering = ("pk",)

    def get_queryset(self) -> QuerySet[ExclusionEntry]:
        scope = self.request.query_params.get("list", "") if self.action == "list" else ""
        if scope and scope not in LISTS:
            raise ValidationError({"list": f"One of {', '.join(LISTS)}."})
        return selectors.exclusion_list(user=self.request.user, scope=scope)

    def create(self, request: Request, *args, **kwargs) -> Response:
        """Add an entry to your list, or to the organisation's (administrators). Then see
        ``logged/`` for what was logged before it, and ``remove-logged/`` to remove that."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.exclusion_add(
            actor=request.user,
            value=serializer.validated_data["value"],
            organisation=serializer.validated_data["list"] == "organisation",
        )
        return Response(self.get_serializer(entry).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ExclusionEntry) -> None:
        services.exclusion_delete(actor=self.request.user, entry=instance)

    @extend_schema(responses={200: LoggedSerializer})
    @action(detail=False, methods=["get"])
    def logged(self, request: Request) -> Response:
        """Appointments logged from your calendar (never ones booked in the CRM) whose external
        participants are all excluded now, and how many others show excluded people: what
        ``remove-logged/`` would remove."""
        found = selectors.excluded_logged(user=request.user)
        rows = LoggedAppointmentSerializer(found.appointments, many=True).data
        return Response(
            {
                "count": len(found.appointments),
                "appointments": rows,
                "participants_on": found.others,
            }
        )

    @extend_schema(request=None, responses={200: RemovedSerializer})
    @action(detail=False, methods=["post"], url_path="remove-logged")
    def remove_logged(self, request: Request) -> Response:
        """Remove those appointments from the CRM (the calendar events stay, and are not
        logged again), and take excluded people off the others (nothing is sent to anyone)."""
        removed, cleaned = services.exclusion_remove_logged(actor=request.user)
        return Response({"removed": removed, "participants_removed_from": cleaned})
