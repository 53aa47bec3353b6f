"""The REST API under /api/v1/: companies, contacts, appointment types and appointments,
calendar availability and rooms, reps' calendar connections with their sync state, exclusion
lists."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from appointments.api import AppointmentTypeViewSet, AppointmentViewSet
from calendar_sync.api import AvailabilityView, RoomListView
from calendar_sync.exclusions_api import ExclusionViewSet
from calendar_sync.status_api import CalendarConnectionViewSet
from contacts.api import CompanyViewSet, ContactViewSet

router = DefaultRouter()
router.register("companies", CompanyViewSet, basename="api-company")
router.register("contacts", ContactViewSet, basename="api-contact")
router.register("appointment-types", AppointmentTypeViewSet, basename="api-appointment-type")
router.register("appointments", AppointmentViewSet, basename="api-appointment")
router.register(
    "calendar-connections", CalendarConnectionViewSet, basename="api-calendar-connection"
)

router.register("exclusions", ExclusionViewSet, basename="api-exclusion")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("availability/", AvailabilityView.as_view(), name="api-availability"),
    path("rooms/", RoomListView.as_view(), name="api-rooms"),
    *router.urls,
]
