"""Change notifications and lifecycle notifications of subscriptions (created/renewed in app.py)."""

from __future__ import annotations

import json

from ... import push
from .core import StoreCore

MAX_SUBSCRIPTION_MINUTES = 10080  # Outlook message/event/contact: under 7 days


class SubscriptionsMixin(StoreCore):
    def _notify(self, ev: dict, change: str) -> None:
        now = self.state.now()
        account = self._account(ev["mailbox"])
        if account is None:
            return
        for sub in list(self.subscriptions.values()):
            if sub["mailbox"] != ev["mailbox"] or sub["expiration"] <= now:
                continue
            if change not in [c.strip() for c in sub["change_type"].split(",")]:
                continue
            if sub.get("calendar_id") and sub["calendar_id"] != ev["calendar_id"]:
                continue
            resource = f"Users/{account.id}/Events/{ev['id']}"
            body = {
                "value": [
                    {
                        "subscriptionId": sub["id"],
                        "subscriptionExpirationDateTime": sub["expiration"]
                        .isoformat()
                        .replace("+00:00", "+00:00"),
                        "changeType": change,
                        "resource": resource,
                        "resourceData": {
                            "@odata.type": "#Microsoft.Graph.Event",
                            "@odata.id": resource,
                            "@odata.etag": f'W/"{ev["change_key"]}"',
                            "id": ev["id"],
                        },
                        "clientState": sub.get("client_state"),
                        "tenantId": account.tenant_id,
                    }
                ]
            }
            push.deliver(
                self.state,
                provider="microsoft",
                account=ev["mailbox"],
                url=sub["notification_url"],
                headers={"Content-Type": "application/json; charset=utf-8"},
                body=json.dumps(body).encode(),
                kind="notification",
            )

    def trigger_lifecycle(self, subscription_id: str, event: str) -> dict:
        """Send a lifecycle notification: reauthorizationRequired, subscriptionRemoved or missed."""
        if event not in ("reauthorizationRequired", "subscriptionRemoved", "missed"):
            raise ValueError("event must be reauthorizationRequired, subscriptionRemoved or missed")
        with self.state.lock:
            sub = self.subscriptions.get(subscription_id)
            if sub is None:
                raise KeyError(subscription_id)
            account = self._account(sub["mailbox"])
            body = {
                "value": [
                    {
                        "subscriptionId": sub["id"],
                        "subscriptionExpirationDateTime": sub["expiration"].isoformat(),
                        "tenantId": account.tenant_id if account else "",
                        "clientState": sub.get("client_state"),
                        "lifecycleEvent": event,
                    }
                ]
            }
            if event == "reauthorizationRequired":
                sub["reauthorization_required"] = True
            if event == "subscriptionRemoved":
                del self.subscriptions[subscription_id]
            url = sub.get("lifecycle_url") or ""
            if url:
                push.deliver(
                    self.state,
                    provider="microsoft",
                    account=sub["mailbox"],
                    url=url,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                    body=json.dumps(body).encode(),
                    kind=f"lifecycle:{event}",
                )
            return {"sent": bool(url), "lifecycleEvent": event, "subscriptionId": subscription_id}
