"""The Google WSGI app (mounted at /google): OAuth, Calendar v3, Admin Directory rooms."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ..http import google_error, google_fault_response, json_response, read_json, take_request_fault
from ..state import Account, EmulatorState
from .oauth import OAuthViews
from .store import ApiError, GoogleStore, _b64, _unb64

CAL = "/calendar/v3"
AUTH_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
    "or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project."
)
CALENDAR_READ = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.events.readonly",
}
CALENDAR_WRITE = {
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/calendar.events",
}
# calendars.insert/delete need the full calendar scope (calendar.events is not enough).
CALENDARS_MANAGE = {"https://www.googleapis.com/auth/calendar"}
FREEBUSY = CALENDAR_READ | {"https://www.googleapis.com/auth/calendar.freebusy"}
DIRECTORY = {
    "https://www.googleapis.com/auth/admin.directory.resource.calendar",
    "https://www.googleapis.com/auth/admin.directory.resource.calendar.readonly",
}

url_map = Map(
    [
        # OAuth 2.0 / OpenID Connect
        Rule("/o/oauth2/v2/auth", endpoint="oauth.authorize", methods=["GET"]),
        Rule("/o/oauth2/auth", endpoint="oauth.authorize", methods=["GET"]),
        Rule("/o/oauth2/v2/auth/flow", endpoint="oauth.flow_step", methods=["POST"]),
        Rule("/token", endpoint="oauth.token", methods=["POST"]),
        Rule("/o/oauth2/token", endpoint="oauth.token", methods=["POST"]),
        Rule("/oauth2/v4/token", endpoint="oauth.token", methods=["POST"]),
        Rule("/revoke", endpoint="oauth.revoke", methods=["POST", "GET"]),
        Rule("/o/oauth2/revoke", endpoint="oauth.revoke", methods=["POST", "GET"]),
        Rule(
            "/oauth2/v3/userinfo",
            endpoint="oauth.userinfo",
            defaults={"version": "v3"},
            methods=["GET", "POST"],
        ),
        Rule(
            "/v1/userinfo",
            endpoint="oauth.userinfo",
            defaults={"version": "v3"},
            methods=["GET", "POST"],
        ),
        Rule(
            "/oauth2/v2/userinfo",
            endpoint="oauth.userinfo",
            defaults={"version": "v2"},
            methods=["GET", "POST"],
        ),
        Rule(
            "/.well-known/openid-configuration",
            endpoint="oauth.openid_configuration",
            methods=["GET"],
        ),
        # Calendar v3
        Rule(f"{CAL}/users/me/calendarList", endpoint="calendar_list", methods=["GET"]),
        Rule(
            f"{CAL}/users/me/calendarList/<calendar_id>",
            endpoint="calendar_list_get",
            methods=["GET"],
        ),
        Rule(f"{CAL}/calendars/<calendar_id>", endpoint="calendars_get", methods=["GET"]),
        Rule(f"{CAL}/calendars", endpoint="calendars_insert", methods=["POST"]),
        Rule(f"{CAL}/calendars/<calendar_id>", endpoint="calendars_delete", methods=["DELETE"]),
        Rule(f"{CAL}/calendars/<calendar_id>/events", endpoint="events_list", methods=["GET"]),
        Rule(f"{CAL}/calendars/<calendar_id>/events", endpoint="events_insert", methods=["POST"]),
        Rule(
            f"{CAL}/calendars/<calendar_id>/events/watch", endpoint="events_watch", methods=["POST"]
        ),
        Rule(
            f"{CAL}/calendars/<calendar_id>/events/<event_id>",
            endpoint="events_get",
            methods=["GET"],
        ),
        Rule(
            f"{CAL}/calendars/<calendar_id>/events/<event_id>",
            endpoint="events_patch",
            methods=["PATCH"],
        ),
        Rule(
            f"{CAL}/calendars/<calendar_id>/events/<event_id>",
            endpoint="events_update",
            methods=["PUT"],
        ),
        Rule(
            f"{CAL}/calendars/<calendar_id>/events/<event_id>",
            endpoint="events_delete",
            methods=["DELETE"],
        ),
        Rule(
            f"{CAL}/calendars/<calendar_id>/events/<event_id>/instances",
            endpoint="events_instances",
            methods=["GET"],
        ),
        Rule(f"{CAL}/channels/stop", endpoint="channels_stop", methods=["POST"]),
        Rule(f"{CAL}/freeBusy", endpoint="freebusy", methods=["POST"]),
        # Admin SDK Directory: calendar resources (rooms)
        Rule(
            "/admin/directory/v1/customer/<customer>/resources/calendars",
            endpoint="rooms_list",
            methods=["GET"],
        ),
        Rule(
            "/admin/directory/v1/customer/<customer>/resources/calendars/<resource_id>",
            endpoint="rooms_get",
            methods=["GET"],
        ),
    ],
    strict_slashes=False,
)

# endpoint -> (Google method id used in the request log and for faults, accepted scopes)
API: dict[str, tuple[str, set[str]]] = {
    "calendar_list": ("calendar.calendarList.list", CALENDAR_READ),
    "calendar_list_get": ("calendar.calendarList.get", CALENDAR_READ),
    "calendars_get": ("calendar.calendars.get", CALENDAR_READ),
    "calendars_insert": ("calendar.calendars.insert", CALENDARS_MANAGE),
    "calendars_delete": ("calendar.calendars.delete", CALENDARS_MANAGE),
    "events_list": ("calendar.events.list", CALENDAR_READ),
    "events_insert": ("calendar.events.insert", CALENDAR_WRITE),
    "events_watch": ("calendar.events.watch", CALENDAR_READ),
    "events_get": ("calendar.events.get", CALENDAR_READ),
    "events_patch": ("calendar.events.patch", CALENDAR_WRITE),
    "events_update": ("calendar.events.update", CALENDAR_WRITE),
    "events_delete": ("calendar.events.delete", CALENDAR_WRITE),
    "events_instances": ("calendar.events.instances", CALENDAR_READ),
    "channels_stop": ("calendar.channels.stop", CALENDAR_READ),
    "freebusy": ("calendar.freebusy.query", FREEBUSY),
    "rooms_list": ("directory.resources.calendars.list", DIRECTORY),
    "rooms_get": ("directory.resources.calendars.get", DIRECTORY),
}


def unauthorized() -> Response:
    body = {
        "error": {
            "code": 401,
            "message": AUTH_MESSAGE,
            "errors": [
                {
                    "message": "Invalid Credentials",
                    "domain": "global",
                    "reason": "authError",
                    "location": "Authorization",
                    "locationType": "header",
                }
            ],
            "status": "UNAUTHENTICATED",
        }
    }
    return json_response(
        body,
        401,
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def _send_updates(request: Request) -> str:
    value = request.args.get("sendUpdates")
    if value is None:
        value = "all" if request.args.get("sendNotifications", "").lower() == "true" else "none"
    if value not in ("all", "externalOnly", "none"):
        raise ApiError(400, "invalid", "Invalid value for: sendUpdates", location="sendUpdates")
    return value


def _conf_version(request: Request) -> int:
    try:
        value = int(request.args.get("conferenceDataVersion") or 0)
    except ValueError as exc:
        raise ApiError(400, "invalid", "Invalid conference data version.") from exc
    if value not in (0, 1):
        raise ApiError(
            400, "invalid", "Invalid conference data version.", location="conferenceDataVersion"
        )
    return value


class GoogleApp:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.store = GoogleStore(state)
        state.register_store("google", self.store)
        self.oauth = OAuthViews(state, self.store)

    def __call__(self, environ, start_response):  # noqa: ANN001 - WSGI signature
        request = Request(environ)
        adapter = url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            if endpoint.startswith("oauth."):
                response = getattr(self.oauth, endpoint.split(".", 1)[1])(request, **args)
            else:
                response = self._api(request, endpoint, args)
        except MethodNotAllowed:
            response = google_error(405, "httpMethodNotAllowed", "Method Not Allowed")
        except NotFound:
            response = google_error(404, "notFound", "Not Found")
        except HTTPException as exc:
            response = exc.get_response(environ)
        finally:
            self.store.flush()
        return response(environ, start_response)

    def _api(self, request: Request, endpoint: str, args: dict) -> Response:
        account = self.state.authenticate("google", request.headers.get("Authorization"))
        if account is None:
            return unauthorized()
        method_id, scopes = API[endpoint]
        token = self.state.access_tokens.get(
            request.headers["Authorization"].split(None, 1)[1].strip()
        )
        if token is not None and token.scopes and not (set(token.scopes) & scopes):
            return google_error(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
            )
        self.state.log_request("google", account.email, request.method, method_id)
        fault = take_request_fault(self.state, "google", account.email, method_id)
        if fault is not None:
            return google_fault_response(fault)
        try:
            handler: Callable[..., Any] = getattr(self, f"on_{endpoint}")
            return handler(request, account, **args)
        except ApiError as exc:
            return google_error(
                exc.code, exc.reason, exc.message, domain=exc.domain, extra=exc.extra
            )
        except BadRequest as exc:
            return google_error(400, "parseError", exc.description or "Parse Error")

    # -- calendars ---------------------------------------------------------------------------------
    def on_calendar_list(self, request: Request, account: Account) -> Response:
        # maxResults: default 100, never more than 250 a page; nextSyncToken on the last page.
        try:
            max_results = min(int(request.args.get("maxResults") or 100), 250)
        except ValueError as exc:
            raise ApiError(400, "invalid", "Invalid value for: maxResults") from exc
        if max_results < 1:
            raise ApiError(400, "invalid", "Invalid value for: maxResults")
        token = request.args.get("pageToken")
        offset = int(_unb64(token).get("o", 0)) if token else 0
        items = [self.store.calendar_list_entry(c) for c in self.store.calendars_of(account)]
        body: dict[str, Any] = {
            "kind": "calendar#calendarList",
            "etag": self.store._etag(),
            "items": items[offset : offset + max_results],
        }
        if offset + max_results < len(items):
            body["nextPageToken"] = _b64({"o": offset + max_results})
        else:
            body["nextSyncToken"] = "C" + _b64({"a": account.id})[:20]
        return json_response(body)

    def on_calendar_list_get(
        self, request: Request, account: Account, calendar_id: str
    ) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        return json_response(self.store.calendar_list_entry(cal))

    def on_calendars_get(self, request: Request, account: Account, calendar_id: str) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        return json_response(self.store.calendar_resource(cal))

    def on_calendars_insert(self, request: Request, account: Account) -> Response:
        return json_response(self.store.insert_calendar(account, read_json(request)))

    def on_calendars_delete(self, request: Request, account: Account, calendar_id: str) -> Response:
        self.store.delete_calendar(account, self.store.resolve_calendar(account, calendar_id))
        return Response(status=204)

    # -- events ------------------------------------------------------------------------------------
    def on_events_list(self, request: Request, account: Account, calendar_id: str) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        return json_response(self.store.list_events(account, cal, request.args))

    def on_events_insert(self, request: Request, account: Account, calendar_id: str) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        body = read_json(request)
        ev = self.store.insert_event(
            account,
            cal,
            body,
            send_updates=_send_updates(request),
            conf_version=_conf_version(request),
        )
        return json_response(ev)

    def on_events_get(
        self, request: Request, account: Account, calendar_id: str, event_id: str
    ) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        ev = self.store.get_event(account, cal, event_id)
        if request.headers.get("If-None-Match") == ev.get("etag"):
            return Response(status=304)
        return json_response(ev)

    def _modify(
        self, request: Request, account: Account, calendar_id: str, event_id: str, replace: bool
    ) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        ev = self.store.modify_event(
            account,
            cal,
            event_id,
            read_json(request),
            replace=replace,
            send_updates=_send_updates(request),
            conf_version=_conf_version(request),
            if_match=request.headers.get("If-Match"),
        )
        return json_response(ev)

    def on_events_patch(
        self, request: Request, account: Account, calendar_id: str, event_id: str
    ) -> Response:
        return self._modify(request, account, calendar_id, event_id, replace=False)

    def on_events_update(
        self, request: Request, account: Account, calendar_id: str, event_id: str
    ) -> Response:
        return self._modify(request, account, calendar_id, event_id, replace=True)

    def on_events_delete(
        self, request: Request, account: Account, calendar_id: str, event_id: str
    ) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        self.store.delete_event(
            account,
            cal,
            event_id,
            send_updates=_send_updates(request),
            if_match=request.headers.get("If-Match"),
        )
        return Response(status=204)

    def on_events_instances(
        self, request: Request, account: Account, calendar_id: str, event_id: str
    ) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        return json_response(self.store.instances(account, cal, event_id, request.args))

    def on_events_watch(self, request: Request, account: Account, calendar_id: str) -> Response:
        cal = self.store.resolve_calendar(account, calendar_id)
        return json_response(self.store.watch(account, cal, calendar_id, read_json(request)))

    def on_channels_stop(self, request: Request, account: Account) -> Response:
        self.store.stop_channel(account, read_json(request))
        return Response(status=204)

    def on_freebusy(self, request: Request, account: Account) -> Response:
        return json_response(self.store.free_busy(account, read_json(request)))

    # -- directory ---------------------------------------------------------------------------------
    def on_rooms_list(self, request: Request, account: Account, customer: str) -> Response:
        try:
            max_results = int(request.args.get("maxResults") or 100)
        except ValueError as exc:
            raise ApiError(400, "invalid", "Invalid value for: maxResults") from exc
        if not 1 <= max_results <= 500:
            raise ApiError(400, "invalid", "Invalid value for: maxResults")
        rooms = self.store.room_resources()
        offset = (
            int(_unb64(request.args["pageToken"]).get("o", 0))
            if request.args.get("pageToken")
            else 0
        )
        body: dict[str, Any] = {
            "kind": "admin#directory#resources#calendars#calendarResourcesList",
            "etag": '"' + json.dumps(len(rooms)) + '"',
            "items": rooms[offset : offset + max_results],
        }
        if offset + max_results < len(rooms):
            body["nextPageToken"] = _b64({"o": offset + max_results})
        return json_response(body)

    def on_rooms_get(
        self, request: Request, account: Account, customer: str, resource_id: str
    ) -> Response:
        for room in self.store.room_resources():
            if room["resourceId"] == resource_id:
                return json_response(room)
        raise ApiError(404, "notFound", "Resource Not Found: " + resource_id)
