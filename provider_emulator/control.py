"""The emulator's own control API (/_emulator/...) and the small demo pages per account.

Documented in provider_emulator/README.md. Provider stores plug into the demo pages through
``demo_events``, ``demo_create_event`` and ``demo_respond``, and into the control API through
``expire_sync_state``.
"""

from __future__ import annotations

import datetime as dt
import html
from urllib.parse import quote
from zoneinfo import ZoneInfo

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from .faults import Fault
from .http import json_response, read_json
from .state import PROVIDERS, EmulatorState

DEMO_TZ = ZoneInfo("Europe/Stockholm")
PROVIDER_LABEL = {"google": "Google Calendar", "microsoft": "Microsoft 365"}

url_map = Map(
    [
        Rule("/", endpoint="home", methods=["GET"]),
        Rule("/_emulator/", endpoint="index", methods=["GET"]),
        Rule("/_emulator/accounts", endpoint="accounts", methods=["GET", "POST"]),
        Rule("/_emulator/accounts/<provider>/<email>/revoke", endpoint="revoke", methods=["POST"]),
        Rule("/_emulator/clients", endpoint="clients", methods=["GET", "POST"]),
        Rule("/_emulator/tokens", endpoint="tokens", methods=["POST"]),
        Rule("/_emulator/outbox", endpoint="outbox", methods=["GET", "DELETE"]),
        Rule("/_emulator/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
        Rule("/_emulator/expire-sync-tokens", endpoint="expire", methods=["POST"]),
        Rule("/_emulator/requests", endpoint="requests", methods=["GET", "DELETE"]),
        Rule("/_emulator/push-log", endpoint="push_log", methods=["GET"]),
        Rule("/_emulator/reset", endpoint="reset", methods=["POST"]),
        Rule("/_emulator/save", endpoint="save", methods=["POST"]),
        Rule("/_emulator/demo/<provider>/<email>/", endpoint="demo", methods=["GET"]),
        Rule("/_emulator/demo/<provider>/<email>/events", endpoint="demo_create", methods=["POST"]),
        Rule(
            "/_emulator/demo/<provider>/<email>/events/<path:event_id>/respond",
            endpoint="demo_respond",
            methods=["POST"],
        ),
    ],
    strict_slashes=False,
)


class ControlApp:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def __call__(self, environ, start_response):  # noqa: ANN001 - WSGI signature
        request = Request(environ)
        adapter = url_map.bind_to_environ(environ)
        try:
            endpoint, args = adapter.match()
            response = getattr(self, f"on_{endpoint}")(request, **args)
        except HTTPException as exc:
            if request.path.startswith("/_emulator/") and "demo" not in request.path:
                response = json_response({"error": exc.description}, exc.code or 500)
            else:
                response = exc
        except (KeyError, ValueError, TypeError) as exc:
            response = json_response({"error": f"{exc.__class__.__name__}: {exc}"}, 400)
        return response(environ, start_response)

    # -- JSON control API -----------------------------------------------------------------------
    def on_index(self, request: Request) -> Response:
        return json_response({"endpoints": sorted({r.rule for r in url_map.iter_rules()})})

    def on_accounts(self, request: Request) -> Response:
        if request.method == "POST":
            data = read_json(request)
            account = self.state.account_create(
                provider=data["provider"],
                email=data["email"],
                name=data.get("name", ""),
                aliases=data.get("aliases") or [],
                two_step=bool(data.get("two_step", False)),
                is_room=bool(data.get("room", False)),
                capacity=int(data.get("capacity", 0)),
                building=data.get("building", ""),
            )
            return json_response(account.to_dict(), 201)
        provider = request.args.get("provider")
        return json_response({"accounts": [a.to_dict() for a in self.state.account_list(provider)]})

    def on_revoke(self, request: Request, provider: str, email: str) -> Response:
        return json_response({"revoked_grants": self.state.revoke_account(provider, email)})

    def on_clients(self, request: Request) -> Response:
        if request.method == "POST":
            data = read_json(request)
            client = self.state.client_register(
                provider=data["provider"],
                client_id=data["client_id"],
                client_secret=data["client_secret"],
                redirect_uris=list(data["redirect_uris"]),
            )
            return json_response(client.to_dict(), 201)
        return json_response({"clients": [c.to_dict() for c in self.state.clients.values()]})

    def on_tokens(self, request: Request) -> Response:
        data = read_json(request)
        token = self.state.token_mint(
            provider=data["provider"],
            email=data["email"],
            scopes=data.get("scopes"),
            lifetime=int(data.get("lifetime", 3600)),
        )
        return json_response(
            {"access_token": token.token, "expires_in": int(data.get("lifetime", 3600))}, 201
        )

    def on_outbox(self, request: Request) -> Response:
        if request.method == "DELETE":
            with self.state.lock:
                self.state.outbox.clear()
            return json_response({}, 200)
        rows = list(self.state.outbox)
        for key in ("provider", "to", "kind", "event_id"):
            if request.args.get(key):
                rows = [r for r in rows if str(r.get(key, "")).lower() == request.args[key].lower()]
        if _wants_html(request):
            return _outbox_page(rows)
        return json_response({"messages": rows})

    def on_faults(self, request: Request) -> Response:
        if request.method == "POST":
            data = read_json(request)
            fault = self.state.faults.add(
                Fault(
                    kind=str(data["kind"]),
                    count=int(data.get("count", 1)),
                    provider=data.get("provider"),
                    account=data.get("account"),
                    endpoint=data.get("endpoint"),
                    retry_after=int(data.get("retry_after", 1)),
                    delay=float(data.get("delay", 0)),
                )
            )
            return json_response(fault.to_dict(), 201)
        if request.method == "DELETE":
            self.state.faults.clear()
        return json_response({"faults": self.state.faults.list()})

    def on_expire(self, request: Request) -> Response:
        data = read_json(request)
        provider = data["provider"]
        store = self.state.stores[provider]
        accounts = (
            [self.state.account_find(provider, data["email"])]
            if data.get("email")
            else self.state.account_list(provider)
        )
        for account in accounts:
            if account is None:
                raise KeyError(data.get("email"))
            store.expire_sync_state(account)
        return json_response({"expired": [a.email for a in accounts if a]})

    def on_requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            with self.state.lock:
                self.state.request_counts.clear()
                self.state.request_log.clear()
            return json_response({"total": 0})
        summary = self.state.request_summary()
        if request.args.get("log"):
            summary["log"] = list(self.state.request_log)
        return json_response(summary)

    def on_push_log(self, request: Request) -> Response:
        return json_response({"deliveries": list(self.state.push_log)})

    def on_reset(self, request: Request) -> Response:
        self.state.reset()
        return json_response({"reset": True})

    def on_save(self, request: Request) -> Response:
        self.state.save()
        return json_response({"saved": str(self.state.path) if self.state.path else None})

    # -- demo pages ----------------------------------------------------------------------------------
    def on_home(self, request: Request) -> Response:
        rows = []
        for provider in PROVIDERS:
            for acc in self.state.account_list(provider, rooms=False):
                link = f"/_emulator/demo/{provider}/{quote(acc.email)}/"
                rows.append(
                    f"<tr><td>{PROVIDER_LABEL[provider]}</td><td><a href='{link}'>"
                    f"{html.escape(acc.email)}</a></td><td>{html.escape(acc.name)}</td>"
                    f"<td>{'yes' if acc.two_step else ''}</td></tr>"
                )
        body = (
            "<h1>Provider emulator</h1><p>Emulated Google Calendar and Microsoft 365 accounts. "
            "Open an account to see its calendar, create an event as that account (play a "
            "customer inviting a rep), or answer invitations.</p>"
            "<table><tr><th>Provider</th><th>Account</th><th>Name</th><th>Two-step</th></tr>"
            + "".join(rows)
            + "</table><p>Control API: <a href='/_emulator/'>/_emulator/</a> · "
            "<a href='/_emulator/outbox'>outbox</a> · <a href='/_emulator/requests'>request counts</a></p>"
        )
        return _page("Provider emulator", body)

    def _demo_account(self, provider: str, email: str):  # noqa: ANN202
        if provider not in self.state.stores:
            raise NotFound()
        account = self.state.account_find(provider, email)
        if account is None:
            raise NotFound()
        return self.state.stores[provider], account

    def on_demo(self, request: Request, provider: str, email: str) -> Response:
        store, account = self._demo_account(provider, email)
        now = dt.datetime.now(DEMO_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
        events = store.demo_events(account, now, now + dt.timedelta(days=28))
        rows = []
        for ev in events:
            start = ev["start"].astimezone(DEMO_TZ)
            end = ev["end"].astimezone(DEMO_TZ)
            who = ", ".join(
                f"{html.escape(a['email'])} ({html.escape(a['response'])})" for a in ev["attendees"]
            )
            answer = ""
            if ev.get("my_response") is not None:
                action = f"/_emulator/demo/{provider}/{quote(account.email)}/events/{quote(ev['id'], safe='')}/respond"
                answer = f"<b>{html.escape(ev['my_response'])}</b> " + "".join(
                    f"<form method=post action='{action}' style='display:inline'>"
                    f"<button name=response value={r}>{label}</button></form>"
                    for r, label in (
                        ("accepted", "Accept"),
                        ("tentative", "Maybe"),
                        ("declined", "Decline"),
                    )
                )
            link = (
                f"<a href='{html.escape(ev['video_link'])}'>video</a>"
                if ev.get("video_link")
                else ""
            )
            status = " <i>(cancelled)</i>" if ev.get("cancelled") else ""
            rows.append(
                f"<tr><td>{start:%a %d %b %H:%M}–{end:%H:%M}</td><td>{html.escape(ev['title'])}{status}</td>"
                f"<td>{html.escape(ev.get('organizer', ''))}</td><td>{who}</td>"
                f"<td>{html.escape(ev.get('location', ''))} {link}</td><td>{answer}</td></tr>"
            )
        default_day = (now + dt.timedelta(days=1)).strftime("%Y-%m-%d")
        action = f"/_emulator/demo/{provider}/{quote(account.email)}/events"
        body = (
            f"<p><a href='/'>← all accounts</a></p><h1>{html.escape(account.name)} "
            f"&lt;{html.escape(account.email)}&gt;</h1><p>{PROVIDER_LABEL[provider]} · next four weeks "
            "(Europe/Stockholm)</p><table><tr><th>When</th><th>Title</th><th>Organizer</th>"
            "<th>Attendees</th><th>Where</th><th>Your answer</th></tr>"
            + ("".join(rows) or "<tr><td colspan=6>No events.</td></tr>")
            + f"</table><h2>New event as {html.escape(account.email)}</h2>"
            f"<form method=post action='{action}' class=new>"
            "<label>Title <input name=title required value='Meeting'></label>"
            f"<label>Date <input type=date name=date value='{default_day}' required></label>"
            "<label>Start <input type=time name=start value='10:00' required></label>"
            "<label>End <input type=time name=end value='11:00' required></label>"
            "<label>Attendees (comma separated) <input name=attendees size=60></label>"
            "<label>Place <input name=location></label>"
            "<label>Description <textarea name=description></textarea></label>"
            "<label><input type=checkbox name=online value=1> Online meeting</label>"
            "<button>Create and send invitations</button></form>"
        )
        return _page(account.email, body)

    def on_demo_create(self, request: Request, provider: str, email: str) -> Response:
        store, account = self._demo_account(provider, email)
        form = request.form
        day = dt.date.fromisoformat(form["date"])
        start = dt.datetime.combine(day, dt.time.fromisoformat(form["start"]), DEMO_TZ)
        end = dt.datetime.combine(day, dt.time.fromisoformat(form["end"]), DEMO_TZ)
        attendees = [
            a.strip() for a in form.get("attendees", "").replace(";", ",").split(",") if a.strip()
        ]
        store.demo_create_event(
            account,
            title=form.get("title", "Meeting"),
            start=start,
            end=end,
            attendees=attendees,
            description=form.get("description", ""),
            location=form.get("location", ""),
            online_meeting=bool(form.get("online")),
        )
        return redirect(f"/_emulator/demo/{provider}/{quote(account.email)}/", 303)

    def on_demo_respond(
        self, request: Request, provider: str, email: str, event_id: str
    ) -> Response:
        store, account = self._demo_account(provider, email)
        store.demo_respond(account, event_id, request.form["response"])
        return redirect(f"/_emulator/demo/{provider}/{quote(account.email)}/", 303)


def _wants_html(request: Request) -> bool:
    """A browser asks for HTML first; API clients (and ``?format=json``) get JSON."""
    if request.args.get("format") == "json":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "text/html"
        and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]
    )


def _outbox_page(rows: list[dict]) -> Response:
    """The outbox as mails to read: newest first, who to whom, what, and the text."""
    items = []
    for m in reversed(rows):
        body = html.escape(str(m.get("body", ""))) or "<i>(no text)</i>"
        items.append(
            f"<article class=mail id='mail-{int(m.get('id', 0))}'><header><b>"
            f"{html.escape(str(m.get('subject', '')))}</b> <span class=kind>"
            f"{html.escape(str(m.get('kind', '')))}</span><br><small>"
            f"From {html.escape(str(m.get('from', '')))} to {html.escape(str(m.get('to', '')))}"
            f" · {html.escape(PROVIDER_LABEL.get(str(m.get('provider')), str(m.get('provider'))))}"
            f" · {html.escape(str(m.get('sent_at', ''))[:19].replace('T', ' '))} UTC</small>"
            f"</header><pre>{body}</pre></article>"
        )
    listing = "".join(items) or "<p>No mail has been sent.</p>"
    count = len(rows)
    return _page(
        "Outbox",
        "<p><a href='/'>← all accounts</a> · <a href='/_emulator/outbox?format=json'>JSON</a></p>"
        f"<h1>Outbox ({count} mail{'s' if count != 1 else ''})</h1>"
        "<p>The invitations, updates and cancellations the providers would have e-mailed.</p>"
        + listing,
    )


def _page(title: str, body: str) -> Response:
    doc = (
        "<!doctype html><html><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
        "<style>body{font:15px system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;"
        "text-align:left;vertical-align:top}form.new label{display:block;margin:.4rem 0}"
        "button{margin:.1rem}article.mail{border:1px solid #ddd;border-radius:6px;padding:.6rem .8rem;"
        "margin:.6rem 0;overflow-wrap:anywhere}article.mail pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.4rem 0 0;"
        "font:inherit}.kind{background:#eef2f7;border-radius:9px;padding:0 .4rem;font-size:.8rem}"
        "</style></head><body>" + body + "</body></html>"
    )
    return Response(doc, content_type="text/html; charset=utf-8")
