"""conferenceData: a Google Meet conference made on a write (conferenceDataVersion=1), once per requestId."""

from __future__ import annotations

import secrets

from .core import ApiError, StoreCore


class ConferenceMixin(StoreCore):
    def _apply_conference(self, ev: dict, requested: dict | None, conf_version: int) -> None:
        """Handle conferenceData on a write with conferenceDataVersion=1 (else it is left as is)."""
        if conf_version < 1 or not isinstance(requested, dict):
            return
        create = requested.get("createRequest")
        if not create:
            if requested == {} or requested.get("entryPoints") is None:
                return
            ev["conferenceData"] = requested
            return
        request_id = str(create.get("requestId") or "")
        kind = ((create.get("conferenceSolutionKey") or {}).get("type")) or "hangoutsMeet"
        if not request_id:
            raise ApiError(400, "invalid", "Invalid conference create request.")
        if kind != "hangoutsMeet":
            raise ApiError(400, "invalid", "Invalid conference type value.")
        existing = ev.get("conferenceData", {}).get("createRequest", {}).get("requestId")
        if existing == request_id:
            return  # the same request id: an idempotency key, never a second conference
        conf = self.conferences.get(request_id)
        if conf is None:
            alphabet = "abcdefghijklmnopqrstuvwxyz"
            code = "-".join("".join(secrets.choice(alphabet) for _ in range(n)) for n in (3, 4, 3))
            conf = {"conferenceId": code, "link": f"https://meet.google.com/{code}"}
            self.conferences[request_id] = conf
        ev["conferenceData"] = {
            "createRequest": {
                "requestId": request_id,
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
                "status": {"statusCode": "success"},
            },
            "entryPoints": [
                {
                    "entryPointType": "video",
                    "uri": conf["link"],
                    "label": conf["link"].removeprefix("https://"),
                }
            ],
            "conferenceSolution": {
                "key": {"type": "hangoutsMeet"},
                "name": "Google Meet",
                "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
            },
            "conferenceId": conf["conferenceId"],
        }
        ev["hangoutLink"] = conf["link"]
        ev["_conf_pending"] = True
