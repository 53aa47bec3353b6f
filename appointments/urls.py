from __future__ import annotations

from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/events/", views.calendar_events, name="calendar_events"),
    path("appointments/", views.appointment_list, name="list"),
    path("appointments/new/", views.appointment_create, name="create"),
    path("appointments/<int:pk>/", views.appointment_detail, name="detail"),
    path("appointments/<int:pk>/edit/", views.appointment_edit, name="edit"),
    path("appointments/<int:pk>/outcome/", views.appointment_outcome, name="outcome"),
    path("appointments/<int:pk>/follow-up/", views.appointment_follow_up, name="follow_up"),
    path("appointments/<int:pk>/move/", views.appointment_move, name="move"),
    path("appointments/<int:pk>/delete/", views.appointment_delete, name="delete"),
]
