"""Each of the seed's sync rules, by name, and the FAQ's scenarios 1–3 at the rules level."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from calendar_sync.providers.base import ExternalAttendee, ExternalEvent
from calendar_sync.sync import fieldmap, rules
from calendar_sync.sync.rules import SkipReason

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2025, 3, 12, 9, 0, tzinfo=STOCKHOLM)
WINDOW = rules.sync_window(NOW, 92, STOCKHOLM)

# The FAQ's people.
KARL = ["karl.andersson@exempel.se", "karl@exempel.se", "karl@sthlm.exempel.se"]
JOHANNA = ["johanna.svennson@exempel.se", "johanna@exempel.se", "johanna@gbg.exempel.se"]
USER_EMAILS = set(KARL)
USER_DOMAINS = {"exempel.se", "sthlm.exempel.se"}


def att(email: str, **kw) -> ExternalAttendee:
    return ExternalAttendee(email=email, **kw)


def event(*, organizer: str = "karl@exempel.se", attendees=(), **kw) -> ExternalEvent:
    start = kw.pop("start", NOW + dt.timedelta(days=1))
    return ExternalEvent(
        id=kw.pop("id", "ev1"),
        ical_uid=kw.pop("ical_uid", "uid1"),
        title=kw.pop("title", "Möte"),
        start=start,
        end=kw.pop("end", start + dt.timedelta(hours=1) if start else None),
        organizer_email=organizer,
        organizer_is_self=organizer in KARL,
        attendees=list(attendees),
        **kw,
    )


def classify(ev: ExternalEvent, *, users=USER_EMAILS, domains=USER_DOMAINS):
    return rules.classify_event(ev, rep_addresses=KARL, user_emails=users, user_domains=domains)


def reason(ev: ExternalEvent, **kw):
    return rules.skip_reason(ev, classify(ev, **kw), window=WINDOW)


# --- is_rep / classify_attendee --------------------------------------------------------------
def test_is_rep_by_alias_case_insensitive():
    assert rules.is_rep(att("KARL@sthlm.exempel.se"), KARL)


def test_is_rep_by_self_flag():
    assert rules.is_rep(att("unknown@elsewhere.se", is_self=True), KARL)


def test_is_rep_false_for_other_address():
    assert not rules.is_rep(att("eva@exempel.se"), KARL)


@pytest.mark.parametrize(
    ("email", "kind"),
    [
        ("karl@exempel.se", "rep"),
        ("Eva.Lind@Exempel.se", "user"),
        ("johanna.svennson@exempel.se", "colleague"),
        ("johanna@gbg.exempel.se", "external"),  # gbg.exempel.se is not exempel.se
        ("kund@acme.se", "external"),
    ],
)
def test_classify_attendee(email, kind):
    got = rules.classify_attendee(
        email,
        rep_addresses=KARL,
        user_emails={"eva.lind@exempel.se", *KARL},
        user_domains=USER_DOMAINS,
    )
    assert got == kind


def test_classify_attendee_domain_must_match_exactly():
    got = rules.classify_attendee(
        "anna@exempel.se", rep_addresses=[], user_emails=[], user_domains={"gbg.exempel.se"}
    )
    assert got == "external"


@pytest.mark.parametrize(
    ("email", "internal"),
    [
        ("johanna.svennson@exempel.se", True),
        ("KARL@Sthlm.Exempel.se", True),
        ("johanna@gbg.exempel.se", False),  # a sub-domain of a user domain is not one
        ("kund@acme.se", False),
        ("no-at-sign", False),
    ],
)
def test_has_user_domain(email, internal):
    assert rules.has_user_domain(email, USER_DOMAINS) is internal


def test_is_colleague_not_a_user_but_a_users_exact_domain():
    kw = {"user_emails": {*KARL, "eva.lind@exempel.se"}, "user_domains": USER_DOMAINS}
    assert rules.is_colleague("johanna.svennson@exempel.se", **kw)
    assert not rules.is_colleague("Eva.Lind@exempel.se", **kw)  # a user
    assert not rules.is_colleague("johanna@gbg.exempel.se", **kw)  # FAQ 2: external
    assert rules.is_colleague(
        "johanna@gbg.exempel.se", **{**kw, "user_domains": {"gbg.exempel.se"}}
    )


def test_classify_event_sorts_everyone_but_the_rep_by_kind():
    ev = event(
        organizer="kund@acme.se",
        attendees=[
            att("karl@exempel.se", name="Karl"),
            att("eva.lind@exempel.se", response="accepted"),
            att("johanna@exempel.se"),
            att("rum@exempel.se", is_resource=True),
        ],
    )
    c = classify(ev, users={*KARL, "eva.lind@exempel.se"})
    assert (c.organizer, c.organizer_email) == ("external", "kund@acme.se")
    assert (c.users, c.colleagues, c.externals) == (
        ["eva.lind@exempel.se"],
        ["johanna@exempel.se"],
        ["kund@acme.se"],
    )
    assert c.responses["eva.lind@exempel.se"] == "accepted"
    assert c.names["karl@exempel.se"] == "Karl"


def test_rooms_are_not_participants():
    ev = event(attendees=[att("karl@exempel.se"), att("rum1@exempel.se", is_resource=True)])
    assert classify(ev).others == []
    assert reason(ev) == SkipReason.NO_PARTICIPANTS


def test_room_listed_in_room_emails_is_not_a_participant():
    ev = event(attendees=[att("rum@resource.se")], room_emails=["rum@resource.se"])
    assert rules.participants(ev)[0].email == "karl@exempel.se"
    assert reason(ev) == SkipReason.NO_PARTICIPANTS


# --- skip_reason -------------------------------------------------------------------------------
def test_skip_reason_no_participants():
    assert reason(event()) == SkipReason.NO_PARTICIPANTS


def test_skip_reason_only_internal():
    ev = event(attendees=[att("johanna@exempel.se"), att("eva.lind@exempel.se")])
    assert reason(ev, users={*KARL, "eva.lind@exempel.se"}) == SkipReason.ONLY_INTERNAL


def test_skip_reason_organized_by_colleague():
    ev = event(organizer="johanna@exempel.se", attendees=[att("karl@exempel.se"), att("k@acme.se")])
    assert reason(ev) == SkipReason.ORGANIZED_BY_COLLEAGUE


def test_skip_reason_organized_by_another_user():
    ev = event(organizer="eva@exempel.se", attendees=[att("karl@exempel.se"), att("k@acme.se")])
    assert reason(ev, users={*KARL, "eva@exempel.se"}) == SkipReason.ORGANIZED_BY_COLLEAGUE


def test_skip_reason_all_day_recurring():
    ev = event(attendees=[att("k@acme.se")], all_day=True, is_recurring=True, series_id="s1")
    assert reason(ev) == SkipReason.ALL_DAY_RECURRING


def test_all_day_single_event_is_imported():
    assert reason(event(attendees=[att("k@acme.se")], all_day=True)) is None


def test_timed_recurring_instance_is_imported():
    assert reason(event(attendees=[att("k@acme.se")], is_recurring=True, series_id="s")) is None


@pytest.mark.parametrize("days", [-1, 93, 200])
def test_skip_reason_outside_window(days):
    ev = event(attendees=[att("k@acme.se")], start=NOW + dt.timedelta(days=days))
    assert reason(ev) == SkipReason.OUTSIDE_WINDOW


def test_sync_window_is_today_from_local_midnight_plus_days():
    start, end = rules.sync_window(NOW, 92, STOCKHOLM)
    assert start == dt.datetime(2025, 3, 12, 0, 0, tzinfo=STOCKHOLM)
    assert end == start + dt.timedelta(days=92)


def test_in_window_includes_the_start_and_excludes_the_end():
    assert rules.in_window(WINDOW[0], WINDOW)
    assert not rules.in_window(WINDOW[1], WINDOW)
    assert not rules.in_window(None, WINDOW)


def test_is_all_day_recurring():
    assert rules.is_all_day_recurring(event(all_day=True, is_recurring=True))
    assert rules.is_all_day_recurring(event(all_day=True, series_id="s1"))
    assert not rules.is_all_day_recurring(event(all_day=True))
    assert not rules.is_all_day_recurring(event(is_recurring=True, series_id="s1"))


def test_window_starts_at_local_midnight_today():
    ev = event(attendees=[att("k@acme.se")], start=NOW.replace(hour=0, minute=30))
    assert reason(ev) is None


def test_skip_reason_no_start():
    ev = event(attendees=[att("k@acme.se")], start=None, end=None)
    assert reason(ev) == SkipReason.NO_START


def test_skip_reason_cancelled_unknown():
    ev = event(attendees=[att("k@acme.se")], cancelled=True)
    assert reason(ev) == SkipReason.CANCELLED_UNKNOWN


def test_cancelled_known_event_is_not_skipped():
    ev = event(attendees=[att("k@acme.se")], cancelled=True)
    assert rules.skip_reason(ev, classify(ev), window=WINDOW, known=True) is None


def test_known_event_skips_participant_rules():
    ev = event()  # no participants, but it is already an appointment (e.g. from the CRM)
    assert rules.skip_reason(ev, classify(ev), window=WINDOW, known=True) is None


def test_every_skip_reason_has_a_label():
    assert set(rules.SKIP_LABELS) == set(SkipReason)


# --- skip_reason (import or not) / lock -------------------------------------------------------
def test_skip_reason_none_for_external_participant():
    ev = event(attendees=[att("karl@exempel.se"), att("kund@acme.se")])
    assert rules.skip_reason(ev, classify(ev), window=WINDOW) is None


def test_skip_reason_set_for_only_internal():
    ev = event(attendees=[att("johanna@exempel.se")])
    assert rules.skip_reason(ev, classify(ev), window=WINDOW) is not None


def test_is_locked_invitation_when_external_organizes():
    ev = event(organizer="kund@acme.se", attendees=[att("karl@exempel.se")])
    assert rules.is_locked_invitation(classify(ev)) == (True, "kund@acme.se")


def test_is_locked_invitation_names_no_excluded_organizer():
    ev = event(organizer="kund@acme.se", attendees=[att("karl@exempel.se")])
    cls = classify(ev)
    cls.excluded.append("kund@acme.se")
    assert rules.is_locked_invitation(cls) == (True, "")


def test_is_locked_invitation_false_when_rep_organizes():
    ev = event(attendees=[att("kund@acme.se")])
    assert rules.is_locked_invitation(classify(ev)) == (False, "")


# --- choose_company ---------------------------------------------------------------------------
def test_choose_company_prefers_organizers_contact():
    contacts = {"a@x.se": SimpleNamespace(company_id=1), "b@y.se": SimpleNamespace(company_id=2)}
    assert rules.choose_company(contacts, "B@y.se") == 2


def test_choose_company_falls_back_to_first_matched():
    contacts = {"a@x.se": SimpleNamespace(company_id=None), "b@y.se": SimpleNamespace(company_id=2)}
    assert rules.choose_company(contacts, "karl@exempel.se") == 2


def test_choose_company_none_without_contacts():
    assert rules.choose_company({}, "x@y.se") is None


# --- provider deletes, conflicts, echo -----------------------------------------------------------
def test_should_delete_on_provider_delete_recurring():
    assert rules.should_delete_on_provider_delete(event(cancelled=True, series_id="s1"))


def test_should_delete_on_provider_delete_single_event_stays():
    assert not rules.should_delete_on_provider_delete(event(cancelled=True))


def test_resolve_conflict_last_writer_wins():
    t = NOW
    assert rules.resolve_conflict(t, t + dt.timedelta(seconds=1)) == "crm"
    assert rules.resolve_conflict(t + dt.timedelta(seconds=1), t) == "provider"


def test_resolve_conflict_tie_goes_to_provider():
    assert rules.resolve_conflict(NOW, NOW) == "provider"
    assert rules.resolve_conflict(None, NOW) == "provider"


def test_crm_version_is_exported_only_for_upcoming_unlocked_live_appointments():
    live = SimpleNamespace(
        start=NOW + dt.timedelta(days=1), locked=False, details_hidden=False, cancelled_at=None
    )
    assert rules.crm_version_is_exported(live, NOW, WINDOW)
    for changed in (
        {"locked": True},
        {"details_hidden": True},
        {"cancelled_at": NOW},
        {"start": NOW - dt.timedelta(hours=1)},
        {"start": WINDOW[1]},
    ):
        appointment = SimpleNamespace(**{**vars(live), **changed})
        assert not rules.crm_version_is_exported(appointment, NOW, WINDOW), changed


def test_is_echo():
    ev = event()
    h = fieldmap.event_hash(ev)
    assert rules.is_echo(SimpleNamespace(synced_hash=h), h)
    assert not rules.is_echo(SimpleNamespace(synced_hash=""), h)
    assert not rules.is_echo(None, h)
    assert not rules.is_echo(SimpleNamespace(synced_hash="other"), h)


# --- export ------------------------------------------------------------------------------------
def appt(**kw):
    base = {
        "pk": 7,
        "start": NOW + dt.timedelta(days=1),
        "end": NOW + dt.timedelta(days=1, hours=1),
        "locked": False,
        "details_hidden": False,
        "organizer_id": 1,
        "created_at": NOW,
    }
    return SimpleNamespace(**{**base, **kw})


CONN = SimpleNamespace(user_id=1, is_active=True)


def exported(appointment, connection, *, linked=False) -> bool:
    reason = rules.export_skip_reason(appointment, connection, NOW, WINDOW, linked=linked)
    return reason is None


def test_export_skip_reason_upcoming_appointment():
    assert exported(appt(), CONN)


def test_export_skip_reason_never_back_dated():
    assert not exported(appt(start=NOW - dt.timedelta(hours=1)), CONN)


def test_export_skip_reason_not_beyond_window():
    assert not exported(appt(start=NOW + dt.timedelta(days=100)), CONN)


def test_export_skip_reason_never_locked():
    assert not exported(appt(locked=True), CONN)


def test_export_skip_reason_never_a_private_event_logged_without_details():
    # Its title, agenda and place were never stored: a push would blank the event's.
    assert not exported(appt(details_hidden=True), CONN)
    assert not exported(appt(details_hidden=True), CONN, linked=True)


def test_export_skip_reason_needs_active_connection_of_organizer():
    assert not exported(appt(), None)
    assert not exported(appt(), SimpleNamespace(user_id=1, is_active=False))
    assert not exported(appt(organizer_id=2), CONN)


def row(kind, email, user_id=None):
    return SimpleNamespace(kind=kind, email=email, user_id=user_id)


def test_export_attendees():
    rows = [
        row("contact", "Kund@Acme.se"),
        row("contact", ""),  # a contact without e-mail gets no invitation
        row("user", "eva@exempel.se", 2),
        row("user", "karl@exempel.se", 1),  # the organizer
        row("external", "x@y.se"),
    ]
    got = rules.export_attendees(rows, organizer_id=1)
    assert got == ["kund@acme.se", "eva@exempel.se", "x@y.se"]


def test_export_attendees_activation_push_has_none():
    rows = [row("contact", "kund@acme.se")]
    assert rules.export_attendees(rows, organizer_id=1, with_attendees=False) == []


def test_is_activation_push():
    assert rules.is_activation_push(appt(created_at=NOW - dt.timedelta(days=1)), NOW)
    assert not rules.is_activation_push(appt(created_at=NOW + dt.timedelta(seconds=1)), NOW)
    assert not rules.is_activation_push(appt(), None)


def test_writes_attendees():
    first = NOW - dt.timedelta(days=30)
    booked_after_first = appt(created_at=NOW - dt.timedelta(days=1))
    # A reconnect yesterday does not matter: the first activation does.
    assert rules.writes_attendees(
        booked_after_first, first_activated_at=first, invited_from_another_calendar=False
    )
    assert not rules.writes_attendees(
        appt(created_at=first - dt.timedelta(days=1)),
        first_activated_at=first,
        invited_from_another_calendar=False,
    )
    assert not rules.writes_attendees(
        booked_after_first, first_activated_at=first, invited_from_another_calendar=True
    )


# --- FAQ scenarios (rules level; end to end in test_engine_*.py) --------------------------------
def test_faq_scenario_1_external_invites_karl_alias_and_colleague_johanna():
    ev = event(
        organizer="kund@extern.se",
        attendees=[att("karl@exempel.se"), att("johanna.svennson@exempel.se")],
    )
    c = classify(ev)
    assert c.organizer == "external"
    assert c.colleagues == ["johanna.svennson@exempel.se"]
    assert c.externals == ["kund@extern.se"]
    assert rules.skip_reason(ev, c, window=WINDOW) is None


def test_faq_scenario_2_johanna_gbg_is_external_and_imported():
    ev = event(attendees=[att("karl@exempel.se"), att("johanna@gbg.exempel.se")])
    c = classify(ev)
    assert c.externals == ["johanna@gbg.exempel.se"]
    assert rules.skip_reason(ev, c, window=WINDOW) is None


def test_faq_scenario_3_johanna_gbg_is_colleague_when_a_user_has_that_domain():
    ev = event(attendees=[att("karl@exempel.se"), att("johanna@gbg.exempel.se")])
    c = classify(ev, domains={*USER_DOMAINS, "gbg.exempel.se"})
    assert c.colleagues == ["johanna@gbg.exempel.se"]
    assert rules.skip_reason(ev, c, window=WINDOW) == SkipReason.ONLY_INTERNAL


def test_all_day_recurring_is_imported_where_supported():
    ev = event(attendees=[att("k@acme.se")], all_day=True, is_recurring=True, series_id="s1")
    reason = rules.skip_reason(ev, classify(ev), window=WINDOW, all_day_recurring_supported=True)
    assert reason is None


def test_deleted_recurring_event_stays_where_deletes_do_not_remove():
    ev = event(cancelled=True, series_id="s1")
    assert not rules.should_delete_on_provider_delete(ev, recurring_delete_removes=False)


def _no_invitation(**kw):
    base = {
        "connection_state": "active",
        "app_installed": True,
        "locked": False,
        "start": NOW + dt.timedelta(days=1),
        "now": NOW,
    }
    return rules.no_invitation_reason(**{**base, **kw})


def test_no_invitation_reason_in_the_order_a_rep_can_act_on():
    N = rules.NoInvitation
    assert _no_invitation() is None
    assert _no_invitation(connection_state=None, locked=True) == N.NO_APP
    assert _no_invitation(app_installed=False, locked=True) == N.UNINSTALLED
    assert _no_invitation(connection_state="disconnected") == N.DISCONNECTED
    assert _no_invitation(connection_state="needs_reconnect") == N.NEEDS_RECONNECT
    assert _no_invitation(locked=True, start=NOW - dt.timedelta(days=1)) == N.LOCKED
    assert _no_invitation(start=NOW - dt.timedelta(days=1)) == N.BACK_DATED
    assert _no_invitation(with_attendees=False) == N.BEFORE_ACTIVATION
    assert set(rules.NO_INVITATION_LABELS) == set(N)


def test_export_retry_delay():
    assert rules.export_retry_delay(1) == dt.timedelta(0)  # the next sweep
    assert rules.export_retry_delay(2) == dt.timedelta(minutes=5)
    assert rules.export_retry_delay(3) == dt.timedelta(minutes=10)
    assert rules.export_retry_delay(6) == dt.timedelta(minutes=80)
    assert rules.export_retry_delay(50) == dt.timedelta(hours=6)


def test_made_for_a_deleted_appointment():
    ev = ExternalEvent(id="e", ical_uid="", title="", start=None, end=None, crm_id="7")
    assert rules.made_for_a_deleted_appointment(ev, None, {}) is True
    assert rules.made_for_a_deleted_appointment(ev, None, {7: object()}) is False
    assert rules.made_for_a_deleted_appointment(ev, object(), {}) is False  # its link decides
    ev.crm_id = ""
    assert rules.made_for_a_deleted_appointment(ev, None, {}) is False


def test_event_matches_draft():
    start = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    end = start + dt.timedelta(hours=1)
    draft = SimpleNamespace(title="Demo", start=start, end=end, location="", room_name="Rum 1")
    ev = ExternalEvent(id="e", ical_uid="", title="Demo", start=start, end=end, location="Rum 1")
    assert rules.event_matches_draft(ev, draft)
    ev.title = "Demo (first version)"  # a replayed create answers with the event as first made
    assert not rules.event_matches_draft(ev, draft)


def test_series_capped():
    assert not rules.series_capped("series-1", 3, 4)
    assert rules.series_capped("series-1", 4, 4)
    assert not rules.series_capped("", 400, 4)  # not a recurring occurrence
    assert not rules.series_capped("series-1", 400, 0)  # 0 = no cap


# --- free-mail domains (issue 15) ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("domain", "free"),
    [("gmail.com", True), ("Outlook.com", True), ("hotmail.se", True), ("exempel.se", False)],
)
def test_is_free_mail_domain(domain, free):
    assert rules.is_free_mail_domain(domain) is free


def test_colleague_domains_leave_out_free_mail_domains():
    domains = ["exempel.se", "gmail.com", "Sthlm.Exempel.se", "outlook.com", ""]
    assert rules.colleague_domains(domains) == {"exempel.se", "sthlm.exempel.se"}


def test_colleague_domains_gmail_customer_of_a_gmail_rep_is_external_the_users_address_a_user():
    # Karl connected karl.privat@gmail.com (an alias now); Eva's own address is at gmail.com too.
    users = {*KARL, "karl.privat@gmail.com", "eva.lind@gmail.com"}
    domains = rules.colleague_domains(rules.domain_of(e) for e in users)
    ev = event(attendees=[att("kund@gmail.com"), att("eva.lind@gmail.com")])
    cls = classify(ev, users=users, domains=domains)
    assert cls.externals == ["kund@gmail.com"] and cls.users == ["eva.lind@gmail.com"]
    assert rules.skip_reason(ev, cls, window=WINDOW) is None


# --- non-meetings (issue 15) -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "not_a_meeting"),
    [
        ("meeting", False),
        ("focus_time", True),
        ("out_of_office", True),
        ("working_location", True),
    ],
)
def test_is_not_a_meeting(kind, not_a_meeting):
    assert rules.is_not_a_meeting(event(kind=kind)) is not_a_meeting


def test_is_marked_free():
    assert rules.is_marked_free(event(free=True))
    assert not rules.is_marked_free(event())


def test_skip_reason_not_a_meeting_even_with_an_external():
    ev = event(kind="out_of_office", attendees=[att("kund@acme.se")])
    assert reason(ev) == SkipReason.NOT_A_MEETING


def test_skip_reason_marked_free_even_with_an_external():
    ev = event(free=True, attendees=[att("kund@acme.se")])
    assert reason(ev) == SkipReason.MARKED_FREE


def test_skip_reason_a_working_location_marked_free_is_not_a_meeting():
    assert reason(event(kind="working_location", free=True)) == SkipReason.NOT_A_MEETING


def test_known_event_marked_free_or_out_of_office_stays_logged():
    # As an appointment whose event becomes only internal: it follows the event.
    for ev in (event(free=True), event(kind="out_of_office")):
        assert rules.skip_reason(ev, classify(ev), window=WINDOW, known=True) is None


# --- private events (issue 15 item 3) ------------------------------------------------------------
T = rules.PrivateTreatment


def test_private_event_treatment_follows_the_reps_setting():
    assert rules.private_event_treatment(True, "not_logged") is T.SKIP
    assert rules.private_event_treatment(True, "private") is T.HIDE_DETAILS
    assert rules.private_event_treatment(True, "normal") is T.LOG


def test_private_event_treatment_logs_events_not_marked_private_whatever_the_setting():
    for mode in ("not_logged", "private", "normal"):
        assert rules.private_event_treatment(False, mode) is T.LOG


def test_private_event_treatment_keeps_a_logged_one_without_details_when_not_logged():
    assert rules.private_event_treatment(True, "not_logged", known=True) is T.HIDE_DETAILS


def test_private_event_treatment_logs_a_meeting_booked_in_the_crm_in_full():
    for mode in ("not_logged", "private"):
        assert rules.private_event_treatment(True, mode, crm_booked=True) is T.LOG


def test_private_event_treatment_hides_the_details_for_an_unknown_setting():
    assert rules.private_event_treatment(True, "") is T.HIDE_DETAILS


def test_private_skip_reason_has_a_label_the_rep_reads():
    assert "your setting" in str(rules.SKIP_LABELS[rules.SkipReason.PRIVATE])
