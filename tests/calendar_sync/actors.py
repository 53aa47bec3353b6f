"""Someone using their own calendar at the emulator, over the provider's wire API: one class per
provider (as django-allauth's per-provider ``OAuth2TestsMixin`` classes), picked through the
registry's ids by ``actor_class``. Tests speak the neutral methods; the wire shapes live here."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, ClassVar

import requests

from calendar_sync.providers.registry import PROVIDERS


class CalendarActor:
    provider: ClassVar[str]  # the registry id
    # emulator endpoint names (for faults): listing the changes, creating an event, starting push
    list_endpoint: ClassVar[str]
    create_endpoint: ClassVar[str]
    watch_endpoint: ClassVar[str]
    params: ClassVar[dict[str, str]] = {}  # sent with every write
    # What the tests expect to see, written out (not read from the registry, so they can fail).
    label: ClassVar[str]  # the app's name in the CRM
    connect_label: ClassVar[str]
    video_label: ClassVar[str]
    meeting_host: ClassVar[str]  # where a video link the provider made points
    ical_uid_key: ClassVar[str]  # the wire name of the iCalendar UID
    web_link_key: ClassVar[str]  # the wire name of the event's web link
    revokes_grant: ClassVar[bool]  # disconnecting revokes the grant at the provider
    rotates_refresh_token: ClassVar[bool]
    renewal_replaces_channel: ClassVar[bool]  # a renewed push channel gets a new id
    # The status entries (not meetings) the provider's calendar makes, as ``ExternalEvent.kind``.
    status_kinds: ClassVar[tuple[str, ...]]
    server: ClassVar[str] = "emulator"  # or "radicale": the real CalDAV server
    web_links: ClassVar[bool] = True  # events have a page in the provider's web calendar
    wire_carries_control_characters: ClassVar[bool] = True  # JSON can send a NUL
    free_busy_endpoint: ClassVar[str]  # the emulator / Radicale endpoint name of free/busy
    calendar_list_endpoint: ClassVar[str]  # ... and of the account's calendar list
    more_default_calendars: ClassVar[bool] = True  # accounts come with calendars besides the main

    def __init__(self, emulator: Any, email: str) -> None:
        self.emulator, self.email = emulator, email
        emulator.state.account_create(provider=self.provider, email=email)
        token = emulator.state.token_mint(provider=self.provider, email=email, lifetime=4 * 3600)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token.token}"
        self.base = self.events_url(emulator.url)

    # --- what each provider says differently ---------------------------------------------------
    @staticmethod
    def events_url(emulator_url: str) -> str:
        raise NotImplementedError

    def _body(self, **kw: Any) -> dict:
        raise NotImplementedError

    def events(self) -> list[dict]:
        """This account's events as its own calendar shows them (ids, iCalUIDs, subjects)."""
        raise NotImplementedError

    @staticmethod
    def title_of(event: dict) -> str:
        raise NotImplementedError

    @staticmethod
    def body_of(event: dict) -> str:
        raise NotImplementedError

    @staticmethod
    def attendee_emails(event: dict) -> set[str]:
        """The event's attendees other than its organizer, as the wire lists them."""
        raise NotImplementedError

    @staticmethod
    def start_of(event: dict) -> dt.datetime:
        """A timed event's start, as an aware datetime (Google and Graph's ``start`` object)."""
        raw = event["start"]["dateTime"]
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if parsed.tzinfo is None:  # Graph: wall time in the given zone (UTC here)
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed

    @staticmethod
    def live_channels(store: Any) -> set[str]:
        """The push channels the emulator's store is running."""
        raise NotImplementedError

    # The wire field that marks an event private, and its values for "private",
    # "confidential" and "none" (not marked).
    privacy_key: ClassVar[str]
    privacy_values: ClassVar[dict[str, str]]

    def marked_private(self, event: dict) -> bool:
        """Whether the event is marked private on the wire (private, not confidential)."""
        return event.get(self.privacy_key) == self.privacy_values["private"]

    # --- the same for every provider -------------------------------------------------------------
    def _check(self, resp: requests.Response) -> dict:
        assert resp.status_code < 300, (resp.status_code, resp.text[:500])
        return resp.json() if resp.content else {}

    def create(self, **kw: Any) -> dict:
        return self._check(self.http.post(self.base, params=self.params, json=self._body(**kw)))

    def update(self, event_id: str, **kw: Any) -> dict:
        url = f"{self.base}/{event_id}"
        return self._check(self.http.patch(url, params=self.params, json=self._body(**kw)))

    def delete(self, event_id: str) -> None:
        self._check(self.http.delete(f"{self.base}/{event_id}", params=self.params))

    def respond(self, event_id: str, response: str) -> None:
        """Answer an invitation in this account's own calendar (``event_id`` as seen there)."""
        store = self.emulator.state.stores[self.provider]
        account = self.emulator.state.account_find(self.provider, self.email)
        store.demo_respond(account, event_id, response)

    def decline_as_invitee(self, event_id: str) -> None:
        """An invited user says no in their own calendar, the way that provider's UI does it."""
        raise NotImplementedError

    def all_day_body(self, title: str, day: dt.date, zone: str, attendees: list[str]) -> dict:
        """An all-day event as a calendar kept in ``zone`` writes it."""
        raise NotImplementedError

    @staticmethod
    def asks_offline_access(query: dict[str, list[str]]) -> bool:
        raise NotImplementedError

    @staticmethod
    def video_link_of(event: dict) -> str:
        raise NotImplementedError

    @staticmethod
    def room_emails(event: dict) -> list[str]:
        """The rooms booked on the event, as the wire lists them."""
        raise NotImplementedError

    def create_with_video(self, **kw: Any) -> dict:
        """An event made in the calendar with the provider's video meeting."""
        raise NotImplementedError

    @staticmethod
    def sign_in(page: Any, account: str) -> None:
        """In a browser: the emulator's account chooser, two-step verification and consent."""
        raise NotImplementedError

    def create_raw(self, body: dict) -> dict:
        return self._check(self.http.post(self.base, json=body))

    def create_status(
        self, kind: str, *, start: dt.datetime, end: dt.datetime, title: str = ""
    ) -> dict:
        """A status entry (``kind``, one of ``status_kinds``) made the way that calendar's own
        UI makes it: no attendees, this account's time."""
        raise NotImplementedError

    # --- more calendars of the same account (busy time) -------------------------------------------
    def calendars_url(self) -> str:
        """Where this account's calendars are created and deleted."""
        raise NotImplementedError

    def add_calendar(self, name: str) -> str:
        """A new calendar of this account besides the main one, as the provider's UI makes it;
        its id."""
        raise NotImplementedError

    def create_in(self, calendar_id: str, **kw: Any) -> dict:
        """An event in another calendar of this account (not the main one); ``free=True``
        marks it "show as free"."""
        body = self._body(**kw)
        url = f"{self.calendars_url()}/{calendar_id}/events"
        return self._check(self.http.post(url, json=body))

    def delete_calendar(self, calendar_id: str) -> None:
        self._check(self.http.delete(f"{self.calendars_url()}/{calendar_id}"))

    def invitations(self) -> list[dict]:
        """What the provider sent out as mail ({"to", "body", "kind"}): the emulator's outbox."""
        url = f"{self.emulator.url}/_emulator/outbox"
        return requests.get(url, timeout=10).json()["messages"]

    def expire_cursor(self) -> None:
        """The provider forgets this account's sync cursors (410 / 403 on the next use)."""
        store = self.emulator.state.stores[self.provider]
        store.expire_sync_state(self.emulator.state.account_find(self.provider, self.email))

    def revoke_access(self) -> None:
        """The rep withdrew the CRM's access at the provider."""
        self.emulator.state.revoke_account(self.provider, self.email)


class GoogleActor(CalendarActor):
    provider = "google"
    list_endpoint = "events.list"
    create_endpoint = "events.insert"
    watch_endpoint = "events.watch"
    free_busy_endpoint = "freebusy"
    calendar_list_endpoint = "calendarList"
    params = {"sendUpdates": "all"}
    label = "Google Calendar"
    connect_label = "Connect to Google Calendar"
    video_label = "Add Google Meet link"
    meeting_host = "meet.google.com"
    ical_uid_key = "iCalUID"
    web_link_key = "htmlLink"
    revokes_grant = True
    rotates_refresh_token = False
    renewal_replaces_channel = True  # watch channels cannot be extended
    status_kinds = ("focus_time", "out_of_office", "working_location")
    STATUS_TYPES: ClassVar[dict[str, tuple[str, str, dict]]] = {
        "focus_time": ("focusTime", "focusTimeProperties", {"chatStatus": "doNotDisturb"}),
        "out_of_office": ("outOfOffice", "outOfOfficeProperties", {}),
        "working_location": (
            "workingLocation",
            "workingLocationProperties",
            {"type": "homeOffice", "homeOffice": {}},
        ),
    }

    def create_status(
        self, kind: str, *, start: dt.datetime, end: dt.datetime, title: str = ""
    ) -> dict:
        event_type, properties, values = self.STATUS_TYPES[kind]
        body = self._body(title=title or event_type, start=start, end=end)
        body.update({"eventType": event_type, properties: values})
        return self._check(self.http.post(self.base, json=body))

    privacy_key = "visibility"
    privacy_values = {"private": "private", "confidential": "confidential", "none": "default"}

    def decline_as_invitee(self, event_id: str) -> None:
        self.delete(event_id)  # Google: her copy turns "cancelled"

    @staticmethod
    def asks_offline_access(query: dict[str, list[str]]) -> bool:
        """The authorize request asks for a refresh token (and consent, so one comes)."""
        return query["access_type"] == ["offline"] and "consent" in query["prompt"][0].split()

    @staticmethod
    def video_link_of(event: dict) -> str:
        return event["hangoutLink"]

    @staticmethod
    def room_emails(event: dict) -> list[str]:
        return [a["email"] for a in event["attendees"] if a.get("resource")]

    def create_with_video(self, **kw: Any) -> dict:
        body = self._body(**kw)
        body["conferenceData"] = {
            "createRequest": {"requestId": "r1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}
        }
        return self._check(
            self.http.post(self.base, params={"conferenceDataVersion": 1}, json=body)
        )

    @staticmethod
    def sign_in(page: Any, account: str) -> None:
        from playwright.sync_api import expect

        page.locator(f"button[data-email='{account}']").click()
        code = page.locator("#code").inner_text()
        page.fill("#totpPin", code)
        page.click("#totpNext")
        expect(page.locator("#scopes")).to_be_visible()
        page.click("#allow")  # "Allow"

    def all_day_body(self, title: str, day: dt.date, zone: str, attendees: list[str]) -> dict:
        after = (day + dt.timedelta(days=1)).isoformat()
        return {
            "summary": title,
            "start": {"date": day.isoformat(), "timeZone": zone},
            "end": {"date": after, "timeZone": zone},
            "attendees": [{"email": a} for a in attendees],
        }

    @staticmethod
    def events_url(emulator_url: str) -> str:
        return f"{emulator_url}/google/calendar/v3/calendars/primary/events"

    def _body(self, *, title=None, start=None, end=None, attendees=None, all_day=False,
              recurrence_count=0, description=None, location=None, rooms=(), free=None,
              marked=None):  # fmt: skip
        body: dict = {}
        if marked is not None:  # "private", "confidential" or "none"
            body[self.privacy_key] = self.privacy_values[marked]
        if title is not None:
            body["summary"] = title
        if description is not None:
            body["description"] = description
        if location is not None:
            body["location"] = location
        if start is not None:
            if all_day:
                body["start"] = {"date": start.date().isoformat()}
                body["end"] = {"date": end.date().isoformat()}
            else:
                body["start"] = {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"}
                body["end"] = {"dateTime": end.isoformat(), "timeZone": "Europe/Stockholm"}
        if attendees is not None:
            body["attendees"] = [{"email": a} for a in attendees] + [
                {"email": r, "resource": True} for r in rooms
            ]
        if recurrence_count:
            body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={recurrence_count}"]
        if free is not None:  # "Show as: Free / Busy"
            body["transparency"] = "transparent" if free else "opaque"
        return body

    def events(self) -> list[dict]:
        now = dt.datetime.now(dt.UTC)
        params = {
            "singleEvents": "true",
            "timeMin": (now - dt.timedelta(days=2)).isoformat(),
            "timeMax": (now + dt.timedelta(days=200)).isoformat(),
            "maxResults": 2500,
        }
        return self._check(self.http.get(self.base, params=params)).get("items", [])

    @staticmethod
    def title_of(event: dict) -> str:
        return event["summary"]

    @staticmethod
    def body_of(event: dict) -> str:
        return event.get("description", "")

    @staticmethod
    def attendee_emails(event: dict) -> set[str]:
        return {a["email"] for a in event.get("attendees", []) if not a.get("organizer")}

    @staticmethod
    def live_channels(store: Any) -> set[str]:
        return set(store.channels)

    def calendars_url(self) -> str:
        return f"{self.emulator.url}/google/calendar/v3/calendars"

    def add_calendar(self, name: str) -> str:
        return self._check(self.http.post(self.calendars_url(), json={"summary": name}))["id"]


class GraphActor(CalendarActor):
    provider = "microsoft"
    list_endpoint = "delta"
    create_endpoint = "events"
    watch_endpoint = "subscriptions"
    free_busy_endpoint = "getSchedule"
    calendar_list_endpoint = "calendars.list"
    label = "Office365"
    connect_label = "Connect to Office365"
    video_label = "Add Teams meeting"
    meeting_host = "teams.microsoft.com"
    ical_uid_key = "iCalUId"
    web_link_key = "webLink"
    revokes_grant = False  # Microsoft has no per-app revocation endpoint
    rotates_refresh_token = True
    renewal_replaces_channel = False  # subscriptions are extended in place
    status_kinds = ("out_of_office",)  # Outlook's "Show as: Away"; Graph has no focus time type

    def create_status(
        self, kind: str, *, start: dt.datetime, end: dt.datetime, title: str = ""
    ) -> dict:
        assert kind == "out_of_office", kind
        body = self._body(title=title or "Ledig", start=start, end=end)
        body["showAs"] = "oof"
        return self._check(self.http.post(self.base, json=body))

    privacy_key = "sensitivity"
    privacy_values = {"private": "private", "confidential": "confidential", "none": "normal"}

    def decline_as_invitee(self, event_id: str) -> None:
        self.respond(event_id, "declined")  # Outlook: her delta says @removed

    @staticmethod
    def asks_offline_access(query: dict[str, list[str]]) -> bool:
        return "offline_access" in query["scope"][0].split()

    @staticmethod
    def video_link_of(event: dict) -> str:
        return event["onlineMeeting"]["joinUrl"]

    @staticmethod
    def room_emails(event: dict) -> list[str]:
        return [a["emailAddress"]["address"] for a in event["attendees"] if a["type"] == "resource"]

    def create_with_video(self, **kw: Any) -> dict:
        body = self._body(**kw)
        body.update(isOnlineMeeting=True, onlineMeetingProvider="teamsForBusiness")
        return self._check(self.http.post(self.base, json=body))

    @staticmethod
    def sign_in(page: Any, account: str) -> None:
        page.locator(f"button[data-account='{account}']").click()
        code = page.locator("code").first.inner_text()
        page.fill("input[name=otc]", code)
        page.click("#idSubmit_SAOTCC_Continue")
        page.click("#idSIButton9")  # "Accept"

    def all_day_body(self, title: str, day: dt.date, zone: str, attendees: list[str]) -> dict:
        after = (day + dt.timedelta(days=1)).isoformat()
        return {
            "subject": title,
            "isAllDay": True,
            "start": {"dateTime": f"{day.isoformat()}T00:00:00", "timeZone": zone},
            "end": {"dateTime": f"{after}T00:00:00", "timeZone": zone},
            "attendees": [{"emailAddress": {"address": a}, "type": "required"} for a in attendees],
        }

    @staticmethod
    def events_url(emulator_url: str) -> str:
        return f"{emulator_url}/microsoft/v1.0/me/events"

    def _body(self, *, title=None, start=None, end=None, attendees=None, all_day=False,
              recurrence_count=0, description=None, location=None, rooms=(), free=None,
              marked=None):  # fmt: skip
        body: dict = {}
        if marked is not None:  # "private", "confidential" or "none"
            body[self.privacy_key] = self.privacy_values[marked]
        if title is not None:
            body["subject"] = title
        if description is not None:
            body["body"] = {"contentType": "text", "content": description}
        if location is not None:
            body["location"] = {"displayName": location}
        if start is not None:
            utc = dt.UTC
            fmt = "%Y-%m-%dT%H:%M:%S"
            if all_day:
                body["isAllDay"] = True
                s = dt.datetime.combine(start.date(), dt.time(), utc)
                e = dt.datetime.combine(end.date(), dt.time(), utc)
            else:
                s, e = start.astimezone(utc), end.astimezone(utc)
            body["start"] = {"dateTime": s.strftime(fmt), "timeZone": "UTC"}
            body["end"] = {"dateTime": e.strftime(fmt), "timeZone": "UTC"}
        if attendees is not None:
            body["attendees"] = [
                {"emailAddress": {"address": a}, "type": "required"} for a in attendees
            ] + [{"emailAddress": {"address": r}, "type": "resource"} for r in rooms]
        if recurrence_count:
            day = start.astimezone(dt.UTC) if not all_day else start
            body["recurrence"] = {
                "pattern": {
                    "type": "weekly",
                    "interval": 1,
                    "daysOfWeek": [day.strftime("%A").lower()],
                },
                "range": {
                    "type": "numbered",
                    "startDate": day.date().isoformat(),
                    "numberOfOccurrences": recurrence_count,
                },
            }
        if free is not None:  # "Show as: Free / Busy"
            body["showAs"] = "free" if free else "busy"
        return body

    def events(self) -> list[dict]:
        now = dt.datetime.now(dt.UTC)
        url = self.base.replace("/me/events", "/me/calendarView")
        params = {
            "startDateTime": (now - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (now + dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "$top": 999,
        }
        return self._check(self.http.get(url, params=params)).get("value", [])

    @staticmethod
    def title_of(event: dict) -> str:
        return event["subject"]

    @staticmethod
    def body_of(event: dict) -> str:
        from calendar_sync.providers.microsoft.adapter import _text  # Graph answers in HTML

        return _text(event["body"])

    @staticmethod
    def attendee_emails(event: dict) -> set[str]:
        return {a["emailAddress"]["address"] for a in event.get("attendees", [])}

    @staticmethod
    def live_channels(store: Any) -> set[str]:
        return set(store.subscriptions)

    def calendars_url(self) -> str:
        return f"{self.emulator.url}/microsoft/v1.0/me/calendars"

    def add_calendar(self, name: str) -> str:
        return self._check(self.http.post(self.calendars_url(), json={"name": name}))["id"]


class CalDAVActor(CalendarActor):
    """Someone using a CalDAV client (Apple Calendar, Thunderbird) against the Radicale server:
    whole VCALENDAR resources PUT and DELETEd over plain HTTP. Radicale does no scheduling, so
    what iCloud's server would deliver to attendees on the same server (a copy of the event in
    their calendars, their PARTSTAT back on the organizer's copy) is done here, as the server's
    part of the conversation."""

    provider = "caldav"
    server = "radicale"
    list_endpoint = "REPORT"
    create_endpoint = "PUT"
    watch_endpoint = ""  # no push
    free_busy_endpoint = "REPORT"  # the free-busy-query REPORT on the calendar
    calendar_list_endpoint = "PROPFIND"  # the calendar home's PROPFIND
    more_default_calendars = False
    label = "CalDAV calendar"
    connect_label = "Connect CalDAV calendar"
    video_label = ""  # no video meetings
    meeting_host = ""
    ical_uid_key = "uid"
    web_link_key = "web_link"  # none: CalDAV events have no web page
    web_links = False
    wire_carries_control_characters = False  # iCalendar cannot
    status_kinds = ()  # iCalendar has no focus time / out of office entries: every VEVENT meets
    privacy_key = "class"
    privacy_values = {"private": "PRIVATE", "confidential": "CONFIDENTIAL", "none": "PUBLIC"}
    revokes_grant = False  # an app password is withdrawn at the provider, not by the CRM
    rotates_refresh_token = False
    renewal_replaces_channel = False

    def __init__(self, emulator: Any, email: str, radicale: Any = None) -> None:
        self.emulator, self.email, self.radicale = emulator, email, radicale
        radicale.use_faults(emulator.state.faults, self.provider)
        radicale.account_create(email)
        self.http = radicale.session(email)
        self.base = radicale.calendar_url(email)

    def add_aliases(self, aliases: Any) -> None:
        for alias in aliases:
            self.radicale.aliases[alias.lower()] = self.email

    def connection_fields(self) -> dict[str, Any]:
        return {
            "account_id": self.email,
            "access_token": self.radicale.passwords[self.email],
            "server_url": self.radicale.url,
            "calendar_url": self.base,
        }

    # --- the wire: iCalendar --------------------------------------------------------------------
    def _ics(self, uid: str, fields: dict[str, Any]) -> str:
        import icalendar

        cal = icalendar.Calendar()
        cal.add("prodid", "-//Test client//EN")
        cal.add("version", "2.0")
        ev = icalendar.Event()
        ev.add("uid", uid)
        ev.add("dtstamp", dt.datetime.now(dt.UTC))
        ev.add("organizer", f"mailto:{fields.get('organizer', self.email)}")
        for key in ("summary", "description", "location", "dtstart", "dtend", "rrule", "status",
                    "class", "transp"):  # fmt: skip
            if fields.get(key) is not None:
                ev.add(key, fields[key])
        for row in fields.get("attendees", []):
            address = icalendar.vCalAddress(f"mailto:{row['email']}")
            address.params["PARTSTAT"] = row.get("partstat", "NEEDS-ACTION")
            if row.get("room"):
                address.params["CUTYPE"] = "ROOM"
            ev.add("attendee", address)
        cal.add_component(ev)
        cal.add_missing_timezones()
        return cal.to_ical().decode()

    @staticmethod
    def _fields(*, title=None, start=None, end=None, attendees=None, all_day=False,
                recurrence_count=0, description=None, location=None, rooms=(), free=None,
                marked=None):  # fmt: skip
        fields: dict[str, Any] = {}
        if marked is not None:
            fields["class"] = CalDAVActor.privacy_values[marked]
        if free is not None:
            fields["transp"] = "TRANSPARENT" if free else "OPAQUE"
        if title is not None:
            fields["summary"] = title
        if description is not None:
            fields["description"] = description
        if location is not None:
            fields["location"] = location
        if start is not None:
            fields["dtstart"] = start.date() if all_day else start
            fields["dtend"] = end.date() if all_day else end
        if attendees is not None:
            fields["attendees"] = [{"email": a} for a in attendees] + [
                {"email": r, "room": True} for r in rooms
            ]
        if recurrence_count:
            fields["rrule"] = {"FREQ": "WEEKLY", "COUNT": recurrence_count}
        return fields

    def _read(self, name: str) -> dict:
        import icalendar

        resp = self.http.get(self.base + name)
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        cal = icalendar.Calendar.from_ical(resp.text)
        ev = next(iter(cal.walk("VEVENT")))
        return self._as_dict(name, ev, resp.headers.get("ETag", ""))

    @staticmethod
    def _as_dict(name: str, ev: Any, etag: str = "") -> dict:
        attendees = [
            {
                "email": str(a).removeprefix("mailto:").lower(),
                "partstat": str(a.params.get("PARTSTAT", "NEEDS-ACTION")),
                "room": str(a.params.get("CUTYPE", "")).upper() == "ROOM",
            }
            for a in (ev.get("ATTENDEE") or [])
            if a
        ] if isinstance(ev.get("ATTENDEE"), list) else (
            [{"email": str(ev["ATTENDEE"]).removeprefix("mailto:").lower(),
              "partstat": str(ev["ATTENDEE"].params.get("PARTSTAT", "NEEDS-ACTION")),
              "room": str(ev["ATTENDEE"].params.get("CUTYPE", "")).upper() == "ROOM"}]
            if ev.get("ATTENDEE") else []
        )  # fmt: skip
        return {
            "id": name,
            "uid": str(ev.get("UID", "")),
            "summary": str(ev.get("SUMMARY", "")),
            "description": str(ev.get("DESCRIPTION", "")),
            "organizer": str(ev.get("ORGANIZER", "")).removeprefix("mailto:").lower(),
            "attendees": attendees,
            "web_link": "",
            "class": str(ev.get("CLASS", "PUBLIC")).upper(),
            "etag": etag,
            "start": ev.decoded("DTSTART") if "DTSTART" in ev else None,
        }

    def _put(self, name: str, uid: str, fields: dict[str, Any], *, new: bool) -> dict:
        headers = {"Content-Type": "text/calendar"}
        if new:
            headers["If-None-Match"] = "*"
        resp = self.http.put(self.base + name, data=self._ics(uid, fields), headers=headers)
        assert resp.status_code in (201, 204), (resp.status_code, resp.text[:300])
        return self._read(name)

    def _deliver(self, name: str, uid: str, fields: dict[str, Any]) -> None:
        """The server's scheduling: each attendee with an account here gets the event."""
        for row in fields.get("attendees", []):
            other = self.radicale.aliases.get(row["email"], row["email"])
            if other == self.email or other not in self.radicale.passwords:
                continue
            session = self.radicale.session(other, server_side=True)
            url = self.radicale.calendar_url(other) + name
            copy = dict(fields, organizer=fields.get("organizer", self.email))
            body = self._ics(uid, copy)
            session.put(url, data=body, headers={"Content-Type": "text/calendar"})

    # --- the neutral methods --------------------------------------------------------------------
    def create(self, **kw: Any) -> dict:
        import uuid

        name = f"{uuid.uuid4().hex}.ics"
        uid = f"{uuid.uuid4()}@test-client"
        fields = self._fields(**kw)
        event = self._put(name, uid, fields, new=True)
        self._deliver(name, uid, fields)
        return event

    def _current_fields(self, name: str) -> tuple[str, dict[str, Any]]:
        import icalendar

        resp = self.http.get(self.base + name)
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        ev = next(iter(icalendar.Calendar.from_ical(resp.text).walk("VEVENT")))
        fields: dict[str, Any] = {"organizer": self._as_dict(name, ev)["organizer"]}
        for key in ("summary", "description", "location", "status", "class", "transp"):
            if key.upper() in ev:
                fields[key] = str(ev[key.upper()])
        for key in ("dtstart", "dtend"):
            if key.upper() in ev:
                fields[key] = ev.decoded(key.upper())
        if "RRULE" in ev:
            fields["rrule"] = ev["RRULE"]
        fields["attendees"] = self._as_dict(name, ev)["attendees"]
        return str(ev["UID"]), fields

    def _edit(self, name: str, fields: dict[str, Any], *, http: Any = None, base: str = "",
              partstat: tuple[str, str] | None = None) -> dict:  # fmt: skip
        """Change the stored event in place, as a calendar client does (every property it does
        not touch, such as the CRM's X- properties, stays), PUT back with If-Match."""
        import icalendar

        http, base = http or self.http, base or self.base
        # iCalendar stamps whole seconds: a person's edit lands in a second of its own, after
        # what the CRM wrote just before (no one edits within the same second as the CRM).
        time.sleep(1 - (time.time() % 1))
        resp = http.get(base + name)
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        cal = icalendar.Calendar.from_ical(resp.text)
        ev = next(iter(cal.walk("VEVENT")))
        for key in ("summary", "description", "location", "dtstart", "dtend", "rrule", "status",
                    "class", "transp"):  # fmt: skip
            if fields.get(key) is not None:
                if key.upper() in ev:
                    del ev[key.upper()]
                ev.add(key, fields[key])
        if "attendees" in fields:
            if "ATTENDEE" in ev:
                del ev["ATTENDEE"]
            for row in fields["attendees"]:
                address = icalendar.vCalAddress(f"mailto:{row['email']}")
                address.params["PARTSTAT"] = row.get("partstat", "NEEDS-ACTION")
                if row.get("room"):
                    address.params["CUTYPE"] = "ROOM"
                ev.add("attendee", address)
        if partstat is not None:
            rows = ev.get("ATTENDEE") or []
            for row in rows if isinstance(rows, list) else [rows]:
                if str(row).removeprefix("mailto:").lower() == partstat[0]:
                    row.params["PARTSTAT"] = partstat[1]
        ev["SEQUENCE"] = int(ev.get("SEQUENCE", 0) or 0) + 1
        for key in ("DTSTAMP", "LAST-MODIFIED"):
            if key in ev:
                del ev[key]
            ev.add(key, dt.datetime.now(dt.UTC))
        cal.add_missing_timezones()
        headers = {"Content-Type": "text/calendar", "If-Match": resp.headers["ETag"]}
        put = http.put(base + name, data=cal.to_ical().decode(), headers=headers)
        assert put.status_code in (201, 204), (put.status_code, put.text[:300])
        return self._as_dict(name, ev, put.headers.get("ETag", ""))

    def _copies(self, name: str, fields: dict[str, Any]) -> list[tuple[Any, str]]:
        """(session, calendar URL) of each attendee's copy on this server (scheduling)."""
        found = []
        for row in fields.get("attendees", []):
            other = self.radicale.aliases.get(row["email"], row["email"])
            if other == self.email or other not in self.radicale.passwords:
                continue
            session = self.radicale.session(other, server_side=True)
            base = self.radicale.calendar_url(other)
            if session.get(base + name).status_code == 200:
                found.append((session, base))
        return found

    def update(self, event_id: str, **kw: Any) -> dict:
        changes = self._fields(**kw)
        event = self._edit(event_id, changes)
        uid, fields = self._current_fields(event_id)
        for session, base in self._copies(event_id, fields):
            self._edit(event_id, changes, http=session, base=base)
        self._deliver(event_id, uid, {**fields, "attendees": [
            a for a in fields["attendees"] if not self._has_copy(event_id, a["email"])
        ]})  # fmt: skip
        return event

    def _has_copy(self, name: str, email: str) -> bool:
        other = self.radicale.aliases.get(email, email)
        if other not in self.radicale.passwords:
            return True  # nobody here to deliver to
        session = self.radicale.session(other, server_side=True)
        return session.get(self.radicale.calendar_url(other) + name).status_code == 200

    def delete(self, event_id: str) -> None:
        """Deleting a meeting one organizes cancels it for the attendees (their copies turn
        STATUS:CANCELLED, as a scheduling server's CANCEL does)."""
        _, fields = self._current_fields(event_id)
        copies = self._copies(event_id, fields) if fields.get("organizer") == self.email else []
        resp = self.http.delete(self.base + event_id)
        assert resp.status_code in (200, 204), (resp.status_code, resp.text[:300])
        for session, base in copies:
            self._edit(event_id, {"status": "CANCELLED"}, http=session, base=base)

    def respond(self, event_id: str, response: str) -> None:
        """PARTSTAT on this attendee's copy, and (the server's scheduling) on the organizer's."""
        partstat = {"accepted": "ACCEPTED", "declined": "DECLINED", "tentative": "TENTATIVE"}
        answer = (self.email, partstat.get(response, "NEEDS-ACTION"))
        uid, fields = self._current_fields(event_id)
        self._edit(event_id, {}, partstat=answer)
        organizer = fields.get("organizer", "")
        if organizer and organizer != self.email and organizer in self.radicale.passwords:
            session = self.radicale.session(organizer, server_side=True)
            base = self.radicale.calendar_url(organizer)
            other = CalDAVActor.__new__(CalDAVActor)
            other.emulator, other.email, other.radicale = self.emulator, organizer, self.radicale
            other.http, other.base = session, base
            for event in other.events():
                if event["uid"] == uid:
                    self._edit(event["id"], {}, http=session, base=base, partstat=answer)

    def decline_as_invitee(self, event_id: str) -> None:
        self.respond(event_id, "declined")

    def all_day_body(self, title: str, day: dt.date, zone: str, attendees: list[str]) -> dict:
        return {
            "summary": title,
            "dtstart": day,
            "dtend": day + dt.timedelta(days=1),
            "attendees": [{"email": a} for a in attendees],
        }

    def create_raw(self, body: dict) -> dict:
        import uuid

        name = f"{uuid.uuid4().hex}.ics"
        return self._put(name, f"{uuid.uuid4()}@test-client", body, new=True)

    def events(self) -> list[dict]:
        import icalendar

        body = (
            '<?xml version="1.0"?><C:calendar-query xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/>'
            '</D:prop><C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/>'
            "</C:comp-filter></C:filter></C:calendar-query>"
        )
        resp = self.http.request(
            "REPORT", self.base, data=body, headers={"Depth": "1", "Content-Type": "text/xml"}
        )
        assert resp.status_code == 207, (resp.status_code, resp.text[:300])
        from defusedxml import ElementTree as ET  # noqa: N817

        found = []
        for response in ET.fromstring(resp.content).iter("{DAV:}response"):
            href = response.findtext("{DAV:}href") or ""
            data = response.findtext(".//{urn:ietf:params:xml:ns:caldav}calendar-data") or ""
            if not data:
                continue
            name = href.rstrip("/").rsplit("/", 1)[-1]
            for ev in icalendar.Calendar.from_ical(data).walk("VEVENT"):
                if "RECURRENCE-ID" not in ev:
                    found.append(self._as_dict(name, ev))
        return found

    @staticmethod
    def title_of(event: dict) -> str:
        return event["summary"]

    @staticmethod
    def body_of(event: dict) -> str:
        return event.get("description", "")

    @staticmethod
    def attendee_emails(event: dict) -> set[str]:
        return {a["email"] for a in event["attendees"] if a["email"] != event.get("organizer")}

    @staticmethod
    def room_emails(event: dict) -> list[str]:
        return [a["email"] for a in event["attendees"] if a["room"]]

    @staticmethod
    def start_of(event: dict) -> dt.datetime:
        return event["start"]

    @staticmethod
    def live_channels(store: Any) -> set[str]:
        return set()

    # --- more calendars of the account ----------------------------------------------------------
    def calendars_url(self) -> str:
        return self.base.rstrip("/").rsplit("/", 1)[0]

    def add_calendar(self, name: str) -> str:
        import uuid

        url = f"{self.calendars_url()}/{uuid.uuid4().hex}/"
        body = (
            '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            f"<D:displayname>{name}</D:displayname></D:prop></D:set></C:mkcalendar>"
        )
        resp = self.http.request("MKCALENDAR", url, data=body)
        assert resp.status_code == 201, (resp.status_code, resp.text[:300])
        return url

    def create_in(self, calendar_id: str, **kw: Any) -> dict:
        import uuid

        other = CalDAVActor.__new__(CalDAVActor)
        other.__dict__.update(self.__dict__)
        other.base = calendar_id
        name = f"{uuid.uuid4().hex}.ics"
        return other._put(name, f"{uuid.uuid4()}@test-client", self._fields(**kw), new=True)

    def delete_calendar(self, calendar_id: str) -> None:
        resp = self.http.delete(calendar_id)
        assert resp.status_code in (200, 204), (resp.status_code, resp.text[:300])

    def create_status(
        self, kind: str, *, start: dt.datetime, end: dt.datetime, title: str = ""
    ) -> dict:
        raise AssertionError(f"CalDAV has no {kind} entries (status_kinds is empty)")

    # --- what the server does, in tests ---------------------------------------------------------
    def invitations(self) -> list[dict]:
        """Radicale sends no mail: what a scheduling server (iCloud, Fastmail) would send for
        this account's events, one invitation per ATTENDEE it is asked to schedule (not a room,
        not SCHEDULE-AGENT=CLIENT), with the event's description as its text."""
        import icalendar

        sent = []
        for event in self.events():
            resp = self.http.get(self.base + event["id"])
            ev = next(iter(icalendar.Calendar.from_ical(resp.text).walk("VEVENT")))
            rows = ev.get("ATTENDEE") or []
            for row in rows if isinstance(rows, list) else [rows]:
                if str(row.params.get("CUTYPE", "")).upper() in ("ROOM", "RESOURCE"):
                    continue
                if str(row.params.get("SCHEDULE-AGENT", "")).upper() == "CLIENT":
                    continue
                to = str(row).removeprefix("mailto:").lower()
                body = str(ev.get("DESCRIPTION", ""))
                sent.append({"to": to, "body": body, "kind": "invitation"})
        return sent

    def expire_cursor(self) -> None:
        self.radicale.expire_sync_tokens(self.email)

    def revoke_access(self) -> None:
        """The rep withdrew the app password at the provider."""
        self.radicale.account_create(self.email, "withdrawn-" + self.email)


ACTORS: dict[str, type[CalendarActor]] = {
    cls.provider: cls for cls in CalendarActor.__subclasses__()
}


def actor_class(provider: str) -> type[CalendarActor]:
    """The actor of a registry provider; a provider without one fails here, loudly."""
    assert provider in PROVIDERS, f"{provider!r} is not in the provider registry"
    try:
        return ACTORS[provider]
    except KeyError:
        raise AssertionError(f"no test actor for provider {provider!r}: add one here") from None
