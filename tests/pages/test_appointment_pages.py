"""The appointment form, the rules on the page, outcome and follow-up, and the calendar."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, Attendee, AttendeeKind, Outcome
from tests.factories import (
    AppointmentFactory,
    UserFactory,
    add_contact_attendee,
    add_user_attendee,
)

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _post_data(**overrides) -> dict:
    data = {
        "title": "Demo for Kund AB",
        "date": "2030-03-04",
        "start_time": "10:00",
        "end_time": "11:00",
        "location": "Kungsgatan 1",
        "description": "Show the product",
        "external_emails": "guest@partner.se, other@partner.se",
    }
    data.update(overrides)
    return data


def test_creating_an_appointment_through_the_form(rep_client, rep, meeting_type, company, contact):
    colleague = UserFactory()
    data = _post_data(
        appointment_type=meeting_type.pk,
        company=company.pk,
        contacts=[contact.pk],
        users=[colleague.pk],
    )
    response = rep_client.post(reverse("appointments:create"), data)
    appointment = Appointment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == appointment.get_absolute_url()
    assert appointment.organizer == rep
    assert appointment.company == company
    assert appointment.start == datetime(2030, 3, 4, 10, tzinfo=STOCKHOLM)
    assert appointment.end == datetime(2030, 3, 4, 11, tzinfo=STOCKHOLM)
    kinds = sorted((a.kind, a.email) for a in Attendee.objects.filter(appointment=appointment))
    assert kinds == [
        (AttendeeKind.CONTACT, "johanna@kund.se"),
        (AttendeeKind.EXTERNAL, "guest@partner.se"),
        (AttendeeKind.EXTERNAL, "other@partner.se"),
        (AttendeeKind.USER, colleague.email),
    ]


def test_form_is_prefilled_from_a_contact(rep_client, meeting_type, contact, company):
    response = rep_client.get(reverse("appointments:create") + f"?contact={contact.pk}")
    form = response.context["form"]
    assert form.initial["contacts"] == [contact]
    assert form.initial["company"] == company
    html = response.content.decode()
    contacts_select = re.search(r'<select name="contacts".*?</select>', html, re.S).group(0)
    assert re.search(rf'<option value="{contact.pk}"[^>]* selected', contacts_select)


def test_all_day_appointment(rep_client, meeting_type):
    data = _post_data(appointment_type=meeting_type.pk, all_day="on", start_time="", end_time="")
    assert rep_client.post(reverse("appointments:create"), data).status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.all_day
    assert appointment.start == datetime(2030, 3, 4, tzinfo=STOCKHOLM)
    assert appointment.end == datetime(2030, 3, 5, tzinfo=STOCKHOLM)


def test_end_before_start_is_a_form_error(rep_client, meeting_type):
    data = _post_data(appointment_type=meeting_type.pk, start_time="11:00", end_time="10:00")
    response = rep_client.post(reverse("appointments:create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["end_time"]
    assert not Appointment.objects.exists()


def test_agenda_is_shown_only_with_an_active_calendar_app(rep_client, meeting_type, monkeypatch):
    from appointments import views

    assert "id_agenda" not in rep_client.get(reverse("appointments:create")).content.decode()
    monkeypatch.setattr(views, "has_active_calendar", lambda user: True)
    assert "id_agenda" in rep_client.get(reverse("appointments:create")).content.decode()


@pytest.fixture
def invited(rep, meeting_type, company, contact):
    """An appointment organized by a colleague, with the rep as participating user."""
    organizer = UserFactory()
    appointment = AppointmentFactory(
        organizer=organizer,
        appointment_type=meeting_type,
        company=company,
        location="Their office",
        description="Original",
    )
    add_user_attendee(appointment, rep)
    add_contact_attendee(appointment, contact)
    return appointment


def test_participant_sees_protected_fields_read_only_with_the_reason(rep_client, invited):
    response = rep_client.get(reverse("appointments:edit", args=[invited.pk]))
    html = response.content.decode()
    form = response.context["form"]
    for name in ("date", "start_time", "location", "description", "company", "contacts"):
        assert name in form.readonly_reasons, name
        assert form.fields[name].widget.attrs.get("disabled"), name
    assert "Only the organizer can change" in html


def test_participant_post_changing_protected_fields_shows_reason_and_changes_nothing(
    rep_client, invited
):
    before = Appointment.objects.get(pk=invited.pk)
    data = _post_data(
        title=invited.title,
        appointment_type=invited.appointment_type_id,
        location="Somewhere else",
        description="Changed",
        date="2031-01-01",
    )
    response = rep_client.post(reverse("appointments:edit", args=[invited.pk]), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only the organizer can change" in html
    assert response.context["form"].errors["location"]
    after = Appointment.objects.get(pk=invited.pk)
    assert (after.location, after.description, after.start, after.updated_at) == (
        before.location,
        before.description,
        before.start,
        before.updated_at,
    )


def test_organizer_can_edit(rep_client, rep, meeting_type):
    appointment = AppointmentFactory(organizer=rep, appointment_type=meeting_type)
    data = _post_data(appointment_type=meeting_type.pk, title="Renamed", location="Here")
    response = rep_client.post(reverse("appointments:edit", args=[appointment.pk]), data)
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.title, appointment.location) == ("Renamed", "Here")
    assert appointment.start == datetime(2030, 3, 4, 10, tzinfo=STOCKHOLM)


def test_passed_appointment_date_is_read_only_for_the_organizer(rep_client, rep, meeting_type):
    start = timezone.now() - timedelta(days=3)
    appointment = AppointmentFactory(
        organizer=rep, appointment_type=meeting_type, start=start, end=start + timedelta(hours=1)
    )
    form = rep_client.get(reverse("appointments:edit", args=[appointment.pk])).context["form"]
    assert "date" in form.readonly_reasons
    assert "location" not in form.readonly_reasons
    assert "has passed" in form.readonly_reasons["date"]


def test_locked_appointment_shows_lock_reason(rep_client, rep, meeting_type):
    appointment = AppointmentFactory(
        organizer=rep,
        appointment_type=meeting_type,
        locked=True,
        lock_reason="Invited by a contact",
    )
    html = rep_client.get(reverse("appointments:detail", args=[appointment.pk])).content.decode()
    assert "Invited by a contact" in html
    form = rep_client.get(reverse("appointments:edit", args=[appointment.pk])).context["form"]
    assert "locked" in form.readonly_reasons["location"]


def test_participant_sets_outcome(rep_client, invited):
    url = reverse("appointments:outcome", args=[invited.pk])
    response = rep_client.post(url, {"outcome": Outcome.NOT_COMPLETED})
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.outcome == Outcome.NOT_COMPLETED


def test_follow_up_on_a_passed_appointment(rep_client, rep, meeting_type, contact):
    start = timezone.now() - timedelta(days=3)
    appointment = AppointmentFactory(
        organizer=rep, appointment_type=meeting_type, start=start, end=start + timedelta(hours=1)
    )
    add_contact_attendee(appointment, contact)
    detail = rep_client.get(reverse("appointments:detail", args=[appointment.pk]))
    assert detail.context["follow_up_form"] is not None
    response = rep_client.post(
        reverse("appointments:follow_up", args=[appointment.pk]),
        {"date": "2030-06-01", "start_time": "09:00", "end_time": "10:00"},
    )
    follow_up = Appointment.objects.get(follow_up_of=appointment)
    assert response["Location"] == follow_up.get_absolute_url()
    assert follow_up.start == datetime(2030, 6, 1, 9, tzinfo=STOCKHOLM)
    assert follow_up.attendees.filter(contact=contact).exists()


def test_no_follow_up_button_before_the_appointment_has_passed(rep_client, rep, meeting_type):
    appointment = AppointmentFactory(organizer=rep, appointment_type=meeting_type)
    detail = rep_client.get(reverse("appointments:detail", args=[appointment.pk]))
    assert detail.context["follow_up_form"] is None


def test_non_organizer_cannot_delete(rep_client, invited):
    response = rep_client.post(reverse("appointments:delete", args=[invited.pk]), follow=True)
    assert Appointment.objects.filter(pk=invited.pk).exists()
    assert "Only the organizer can delete" in response.content.decode()


def test_detail_shows_participants_with_responses(rep_client, invited, rep):
    Attendee.objects.filter(appointment=invited, user=rep).update(response="declined")
    html = rep_client.get(reverse("appointments:detail", args=[invited.pk])).content.decode()
    assert "Johanna Svensson" in html
    assert "Karl Andersson" in html
    assert "Declined" in html
    assert "CRM" in html


# --- calendar and list ------------------------------------------------------------------------


def _this_week_at(hour: int) -> datetime:
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    return datetime(monday.year, monday.month, monday.day, hour, tzinfo=STOCKHOLM) + timedelta(
        days=2
    )


def _week_feed(client, **params) -> list[dict]:
    monday = _this_week_at(0) - timedelta(days=2)
    query = {
        "start": monday.strftime("%Y-%m-%dT00:00:00"),
        "end": (monday + timedelta(days=7)).strftime("%Y-%m-%dT00:00:00"),
        **params,
    }
    response = client.get(reverse("appointments:calendar_events"), query)
    assert response.status_code == 200
    return response.json()


def test_calendar_feed_shows_appointments_at_their_time_and_cancelled_ones_marked(
    rep_client, rep, meeting_type, company
):
    start = _this_week_at(10)
    AppointmentFactory(
        organizer=rep,
        appointment_type=meeting_type,
        title="Kickoff",
        start=start,
        end=start + timedelta(hours=1),
        company=company,
    )
    AppointmentFactory(
        organizer=rep,
        appointment_type=meeting_type,
        title="Dropped",
        start=start,
        end=start + timedelta(hours=1),
        cancelled_at=timezone.now(),
    )
    events = {e["title"]: e for e in _week_feed(rep_client)}
    kickoff = events["Kickoff"]
    assert kickoff["start"] == start.strftime("%Y-%m-%dT10:00:00")
    assert kickoff["extendedProps"]["company"] == "Kund AB"
    assert kickoff["extendedProps"]["source"] == "CRM"
    assert kickoff["editable"] is True and kickoff["extendedProps"]["moveRefusal"] == ""
    dropped = events["Dropped"]
    assert dropped["extendedProps"]["cancelled"] is True
    assert "is-cancelled" in dropped["classNames"] and dropped["editable"] is False


def test_calendar_feed_shows_a_colleague_only_when_toggled_in(rep_client, rep, meeting_type):
    from django.contrib.auth.models import Group

    # A team is a group without permissions.
    team = Group.objects.create(name="Team Nord")
    colleague = UserFactory(first_name="Lena", last_name="Ek")
    stranger = UserFactory()
    team.user_set.add(rep, colleague)
    start = _this_week_at(13)
    for organizer, title in ((colleague, "Colleague's lunch"), (stranger, "Stranger's lunch")):
        AppointmentFactory(
            organizer=organizer,
            appointment_type=meeting_type,
            title=title,
            start=start,
            end=start + timedelta(hours=1),
        )
    page = rep_client.get(reverse("appointments:calendar")).content.decode()
    assert "Lena Ek" in page and f'value="{colleague.pk}"' in page
    assert f'value="{stranger.pk}"' not in page
    assert _week_feed(rep_client) == []
    shown = _week_feed(rep_client, people=f"{colleague.pk},{stranger.pk}")
    assert [e["title"] for e in shown] == ["Colleague's lunch"]
    assert "is-colleague" in shown[0]["classNames"]
    assert shown[0]["extendedProps"]["person"] == "Lena Ek"
    assert shown[0]["extendedProps"]["moveRefusal"].startswith("Only the organizer")


def test_calendar_feed_refuses_a_missing_or_huge_range(rep_client):
    url = reverse("appointments:calendar_events")
    assert rep_client.get(url).status_code == 400
    assert rep_client.get(url, {"start": "2030-01-01", "end": "2031-01-01"}).status_code == 400


def _make_appointments(rep, meeting_type, company, contact, n: int) -> None:
    start = _this_week_at(8)
    for i in range(n):
        a = AppointmentFactory(
            organizer=rep,
            appointment_type=meeting_type,
            company=company,
            start=start + timedelta(minutes=20 * i),
            end=start + timedelta(minutes=20 * i + 15),
        )
        add_contact_attendee(a, contact)
        add_user_attendee(a, UserFactory())


def test_calendar_feed_query_count_does_not_grow_with_appointments(
    rep_client, rep, meeting_type, company, contact, django_assert_max_num_queries
):
    _make_appointments(rep, meeting_type, company, contact, 1)
    _week_feed(rep_client)  # warm caches (content types, sessions)
    with django_assert_max_num_queries(12) as one:
        _week_feed(rep_client)
    _make_appointments(rep, meeting_type, company, contact, 19)
    with django_assert_max_num_queries(len(one.captured_queries)) as twenty:
        assert len(_week_feed(rep_client)) == 20
    assert len(twenty.captured_queries) == len(one.captured_queries)


def test_list_filters_by_company_and_paginates(rep_client, rep, meeting_type, company):
    for _ in range(30):
        AppointmentFactory(organizer=rep, appointment_type=meeting_type, company=company)
    AppointmentFactory(organizer=rep, appointment_type=meeting_type, title="Elsewhere")
    url = reverse("appointments:list")
    response = rep_client.get(url, {"company": company.pk})
    assert response.context["page_obj"].paginator.count == 30
    assert "Elsewhere" not in response.content.decode()
    assert rep_client.get(url, {"company": company.pk, "page": 2}).status_code == 200


def test_list_filters_by_date_range(rep_client, rep, meeting_type):
    inside = datetime(2030, 1, 10, 10, tzinfo=STOCKHOLM)
    AppointmentFactory(
        organizer=rep,
        appointment_type=meeting_type,
        title="Inside",
        start=inside,
        end=inside + timedelta(hours=1),
    )
    outside = datetime(2030, 2, 10, 10, tzinfo=STOCKHOLM)
    AppointmentFactory(
        organizer=rep,
        appointment_type=meeting_type,
        title="Outside",
        start=outside,
        end=outside + timedelta(hours=1),
    )
    html = rep_client.get(
        reverse("appointments:list"), {"start": "2030-01-01", "end": "2030-01-31"}
    ).content.decode()
    assert "Inside" in html and "Outside" not in html


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(document.domain)", " JavaScript:alert(1)", "data:text/html,x", "http://x/"],
)
def test_detail_page_links_a_video_link_only_when_it_is_https(rep_client, rep, meeting_type, link):
    start = _this_week_at(10)
    appointment = AppointmentFactory(
        organizer=rep,
        appointment_type=meeting_type,
        title="Videomöte",
        start=start,
        end=start + timedelta(hours=1),
    )
    # Stored without validation, as a bulk write would.
    Appointment.objects.filter(pk=appointment.pk).update(video_link=link)
    html = rep_client.get(reverse("appointments:detail", args=[appointment.pk])).content.decode()
    video = re.search(r'<dd id="video-link">(.*?)</dd>', html, re.S).group(1)
    assert "href" not in video and link.strip() not in html
    response = rep_client.get(
        reverse("appointments:calendar_events"),
        {
            "start": f"{start:%Y-%m-%d}T00:00:00",
            "end": f"{start + timedelta(days=1):%Y-%m-%d}T00:00:00",
        },
    )
    assert [e["title"] for e in response.json()] == ["Videomöte"]
    assert link.strip() not in response.content.decode()


def test_detail_page_links_an_https_video_link(rep_client, rep, meeting_type):
    link = "https://meet.google.com/abc-defg-hij"
    appointment = AppointmentFactory(organizer=rep, appointment_type=meeting_type, video_link=link)
    html = rep_client.get(reverse("appointments:detail", args=[appointment.pk])).content.decode()
    assert f'<a href="{link}" target="_blank" rel="noopener noreferrer">' in html


def test_the_lists_all_users_filter_shows_every_appointment_the_rep_may_see(
    rep_client, rep, meeting_type
):
    from django.contrib.auth.models import Group

    eva = UserFactory(first_name="Eva", email="eva.lind@exempel.se")
    stranger = UserFactory(email="olle@annat.se")
    Group.objects.create(name="Team Syd").user_set.add(rep, eva)
    AppointmentFactory(organizer=rep, appointment_type=meeting_type, title="Mitt möte")
    AppointmentFactory(organizer=eva, appointment_type=meeting_type, title="Evas möte")
    AppointmentFactory(organizer=stranger, appointment_type=meeting_type, title="Hemligt")
    url = reverse("appointments:list")

    default = rep_client.get(url).content.decode()
    assert "Mitt möte" in default and "Evas möte" not in default
    assert f'<option value="{rep.pk}" selected>' in default  # the filter says "me"

    everyone = rep_client.get(url, {"user": ""}).content.decode()
    assert "Mitt möte" in everyone and "Evas möte" in everyone
    assert "Hemligt" not in everyone  # all users = all the rep may see
    assert '<option value="" selected>' in everyone


def test_a_colleagues_appointment_has_no_edit_whose_save_pretends_to_succeed(rep_client, invited):
    detail = rep_client.get(reverse("appointments:detail", args=[invited.pk])).content.decode()
    assert reverse("appointments:edit", args=[invited.pk]) not in detail
    assert 'id="read-only-reason"' in detail and "Only the organizer can change" in detail
    page = rep_client.get(reverse("appointments:edit", args=[invited.pk])).content.decode()
    assert 'type="submit">Save<' not in page
    # Re-posting the unchanged form is refused with the reason, never "saved".
    data = _post_data(title=invited.title, appointment_type=invited.appointment_type_id)
    response = rep_client.post(reverse("appointments:edit", args=[invited.pk]), data)
    assert response.status_code == 400
    assert "was saved" not in response.content.decode()
    assert "Only the organizer can change" in response.content.decode()


def test_a_locked_appointments_title_is_read_only_with_the_reason(rep_client, rep, meeting_type):
    appointment = AppointmentFactory(
        organizer=rep, appointment_type=meeting_type, locked=True, lock_reason="Invited by x"
    )
    form = rep_client.get(reverse("appointments:edit", args=[appointment.pk])).context["form"]
    assert "organizer's calendar" in form.readonly_reasons["title"]
    assert "appointment_type" not in form.readonly_reasons  # the CRM's own: kept, editable
