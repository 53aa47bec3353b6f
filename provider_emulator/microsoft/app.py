"""The WSGI app under /microsoft: sign-in endpoints and Graph v1.0 (calendars, events, delta,
getSchedule, places, subscriptions), plus /_emulator/subscriptions/{id}/lifecycle."""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import requests
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .. import push
from ..http import graph_error, graph_fault_response, json_response, read_json, take_request_fault
from ..state import Account, EmulatorState
from .auth import AuthEndpoints
from .store import MAX_SUBSCRIPTION_MINUTES, GraphError, GraphStore
from .timeutil import BadTimeZone, fmt_utc, parse_dtz, parse_query_datetime, zone

_CAL = "/v1.0/me/calendars/<calendar_id>"


def _graph_rules() -> list[Rule]:
    rules = [
        Rule("/v1.0/me", endpoint="me", methods=["GET"]),
        Rule("/v1.0/me/calendar", endpoint="calendar_get", methods=["GET"]),
        Rule("/v1.0/me/calendars", endpoint="calendars", methods=["GET", "POST"]),
        Rule(_CAL, endpoint="calendar_one", methods=["GET", "PATCH", "DELETE"]),
        Rule("/v1.0/me/events", endpoint="events", methods=["GET", "POST"]),
        Rule("/v1.0/me/calendar/events", endpoint="events", methods=["GET", "POST"]),
        Rule(f"{_CAL}/events", endpoint="events", methods=["GET", "POST"]),
        Rule("/v1.0/me/events/<event_id>", endpoint="event", methods=["GET", "PATCH", "DELETE"]),
        Rule(
            "/v1.0/me/calendar/events/<event_id>",
            endpoint="event",
            methods=["GET", "PATCH", "DELETE"],
        ),
        Rule(f"{_CAL}/events/<event_id>", endpoint="event", methods=["GET", "PATCH", "DELETE"]),
        Rule("/v1.0/me/events/<event_id>/instances", endpoint="instances", methods=["GET"]),
        Rule("/v1.0/me/calendarView", endpoint="calendar_view", methods=["GET"]),
        Rule("/v1.0/me/calendar/calendarView", endpoint="calendar_view", methods=["GET"]),
        Rule(f"{_CAL}/calendarView", endpoint="calendar_view", methods=["GET"]),
        Rule("/v1.0/me/calendarView/delta", endpoint="delta", methods=["GET"]),
        Rule("/v1.0/me/calendar/calendarView/delta", endpoint="delta", methods=["GET"]),
        Rule(f"{_CAL}/calendarView/delta", endpoint="delta", methods=["GET"]),
        Rule("/v1.0/me/calendar/getSchedule", endpoint="get_schedule", methods=["POST"]),
        Rule("/v1.0/places/microsoft.graph.room", endpoint="rooms", methods=["GET"]),
        Rule("/v1.0/places/microsoft.graph.roomlist", endpoint="room_lists", methods=["GET"]),
        Rule("/v1.0/subscriptions", endpoint="subscriptions", methods=["GET", "POST"]),
        Rule(
            "/v1.0/subscriptions/<sub_id>",
            endpoint="subscription",
            methods=["GET", "PATCH", "DELETE"],
        ),
        Rule("/v1.0/subscriptions/<sub_id>/reauthorize", endpoint="reauthorize", methods=["POST"]),
    ]
    for action in ("accept", "decline", "tentativelyAccept", "cancel"):
        for prefix in ("/v1.0/me/events", "/v1.0/me/calendar/events", f"{_CAL}/events"):
            rules.append(
                Rule(
                    f"{prefix}/<event_id>/{action}",
                    endpoint="respond",
                    methods=["POST"],
                    defaults={"action": action},
                )
            )
    return rules


url_map = Map(
    [
        Rule(
            "/<tenant>/v2.0/.well-known/openid-configuration", endpoint="auth:openid_configuration"
        ),
        Rule("/<tenant>/.well-known/openid-configuration", endpoint="auth:openid_configuration"),
        Rule("/<tenant>/discovery/v2.0/keys", endpoint="auth:keys"),
        Rule("/common/discovery/instance", endpoint="auth:instance_discovery"),
        Rule("/<tenant>/oauth2/v2.0/authorize", endpoint="auth:authorize", methods=["GET", "POST"]),
        Rule("/<tenant>/oauth2/v2.0/token", endpoint="auth:token", methods=["POST"]),
        Rule("/<tenant>/oauth2/v2.0/logout", endpoint="auth:logout", methods=["GET", "POST"]),
        Rule(
            "/_emulator/subscriptions/<sub_id>/lifecycle",
            endpoint="control:lifecycle",
            methods=["POST"],
        ),
        *_graph_rules(),
    ],
    strict_slashes=False,
    merge_slashes=False,
)

# name used for request counts and fault matching, per (endpoint, method)
ENDPOINT_NAMES = {
    ("me", "GET"): "me",
    ("calendar_get", "GET"): "calendars.get",
    ("calendars", "GET"): "calendars.list",
    ("calendars", "POST"): "calendars.create",
    ("calendar_one", "GET"): "calendars.get",
    ("calendar_one", "PATCH"): "calendars.update",
    ("calendar_one", "DELETE"): "calendars.delete",
    ("events", "GET"): "events.list",
    ("events", "POST"): "events.create",
    ("event", "GET"): "events.get",
    ("event", "PATCH"): "events.update",
    ("event", "DELETE"): "events.delete",
    ("instances", "GET"): "events.instances",
    ("respond", "POST"): "events.respond",
    ("calendar_view", "GET"): "calendarView",
    ("delta", "GET"): "calendarView.delta",
    ("get_schedule", "POST"): "getSchedule",
    ("rooms", "GET"): "places.rooms",
    ("room_lists", "GET"): "places.roomLists",
    ("subscriptions", "GET"): "subscriptions.list",
    ("subscriptions", "POST"): "subscriptions.create",
    ("subscription", "GET"): "subscriptions.get",
    ("subscription", "PATCH"): "subscriptions.update",
    ("subscription", "DELETE"): "subscriptions.delete",
    ("reauthorize", "POST"): "subscriptions.reauthorize",
}
_USERS = re.compile(r"^/v1\.0/users/([^/]+)(/.*)?$")
_PREFER = re.compile(r'\s*([A-Za-z][\w.\-]*)\s*(?:=\s*("[^"]*"|[^,;]*))?')
_EXPAND_PROPS = re.compile(r"singleValueExtendedProperties\s*(?:\((.*)\))?", re.I)
_ID_EQ = re.compile(r"id\s+eq\s+'((?:[^']|'')*)'", re.I)
_EP_FILTER = re.compile(
    r"singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*\1/id\s+eq\s+'((?:[^']|'')*)'\s+and\s+\1/value\s+eq\s+'((?:[^']|'')*)'\s*\)",
    re.I,
)
_SIMPLE_FILTER = re.compile(
    r"^\s*(iCalUId|subject|transactionId)\s+eq\s+'((?:[^']|'')*)'\s*$", re.I
)
VALIDATION_TIMEOUT = 10
# The most items one page holds, whatever $top or odata.maxpagesize asks (Outlook collections
# take $top 1-1000; a larger maxpagesize is answered with pages of this size).
MAX_PAGE_SIZE = 1000


class GraphApp:
    def __init__(self, state: EmulatorState, store: GraphStore) -> None:
        self.state, self.store = state, store
        self.auth = AuthEndpoints(state, store)

    def __call__(self, environ, start_response):  # noqa: ANN001 - WSGI signature
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except GraphError as exc:
            response = graph_error(exc.status, exc.code, exc.message)
        except BadRequest as exc:
            response = graph_error(400, "BadRequest", exc.description or "Bad request")
        except HTTPException as exc:
            response = (
                exc.get_response(environ)
                if not request.path.startswith("/v1.0")
                else graph_error(
                    exc.code or 500,
                    "BadRequest" if exc.code == 405 else "UnknownError",
                    exc.description or "",
                )
            )
        return response(environ, start_response)

    # -- dispatch -------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/v1.0/") or path == "/v1.0":
            return self.graph(request)
        adapter = url_map.bind_to_environ(request.environ)
        endpoint, args = adapter.match()
        kind, name = endpoint.split(":", 1)
        if kind == "auth":
            return getattr(self.auth, name)(request, **args)
        return self.on_lifecycle(request, **args)

    def graph(self, request: Request) -> Response:
        header = request.headers.get("Authorization")
        account = self.state.authenticate("microsoft", header)
        if account is None:
            return self._unauthenticated(header)
        path = request.path
        m = _USERS.match(path)
        if m:
            user = m.group(1).lower()
            if user != account.id.lower() and user not in account.addresses():
                self.state.log_request("microsoft", account.email, request.method, "users")
                return graph_error(
                    403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
                )
            path = "/v1.0/me" + (m.group(2) or "")
        adapter = url_map.bind("emulator", script_name=request.script_root or "/")
        try:
            endpoint, args = adapter.match(path, method=request.method)
        except NotFound:
            self.state.log_request("microsoft", account.email, request.method, "unknown")
            return graph_error(
                400,
                "BadRequest",
                f"Resource not found for the segment '{path.rstrip('/').rsplit('/', 1)[-1]}'.",
            )
        except MethodNotAllowed:
            return graph_error(
                405,
                "Request_BadRequest",
                "Specified HTTP method is not allowed for the request target.",
            )
        name = ENDPOINT_NAMES.get((endpoint, request.method), endpoint)
        self.state.log_request("microsoft", account.email, request.method, name)
        fault = take_request_fault(self.state, "microsoft", account.email, name)
        if fault is not None:
            return graph_fault_response(fault)
        ctx = _Ctx(request, account, self.store)
        response = getattr(self, f"on_{endpoint}")(ctx, **args)
        applied = ctx.applied()
        if applied:
            response.headers["Preference-Applied"] = applied
        response.headers.setdefault("request-id", str(uuid.uuid4()))
        response.headers.setdefault(
            "client-request-id",
            request.headers.get("client-request-id", response.headers["request-id"]),
        )
        return response

    def _unauthenticated(self, header: str | None) -> Response:
        headers = {
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
        }
        if not header or not header.lower().startswith("bearer ") or not header.split(None, 1)[1:]:
            return graph_error(
                401, "InvalidAuthenticationToken", "Access token is empty.", headers=headers
            )
        value = header.split(None, 1)[1].strip()
        token = self.state.access_tokens.get(value)
        if token is not None and token.provider == "microsoft":
            return graph_error(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
                headers=headers,
            )
        return graph_error(
            401,
            "InvalidAuthenticationToken",
            "IDX14100: JWT is not well formed, there are no dots (.). Access token validation failed.",
            headers=headers,
        )

    # -- me / calendars -------------------------------------------------------------------------------
    def on_me(self, ctx: _Ctx) -> Response:
        acc = ctx.account
        parts = acc.name.split(" ", 1)
        return ctx.json(
            {
                "@odata.context": ctx.root + "v1.0/$metadata#users/$entity",
                "businessPhones": [],
                "displayName": acc.name,
                "givenName": parts[0],
                "jobTitle": None,
                "mail": acc.email,
                "mobilePhone": None,
                "officeLocation": acc.building or None,
                "preferredLanguage": "en-US",
                "surname": parts[1] if len(parts) > 1 else "",
                "userPrincipalName": acc.email,
                "id": acc.id,
            }
        )

    def on_calendar_get(self, ctx: _Ctx) -> Response:
        cal = self.store.calendar(ctx.account, None)
        return ctx.json(
            {"@odata.context": ctx.context("calendars/$entity"), **self.store.render_calendar(cal)}
        )

    def on_calendars(self, ctx: _Ctx) -> Response:
        if ctx.request.method == "POST":
            with self.state.lock:
                cal = self.store.create_calendar(ctx.account, read_json(ctx.request))
            return ctx.json(
                {
                    "@odata.context": ctx.context("calendars/$entity"),
                    **self.store.render_calendar(cal),
                },
                201,
            )
        with self.state.lock:
            cals = [self.store.render_calendar(c) for c in self.store.calendar_list(ctx.account)]
        # Pages of 10 by default, as Graph pages /me/calendars ($top for more, @odata.nextLink).
        return ctx.page(cals, default_top=10, context="calendars", rendered=True)

    def on_calendar_one(self, ctx: _Ctx, calendar_id: str) -> Response:
        method = ctx.request.method
        with self.state.lock:
            if method == "DELETE":
                self.store.delete_calendar(ctx.account, calendar_id)
                return Response(status=204)
            if method == "PATCH":
                cal = self.store.update_calendar(ctx.account, calendar_id, read_json(ctx.request))
            else:
                cal = self.store.calendar(ctx.account, calendar_id)
            return ctx.json(
                {
                    "@odata.context": ctx.context("calendars/$entity"),
                    **self.store.render_calendar(cal),
                }
            )

    # -- events ---------------------------------------------------------------------------------------------
    def on_events(self, ctx: _Ctx, calendar_id: str | None = None) -> Response:
        if ctx.request.method == "POST":
            data = read_json(ctx.request)
            ev, _created = self.store.create_event(ctx.account, data, calendar_id)
            return ctx.json(
                {"@odata.context": ctx.context("events/$entity"), **ctx.render(ev)}, 201
            )
        with self.state.lock:
            cal = self.store.calendar(ctx.account, calendar_id)
            items = [e for e in self.store._live(ctx.account.email, cal["id"])]
            items = _apply_filter(items, ctx.request.args.get("$filter"))
            items.sort(key=lambda e: e["created"])
            return ctx.page(items, default_top=10, context="events")

    def on_event(self, ctx: _Ctx, event_id: str, calendar_id: str | None = None) -> Response:
        method = ctx.request.method
        if method == "DELETE":
            with self.state.lock:  # the check and the write, with nothing in between
                self._check_if_match(ctx, event_id)
                self.store.delete_event(ctx.account, event_id)
            return Response(status=204)
        if method == "PATCH":
            data = read_json(ctx.request)
            with self.state.lock:
                self._check_if_match(ctx, event_id)
                ev = self.store.update_event(ctx.account, event_id, data)
            return ctx.json({"@odata.context": ctx.context("events/$entity"), **ctx.render(ev)})
        with self.state.lock:
            ev = self.store.get_record(ctx.account, event_id)
            if calendar_id and ev["calendar_id"] != calendar_id:
                raise GraphError(
                    404, "ErrorItemNotFound", "The specified object was not found in the store."
                )
            return ctx.json({"@odata.context": ctx.context("events/$entity"), **ctx.render(ev)})

    def _check_if_match(self, ctx: _Ctx, event_id: str) -> None:
        """``If-Match: <@odata.etag>`` (W/ optional, or ``*``) on a write: an item whose change
        key moved on answers 412 ErrorIrresolvableConflict, as Graph does."""
        wanted = (ctx.request.headers.get("If-Match") or "").strip()
        if not wanted or wanted == "*":
            return
        current = self.store.get_record(ctx.account, event_id)["change_key"]
        given = {tag.strip().removeprefix("W/").strip('"') for tag in wanted.split(",")}
        if current not in given:
            raise GraphError(
                412,
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key "
                "passed in the request does not match the current change key for the item.",
            )

    def on_respond(
        self, ctx: _Ctx, event_id: str, action: str, calendar_id: str | None = None
    ) -> Response:
        data = read_json(ctx.request)
        if action == "cancel":
            ev = self.store.get_record(ctx.account, event_id)
            if not ev["is_organizer"]:
                raise GraphError(
                    400,
                    "ErrorAccessDenied",
                    "Your request can't be completed. Only the meeting organizer can cancel the meeting.",
                )
            self.store.delete_event(ctx.account, event_id, comment=str(data.get("comment") or ""))
            return Response(status=202)
        send = data.get("sendResponse", True)
        self.store.respond(
            ctx.account,
            event_id,
            action,
            comment=str(data.get("comment") or ""),
            send_response=send is not False and str(send).lower() != "false",
        )
        return Response(status=202)

    def on_instances(self, ctx: _Ctx, event_id: str) -> Response:
        ws, we = ctx.window(required=True)
        with self.state.lock:
            items = self.store.instances(ctx.account, event_id, ws, we)
            return ctx.page(items, default_top=10, context="events")

    def on_calendar_view(self, ctx: _Ctx, calendar_id: str | None = None) -> Response:
        ws, we = ctx.window(required=True)
        with self.state.lock:
            items = self.store.view(ctx.account, ws, we, calendar_id)
            return ctx.page(items, default_top=10, context="events")

    def on_delta(self, ctx: _Ctx, calendar_id: str | None = None) -> Response:
        args = ctx.request.args
        for unsupported in ("$select", "$filter", "$orderby", "$search", "$expand"):
            if unsupported in args:
                raise GraphError(
                    400,
                    "ErrorInvalidUrlQuery",
                    f"The following parameters are not supported with change tracking over the 'CalendarView' resource: '{unsupported}'.",
                )
        if args.get("$deltatoken"):
            page = self.store.delta_resume(ctx.account, args["$deltatoken"], "delta")
        elif args.get("$skiptoken"):
            page = self.store.delta_resume(ctx.account, args["$skiptoken"], "page")
        else:
            ws, we = ctx.window(required=True)
            first = self.store.delta_start(ctx.account, calendar_id, ws, we)
            page = self.store.sync_states[first]
        size = ctx.max_page_size() or 10
        items, nxt = self.store.delta_page(ctx.account, page, page["offset"], size)
        value = []
        with self.state.lock:
            for event_id, record in items:
                if record is None:
                    value.append(
                        {
                            "@odata.type": "#microsoft.graph.event",
                            "id": event_id,
                            "@removed": {"reason": "deleted"},
                        }
                    )
                else:
                    value.append({"@odata.type": "#microsoft.graph.event", **ctx.render(record)})
        base = ctx.request.base_url
        body: dict = {
            "@odata.context": ctx.root + "v1.0/$metadata#Collection(event)",
            "value": value,
        }
        if nxt is not None:
            body["@odata.nextLink"] = base + "?$skiptoken=" + self.store.page_token(page, nxt)
        else:
            body["@odata.deltaLink"] = base + "?$deltatoken=" + page["delta"]
        return ctx.json(body)

    # -- free/busy and places --------------------------------------------------------------------------
    def on_get_schedule(self, ctx: _Ctx) -> Response:
        raw = read_json(ctx.request)
        data = {k[0].lower() + k[1:]: v for k, v in raw.items()}
        schedules = data.get("schedules")
        if not isinstance(schedules, list) or not schedules:
            raise GraphError(
                400, "ErrorInvalidParameter", "The parameter 'Schedules' is missing or empty."
            )
        if len(schedules) > 20:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "The number of schedules requested exceeds the maximum of 20.",
            )
        try:
            ws, _ = parse_dtz(_lower_keys(data.get("startTime")))
            we, _ = parse_dtz(_lower_keys(data.get("endTime")))
        except BadTimeZone as exc:
            raise GraphError(
                400,
                "TimeZoneNotSupportedException",
                f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{exc}'.",
            ) from exc
        except (ValueError, TypeError) as exc:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "StartTime and EndTime are required dateTimeTimeZone values.",
            ) from exc
        try:
            interval = int(data.get("availabilityViewInterval") or 30)
        except (TypeError, ValueError) as exc:
            raise GraphError(
                400, "ErrorInvalidParameter", "availabilityViewInterval must be an integer."
            ) from exc
        if not 5 <= interval <= 1440:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "The availabilityViewInterval must be between 5 and 1440 minutes.",
            )
        if we <= ws:
            raise GraphError(
                400, "ErrorInvalidTimeInterval", "The end time must be after the start time."
            )
        if we - ws > dt.timedelta(days=62):
            raise GraphError(
                400,
                "ErrorTimeIntervalTooBig",
                "The time duration specified for the availability request is too long. The maximum allowed is 62 days.",
            )
        with self.state.lock:
            value = [
                self.store.schedule(str(s), ws, we, interval, ctx.tz(), ctx.account)
                for s in schedules
            ]
        return ctx.json(
            {
                "@odata.context": ctx.root
                + "v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
                "value": value,
            }
        )

    def on_rooms(self, ctx: _Ctx) -> Response:
        rooms = [{"@odata.type": "#microsoft.graph.room", **r} for r in self.store.rooms()]
        return ctx.page(rooms, default_top=100, context="places/microsoft.graph.room", raw=True)

    def on_room_lists(self, ctx: _Ctx) -> Response:
        return ctx.json(
            {
                "@odata.context": ctx.root + "v1.0/$metadata#places/microsoft.graph.roomList",
                "value": [],
            }
        )

    # -- subscriptions ------------------------------------------------------------------------------------
    def _render_sub(self, ctx: _Ctx, sub: dict) -> dict:
        return {
            "id": sub["id"],
            "resource": sub["resource"],
            "applicationId": sub.get("application_id"),
            "changeType": sub["change_type"],
            "clientState": sub.get("client_state"),
            "notificationUrl": sub["notification_url"],
            "notificationQueryOptions": None,
            "lifecycleNotificationUrl": sub.get("lifecycle_url"),
            "expirationDateTime": fmt_utc(sub["expiration"]),
            "creatorId": sub.get("creator_id"),
            "includeResourceData": False,
            "latestSupportedTlsVersion": sub.get("tls", "v1_2"),
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "notificationUrlAppId": None,
        }

    def _expiration(self, value: object) -> dt.datetime:
        if not value:
            raise GraphError(
                400,
                "InvalidRequest",
                "expirationDateTime is a required property for subscription creation.",
            )
        try:
            expiration = parse_query_datetime(str(value))
        except ValueError as exc:
            raise GraphError(
                400,
                "InvalidRequest",
                f"Cannot convert the literal '{value}' to the expected type 'Edm.DateTimeOffset'.",
            ) from exc
        now = self.state.now()
        if expiration <= now:
            raise GraphError(
                400, "InvalidRequest", "Subscription expiration must be in the future."
            )
        if expiration > now + dt.timedelta(minutes=MAX_SUBSCRIPTION_MINUTES):
            raise GraphError(
                400,
                "ExtensionError",
                f"Operation: Create; Exception: [Status Code: BadRequest; Reason: Subscription expiration can only be {MAX_SUBSCRIPTION_MINUTES} minutes in the future.]",
            )
        return expiration

    def _validate_endpoint(self, url: str) -> None:
        token = f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
        target = url + ("&" if "?" in url else "?") + "validationToken=" + quote(token, safe="")
        failed = "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request."
        try:
            resp = push.post_now(
                target,
                headers={"Content-Type": "text/plain; charset=utf-8"},
                body=b"",
                timeout=VALIDATION_TIMEOUT,
            )
        except push.NotLoopback as exc:
            raise GraphError(
                400,
                "ValidationError",
                f"{failed} ({exc}; the emulator only calls loopback receivers)",
            ) from exc
        except requests.Timeout as exc:
            raise GraphError(
                400, "ValidationError", "Subscription validation request timed out."
            ) from exc
        except requests.RequestException as exc:
            raise GraphError(400, "ValidationError", failed) from exc
        if resp.status_code != 200:
            raise GraphError(400, "ValidationError", failed)
        if (
            not resp.headers.get("Content-Type", "").lower().startswith("text/plain")
            or resp.text.strip() != token
        ):
            raise GraphError(
                400,
                "ValidationError",
                "Subscription validation request failed. Response must exactly match validationToken query parameter.",
            )

    def _resource_calendar(self, ctx: _Ctx, resource: str) -> str | None:
        res = resource.strip().strip("/")
        m = re.fullmatch(
            r"(?i)(me|users/([^/]+))/(events|calendar/events|calendars/([^/]+)/events)", res
        )
        if not m:
            raise GraphError(
                400,
                "ExtensionError",
                f"Operation: Create; Exception: [Status Code: BadRequest; Reason: The resource '{resource}' is not supported by the emulator (use me/events).]",
            )
        user = (m.group(2) or "").lower()
        if user and user != ctx.account.id.lower() and user not in ctx.account.addresses():
            raise GraphError(
                403,
                "ExtensionError",
                "Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied.]",
            )
        if m.group(4):
            return self.store.calendar(ctx.account, m.group(4))["id"]
        return None

    def on_subscriptions(self, ctx: _Ctx) -> Response:
        if ctx.request.method == "GET":
            now = self.state.now()
            subs = [
                self._render_sub(ctx, s)
                for s in self.store.subscriptions.values()
                if s["mailbox"] == ctx.account.email and s["expiration"] > now
            ]
            return ctx.json(
                {"@odata.context": ctx.root + "v1.0/$metadata#subscriptions", "value": subs}
            )
        data = read_json(ctx.request)
        change_type = str(data.get("changeType") or "")
        kinds = [c.strip() for c in change_type.split(",") if c.strip()]
        if not kinds or any(k not in ("created", "updated", "deleted") for k in kinds):
            raise GraphError(
                400,
                "InvalidRequest",
                "changeType must be a comma-separated list of created, updated, deleted.",
            )
        url = str(data.get("notificationUrl") or "")
        if not url:
            raise GraphError(
                400,
                "InvalidRequest",
                "notificationUrl is a required property for subscription creation.",
            )
        resource = str(data.get("resource") or "")
        calendar_id = self._resource_calendar(ctx, resource)
        expiration = self._expiration(data.get("expirationDateTime"))
        client_state = data.get("clientState")
        if client_state is not None and len(str(client_state)) > 128:
            raise GraphError(
                400, "InvalidRequest", "clientState must not be longer than 128 characters."
            )
        lifecycle = data.get("lifecycleNotificationUrl")
        self._validate_endpoint(url)  # outside the lock: the receiver may take its time
        if lifecycle:
            self._validate_endpoint(str(lifecycle))
        token = self.state.access_tokens.get(
            ctx.request.headers["Authorization"].split(None, 1)[1].strip()
        )
        grant = self.state.grants.get(token.grant_id) if token and token.grant_id else None
        sub = {
            "id": str(uuid.uuid4()),
            "mailbox": ctx.account.email,
            "resource": resource,
            "calendar_id": calendar_id,
            "change_type": ",".join(kinds),
            "notification_url": url,
            "lifecycle_url": str(lifecycle) if lifecycle else None,
            "expiration": expiration,
            "client_state": client_state,
            "application_id": grant.client_id if grant else None,
            "creator_id": ctx.account.id,
            "tls": data.get("latestSupportedTlsVersion") or "v1_2",
        }
        with self.state.lock:
            self.store.subscriptions[sub["id"]] = sub
        return ctx.json(
            {
                "@odata.context": ctx.root + "v1.0/$metadata#subscriptions/$entity",
                **self._render_sub(ctx, sub),
            },
            201,
        )

    def _sub(self, ctx: _Ctx, sub_id: str) -> dict:
        sub = self.store.subscriptions.get(sub_id)
        if (
            sub is None
            or sub["mailbox"] != ctx.account.email
            or sub["expiration"] <= self.state.now()
        ):
            raise GraphError(404, "ResourceNotFound", "The object was not found.")
        return sub

    def on_subscription(self, ctx: _Ctx, sub_id: str) -> Response:
        sub = self._sub(ctx, sub_id)
        method = ctx.request.method
        if method == "DELETE":
            with self.state.lock:
                self.store.subscriptions.pop(sub_id, None)
            return Response(status=204)
        if method == "PATCH":
            data = read_json(ctx.request)
            if "notificationUrl" in data:
                self._validate_endpoint(str(data["notificationUrl"]))
                sub["notification_url"] = str(data["notificationUrl"])
            if "expirationDateTime" in data:
                sub["expiration"] = self._expiration(data["expirationDateTime"])
            sub["reauthorization_required"] = False
        return ctx.json(
            {
                "@odata.context": ctx.root + "v1.0/$metadata#subscriptions/$entity",
                **self._render_sub(ctx, sub),
            }
        )

    def on_reauthorize(self, ctx: _Ctx, sub_id: str) -> Response:
        sub = self._sub(ctx, sub_id)
        sub["reauthorization_required"] = False
        return Response(status=204)

    # -- control ---------------------------------------------------------------------------------------------
    def on_lifecycle(self, request: Request, sub_id: str) -> Response:
        data = read_json(request)
        try:
            result = self.store.trigger_lifecycle(
                sub_id, str(data.get("event") or data.get("lifecycleEvent") or "")
            )
        except KeyError:
            return json_response({"error": f"no subscription {sub_id}"}, 404)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(result)


class _Ctx:
    """Per-request helpers: Prefer headers, rendering, paging."""

    def __init__(self, request: Request, account: Account, store: GraphStore) -> None:
        self.request, self.account, self.store = request, account, store
        self.root = request.url_root  # http://host/microsoft/
        self.prefs = self._parse_prefer()
        self._applied: list[str] = []

    def _parse_prefer(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for header in self.request.headers.getlist("Prefer"):
            for part in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", header):
                m = _PREFER.match(part)
                if m:
                    out[m.group(1).lower()] = (m.group(2) or "").strip().strip('"')
        return out

    def tz(self) -> str:
        name = self.prefs.get("outlook.timezone")
        if not name:
            return "UTC"
        try:
            zone(name)
        except BadTimeZone as exc:
            raise GraphError(
                400,
                "TimeZoneNotSupportedException",
                f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{name}'.",
            ) from exc
        applied = f'outlook.timezone="{name}"'
        if applied not in self._applied:
            self._applied.append(applied)
        return name

    def max_page_size(self) -> int | None:
        """``Prefer: odata.maxpagesize=N``, at most ``MAX_PAGE_SIZE`` (Outlook's page limit);
        ``Preference-Applied`` says the size the pages really have."""
        raw = self.prefs.get("odata.maxpagesize")
        if not raw:
            return None
        try:
            size = min(max(1, int(raw)), MAX_PAGE_SIZE)
        except ValueError:
            return None
        self._applied.append(f"odata.maxpagesize={size}")
        return size

    def applied(self) -> str:
        if "idtype" in self.prefs:
            self._applied.append(f'IdType="{self.prefs["idtype"]}"')
        return ", ".join(dict.fromkeys(self._applied))

    def context(self, suffix: str) -> str:
        return f"{self.root}v1.0/$metadata#users('{quote(self.account.email)}')/{suffix}"

    def json(self, data: dict, status: int = 200) -> Response:
        return json_response(data, status, {"OData-Version": "4.0"})

    def window(self, *, required: bool) -> tuple[dt.datetime, dt.datetime]:
        args = {k.lower(): v for k, v in self.request.args.items()}
        start, end = args.get("startdatetime"), args.get("enddatetime")
        if not start or not end:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.",
            )
        try:
            return parse_query_datetime(start), parse_query_datetime(end)
        except ValueError as exc:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                f"The value '{start}' of parameter 'StartDateTime' is invalid.",
            ) from exc

    @functools.cached_property
    def _render_options(self) -> tuple[dict[str, Any], set[str] | None]:
        """What the request asks of every event it renders ($expand, $select, Prefer), read
        once a request, not once an event."""
        expand = self.request.args.get("$expand", "")
        props: list[str] | None = None
        m = _EXPAND_PROPS.search(expand)
        if m:
            props = [v.replace("''", "'") for v in _ID_EQ.findall(m.group(1) or "")]
        body_text = self.prefs.get("outlook.body-content-type", "").lower() == "text"
        if body_text:
            self._applied.append('outlook.body-content-type="text"')
        options = {"tz": self.tz(), "body_text": body_text, "expand_props": props}
        select = self.request.args.get("$select")
        keep = None
        if select:
            keep = {s.strip() for s in select.split(",")} | {"id", "@odata.etag"}
            if props is not None:
                keep.add("singleValueExtendedProperties")
        return options, keep

    def render(self, ev: dict) -> dict:
        options, keep = self._render_options
        out = self.store.render(ev, **options)
        if keep is not None:
            out = {k: v for k, v in out.items() if k in keep}
        return out

    def page(
        self,
        items: list,
        *,
        default_top: int,
        context: str,
        raw: bool = False,
        rendered: bool = False,
    ) -> Response:
        """A page of ``items`` ($top/$skip, @odata.nextLink). Events are rendered here; ``raw``
        items are outside the user's context (places), ``rendered`` ones are ready (calendars)."""
        args = self.request.args
        try:
            top = int(args.get("$top") or 0) or self.max_page_size() or default_top
            skip = int(args.get("$skip") or 0)
        except ValueError as exc:
            raise GraphError(400, "BadRequest", "Invalid $top or $skip value.") from exc
        top = min(top, MAX_PAGE_SIZE)
        chunk = items[skip : skip + top]
        value = chunk if raw or rendered else [self.render(e) for e in chunk]
        body: dict = {
            "@odata.context": self.context(context)
            if not raw
            else f"{self.root}v1.0/$metadata#{context}",
            "value": value,
        }
        if skip + top < len(items):
            query = {k: v for k, v in args.items() if k != "$skip"}
            query["$top"] = str(top)
            query["$skip"] = str(skip + top)
            body["@odata.nextLink"] = (
                self.request.base_url + "?" + urlencode(query, quote_via=quote, safe="$'(),:")
            )
        return self.json(body)


def _lower_keys(value: object) -> object:
    if isinstance(value, dict):
        return {k[0].lower() + k[1:]: v for k, v in value.items()}
    return value


def _apply_filter(items: list[dict], flt: str | None) -> list[dict]:
    if not flt:
        return items
    m = _EP_FILTER.search(flt)
    if m:
        pid, pval = m.group(2).replace("''", "'").lower(), m.group(3).replace("''", "'")
        return [
            e
            for e in items
            if any(p["id"].lower() == pid and p["value"] == pval for p in e.get("ext_props", []))
        ]
    m = _SIMPLE_FILTER.match(flt)
    if m:
        field = {"icaluid": "ical_uid", "subject": "subject", "transactionid": "transaction_id"}[
            m.group(1).lower()
        ]
        value = m.group(2).replace("''", "'")
        return [e for e in items if e.get(field) == value]
    raise GraphError(
        400, "ErrorInvalidUrlQueryFilter", f"The emulator does not support this $filter: {flt}"
    )
