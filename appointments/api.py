"""REST endpoints for appointment types and appointments; thin, the services hold the rules."""

from __future__ import annotations

from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from appointments import selectors, services
from appointments.models import Appointment, AppointmentType
from appointments.serializers import (
    AppointmentSerializer,
    AppointmentTypeSerializer,
    AppointmentWriteSerializer,
    FollowUpSerializer,
)
from calendar_sync.selectors import appointment_sync_states
from contacts.api import ServiceErrorsMixin
from contacts.selectors import company_get, contact_get, users_by_emails
from upsales_crm.pagination import UPDATED_SINCE, FollowChangesMixin, datetime_param


class AppointmentTypeViewSet(viewsets.ModelViewSet):
    """Every signed-in user reads the types; adding, changing and deleting one needs the model
    permission (``appointments.add_appointmenttype`` etc.), as in the admin."""

    serializer_class = AppointmentTypeSerializer
    queryset = AppointmentType.objects.all()
    permission_classes = [permissions.IsAuthenticated, permissions.DjangoModelPermissions]

    @extend_schema(responses={204: None, 409: OpenApiTypes.OBJECT})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().destroy(request, *args, **kwargs)
        except (ProtectedError, RestrictedError):
            detail = _(
                "This appointment type is in use (by appointments or calendar connections) "
                "and cannot be deleted. Deactivate it instead: set active to false."
            )
            return Response({"detail": detail}, status=status.HTTP_409_CONFLICT)


LIST_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATETIME, description="Overlapping from (inclusive)."),
    OpenApiParameter("end", OpenApiTypes.DATETIME, description="Overlapping until (exclusive)."),
    OpenApiParameter("type", int, description="Appointment type id."),
    OpenApiParameter("user", OpenApiTypes.EMAIL, description="A participating user's e-mail."),
    OpenApiParameter("company", int, description="Company id."),
    OpenApiParameter("contact", int, description="Contact id."),
    OpenApiParameter(
        "include_colleagues", bool, description="Everything you may see, not only your own."
    ),
    OpenApiParameter(
        "ical_uid",
        str,
        description="The appointment of this calendar event (its iCalUID, as in "
        "calendar_events[].ical_uid).",
    ),
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description=f"{UPDATED_SINCE.description} An appointment counts as changed when it "
        "was edited, or when its sync state or calendar events changed.",
    ),
]


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS),
    create=extend_schema(request=AppointmentWriteSerializer),
    update=extend_schema(request=AppointmentWriteSerializer),
    partial_update=extend_schema(request=AppointmentWriteSerializer),
)
class AppointmentViewSet(
    FollowChangesMixin,
    ServiceErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AppointmentSerializer
    queryset = Appointment.objects.none()
    cursor_ordering = ("start", "pk")

    def get_queryset(self):
        user = self.request.user
        if self.action != "list":
            return selectors.appointment_visible_queryset(user=user)
        return selectors.appointment_list(user=user, **self._list_filters())

    def _list_filters(self) -> dict:
        params, user = self.request.query_params, self.request.user
        filters: dict = {
            "start": datetime_param(self.request, "start"),
            "end": datetime_param(self.request, "end"),
            "include_colleagues": params.get("include_colleagues", "").lower()
            in ("1", "true", "yes"),
        }
        if params.get("type"):
            filters["appointment_type"] = self._object(AppointmentType.objects.all(), "type")
        if params.get("user"):
            participant = users_by_emails([params["user"]]).get(params["user"].lower())
            if participant is None:
                raise ValidationError({"user": "No such user."})
            filters["participant"] = participant
        if params.get("company"):
            filters["company"] = company_get(user=user, pk=params["company"])
        if params.get("contact"):
            filters["contact"] = contact_get(user=user, pk=params["contact"])
        if params.get("ical_uid"):
            filters["ical_uid"] = params["ical_uid"]
        return filters

    def changed_since(self, queryset, since):  # noqa: ANN001, ANN201
        return selectors.appointments_changed_since(queryset, since)

    def get_serializer(self, *args, **kwargs) -> BaseSerializer:
        """Lists read every appointment's sync state in three queries, not three each."""
        if kwargs.get("many") and args:
            args = (list(args[0]), *args[1:])
            kwargs.setdefault("context", self.get_serializer_context())
            kwargs["context"]["sync_states"] = appointment_sync_states(args[0])
        return super().get_serializer(*args, **kwargs)

    def _object(self, qs, name: str):
        try:
            return qs.get(pk=self.request.query_params[name])
        except (qs.model.DoesNotExist, ValueError) as exc:
            raise ValidationError({name: "Not found."}) from exc

    def _read(self, appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.appointment_get(user=self.request.user, pk=appointment.pk)
        return Response(AppointmentSerializer(fresh).data, status=code)

    def _input(self, partial: bool = False) -> dict:
        serializer = AppointmentWriteSerializer(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.to_service_kwargs()

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = self._input()
        outcome = data.pop("outcome", None)
        appointment = services.appointment_create(organizer=request.user, **data)
        if outcome:
            services.appointment_set_outcome(
                appointment=appointment, actor=request.user, outcome=outcome
            )
        return self._read(appointment, status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        appointment = self.get_object()
        changes = self._input(partial=kwargs.pop("partial", False))
        services.appointment_update(appointment=appointment, actor=request.user, **changes)
        return self._read(appointment)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance: Appointment) -> None:
        services.appointment_delete(appointment=instance, actor=self.request.user)

    @extend_schema(request=FollowUpSerializer, responses={201: AppointmentSerializer})
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request: Request, pk=None) -> Response:
        """Book a new time for this appointment, copying its type, people and place."""
        original = self.get_object()
        serializer = FollowUpSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        follow_up = services.appointment_create_follow_up(
            appointment=original, actor=request.user, **serializer.validated_data
        )
        return self._read(follow_up, status.HTTP_201_CREATED)
