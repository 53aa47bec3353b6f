"""A rep's "private events" setting changed: what is already logged follows it.

The window is read again in full (``services.connection_set_private_events`` clears the cursor
and the echo hashes), so each event there is planned by the new setting: logged in full again
(its details read back from the calendar), or kept without them. Appointments before today are
outside the window: hiding their details happens here, at once, for every one of them; what the
calendar said of them is not read again, so they stay as they are when the setting goes back to
"logged normally".
"""

from __future__ import annotations

from appointments.calendar_changes import AppointmentUpdate, CalendarChanges
from appointments.models import Appointment, Attendee, AttendeeKind, Source
from appointments.services import appointment_apply_calendar_changes

from ..models import CalendarConnection, EventLink
from . import fieldmap


def hide_logged_private_details(connection: CalendarConnection) -> int:
    """Every private appointment imported from this calendar, the rep's own, loses its details
    (title, agenda, place, room, video link) and the addresses that match no contact or user.
    Not an edit to push: ``updated_at`` stays (and such an appointment is never exported)."""
    linked = EventLink.objects.filter(connection=connection, appointment__isnull=False)
    appointments = list(
        Appointment.objects.filter(
            pk__in=linked.values("appointment_id"),
            organizer_id=connection.user_id,
            private=True,
            details_hidden=False,
        ).exclude(source=Source.CRM)
    )
    if not appointments:
        return 0
    hidden = {**fieldmap.hidden_values(), "details_hidden": True}
    others = Attendee.objects.filter(appointment__in=appointments, kind=AttendeeKind.EXTERNAL)
    changes = CalendarChanges(
        update=[AppointmentUpdate(a, dict(hidden), touch=False) for a in appointments],
        attendees_remove=set(others.values_list("pk", flat=True)),
    )
    appointment_apply_calendar_changes(changes=changes)
    return len(appointments)
