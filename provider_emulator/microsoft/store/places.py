"""/places/microsoft.graph.room: the emulated meeting rooms."""

from __future__ import annotations

from .core import StoreCore


class PlacesMixin(StoreCore):
    def rooms(self) -> list[dict]:
        out = []
        for acc in self.state.account_list("microsoft", rooms=True):
            out.append(
                {
                    "id": acc.id,
                    "emailAddress": acc.email,
                    "displayName": acc.name,
                    "address": {
                        "street": "",
                        "city": "",
                        "state": "",
                        "countryOrRegion": "",
                        "postalCode": "",
                    },
                    "geoCoordinates": None,
                    "phone": "",
                    "nickname": acc.name,
                    "label": "",
                    "capacity": acc.capacity,
                    "building": acc.building or None,
                    "floorLabel": None,
                    "floorNumber": None,
                    "isWheelChairAccessible": False,
                    "bookingType": "standard",
                    "tags": [],
                    "audioDeviceName": None,
                    "videoDeviceName": None,
                    "displayDeviceName": None,
                }
            )
        return out
