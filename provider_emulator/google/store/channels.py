"""Push channels: events.watch, channels.stop and the notifications they receive."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import secrets
import time
from urllib.parse import quote

from ...push import NotLoopback, check_loopback, deliver
from ...state import Account
from .core import ApiError, StoreCore

CHANNEL_ID_RE = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")
DEFAULT_TTL = 7 * 24 * 3600


class ChannelsMixin(StoreCore):
    def watch(self, account: Account, cal: dict, calendar_id: str, body: dict) -> dict:
        with self.state.lock:
            channel_id = str(body.get("id") or "")
            if not CHANNEL_ID_RE.match(channel_id):
                raise ApiError(
                    400,
                    "channelIdInvalid",
                    "Channel id must match [A-Za-z0-9\\-_\\+/=]+ and be at most 64 characters.",
                    domain="push",
                )
            if channel_id in self.channels:
                raise ApiError(400, "channelIdNotUnique", "Channel id not unique", domain="push")
            if body.get("type") not in ("web_hook", "webhook"):
                raise ApiError(400, "invalid", "Invalid value for: type", domain="push")
            address = str(body.get("address") or "")
            try:
                check_loopback(address)
            except NotLoopback as exc:
                raise ApiError(
                    400,
                    "push.webhookUrlUnauthorized",
                    f"Unauthorized WebHook callback channel: {address}",
                    domain="push",
                ) from exc
            ttl = DEFAULT_TTL
            params = body.get("params") or {}
            if params.get("ttl") is not None:
                try:
                    ttl = int(params["ttl"])
                except ValueError as exc:
                    raise ApiError(400, "invalid", "Invalid value for: ttl", domain="push") from exc
            expiration = int((time.time() + ttl) * 1000)
            resource_id = secrets.token_urlsafe(20)[:27]
            channel = {
                "id": channel_id,
                "resourceId": resource_id,
                "resourceUri": f"{self.state.base_url}/google/calendar/v3/calendars/{quote(calendar_id, safe='@')}/events?alt=json",
                "token": body.get("token"),
                "expiration": expiration,
                "address": address,
                "calendar": cal["id"],
                "account": account.email,
                "number": 0,
            }
            self.channels[channel_id] = channel
            self._notify(channel, "sync")
            out = {
                "kind": "api#channel",
                "id": channel_id,
                "resourceId": resource_id,
                "resourceUri": channel["resourceUri"],
                "expiration": str(expiration),
            }
            if channel["token"]:
                out["token"] = channel["token"]
            return out

    def stop_channel(self, account: Account, body: dict) -> None:
        with self.state.lock:
            channel = self.channels.get(str(body.get("id") or ""))
            if (
                channel is None
                or channel["resourceId"] != body.get("resourceId")
                or channel["account"] != account.email
            ):
                raise ApiError(
                    404, "notFound", f"Channel '{body.get('id')}' not found for project '0'"
                )
            del self.channels[channel["id"]]

    def _notify(self, channel: dict, state_name: str) -> None:
        channel["number"] += 1
        expires = dt.datetime.fromtimestamp(channel["expiration"] / 1000, dt.UTC)
        headers = {
            "X-Goog-Channel-ID": channel["id"],
            "X-Goog-Channel-Expiration": email.utils.format_datetime(expires, usegmt=True),
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-URI": channel["resourceUri"],
            "X-Goog-Resource-State": state_name,
            "X-Goog-Message-Number": str(channel["number"]),
            "Content-Length": "0",
        }
        if channel.get("token"):
            headers["X-Goog-Channel-Token"] = channel["token"]
        deliver(
            self.state,
            provider="google",
            account=channel["account"],
            url=channel["address"],
            headers=headers,
            kind=state_name,
        )

    def flush(self) -> None:
        """Send `exists` to every live channel on a calendar changed since the last flush."""
        with self.state.lock:
            changed, self._changed = self._changed, set()
            if not changed:
                return
            now_ms = time.time() * 1000
            for channel in list(self.channels.values()):
                if channel["expiration"] <= now_ms:
                    del self.channels[channel["id"]]
                    continue
                if channel["calendar"] in changed:
                    self._notify(channel, "exists")
