"""Google Calendar v3 ↔ the neutral adapter interface.

Wire JSON (google-api-python-client dicts) is mapped to ``ExternalEvent`` & co. here; building
the client, retries and error translation live in ``client.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..base import (
    AccountBusy,
    BusyBlock,
    CalendarAdapter,
    CalendarInfo,
    ChangePage,
    Channel,
    CursorExpired,
    EventDraft,
    EventKind,
    EventNotFound,
    ExternalAttendee,
    ExternalEvent,
    ProviderError,
    ResponseStatus,
    Room,
    Tokens,
    TokenSaver,
    chunks,
    map_or_unreadable,
    merged_attendees,
    time_windows,
)
from .client import GoogleClient

if TYPE_CHECKING:
    from ...models import CalendarConnection

CALENDAR = "primary"
CRM_ID_KEY = "crm_id"
# What others may not see: an event marked so is private in the CRM (``ExternalEvent.private``).
PRIVATE_VISIBILITY = frozenset({"private", "confidential"})
PAGE_SIZE = 2500  # Google's maximum for events.list
FREEBUSY_BATCH = 50  # calendars per freeBusy query
FREEBUSY_MAX_DAYS = 60  # freeBusy refuses ranges over ~90 days (timeRangeTooLong)
CALENDAR_LIST_PAGE = 250  # calendarList.list's maximum maxResults
EDITING_ROLES = {"owner", "writer", "writerWithoutPrivateAccess"}
RESPONSES: dict[str, ResponseStatus] = {
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
    "needsAction": "needs_action",
}
# Status events (``eventType``); any other type (default, birthday, fromGmail) is a meeting.
EVENT_KINDS: dict[str, EventKind] = {
    "focusTime": "focus_time",
    "outOfOffice": "out_of_office",
    "workingLocation": "working_location",
}


def google_event_id(idempotency_key: str) -> str:
    """A client-chosen event id: hex is a subset of base32hex ``[a-v0-9]``, 64 chars long."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()


class GoogleCalendarAdapter(CalendarAdapter):
    provider = "google"

    def __init__(
        self,
        *,
        tokens: Tokens,
        on_refresh: TokenSaver,
        client_id: str,
        client_secret: str,
        account_email: str = "",
        refresher: Callable[[], Tokens],
    ) -> None:
        self.client = GoogleClient(
            tokens=tokens,
            on_refresh=on_refresh,
            client_id=client_id,
            client_secret=client_secret,
            refresher=refresher,
        )
        self.account_email = account_email.lower()
        self._calendar_tz: str | None = None

    def request_count(self) -> int:
        return self.client.requests_made

    def request_seconds(self) -> float:
        return self.client.seconds_waiting

    @property
    def _events(self) -> Any:
        return self.client.events

    # -- reading ---------------------------------------------------------------------------------
    def list_changes(
        self, *, cursor: str | None, window_start: dt.datetime, window_end: dt.datetime
    ) -> Iterator[ChangePage]:
        # With a sync token Google refuses timeMin/timeMax: the window is the one of the full sync.
        query: dict[str, Any] = (
            {"syncToken": cursor}
            if cursor
            else {"timeMin": _rfc3339(window_start), "timeMax": _rfc3339(window_end)}
        )
        page_token: str | None = None
        while True:
            request = self._events.list(
                calendarId=CALENDAR,
                singleEvents=True,
                showDeleted=True,
                maxResults=PAGE_SIZE,
                pageToken=page_token,
                **query,
            )
            body = self.client.execute(request, gone=CursorExpired)
            self._calendar_tz = body.get("timeZone") or self._calendar_tz
            page_token = body.get("nextPageToken")
            # nextSyncToken comes only with the last page.
            page = ChangePage(
                events=[
                    map_or_unreadable(self.to_external, item) for item in body.get("items", [])
                ],
                next_cursor=None if page_token else body.get("nextSyncToken"),
            )
            del body  # the wire JSON is not kept alive while the page is imported
            yield page
            if not page_token:
                return

    def get_event(self, event_id: str) -> ExternalEvent:
        item = self.client.execute(self._events.get(calendarId=CALENDAR, eventId=event_id))
        return self.to_external(item)

    # -- writing ---------------------------------------------------------------------------------
    def create_event(self, draft: EventDraft) -> ExternalEvent:
        body = self._draft_body(draft)
        key = draft.idempotency_key or draft.crm_id
        if key:
            body["id"] = google_event_id(key)
        request = self._events.insert(
            calendarId=CALENDAR,
            body=body,
            sendUpdates=_send_updates(draft),
            conferenceDataVersion=1 if draft.add_video else None,
        )
        try:
            item = self.client.execute(request)
        except ProviderError as exc:
            if exc.status != 409 or "id" not in body:
                raise
            # A retry of a create that had already landed: return the event we made then.
            item = self.client.execute(self._events.get(calendarId=CALENDAR, eventId=body["id"]))
        return self.to_external(item)

    def update_event(self, event_id: str, draft: EventDraft, *, etag: str = "") -> ExternalEvent:
        current = self.client.execute(self._events.get(calendarId=CALENDAR, eventId=event_id))
        body = self._draft_body(draft, current=current)
        if draft.write_attendees:
            body["attendees"] = _merged_attendees(current, draft)
        else:
            body.pop("attendees")  # a patch without the key leaves everyone invited as they are
        adds_video = draft.add_video and not _video_link(current) and not _video_pending(current)
        if not adds_video:
            body.pop("conferenceData", None)
        request = self._events.patch(
            calendarId=CALENDAR,
            eventId=event_id,
            body=body,
            sendUpdates=_send_updates(draft),
            conferenceDataVersion=1 if adds_video else None,
        )
        item = self.client.execute(request, headers={"If-Match": etag} if etag else None)
        return self.to_external(item)

    def _draft_body(self, draft: EventDraft, current: dict | None = None) -> dict[str, Any]:
        # Keep the responses of attendees who stay, so an update does not reset them.
        known = {
            (a.get("email") or "").lower(): a for a in (current or {}).get("attendees", []) or []
        }
        attendees: list[dict[str, Any]] = []
        for email in dict.fromkeys(e.strip().lower() for e in draft.attendee_emails if e.strip()):
            row: dict[str, Any] = {"email": email}
            if email in known and known[email].get("responseStatus"):
                row["responseStatus"] = known[email]["responseStatus"]
            attendees.append(row)
        if draft.room_email:
            room = {"email": draft.room_email.lower(), "resource": True}
            if draft.room_name:
                room["displayName"] = draft.room_name
            attendees.append(room)
        body: dict[str, Any] = {
            "summary": draft.title,
            "description": draft.description,
            "location": draft.location or draft.room_name,
            "start": _when(draft.start, draft),
            "end": _when(draft.end, draft, end=True),
            "attendees": attendees,
            "extendedProperties": {"private": {CRM_ID_KEY: draft.crm_id}},
            "visibility": "private" if draft.private else "default",
        }
        if draft.add_video:
            body["conferenceData"] = {
                "createRequest": {
                    "requestId": draft.video_request_id
                    or draft.idempotency_key
                    or uuid.uuid4().hex,
                    "conferenceSolutionKey": {"type": "hangoutsMeet"},
                }
            }
        return body

    # -- availability and rooms ---------------------------------------------------------------------
    def free_busy(
        self, emails: list[str], start: dt.datetime, end: dt.datetime
    ) -> dict[str, list[BusyBlock]]:
        result: dict[str, list[BusyBlock]] = {email: [] for email in emails}
        by_lower = {email.lower(): email for email in emails}
        for cal_id, cal in self._free_busy_calendars(list(by_lower), start, end):
            key = by_lower.get(cal_id.lower())
            if key is not None:
                result[key] += _busy_blocks(cal)
        return result

    def _free_busy_calendars(
        self, ids: list[str], start: dt.datetime, end: dt.datetime
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(calendar id, its freeBusy answer) per calendar and window: one freeBusy query per
        50 calendars and 60 days, however many calendars and events."""
        for batch in chunks(ids, FREEBUSY_BATCH):
            for time_min, time_max in time_windows(start, end, FREEBUSY_MAX_DAYS):
                body = {
                    "timeMin": _rfc3339(time_min),
                    "timeMax": _rfc3339(time_max),
                    "items": [{"id": cal_id} for cal_id in batch],
                }
                response = self.client.execute(self.client.calendar.freebusy().query(body=body))
                yield from (response.get("calendars") or {}).items()

    def account_busy(
        self, start: dt.datetime, end: dt.datetime, *, extra_calendars: Sequence[str] = ()
    ) -> AccountBusy:
        """One freeBusy query for the main calendar and the extra ones together."""
        main = self.account_email or CALENDAR
        extra = {c.lower(): c for c in extra_calendars if c and c.lower() != main.lower()}
        result = AccountBusy()
        gone: set[str] = set()
        for cal_id, cal in self._free_busy_calendars([main, *extra.values()], start, end):
            reasons = {str(e.get("reason") or "") for e in cal.get("errors") or []}
            wanted = extra.get(cal_id.lower())
            if reasons and wanted is not None and reasons <= {"notFound"}:
                gone.add(wanted)  # deleted, or no longer shared with the account
            elif reasons:
                raise ProviderError(
                    f"Google freeBusy {', '.join(sorted(reasons))} for a calendar", permanent=False
                )
            elif wanted is not None:
                result.extra += _busy_blocks(cal)
            elif cal_id.lower() == main.lower():
                result.main += _busy_blocks(cal)
        result.gone = [c for c in extra.values() if c in gone]
        return result

    def list_calendars(self) -> list[CalendarInfo]:
        calendars: list[CalendarInfo] = []
        page_token: str | None = None
        while True:
            request = self.client.calendar.calendarList().list(
                maxResults=CALENDAR_LIST_PAGE, pageToken=page_token
            )
            response = self.client.execute(request)
            calendars += [
                _calendar_info(item)
                for item in response.get("items", [])
                if item.get("id") and not item.get("deleted")
            ]
            page_token = response.get("nextPageToken")
            if not page_token:
                return calendars

    def list_rooms(self) -> list[Room]:
        rooms: list[Room] = []
        page_token: str | None = None
        resources = self.client.directory.resources().calendars()
        while True:
            response = self.client.execute(
                resources.list(customer="my_customer", maxResults=500, pageToken=page_token)
            )
            for item in response.get("items", []):
                if not item.get("resourceEmail"):
                    continue
                if item.get("resourceCategory") not in (None, "", "CONFERENCE_ROOM"):
                    continue  # projectors, cars, ...: not bookable as a meeting place
                rooms.append(
                    Room(
                        email=item["resourceEmail"].lower(),
                        name=item.get("resourceName") or item.get("generatedResourceName") or "",
                        capacity=int(item.get("capacity") or 0),
                        building=item.get("buildingId") or "",
                    )
                )
            page_token = response.get("nextPageToken")
            if not page_token:
                return rooms

    # -- push ----------------------------------------------------------------------------------------
    def watch(self, *, callback_url: str, token: str, ttl_seconds: int) -> Channel:
        body = {
            "id": uuid.uuid4().hex,  # channel ids: at most 64 characters
            "type": "web_hook",
            "address": callback_url,
            "token": token,
            "params": {"ttl": str(int(ttl_seconds))},
        }
        response = self.client.execute(self._events.watch(calendarId=CALENDAR, body=body))
        expiration = response.get("expiration")
        expires_at = (
            dt.datetime.fromtimestamp(int(expiration) / 1000, dt.UTC)
            if expiration
            else dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
        )
        return Channel(
            id=str(response.get("id") or body["id"]),
            resource_id=response.get("resourceId", ""),
            expires_at=expires_at,
            token=response.get("token") or token,
        )

    def renew_watch(self, channel: Channel, *, callback_url: str, ttl_seconds: int) -> Channel:
        # Google channels cannot be extended: a new one. The caller saves it, then stops the old
        # one (a failed stop must not lose the new channel: it would run unrecorded).
        return self.watch(callback_url=callback_url, token=channel.token, ttl_seconds=ttl_seconds)

    def stop_watch(self, channel: Channel) -> None:
        body = {"id": channel.id, "resourceId": channel.resource_id}
        try:
            self.client.execute(self.client.calendar.channels().stop(body=body))
        except EventNotFound:
            pass  # already expired or stopped

    def revoke(self) -> None:
        self.client.revoke()

    # -- mapping ------------------------------------------------------------------------------------
    def to_external(self, item: dict[str, Any]) -> ExternalEvent:
        tz_name = (item.get("start") or {}).get("timeZone") or self._calendar_tz or ""
        if not tz_name and _is_all_day(item):
            tz_name = self._calendar_timezone()
        tz_name = tz_name or "UTC"
        start, all_day = _parse_when(item.get("start"), tz_name)
        end, _ = _parse_when(item.get("end"), tz_name)
        original_start, _ = _parse_when(item.get("originalStartTime"), tz_name)
        attendees = [_attendee(a) for a in item.get("attendees", []) or [] if a.get("email")]
        organizer = item.get("organizer") or {}
        private = (item.get("extendedProperties") or {}).get("private") or {}
        return ExternalEvent(
            id=item.get("id", ""),
            ical_uid=item.get("iCalUID", ""),
            title=item.get("summary", ""),
            start=start,
            end=end,
            all_day=all_day,
            timezone=tz_name,
            description=item.get("description", ""),
            location=item.get("location", ""),
            organizer_email=(organizer.get("email") or "").lower(),
            organizer_is_self=bool(organizer.get("self")),
            organizer_name=organizer.get("displayName") or "",
            own_response=next((a.response for a in attendees if a.is_self), "needs_action"),
            attendees=attendees,
            cancelled=item.get("status") == "cancelled",
            updated=_parse_dt(item.get("updated")),
            etag=item.get("etag", ""),
            series_id=item.get("recurringEventId", ""),
            original_start=original_start,
            is_recurring=bool(item.get("recurringEventId") or item.get("recurrence")),
            video_link=_video_link(item),
            web_link=item.get("htmlLink") or "",
            video_pending=_video_pending(item),
            crm_id=private.get(CRM_ID_KEY, ""),
            room_emails=[a.email for a in attendees if a.is_resource],
            kind=EVENT_KINDS.get(item.get("eventType") or "default", "meeting"),
            free=item.get("transparency") == "transparent",
            private=item.get("visibility") in PRIVATE_VISIBILITY,
        )

    def _calendar_timezone(self) -> str:
        """The primary calendar's zone (all-day dates are midnights there); fetched once."""
        if self._calendar_tz is None:
            try:
                cal = self.client.execute(self.client.calendar.calendars().get(calendarId=CALENDAR))
                self._calendar_tz = cal.get("timeZone") or "UTC"
            except ProviderError:
                self._calendar_tz = "UTC"
        return self._calendar_tz


# -- helpers ------------------------------------------------------------------------------------------
def _send_updates(draft: EventDraft) -> str:
    return "all" if draft.send_invitations else "none"


def _merged_attendees(current: dict[str, Any], draft: EventDraft) -> list[dict[str, Any]]:
    rows = merged_attendees(
        list(current.get("attendees") or []),
        lambda row: str(row.get("email") or ""),
        draft,
        lambda email: {"email": email},
    )
    room = draft.room_email.lower()
    if room and room not in {str(row.get("email") or "").lower() for row in rows}:
        rows.append({"email": room, "resource": True, "displayName": draft.room_name or room})
    return rows


def _rfc3339(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name and name.upper() != "UTC" else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _when(value: dt.datetime, draft: EventDraft, *, end: bool = False) -> dict[str, str]:
    zone = _zone(draft.timezone)
    local = value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    if not draft.all_day:
        return {"dateTime": local.isoformat(), "timeZone": draft.timezone or "UTC"}
    day = local.date()
    if end:  # all-day end dates are exclusive
        start_day = (
            draft.start.astimezone(zone).date() if draft.start.tzinfo else draft.start.date()
        )
        day = max(day, start_day + dt.timedelta(days=1))
    return {"date": day.isoformat()}


def _parse_dt(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _parse_when(obj: Any, tz_name: str) -> tuple[dt.datetime | None, bool]:
    """Google's {dateTime|date, timeZone} -> (aware UTC datetime, all_day); (None, False) if unusable."""
    if not isinstance(obj, dict):
        return None, False
    zone = _zone(obj.get("timeZone") or tz_name)
    if obj.get("dateTime"):
        try:
            parsed = dt.datetime.fromisoformat(str(obj["dateTime"]).replace("Z", "+00:00"))
        except ValueError:
            return None, False
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)).astimezone(dt.UTC), False
    if obj.get("date"):
        try:
            day = dt.date.fromisoformat(str(obj["date"]))
        except ValueError:
            return None, False
        return dt.datetime.combine(day, dt.time(0), zone).astimezone(dt.UTC), True
    return None, False


def _is_all_day(item: dict[str, Any]) -> bool:
    return bool((item.get("start") or {}).get("date"))


def _busy_blocks(cal: dict[str, Any]) -> list[BusyBlock]:
    """The busy periods of one calendar in a freeBusy answer."""
    blocks = []
    for busy in cal.get("busy", []) or []:
        start, end = _parse_dt(busy.get("start")), _parse_dt(busy.get("end"))
        if start and end:
            blocks.append(BusyBlock(start, end))
    return blocks


def _calendar_info(item: dict[str, Any]) -> CalendarInfo:
    role = str(item.get("accessRole") or "")
    return CalendarInfo(
        id=str(item["id"]),
        name=str(item.get("summaryOverride") or item.get("summary") or item["id"]),
        primary=bool(item.get("primary")),
        can_edit=role in EDITING_ROLES,
        owned=role == "owner",
    )


def _attendee(row: dict[str, Any]) -> ExternalAttendee:
    return ExternalAttendee(
        email=row["email"].lower(),
        name=row.get("displayName", ""),
        response=RESPONSES.get(row.get("responseStatus", ""), "needs_action"),
        is_self=bool(row.get("self")),
        is_organizer=bool(row.get("organizer")),
        is_resource=bool(row.get("resource")),
    )


def _video_link(item: dict[str, Any]) -> str:
    if item.get("hangoutLink"):
        return str(item["hangoutLink"])
    for entry in (item.get("conferenceData") or {}).get("entryPoints", []) or []:
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return ""


def _video_pending(item: dict[str, Any]) -> bool:
    request = (item.get("conferenceData") or {}).get("createRequest") or {}
    return (request.get("status") or {}).get("statusCode") == "pending"


# -- factory ----------------------------------------------------------------------------------------
def adapter_for_connection(connection: CalendarConnection) -> GoogleCalendarAdapter:
    from .. import connection_credentials

    _, credentials = connection_credentials(connection)
    return GoogleCalendarAdapter(**credentials)
