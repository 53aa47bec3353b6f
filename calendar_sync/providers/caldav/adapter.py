"""CalDAV (RFC 4791) ↔ the neutral adapter interface: iCloud, Fastmail, Nextcloud, Radicale.

One calendar (the account's main one, found when the rep connected: ``connect.discover``) is
read and written:

* reading: a sync-collection REPORT (RFC 6578) with the stored sync token, then one
  calendar-multiget per batch of changed resources. A refused token (Radicale 403, Xandikos 412,
  both ``DAV:valid-sync-token``) is ``CursorExpired``: the engine re-reads the window in full
  (python-caldav's silent full re-download is switched off with ``disable_fallback``). An
  unchanged calendar costs that one REPORT. Recurring events are expanded within the window
  (recurring-ical-events); an instance's id is ``<resource>_<RECURRENCE-ID in UTC>``.
* writing: a PUT of the whole VCALENDAR. A create goes to a resource named after the
  idempotency key with ``If-None-Match: *`` (a retry finds the first one and returns it); an
  update carries ``If-Match`` with the ETag (412 → ``PreconditionFailed``).
* invitations are the ATTENDEE lines: sending them is the server's job (RFC 6638 server-side
  scheduling: iCloud, Fastmail and Nextcloud do, Radicale does not); ``SCHEDULE-AGENT=CLIENT``
  asks the server not to when the CRM sends none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
from caldav.collection import Calendar

from ..base import (
    AccountBusy,
    BusyBlock,
    CalendarAdapter,
    CalendarInfo,
    ChangePage,
    Channel,
    EventDraft,
    EventNotFound,
    ExternalAttendee,
    ExternalEvent,
    ProviderError,
    ResponseStatus,
    Room,
    map_or_unreadable,
    merged_attendees,
)
from .client import CountingDAVClient, call, check

if TYPE_CHECKING:
    from ...models import CalendarConnection

log = logging.getLogger(__name__)

CRM_ID = "X-UPSALES-CRM-ID"
IDEMPOTENCY_KEY = "X-UPSALES-IDEMPOTENCY-KEY"
PRODID = "-//Upsales CRM//Calendar sync//EN"
MULTIGET_BATCH = 200
RESPONSES: dict[str, ResponseStatus] = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "NEEDS-ACTION": "needs_action",
}
PARTSTAT = {value: key for key, value in RESPONSES.items()}
RESOURCE_TYPES = {"ROOM", "RESOURCE"}
BUSY_TYPES = {"BUSY": "busy", "BUSY-TENTATIVE": "tentative", "BUSY-UNAVAILABLE": "oof"}
PRIVATE_CLASSES = frozenset({"PRIVATE", "CONFIDENTIAL"})  # CLASS (RFC 5545 3.8.1.3)
INSTANCE_ID = re.compile(r"^(?P<name>.+)_(?P<rid>\d{8}(?:T\d{6}Z)?)$")
NO_PUSH = "CalDAV has no push: the registry polls it (push = None)"


def resource_name(idempotency_key: str) -> str:
    """The resource our create PUTs to: the same key, the same URL (a retry is safe)."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:40] + ".ics"


def _rid(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


class CalDAVAdapter(CalendarAdapter):
    provider = "caldav"

    def __init__(
        self, *, username: str, password: str, calendar_url: str, account_email: str = ""
    ) -> None:
        self.client = CountingDAVClient(calendar_url, username, password)
        # (python-caldav types its answers as list-or-coroutine for its async client: Any)
        self.calendar: Any = Calendar(client=self.client, url=calendar_url)
        self.calendar_url = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
        self.account_email = account_email.strip().lower()

    def request_count(self) -> int:
        return self.client.requests_made

    def request_seconds(self) -> float:
        return self.client.seconds_waiting

    # -- reading ---------------------------------------------------------------------------------
    def list_changes(
        self, *, cursor: str | None, window_start: dt.datetime, window_end: dt.datetime
    ) -> Iterator[ChangePage]:
        changes = call(
            lambda: self.calendar.get_objects_by_sync_token(
                sync_token=cursor or None, load_objects=False, disable_fallback=True
            )
        )
        token = str(changes.sync_token or "")
        if not token:
            raise ProviderError("the CalDAV server gave no sync token", permanent=True)
        deleted = {unquote(str(url)) for url in (changes.deleted_urls or ())}
        removed = sorted({self._name(url) for url in deleted})
        urls = [o.url for o in changes.objects if unquote(str(o.url)) not in deleted]
        batches = [urls[i : i + MULTIGET_BATCH] for i in range(0, len(urls), MULTIGET_BATCH)]
        window = (window_start, window_end)
        if not batches:
            yield ChangePage(events=[], next_cursor=token, removed_ids=removed)
            return
        for number, batch in enumerate(batches):
            last = number == len(batches) - 1
            objects = call(lambda b=batch: self.calendar.multiget(b))  # type: ignore[misc]
            events: list[ExternalEvent] = []
            for obj in objects:
                events += self._expand(obj, window, full=cursor is None)
            yield ChangePage(
                events=events,
                next_cursor=token if last else None,
                removed_ids=removed if last else [],
            )

    def get_event(self, event_id: str) -> ExternalEvent:
        name, rid = _split_id(event_id)
        data, etag = self._get(name)
        cal = _parse(data)
        if not rid:
            master = _master(cal)
            if master is None:
                raise EventNotFound(f"{name} holds no event", status=404)
            return self.to_external(_item(master, name, etag))
        for ev in self._instances(cal, name, etag, around=_rid_time(rid)):
            if ev.id == event_id:
                return ev
        raise EventNotFound(f"{event_id}: no such occurrence", status=404)

    def _get(self, name: str) -> tuple[str, str]:
        url = self.calendar_url + quote(name)
        response = call(lambda: check(self.client.request(url, "GET"), f"GET {name}"))
        return response.raw, str(response.headers.get("ETag") or "")

    def _expand(self, obj: Any, window: tuple[dt.datetime, dt.datetime], *, full: bool
                ) -> list[ExternalEvent]:  # fmt: skip
        name = self._name(obj.url)
        etag = str((obj.props or {}).get("{DAV:}getetag") or "")
        try:
            cal = _parse(obj.data)
            master = _master(cal)
            if master is not None and (master.get("RRULE") or master.get("RDATE")):
                return self._instances(cal, name, etag, window=window)
            events = [
                map_or_unreadable(self.to_external, _item(c, name, etag))
                for c in cal.walk("VEVENT")
            ]
        except Exception as exc:  # noqa: BLE001 - recorded as unreadable, never raised
            log.warning("could not map CalDAV resource %s: %s", name, exc, exc_info=True)
            return [_unreadable(name, exc)]
        if full:  # a full read covers the window (an incremental one reports every change)
            events = [ev for ev in events if _overlaps(ev, window)]
        return events

    def _instances(
        self,
        cal: icalendar.Calendar,
        name: str,
        etag: str,
        *,
        window: tuple[dt.datetime, dt.datetime] | None = None,
        around: dt.datetime | None = None,
    ) -> list[ExternalEvent]:
        if around is not None:
            window = (around - dt.timedelta(days=2), around + dt.timedelta(days=2))
        assert window is not None
        master = _master(cal)
        found = [
            map_or_unreadable(self.to_external, _item(c, name, etag, series=True))
            for c in recurring_ical_events.of(cal).between(*window)
            if c.name == "VEVENT"
        ]
        # Deleted occurrences (EXDATE) are reported cancelled, so their appointments follow.
        for exdate in _exdates(master):
            if window[0] <= _as_utc(exdate) < window[1] and master is not None:
                gone = self.to_external(_item(master, name, etag, series=True, rid=exdate))
                gone.cancelled = True
                found.append(gone)
        return found

    # -- writing ---------------------------------------------------------------------------------
    def create_event(self, draft: EventDraft) -> ExternalEvent:
        key = draft.idempotency_key or draft.crm_id
        name = resource_name(key) if key else resource_name(f"{draft.crm_id}:{draft.start}")
        cal = icalendar.Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
        event = icalendar.Event()
        event.add("uid", f"{name.removesuffix('.ics')}@upsales-crm")
        event.add("sequence", 0)
        event.add("created", dt.datetime.now(dt.UTC))
        if self.account_email:
            event.add("organizer", f"mailto:{self.account_email}")
        if draft.idempotency_key:
            event.add(IDEMPOTENCY_KEY, draft.idempotency_key)
        self._write_fields(event, draft)
        for email in _unique(draft.attendee_emails):
            event.add("attendee", _attendee_line(email, draft))
        if draft.room_email:
            event.add("attendee", _room_line(draft))
        cal.add_component(event)
        body = _serialize(cal)
        url = self.calendar_url + quote(name)
        headers = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
        response = call(
            lambda: check(self.client.request(url, "PUT", body, headers), "PUT", ok=(201, 204, 412))
        )
        if int(response.status) == 412 or not response.headers.get("ETag"):
            # A retry of a create that had landed (or a server that rewrote what we sent).
            return self.get_event(name)
        return self.to_external(_item(event, name, str(response.headers["ETag"])))

    def update_event(self, event_id: str, draft: EventDraft, *, etag: str = "") -> ExternalEvent:
        name, rid = _split_id(event_id)
        data, current_etag = self._get(name)
        cal = _parse(data)
        event = _component_for(cal, rid)
        if event is None:
            raise EventNotFound(f"{event_id}: no such event", status=404)
        self._write_fields(event, draft)
        event["SEQUENCE"] = int(event.get("SEQUENCE", 0) or 0) + 1
        if draft.write_attendees:
            rows = merged_attendees(
                list(_as_list(event.get("ATTENDEE"))),
                lambda row: _email(row),
                draft,
                lambda email: _attendee_line(email, draft),
            )
            room = draft.room_email.lower()
            if room and room not in {_email(r) for r in rows}:
                rows.append(_room_line(draft))
            if "ATTENDEE" in event:
                del event["ATTENDEE"]
            for row in rows:
                event.add("attendee", row)
        body = _serialize(cal)
        url = self.calendar_url + quote(name)
        headers = {
            "Content-Type": "text/calendar; charset=utf-8",
            "If-Match": etag or current_etag,
        }
        response = call(lambda: check(self.client.request(url, "PUT", body, headers), "PUT"))
        new_etag = str(response.headers.get("ETag") or "")
        if not new_etag:
            return self.get_event(event_id)
        if rid:
            return self.get_event(event_id)
        return self.to_external(_item(event, name, new_etag))

    def _write_fields(self, event: icalendar.Event, draft: EventDraft) -> None:
        for prop in ("SUMMARY", "DESCRIPTION", "LOCATION", "DTSTART", "DTEND", "DURATION",
                     "DTSTAMP", "LAST-MODIFIED", CRM_ID):  # fmt: skip
            if prop in event:
                del event[prop]
        now = dt.datetime.now(dt.UTC)
        event.add("dtstamp", now)
        event.add("last-modified", now)
        event.add("summary", draft.title)
        if draft.description:
            event.add("description", draft.description)
        if draft.location or draft.room_name:
            event.add("location", draft.location or draft.room_name)
        start, end = _draft_times(draft)
        event.add("dtstart", start)
        event.add("dtend", end)
        if draft.crm_id:
            event.add(CRM_ID, draft.crm_id)
        if "CLASS" in event:
            del event["CLASS"]
        event.add("class", "PRIVATE" if draft.private else "PUBLIC")

    # -- availability and rooms ---------------------------------------------------------------------
    def free_busy(
        self, emails: list[str], start: dt.datetime, end: dt.datetime
    ) -> dict[str, list[BusyBlock]]:
        """The account's own busy time (the server's free-busy REPORT, or computed from the
        events where the server has none); CalDAV tells nothing of other people's calendars."""
        result: dict[str, list[BusyBlock]] = {email: [] for email in emails}
        mine = [e for e in emails if e.strip().lower() == self.account_email]
        if not mine:
            return result
        try:
            blocks = self._free_busy_report(start, end)
        except ProviderError as exc:
            if not exc.permanent:
                raise
            blocks = self._free_busy_from_events(start, end)
        for email in mine:
            result[email] = blocks
        return result

    def _free_busy_report(
        self, start: dt.datetime, end: dt.datetime, calendar: Any = None
    ) -> list[BusyBlock]:
        calendar = calendar or self.calendar
        answer = call(lambda: calendar.freebusy_request(start, end))
        cal = _parse(answer.data)
        blocks: list[BusyBlock] = []
        for fb in cal.walk("VFREEBUSY"):
            for prop in _as_list(fb.get("FREEBUSY")):
                kind = BUSY_TYPES.get(str(prop.params.get("FBTYPE", "BUSY")).upper())
                if kind is None:
                    continue
                for period in _as_list(prop.dt if hasattr(prop, "dt") else prop):
                    begin, finish = _period(period)
                    blocks.append(BusyBlock(_as_utc(begin), _as_utc(finish), kind))
        return sorted(blocks, key=lambda b: b.start)

    def _free_busy_from_events(self, start: dt.datetime, end: dt.datetime) -> list[BusyBlock]:
        """A calendar-query time-range (RFC 4791 7.8) expanded here: busy where not
        transparent or cancelled."""
        found = call(lambda: self.calendar.search(start=start, end=end, event=True))
        blocks: list[BusyBlock] = []
        for obj in found:
            for comp in recurring_ical_events.of(_parse(obj.data)).between(start, end):
                if str(comp.get("TRANSP", "")).upper() == "TRANSPARENT":
                    continue
                if str(comp.get("STATUS", "")).upper() == "CANCELLED":
                    continue
                s, e = _times(comp)
                if s and e:
                    blocks.append(BusyBlock(s, e))
        return sorted(blocks, key=lambda b: b.start)

    def list_rooms(self) -> list[Room]:
        return []  # CalDAV has no room directory

    # -- more calendars for busy time -----------------------------------------------------------
    def list_calendars(self) -> list[CalendarInfo]:
        """The calendars of the account's calendar home (the main calendar's collection): one
        PROPFIND."""
        from caldav.collection import CalendarSet

        home: Any = CalendarSet(
            client=self.client, url=self.calendar_url.rstrip("/").rsplit("/", 1)[0] + "/"
        )
        found = call(lambda: home.calendars())
        main = unquote(self.calendar_url)
        return [
            CalendarInfo(
                id=str(cal.url),
                name=str(getattr(cal, "name", "") or self._name(cal.url)),
                primary=unquote(str(cal.url)) == main,
                can_edit=True,
                owned=True,
            )
            for cal in found
        ]

    def account_busy(
        self, start: dt.datetime, end: dt.datetime, *, extra_calendars: Sequence[str] = ()
    ) -> AccountBusy:
        """The main calendar's busy time and the chosen calendars': one free-busy REPORT per
        calendar. A calendar the server no longer has is ``gone``."""
        result = AccountBusy(main=self._free_busy_report(start, end, self.calendar))
        for url in dict.fromkeys(extra_calendars):
            other = Calendar(client=self.client, url=url)
            try:
                result.extra += self._free_busy_report(start, end, other)
            except ProviderError as exc:
                if exc.status not in (403, 404, 410):
                    raise
                result.gone.append(url)
        result.extra.sort(key=lambda b: b.start)
        return result

    # -- push: none ----------------------------------------------------------------------------------
    def watch(self, *, callback_url: str, token: str, ttl_seconds: int) -> Channel:
        raise ProviderError(NO_PUSH, permanent=True)

    def renew_watch(self, channel: Channel, *, callback_url: str, ttl_seconds: int) -> Channel:
        raise ProviderError(NO_PUSH, permanent=True)

    def stop_watch(self, channel: Channel) -> None:
        return None

    def revoke(self) -> None:
        """Nothing to revoke: an app password is the rep's to withdraw at the provider; the
        CRM forgets it on disconnect."""

    # -- mapping ------------------------------------------------------------------------------------
    def _name(self, url: Any) -> str:
        path = unquote(urlsplit(str(url)).path)
        return path.rstrip("/").rsplit("/", 1)[-1]

    def to_external(self, item: dict[str, Any]) -> ExternalEvent:
        """One VEVENT (``_item``: the component and where it lives) as the neutral event."""
        comp, name, etag = item["component"], item["name"], item["etag"]
        series, rid = item["series"], item["rid"]
        recurrence_id = rid if rid is not None else _decoded(comp, "RECURRENCE-ID")
        event_id = f"{name}_{_rid(recurrence_id)}" if recurrence_id is not None else name
        start, end = _times(comp)
        if rid is not None:
            length = (end - start) if start and end else dt.timedelta(0)
            start = _as_utc(rid)
            end = start + length
        all_day = isinstance(_decoded(comp, "DTSTART"), dt.date) and not isinstance(
            _decoded(comp, "DTSTART"), dt.datetime
        )
        organizer = comp.get("ORGANIZER")
        organizer_email = _email(organizer) if organizer is not None else self.account_email
        attendees = [self._attendee(row, organizer_email) for row in _as_list(comp.get("ATTENDEE"))]
        attendees = [a for a in attendees if a.email]
        own: ResponseStatus = next((a.response for a in attendees if a.is_self), "needs_action")
        organizer_is_self = bool(organizer_email) and organizer_email == self.account_email
        return ExternalEvent(
            id=event_id,
            ical_uid=str(comp.get("UID", "")),
            title=str(comp.get("SUMMARY", "")),
            start=start,
            end=end,
            all_day=all_day,
            timezone=_tz_name(comp),
            description=str(comp.get("DESCRIPTION", "")),
            location=str(comp.get("LOCATION", "")),
            organizer_email=organizer_email,
            organizer_is_self=organizer_is_self,
            organizer_name=str(organizer.params.get("CN", "")) if organizer is not None else "",
            own_response=own,
            attendees=attendees,
            # An invitation this account declined stays in its calendar, PARTSTAT=DECLINED: for
            # this account the meeting is off (as Google's cancelled copy, Graph's @removed).
            cancelled=str(comp.get("STATUS", "")).upper() == "CANCELLED"
            or (not organizer_is_self and own == "declined"),
            updated=_updated(comp),
            etag=etag,
            series_id=name if (series or recurrence_id is not None) else "",
            original_start=_as_utc(recurrence_id) if recurrence_id is not None else None,
            is_recurring=bool(series or recurrence_id is not None or comp.get("RRULE")),
            crm_id=str(comp.get(CRM_ID, "")),
            free=str(comp.get("TRANSP", "")).upper() == "TRANSPARENT",
            private=str(comp.get("CLASS", "")).upper() in PRIVATE_CLASSES,
            idempotency_key=str(comp.get(IDEMPOTENCY_KEY, "")),
            room_emails=[a.email for a in attendees if a.is_resource],
        )

    def _attendee(self, row: Any, organizer_email: str) -> ExternalAttendee:
        email = _email(row)
        params = getattr(row, "params", {}) or {}
        return ExternalAttendee(
            email=email,
            name=str(params.get("CN", "")),
            response=RESPONSES.get(str(params.get("PARTSTAT", "")).upper(), "needs_action"),
            is_self=email == self.account_email,
            is_organizer=email == organizer_email,
            is_resource=str(params.get("CUTYPE", "")).upper() in RESOURCE_TYPES,
        )


# -- helpers ------------------------------------------------------------------------------------------
def _item(
    comp: Any,
    name: str,
    etag: str,
    *,
    series: bool = False,
    rid: dt.date | dt.datetime | None = None,
) -> dict[str, Any]:
    """A VEVENT and where it lives, as the wire item ``to_external`` maps (with the keys
    ``base.map_or_unreadable`` reads for the stub of an item it cannot map)."""
    recurrence_id = rid if rid is not None else _decoded(comp, "RECURRENCE-ID")
    return {
        "id": f"{name}_{_rid(recurrence_id)}" if recurrence_id is not None else name,
        "iCalUID": str(comp.get("UID", "")),
        "summary": str(comp.get("SUMMARY", "")),
        "component": comp,
        "name": name,
        "etag": etag,
        "series": series,
        "rid": rid,
    }


def _split_id(event_id: str) -> tuple[str, str]:
    match = INSTANCE_ID.match(event_id)
    if match:
        return match["name"], match["rid"]
    return event_id, ""


def _rid_time(rid: str) -> dt.datetime:
    if "T" in rid:
        return dt.datetime.strptime(rid, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return dt.datetime.strptime(rid, "%Y%m%d").replace(tzinfo=dt.UTC)


def _parse(data: Any) -> icalendar.Calendar:
    text = data.decode() if isinstance(data, bytes) else str(data or "")
    cal = icalendar.Calendar.from_ical(text)
    assert isinstance(cal, icalendar.Calendar)
    return cal


def _serialize(cal: icalendar.Calendar) -> str:
    cal.add_missing_timezones()
    return cal.to_ical().decode()


def _master(cal: icalendar.Calendar) -> Any:
    events = cal.walk("VEVENT")
    return next((e for e in events if "RECURRENCE-ID" not in e), events[0] if events else None)


def _component_for(cal: icalendar.Calendar, rid: str) -> Any:
    """The VEVENT to write: the resource's one, or an occurrence's override (made from the
    series when it has none yet)."""
    master = _master(cal)
    if not rid:
        return master
    for comp in cal.walk("VEVENT"):
        value = _decoded(comp, "RECURRENCE-ID")
        if value is not None and _rid(value) == rid:
            return comp
    if master is None:
        return None
    override = icalendar.Event()
    for key in ("UID", "SUMMARY", "DESCRIPTION", "LOCATION", "ORGANIZER", CRM_ID):
        if key in master:
            override[key] = master[key]
    for row in _as_list(master.get("ATTENDEE")):
        override.add("attendee", row)
    start = _rid_time(rid)
    first = _decoded(master, "DTSTART")
    if isinstance(first, dt.datetime) and first.tzinfo is not None:
        start = start.astimezone(first.tzinfo)
    override.add("recurrence-id", start if "T" in rid else start.date())
    override.add("sequence", 0)
    cal.add_component(override)
    return override


def _decoded(comp: Any, key: str) -> Any:
    if key not in comp:
        return None
    try:
        return comp.decoded(key)
    except (KeyError, ValueError):
        return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _email(row: Any) -> str:
    text = str(row or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower()


def _unique(emails: list[str]) -> list[str]:
    return list(dict.fromkeys(e.strip().lower() for e in emails if e.strip()))


def _attendee_line(email: str, draft: EventDraft) -> icalendar.vCalAddress:
    row = icalendar.vCalAddress(f"mailto:{email}")
    row.params["CUTYPE"] = "INDIVIDUAL"
    row.params["ROLE"] = "REQ-PARTICIPANT"
    row.params["PARTSTAT"] = "NEEDS-ACTION"
    row.params["RSVP"] = "TRUE"
    if not draft.send_invitations:
        row.params["SCHEDULE-AGENT"] = "CLIENT"  # RFC 6638: the server sends nothing
    return row


def _room_line(draft: EventDraft) -> icalendar.vCalAddress:
    row = icalendar.vCalAddress(f"mailto:{draft.room_email.lower()}")
    row.params["CUTYPE"] = "ROOM"
    row.params["ROLE"] = "NON-PARTICIPANT"
    row.params["PARTSTAT"] = "NEEDS-ACTION"
    if draft.room_name:
        row.params["CN"] = draft.room_name
    return row


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name and name.upper() != "UTC" else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _draft_times(draft: EventDraft) -> tuple[dt.date | dt.datetime, dt.date | dt.datetime]:
    zone = _zone(draft.timezone)
    start = draft.start if draft.start.tzinfo else draft.start.replace(tzinfo=zone)
    end = draft.end if draft.end.tzinfo else draft.end.replace(tzinfo=zone)
    if draft.all_day:
        first = start.astimezone(zone).date()
        last = max(end.astimezone(zone).date(), first + dt.timedelta(days=1))
        return first, last
    return start.astimezone(zone), end.astimezone(zone)


def _as_utc(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return aware.astimezone(dt.UTC)
    return dt.datetime.combine(value, dt.time(0), dt.UTC)


def _times(comp: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    start = _decoded(comp, "DTSTART")
    if start is None:
        return None, None
    zone = _zone(_tz_name(comp))
    if isinstance(start, dt.datetime):
        begin = (start if start.tzinfo else start.replace(tzinfo=zone)).astimezone(dt.UTC)
    else:  # an all-day date: midnight where the calendar keeps it
        begin = dt.datetime.combine(start, dt.time(0), zone).astimezone(dt.UTC)
    end = _decoded(comp, "DTEND")
    duration = _decoded(comp, "DURATION")
    if end is not None:
        finish = _as_utc(end) if isinstance(end, dt.datetime) else None
        if finish is None:
            finish = dt.datetime.combine(end, dt.time(0), zone).astimezone(dt.UTC)
        elif not end.tzinfo:
            finish = end.replace(tzinfo=zone).astimezone(dt.UTC)
    elif isinstance(duration, dt.timedelta):
        finish = begin + duration
    else:
        timed = isinstance(start, dt.datetime)
        finish = begin + (dt.timedelta(0) if timed else dt.timedelta(days=1))
    return begin, finish


def _tz_name(comp: Any) -> str:
    prop = comp.get("DTSTART")
    tzid = str(getattr(prop, "params", {}).get("TZID", "")) if prop is not None else ""
    if tzid:
        return tzid
    value = _decoded(comp, "DTSTART")
    key = getattr(getattr(value, "tzinfo", None), "key", "")
    return str(key or "UTC")


def _updated(comp: Any) -> dt.datetime | None:
    """When the event was last changed: LAST-MODIFIED, or DTSTAMP where later (in a stored
    object without METHOD, DTSTAMP is its last revision, RFC 5545 3.8.7.2; not every client
    keeps LAST-MODIFIED)."""
    found = [_decoded(comp, key) for key in ("LAST-MODIFIED", "DTSTAMP")]
    stamps = [_as_utc(value) for value in found if isinstance(value, dt.datetime)]
    return max(stamps) if stamps else None


def _exdates(master: Any) -> list[dt.date | dt.datetime]:
    if master is None:
        return []
    found: list[dt.date | dt.datetime] = []
    for prop in _as_list(master.get("EXDATE")):
        found += [d.dt for d in getattr(prop, "dts", [])]
    return found


def _period(period: Any) -> tuple[dt.datetime, dt.datetime]:
    begin, other = period[0], period[1]
    return begin, (begin + other if isinstance(other, dt.timedelta) else other)


def _overlaps(ev: ExternalEvent, window: tuple[dt.datetime, dt.datetime]) -> bool:
    if ev.start is None:
        return True  # unreadable: the importer records why
    end = ev.end or ev.start
    return ev.start < window[1] and end >= window[0]


def _unreadable(name: str, exc: Exception) -> ExternalEvent:
    return ExternalEvent(
        id=name,
        ical_uid="",
        title="",
        start=None,
        end=None,
        unreadable=f"{exc.__class__.__name__}: {exc}"[:255],
    )


# -- factory ----------------------------------------------------------------------------------------
def adapter_for_connection(connection: CalendarConnection) -> CalDAVAdapter:
    return CalDAVAdapter(
        username=connection.account_id,
        password=connection.access_token,
        calendar_url=connection.calendar_url,
        account_email=connection.account_email,
    )
