"""Admin Directory: the room resources (CalendarResource) of the emulated rooms."""

from __future__ import annotations

import hashlib

from .core import StoreCore


class DirectoryMixin(StoreCore):
    def room_resources(self) -> list[dict]:
        out = []
        for room in sorted(self.state.account_list("google", rooms=True), key=lambda a: a.email):
            generated = (
                f"{room.building}-{room.name} ({room.capacity})"
                if room.building
                else f"{room.name} ({room.capacity})"
            )
            out.append(
                {
                    "kind": "admin#directory#resources#calendars#CalendarResource",
                    "etags": f'"{hashlib.sha1(room.email.encode(), usedforsecurity=False).hexdigest()}"',
                    "resourceId": room.id[:11],
                    "resourceName": room.name,
                    "generatedResourceName": generated,
                    "resourceType": "Conference room",
                    "resourceEmail": room.email,
                    "capacity": room.capacity,
                    "buildingId": room.building,
                    "resourceCategory": "CONFERENCE_ROOM",
                }
            )
        return out
