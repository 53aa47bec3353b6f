"""REST endpoints for companies and contacts; thin, the services and selectors hold the rules."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from contacts import selectors, services
from contacts.models import Company, Contact
from upsales_crm.pagination import UPDATED_SINCE, FollowChangesMixin


class ServiceErrorsMixin:
    """Turn the services' Django errors into DRF responses, keeping their reasons."""

    def handle_exception(self, exc):
        reason = getattr(exc, "reason", None)
        if reason:
            exc = PermissionDenied(detail=reason)
        elif isinstance(exc, DjangoValidationError):
            exc = ValidationError(
                detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            )
        return super().handle_exception(exc)


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = ["id", "name", "website", "phone", "address", "email_domains"]


class EmailListField(serializers.ListField):
    """Writes a list of addresses; reads the contact's ContactEmail rows (primary first)."""

    child = serializers.EmailField(max_length=254)

    def to_representation(self, data) -> list[str]:
        rows = data.all() if hasattr(data, "all") else data
        return [getattr(row, "email", row) for row in rows]


class ContactSerializer(serializers.ModelSerializer):
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.all(), allow_null=True, required=False
    )
    emails = EmailListField(required=False, help_text="The first one is primary.")

    class Meta:
        model = Contact
        fields = ["id", "name", "title", "phone", "company", "emails"]

    def validate_company(self, company: Company | None) -> Company | None:
        if company is None:
            return None
        user = self.context["request"].user
        if not selectors.company_list(user=user).filter(pk=company.pk).exists():
            raise serializers.ValidationError("No such company.")
        return company


SEARCH = OpenApiParameter("search", str, description="Text to search for.")


class CrudViewSet(
    FollowChangesMixin,
    ServiceErrorsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    cursor_ordering = ("name", "pk")

    def _save(self, request, instance=None, partial=False) -> Response:
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        obj = self.write(instance, serializer.validated_data)
        code = status.HTTP_201_CREATED if instance is None else status.HTTP_200_OK
        return Response(self.get_serializer(self.reload(obj)).data, status=code)

    def reload(self, obj):
        return self.get_queryset().get(pk=obj.pk)

    def create(self, request, *args, **kwargs) -> Response:
        return self._save(request)

    def update(self, request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        return self._save(request, self.get_object(), partial=partial)

    def write(self, instance, data):  # pragma: no cover - overridden
        raise NotImplementedError


@extend_schema_view(list=extend_schema(parameters=[SEARCH, UPDATED_SINCE]))
class CompanyViewSet(CrudViewSet):
    serializer_class = CompanySerializer
    queryset = Company.objects.none()

    def get_queryset(self):
        return selectors.company_list(
            user=self.request.user, search=self.request.query_params.get("search", "")
        )

    def write(self, instance, data):
        user = self.request.user
        if instance is None:
            return services.company_create(actor=user, **data)
        return services.company_update(actor=user, company=instance, **data)

    def perform_destroy(self, instance: Company) -> None:
        services.company_delete(actor=self.request.user, company=instance)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            SEARCH,
            OpenApiParameter("company", int, description="Company id."),
            UPDATED_SINCE,
        ]
    )
)
class ContactViewSet(CrudViewSet):
    serializer_class = ContactSerializer
    queryset = Contact.objects.none()

    def get_queryset(self):
        params = self.request.query_params
        company = None
        if params.get("company"):
            company = selectors.company_get(user=self.request.user, pk=params["company"])
        return selectors.contact_list(
            user=self.request.user, search=params.get("search", ""), company=company
        )

    def write(self, instance, data):
        user = self.request.user
        if instance is None:
            return services.contact_create(actor=user, **data)
        return services.contact_update(actor=user, contact=instance, **data)

    def perform_destroy(self, instance: Contact) -> None:
        services.contact_delete(actor=self.request.user, contact=instance)
