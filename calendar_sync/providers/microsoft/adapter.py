"""Microsoft Graph v1.0 ↔ the neutral adapter interface.

All calls go through O365's connection (``GraphClient.request`` → ``account.con``). We do not use
O365's ``Schedule``/``Event`` objects for writes: they cannot send ``transactionId`` (our
idempotency key), ``singleValueExtendedProperties`` (our crm_id), attendee type ``resource`` or
``If-Match``, they send ``isOnlineMeeting`` as the string "true", and ``Event.save()`` does not
read back ``onlineMeeting.joinUrl``. O365 has no API at all for calendarView/delta, places,
subscriptions or getSchedule. So the wire JSON is built and mapped here, explicitly.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..base import (
    AccountBusy,
    AuthRevoked,
    BusyBlock,
    CalendarAdapter,
    CalendarInfo,
    ChangePage,
    Channel,
    CursorExpired,
    EventDraft,
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
from .client import GraphClient

if TYPE_CHECKING:
    from ...models import CalendarConnection

log = logging.getLogger(__name__)

try:  # tzlocal (an O365 dependency) ships the CLDR Windows <-> IANA table
    from tzlocal.windows_tz import win_tz
except ImportError:  # pragma: no cover
    win_tz = {}

CRM_ID_PROP = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name crm_id"
# What others may not see ("personal" only labels the event): ``ExternalEvent.private``.
PRIVATE_SENSITIVITY = frozenset({"private", "confidential"})
EXPAND_CRM_ID = f"singleValueExtendedProperties($filter=id eq '{CRM_ID_PROP}')"
# Prefer: odata.maxpagesize for calendarView/delta, at the most Outlook collections page (their
# $top takes 1-1000): a first import of 2,500 events is 3 requests and 3 pages, not 13.
PAGE_SIZE = 1000
SCHEDULE_BATCH = 20  # schedules per getSchedule call
SCHEDULE_MAX_DAYS = 62  # getSchedule window limit
EVENTS_RESOURCE = "me/events"
CALENDAR_LIST_PAGE = 100  # $top for /me/calendars (Graph's default page is 10)
CALENDAR_VIEW_PAGE = 1000  # $top for a calendarView read for busy time (Graph's largest page)
# What a calendarView read for busy time needs of each event, nothing more.
BUSY_SELECT = "start,end,isAllDay,showAs,isCancelled,originalStartTimeZone,originalEndTimeZone"
RESPONSES: dict[str, ResponseStatus] = {
    "accepted": "accepted",
    "organizer": "accepted",
    "declined": "declined",
    "tentativelyAccepted": "tentative",
    "none": "needs_action",
    "notResponded": "needs_action",
}
SHOW_AS = {"busy": "busy", "tentative": "tentative", "oof": "oof", "workingElsewhere": "busy"}


class MicrosoftGraphAdapter(CalendarAdapter):
    provider = "microsoft"

    def __init__(
        self,
        *,
        tokens: Tokens,
        on_refresh: TokenSaver,
        client_id: str,
        client_secret: str,
        tenant: str = "",
        account_email: str = "",
        refresher: Callable[[], Tokens],
    ) -> None:
        self.client = GraphClient(
            tokens=tokens,
            on_refresh=on_refresh,
            client_id=client_id,
            client_secret=client_secret,
            tenant=tenant,
            refresher=refresher,
        )
        self.account_email = account_email.lower()

    def request_count(self) -> int:
        return self.client.requests_made

    def request_seconds(self) -> float:
        return self.client.seconds_waiting

    # -- reading ---------------------------------------------------------------------------------
    def list_changes(
        self, *, cursor: str | None, window_start: dt.datetime, window_end: dt.datetime
    ) -> Iterator[ChangePage]:
        """The cursor is the full ``@odata.deltaLink`` URL, used as Graph hands it out (the window
        is fixed by the first request and lives in the link's state)."""
        headers = {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"}
        url: str = cursor or "me/calendarView/delta"
        params: dict[str, Any] | None = (
            None
            if cursor
            else {"startDateTime": _iso_utc(window_start), "endDateTime": _iso_utc(window_end)}
        )
        while True:
            body = self.client.request(
                "get", url, params=params, headers=headers, gone=CursorExpired
            )
            events, removed = [], []
            for item in body.get("value", []):
                if "@removed" in item:
                    removed.append(str(item.get("id", "")))
                else:
                    events.append(map_or_unreadable(self.to_external, item))
            gone = self._still_there(removed, events)
            next_link = body.get("@odata.nextLink")
            page = ChangePage(
                events=events,
                next_cursor=None if next_link else body.get("@odata.deltaLink"),
                removed_ids=gone,
            )
            del body  # the wire JSON is not kept alive while the page is imported
            yield page
            if not next_link:
                return
            url, params = next_link, None

    def _still_there(self, removed: list[str], events: list[ExternalEvent]) -> list[str]:
        """calendarView/delta reports an event moved out of the link's fixed window as
        ``@removed``, exactly like a deleted one. Ask for each: the ones that are gone (404, or
        cancelled) are returned; the others join ``events`` as changes (moved, not deleted)."""
        gone: list[str] = []
        for event_id in removed:
            try:
                item = self._get(event_id)
            except EventNotFound:
                gone.append(event_id)
                continue
            if item.get("isCancelled"):
                gone.append(event_id)
            else:
                events.append(self.to_external(item))
        return gone

    def get_event(self, event_id: str) -> ExternalEvent:
        return self.to_external(self._get(event_id))

    def _get(self, event_id: str) -> dict[str, Any]:
        return self.client.request(
            "get", f"me/events/{_quote(event_id)}", params={"$expand": EXPAND_CRM_ID}
        )

    # -- writing ---------------------------------------------------------------------------------
    def create_event(self, draft: EventDraft) -> ExternalEvent:
        body = self._draft_body(draft)
        if draft.idempotency_key:
            body["transactionId"] = draft.idempotency_key  # Graph de-duplicates retried POSTs
        item = self.client.request("post", "me/calendar/events", json=body)
        return self._read_back(item, draft)

    def update_event(self, event_id: str, draft: EventDraft, *, etag: str = "") -> ExternalEvent:
        body = self._draft_body(draft)
        if not draft.add_video:
            # Never switch a meeting's Teams link off from here: the rep may have added it.
            body.pop("isOnlineMeeting", None)
            body.pop("onlineMeetingProvider", None)
        if draft.write_attendees:
            body["attendees"] = _merged_attendees(self._get(event_id), draft)
        else:
            body.pop("attendees")  # a PATCH without the key leaves everyone invited as they are
        item = self.client.request(
            "patch",
            f"me/events/{_quote(event_id)}",
            json=body,
            headers={"If-Match": etag} if etag else None,
        )
        return self._read_back(item, draft)

    def _read_back(self, item: dict[str, Any], draft: EventDraft) -> ExternalEvent:
        # The Teams link is made after the write returns: read the event back for joinUrl.
        if draft.add_video and not ((item.get("onlineMeeting") or {}).get("joinUrl")):
            item = self._get(str(item["id"]))
        event = self.to_external(item)
        if not event.crm_id:  # writes do not echo extended properties unless expanded
            event.crm_id = draft.crm_id
        return event

    def _draft_body(self, draft: EventDraft) -> dict[str, Any]:
        attendees = [
            {"emailAddress": {"address": email}, "type": "required"}
            for email in dict.fromkeys(
                e.strip().lower() for e in draft.attendee_emails if e.strip()
            )
        ]
        location: dict[str, Any] = {"displayName": draft.location or draft.room_name}
        if draft.room_email:
            room = {
                "address": draft.room_email.lower(),
                "name": draft.room_name or draft.room_email,
            }
            attendees.append({"emailAddress": room, "type": "resource"})
            location = {
                "displayName": draft.room_name or draft.location or draft.room_email,
                "locationEmailAddress": draft.room_email.lower(),
                "locationType": "conferenceRoom",
            }
        body: dict[str, Any] = {
            "subject": draft.title,
            "body": {"contentType": "text", "content": draft.description},
            "start": _dtz(draft.start, draft),
            "end": _dtz(draft.end, draft, end=True),
            "isAllDay": draft.all_day,
            "location": location,
            "attendees": attendees,
            "responseRequested": True,
            "isOnlineMeeting": draft.add_video,
            "sensitivity": "private" if draft.private else "normal",
            "singleValueExtendedProperties": [{"id": CRM_ID_PROP, "value": draft.crm_id}],
        }
        if draft.add_video:
            body["onlineMeetingProvider"] = "teamsForBusiness"
        return body

    # -- availability and rooms ---------------------------------------------------------------------
    def free_busy(
        self, emails: list[str], start: dt.datetime, end: dt.datetime
    ) -> dict[str, list[BusyBlock]]:
        result: dict[str, list[BusyBlock]] = {email: [] for email in emails}
        by_lower = {email.lower(): email for email in emails}
        for batch in chunks(list(by_lower), SCHEDULE_BATCH):
            for window_start, window_end in time_windows(start, end, SCHEDULE_MAX_DAYS):
                body = {
                    "schedules": batch,
                    "startTime": {"dateTime": _local_utc(window_start), "timeZone": "UTC"},
                    "endTime": {"dateTime": _local_utc(window_end), "timeZone": "UTC"},
                    "availabilityViewInterval": 30,
                }
                response = self.client.request("post", "me/calendar/getSchedule", json=body)
                for schedule in response.get("value", []):
                    key = by_lower.get(str(schedule.get("scheduleId", "")).lower())
                    if key is None:
                        continue
                    for item in schedule.get("scheduleItems", []) or []:
                        status = SHOW_AS.get(item.get("status", ""))
                        block_start = _parse_dtz(item.get("start"))
                        block_end = _parse_dtz(item.get("end"))
                        if status and block_start and block_end:
                            result[key].append(BusyBlock(block_start, block_end, status))
        return result

    def account_busy(
        self, start: dt.datetime, end: dt.datetime, *, extra_calendars: Sequence[str] = ()
    ) -> AccountBusy:
        """getSchedule covers the mailbox's default calendar only (Exchange free/busy): each
        extra calendar is read with one calendarView of busy-time fields (pages of 1,000)."""
        main = self.free_busy([self.account_email], start, end)
        result = AccountBusy(main=list(main.get(self.account_email, [])))
        for calendar_id in dict.fromkeys(c for c in extra_calendars if c):
            try:
                result.extra += self._calendar_busy(calendar_id, start, end)
            except ProviderError as exc:
                # 404 ErrorItemNotFound: deleted; 403 ErrorAccessDenied: no longer shared.
                if not _calendar_gone(exc):
                    raise
                result.gone.append(calendar_id)
        return result

    def _calendar_busy(
        self, calendar_id: str, start: dt.datetime, end: dt.datetime
    ) -> list[BusyBlock]:
        url = f"me/calendars/{_quote(calendar_id)}/calendarView"
        params: dict[str, Any] | None = {
            "startDateTime": _iso_utc(start),
            "endDateTime": _iso_utc(end),
            "$select": BUSY_SELECT,
            "$top": CALENDAR_VIEW_PAGE,
        }
        blocks: list[BusyBlock] = []
        while url:
            response = self.client.request("get", url, params=params)
            blocks += [b for b in map(_busy_block, response.get("value", [])) if b is not None]
            url, params = response.get("@odata.nextLink") or "", None
        return blocks

    def list_calendars(self) -> list[CalendarInfo]:
        calendars: list[CalendarInfo] = []
        url = "me/calendars"
        params: dict[str, Any] | None = {"$top": CALENDAR_LIST_PAGE}
        while url:
            response = self.client.request("get", url, params=params)
            calendars += [
                self._calendar_info(item) for item in response.get("value", []) if item.get("id")
            ]
            url, params = response.get("@odata.nextLink") or "", None
        return calendars

    def _calendar_info(self, item: dict[str, Any]) -> CalendarInfo:
        owner = str(((item.get("owner") or {}).get("address")) or "").lower()
        return CalendarInfo(
            id=str(item["id"]),
            name=str(item.get("name") or item["id"]),
            primary=bool(item.get("isDefaultCalendar")),
            can_edit=bool(item.get("canEdit")),
            owned=not owner or owner == self.account_email,
        )

    def list_rooms(self) -> list[Room]:
        rooms: list[Room] = []
        url = "places/microsoft.graph.room"
        params: dict[str, Any] | None = {"$top": 100}
        while url:
            response = self.client.request("get", url, params=params)
            for item in response.get("value", []):
                if item.get("emailAddress"):
                    rooms.append(
                        Room(
                            email=str(item["emailAddress"]).lower(),
                            name=item.get("displayName") or "",
                            capacity=int(item.get("capacity") or 0),
                            building=item.get("building") or "",
                        )
                    )
            url, params = response.get("@odata.nextLink") or "", None
        return rooms

    # -- push ----------------------------------------------------------------------------------------
    def watch(self, *, callback_url: str, token: str, ttl_seconds: int) -> Channel:
        """Graph POSTs ?validationToken=... to ``callback_url`` before it answers: the receiver
        must echo it as text/plain within 10 s. Lifecycle notifications (reauthorizationRequired,
        subscriptionRemoved, missed) go to the same receiver; Graph validates it once more."""
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": callback_url,
            # Only settable at creation: subscriptions made before this get it when recreated.
            "lifecycleNotificationUrl": callback_url,
            "resource": EVENTS_RESOURCE,
            "expirationDateTime": _iso_utc(expires),
            "clientState": token,
        }
        response = self.client.request("post", "subscriptions", json=body)
        return _channel(response, token=token, default_expiry=expires)

    def renew_watch(self, channel: Channel, *, callback_url: str, ttl_seconds: int) -> Channel:
        # A subscription's notificationUrl cannot be changed: PATCH extends it in place.
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
        try:
            response = self.client.request(
                "patch",
                f"subscriptions/{_quote(channel.id)}",
                json={"expirationDateTime": _iso_utc(expires)},
            )
        except EventNotFound:  # expired or removed meanwhile: subscribe again
            return self.watch(
                callback_url=callback_url, token=channel.token, ttl_seconds=ttl_seconds
            )
        return _channel(response, token=channel.token, default_expiry=expires, fallback=channel)

    def stop_watch(self, channel: Channel) -> None:
        try:
            self.client.request("delete", f"subscriptions/{_quote(channel.id)}")
        except EventNotFound:
            pass  # already gone

    def revoke(self) -> None:
        """Microsoft has no endpoint to revoke one app's delegated grant (revokeSignInSessions
        signs the user out everywhere). Revocation = forgetting the tokens, which the caller
        does; the refresh token is useless without our client secret, and the user can remove
        the app at https://myapps.microsoft.com."""
        log.info("microsoft: no per-app revocation endpoint; tokens deleted locally")
        self.client.tokens = Tokens("", "", None)

    # -- mapping ------------------------------------------------------------------------------------
    def to_external(self, item: dict[str, Any]) -> ExternalEvent:
        all_day = bool(item.get("isAllDay"))
        tz_name = item.get("originalStartTimeZone") or "UTC"
        if all_day:
            start = _parse_all_day(item.get("start"), tz_name)
            end = _parse_all_day(item.get("end"), item.get("originalEndTimeZone") or tz_name)
        else:
            start, end = _parse_dtz(item.get("start")), _parse_dtz(item.get("end"))
        organizer_address = (item.get("organizer") or {}).get("emailAddress") or {}
        organizer = organizer_address.get("address") or ""
        attendees = [
            self._attendee(a, organizer)
            for a in item.get("attendees", []) or []
            if (a.get("emailAddress") or {}).get("address")
        ]
        online = item.get("onlineMeeting") or {}
        video_link = online.get("joinUrl") or item.get("onlineMeetingUrl") or ""
        rooms = [a.email for a in attendees if a.is_resource]
        for loc in item.get("locations", []) or []:
            address = (loc.get("locationEmailAddress") or "").lower()
            if loc.get("locationType") == "conferenceRoom" and address and address not in rooms:
                rooms.append(address)
        event_type = item.get("type") or "singleInstance"
        return ExternalEvent(
            id=str(item.get("id", "")),
            ical_uid=item.get("iCalUId") or "",
            title=item.get("subject") or "",
            start=start,
            end=end,
            all_day=all_day,
            timezone=_iana(tz_name),
            description=_text(item.get("body") or {}),
            location=((item.get("location") or {}).get("displayName")) or "",
            organizer_email=organizer.lower(),
            organizer_is_self=bool(item.get("isOrganizer")),
            organizer_name=organizer_address.get("name") or "",
            own_response=RESPONSES.get(
                (item.get("responseStatus") or {}).get("response") or "none", "needs_action"
            ),
            attendees=attendees,
            cancelled=bool(item.get("isCancelled")),
            updated=_parse_iso(item.get("lastModifiedDateTime")),
            etag=item.get("@odata.etag") or "",
            series_id=item.get("seriesMasterId") or "",
            # An untouched occurrence starts when it was scheduled to.
            original_start=_parse_iso(item.get("originalStart"))
            or (start if event_type == "occurrence" else None),
            is_recurring=event_type != "singleInstance",
            video_link=video_link,
            web_link=item.get("webLink") or "",
            video_pending=bool(item.get("isOnlineMeeting")) and not video_link,
            crm_id=_crm_id(item),
            idempotency_key=str(item.get("transactionId") or ""),
            room_emails=rooms,
            # Graph has no status events: "away" (oof) is how Outlook marks out of office.
            kind="out_of_office" if item.get("showAs") == "oof" else "meeting",
            free=item.get("showAs") == "free",
            private=item.get("sensitivity") in PRIVATE_SENSITIVITY,
        )

    def _attendee(self, row: dict[str, Any], organizer: str) -> ExternalAttendee:
        email = str(row["emailAddress"]["address"]).lower()
        response = (row.get("status") or {}).get("response") or "none"
        return ExternalAttendee(
            email=email,
            name=row["emailAddress"].get("name") or "",
            response=RESPONSES.get(response, "needs_action"),
            is_self=bool(self.account_email) and email == self.account_email,
            is_organizer=email == organizer.lower(),
            is_resource=row.get("type") == "resource",
        )


# -- helpers ------------------------------------------------------------------------------------------
def _merged_attendees(current: dict[str, Any], draft: EventDraft) -> list[dict[str, Any]]:
    rows = merged_attendees(
        [
            {"emailAddress": row["emailAddress"], "type": row.get("type") or "required"}
            for row in current.get("attendees", []) or []
            if (row.get("emailAddress") or {}).get("address")
        ],
        lambda row: str(row["emailAddress"]["address"]),
        draft,
        lambda email: {"emailAddress": {"address": email}, "type": "required"},
    )
    room = draft.room_email.lower()
    if room and room not in {str(row["emailAddress"]["address"]).lower() for row in rows}:
        address = {"address": room, "name": draft.room_name or room}
        rows.append({"emailAddress": address, "type": "resource"})
    return rows


def _quote(value: str) -> str:
    return quote(value, safe="")


def _iso_utc(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local_utc(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _zone(name: str) -> dt.tzinfo:
    name = win_tz.get(name, name)
    if not name or name.upper() in ("UTC", "ETC/UTC", "Z", "GMT"):
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _iana(name: str) -> str:
    return win_tz.get(name, name) if name and name != "tzone://Microsoft/Utc" else "UTC"


def _dtz(value: dt.datetime, draft: EventDraft, *, end: bool = False) -> dict[str, str]:
    """A dateTimeTimeZone in the draft's zone (all-day: that zone's midnights)."""
    zone_name = draft.timezone or "UTC"
    zone = _zone(zone_name)
    local = value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    if draft.all_day:
        day = local.date()
        if end:  # all-day ends are the exclusive next midnight
            start_day = (
                draft.start.astimezone(zone).date() if draft.start.tzinfo else draft.start.date()
            )
            day = max(day, start_day + dt.timedelta(days=1))
        local = dt.datetime.combine(day, dt.time(0))
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": zone_name}


_LONG_FRACTION = re.compile(r"\.(\d{6})\d+")


def _from_iso(raw: str) -> dt.datetime | None:
    """Graph's timestamps (seven fractional digits, often a Z): Python reads them as they are
    (digits past the sixth dropped); the rewrite is only for what it does not."""
    try:
        return dt.datetime.fromisoformat(raw)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(_LONG_FRACTION.sub(r".\1", raw).replace("Z", "+00:00"))
    except ValueError:
        return None


def _parse_iso(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    parsed = _from_iso(value.strip())
    if parsed is None:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _parse_dtz(obj: Any) -> dt.datetime | None:
    """A dateTimeTimeZone -> aware UTC datetime (None when missing or unreadable)."""
    if not isinstance(obj, dict) or not obj.get("dateTime"):
        return None
    parsed = _from_iso(str(obj["dateTime"]).strip())
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_zone(obj.get("timeZone") or "UTC"))
    return parsed.astimezone(dt.UTC)


def _parse_all_day(obj: Any, tz_name: str) -> dt.datetime | None:
    """All-day events keep their calendar date whatever zone is asked for: that date's midnight
    in the event's own zone. (If a server converted the midnight, take the local date back.)"""
    if not isinstance(obj, dict) or not obj.get("dateTime"):
        return None
    zone = _zone(tz_name)
    raw = str(obj["dateTime"])
    try:
        wall = dt.datetime.fromisoformat(re.sub(r"\.\d+", "", raw).replace("Z", ""))
    except ValueError:
        return None
    if wall.time() != dt.time(0):
        converted = _parse_dtz(obj)
        if converted is None:
            return None
        wall = converted.astimezone(zone).replace(tzinfo=None)
    return dt.datetime.combine(wall.date(), dt.time(0), zone).astimezone(dt.UTC)


def _calendar_gone(exc: ProviderError) -> bool:
    """A calendar the account can no longer read: deleted (404) or no longer shared (403)."""
    if isinstance(exc, EventNotFound):
        return True
    return exc.status == 403 and exc.permanent and not isinstance(exc, AuthRevoked)


def _busy_block(item: dict[str, Any]) -> BusyBlock | None:
    """A calendarView event as busy time: None for a cancelled event or one shown as free."""
    status = SHOW_AS.get(str(item.get("showAs") or ""))
    if status is None or item.get("isCancelled"):
        return None
    if item.get("isAllDay"):
        zone = item.get("originalStartTimeZone") or "UTC"
        start = _parse_all_day(item.get("start"), zone)
        end = _parse_all_day(item.get("end"), item.get("originalEndTimeZone") or zone)
    else:
        start, end = _parse_dtz(item.get("start")), _parse_dtz(item.get("end"))
    if start is None or end is None or end <= start:
        return None
    return BusyBlock(start, end, status)


def _text(body: dict[str, Any]) -> str:
    content = str(body.get("content") or "")
    if body.get("contentType") != "html":
        return content
    if "<" not in content and "&" not in content:  # no markup, no entity: the text itself
        return content.strip()
    content = re.sub(r"(?is)<(script|style|head).*?</\1>", "", content)
    content = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", content)
    return html.unescape(re.sub(r"<[^>]+>", "", content)).strip()


def _crm_id(item: dict[str, Any]) -> str:
    for prop in item.get("singleValueExtendedProperties", []) or []:
        if str(prop.get("id", "")).lower() == CRM_ID_PROP.lower():
            return str(prop.get("value") or "")
    return ""


def _channel(
    response: dict[str, Any],
    *,
    token: str,
    default_expiry: dt.datetime,
    fallback: Channel | None = None,
) -> Channel:
    return Channel(
        id=str(response.get("id") or (fallback.id if fallback else "")),
        resource_id=str(
            response.get("resource") or (fallback.resource_id if fallback else EVENTS_RESOURCE)
        ),
        expires_at=_parse_iso(response.get("expirationDateTime")) or default_expiry,
        token=response.get("clientState") or token,
    )


# -- factory ----------------------------------------------------------------------------------------
def adapter_for_connection(connection: CalendarConnection) -> MicrosoftGraphAdapter:
    from .. import connection_credentials

    app, credentials = connection_credentials(connection)
    return MicrosoftGraphAdapter(tenant=app.tenant, **credentials)
