"""API shapes for appointments: one read serializer, one write serializer (validated input
that the viewset hands to the services)."""

from __future__ import annotations

from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments.models import Appointment, AppointmentType, AttendeeKind, Outcome, Response
from appointments.selectors import appointment_invitation, appointment_participants
from calendar_sync.selectors import AppointmentSyncState, SyncState, appointment_sync_state
from contacts.models import Company, Contact
from contacts.selectors import company_list, contact_list, users_by_emails
from upsales_crm.pagination import DateTimeField


class AppointmentTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = AppointmentType
        fields = ["id", "name", "active"]


class ParticipantSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["organizer", *AttendeeKind.values])
    response = serializers.CharField()


class InvitedBySerializer(serializers.Serializer):
    email = serializers.EmailField()
    name = serializers.CharField(allow_blank=True)
    contact = serializers.IntegerField(
        allow_null=True, help_text="The contact the organizer's address matched, if any."
    )


class RoomSerializer(serializers.Serializer):
    name = serializers.CharField()
    email = serializers.EmailField(max_length=254)


class RoomWriteSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254, help_text="A room e-mail from GET /api/v1/rooms/."
    )


class CalendarEventSerializer(serializers.Serializer):
    provider = serializers.CharField(help_text="The calendar's provider id, e.g. google.")
    account_email = serializers.EmailField(help_text="The connected calendar account.")
    event_id = serializers.CharField(help_text="The provider's event id in that calendar.")
    ical_uid = serializers.CharField(help_text="The meeting's iCalUID (same in every calendar).")
    web_link = serializers.CharField(
        help_text="The event in the provider's web calendar (https), or empty when unknown."
    )


class AppointmentSerializer(serializers.ModelSerializer):
    organizer = serializers.EmailField(source="organizer.email", read_only=True)
    users = serializers.SerializerMethodField()
    contacts = serializers.SerializerMethodField()
    external_attendees = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    room = serializers.SerializerMethodField()
    cancelled = serializers.SerializerMethodField()
    video_link = serializers.CharField(
        read_only=True, help_text="The Meet/Teams link (https), or empty when there is none."
    )
    sync_state = serializers.SerializerMethodField(
        help_text="sent: in the organizer's calendar (or imported from a calendar); waiting: "
        "to be sent; failed: the last push failed (see sync_error; retried after the next "
        "sync); not_synced: not for a calendar (sync_error says why)."
    )
    sync_error = serializers.SerializerMethodField()
    calendar_events = serializers.SerializerMethodField()
    lock_reason = serializers.CharField(
        source="lock_reason_text",
        read_only=True,
        help_text="Why it is locked, in the request's language (e.g. who invited); empty when "
        "not locked or no reason is known.",
    )
    invited_by = serializers.SerializerMethodField(
        help_text="A meeting organised outside the CRM (an invitation): its organizer. "
        "null when the rep organises it."
    )
    own_response = serializers.SerializerMethodField(
        help_text="For an invitation: the rep's own answer as their calendar has it "
        "(no_answer = needs action); null when the rep organises it."
    )
    is_private = serializers.BooleanField(
        source="private",
        read_only=True,
        help_text="Marked private: in the calendar (Google visibility, Graph sensitivity), or "
        "booked as private in the CRM.",
    )
    details_hidden = serializers.SerializerMethodField(
        help_text="true: you see this appointment as 'Private appointment': its title is that "
        "label and its agenda, location, room and video link (and, unless you organise it, its "
        "description) are withheld. Either a private event logged without its details (the "
        "organizer's calendar setting), or a private meeting someone else organises."
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "title",
            "appointment_type",
            "start",
            "end",
            "all_day",
            "location",
            "agenda",
            "description",
            "organizer",
            "users",
            "contacts",
            "company",
            "external_attendees",
            "participants",
            "source",
            "locked",
            "lock_reason",
            "video_requested",
            "video_link",
            "room",
            "outcome",
            "cancelled",
            "follow_up_of",
            "sync_state",
            "sync_error",
            "calendar_events",
            "invited_by",
            "own_response",
            "is_private",
            "details_hidden",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField())
    def get_details_hidden(self, obj: Appointment) -> bool:
        return bool(getattr(obj, "masked_fields", None))

    def _attendees(self, obj: Appointment, kind: str) -> list:
        return [a for a in obj.attendees.all() if a.kind == kind]

    @extend_schema_field(serializers.ListField(child=serializers.EmailField(max_length=254)))
    def get_users(self, obj: Appointment) -> list[str]:
        return [a.user.email for a in self._attendees(obj, AttendeeKind.USER)]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_contacts(self, obj: Appointment) -> list[int]:
        return [a.contact_id for a in self._attendees(obj, AttendeeKind.CONTACT)]

    @extend_schema_field(serializers.ListField(child=serializers.EmailField(max_length=254)))
    def get_external_attendees(self, obj: Appointment) -> list[str]:
        return [a.email for a in self._attendees(obj, AttendeeKind.EXTERNAL)]

    @extend_schema_field(ParticipantSerializer(many=True))
    def get_participants(self, obj: Appointment) -> list[dict]:
        return appointment_participants(obj)

    @extend_schema_field(RoomSerializer(allow_null=True))
    def get_room(self, obj: Appointment) -> dict | None:
        if not (obj.room_name or obj.room_email):
            return None
        return {"name": obj.room_name, "email": obj.room_email}

    @extend_schema_field(InvitedBySerializer(allow_null=True))
    def get_invited_by(self, obj: Appointment) -> dict | None:
        invitation = appointment_invitation(obj)
        if invitation is None:
            return None
        contact = invitation["contact"]
        return {
            "email": invitation["email"],
            "name": invitation["name"],
            "contact": contact.pk if contact else None,
        }

    @extend_schema_field(serializers.ChoiceField(choices=Response.choices, allow_null=True))
    def get_own_response(self, obj: Appointment) -> str | None:
        invitation = appointment_invitation(obj)
        return invitation["response"] if invitation else None

    @extend_schema_field(serializers.BooleanField())
    def get_cancelled(self, obj: Appointment) -> bool:
        return obj.cancelled_at is not None

    def _sync(self, obj: Appointment) -> AppointmentSyncState:
        states = self.context.get("sync_states")  # a list fills it in one go
        if states is None:
            states = cast(dict, self.context)["sync_states"] = {}
        if obj.pk not in states:
            states[obj.pk] = appointment_sync_state(obj)
        return states[obj.pk]

    @extend_schema_field(serializers.ChoiceField(choices=SyncState.values))
    def get_sync_state(self, obj: Appointment) -> str:
        return self._sync(obj).state

    @extend_schema_field(serializers.CharField())
    def get_sync_error(self, obj: Appointment) -> str:
        return self._sync(obj).error

    @extend_schema_field(CalendarEventSerializer(many=True))
    def get_calendar_events(self, obj: Appointment) -> list[dict]:
        return [CalendarEventSerializer(e).data for e in self._sync(obj).events]


class AppointmentWriteSerializer(serializers.Serializer):
    """Input for create/update; references are resolved within what the user may see."""

    title = serializers.CharField(max_length=255)
    appointment_type = serializers.PrimaryKeyRelatedField(queryset=AppointmentType.objects.all())
    start = DateTimeField()
    end = DateTimeField()
    all_day = serializers.BooleanField(required=False, default=False)
    location = serializers.CharField(required=False, allow_blank=True, default="")
    agenda = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")
    company = serializers.PrimaryKeyRelatedField(
        queryset=Company.objects.all(), required=False, allow_null=True, default=None
    )
    contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), many=True, required=False, default=list
    )
    users = serializers.ListField(
        child=serializers.EmailField(max_length=254), required=False, default=list
    )
    external_attendees = serializers.ListField(
        child=serializers.EmailField(max_length=254), required=False, default=list
    )
    outcome = serializers.ChoiceField(choices=Outcome.choices, required=False)
    video_requested = serializers.BooleanField(
        required=False,
        help_text="Add a video meeting (Google Meet / Teams, made by the organizer's calendar); "
        "the link appears in video_link once the provider has made it. true is refused (400, "
        "on video_requested) when the organizer has no active calendar or their calendar makes "
        "no video meetings (the booking form then offers no video box).",
    )
    room = RoomWriteSerializer(
        required=False,
        allow_null=True,
        help_text="Book a room (added to the event as a resource); null removes it.",
    )
    is_private = serializers.BooleanField(
        required=False,
        help_text="A private meeting: colleagues see 'Private appointment' (time, company and "
        "participants), and the organizer's calendar marks the event private.",
    )

    @property
    def _user(self):
        return self.context["request"].user

    def validate_company(self, company: Company | None) -> Company | None:
        if company is not None and not company_list(user=self._user).filter(pk=company.pk):
            raise serializers.ValidationError(_("No such company."))
        return company

    def validate_contacts(self, contacts: list[Contact]) -> list[Contact]:
        visible = set(
            contact_list(user=self._user)
            .filter(pk__in=[c.pk for c in contacts])
            .values_list("pk", flat=True)
        )
        missing = [c.pk for c in contacts if c.pk not in visible]
        if missing:
            raise serializers.ValidationError(_("No such contact: %(ids)s") % {"ids": missing})
        return contacts

    def validate_users(self, emails: list[str]) -> list:
        found = users_by_emails(emails)
        missing = [e for e in emails if e.lower() not in found]
        if missing:
            raise serializers.ValidationError(
                _("No such user: %(emails)s") % {"emails": ", ".join(missing)}
            )
        return list({u.pk: u for u in found.values()}.values())

    def validate_room(self, room: dict | None) -> dict:
        if not room:
            return {"room_email": "", "room_name": ""}
        from calendar_sync.rooms import room_resolve

        try:
            found = room_resolve(organizer=self._user, email=room["email"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["room"]) from exc
        assert found is not None
        return {"room_email": found.email, "room_name": found.name}

    def to_service_kwargs(self) -> dict:
        data = dict(self.validated_data)
        if "external_attendees" in data:
            data["external_emails"] = data.pop("external_attendees")
        if "room" in data:
            data.update(data.pop("room"))
        if "is_private" in data:
            data["private"] = data.pop("is_private")
        return data


class FollowUpSerializer(serializers.Serializer):
    start = DateTimeField()
    end = DateTimeField()
    title = serializers.CharField(max_length=255, required=False)
