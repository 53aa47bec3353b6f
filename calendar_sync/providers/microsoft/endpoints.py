"""Microsoft's endpoints, or the emulator's ``/microsoft`` ones when CALENDAR_EMULATOR_URL is
set."""

from __future__ import annotations

from dataclasses import dataclass

from ...conf import emulator_url


@dataclass(frozen=True)
class MicrosoftEndpoints:
    login_base: str  # https://login.microsoftonline.com (or the emulator's /microsoft)
    graph_base: str  # https://graph.microsoft.com (or the emulator's /microsoft); + /v1.0/


def microsoft_endpoints() -> MicrosoftEndpoints:
    emu = emulator_url()
    if emu:
        return MicrosoftEndpoints(login_base=f"{emu}/microsoft", graph_base=f"{emu}/microsoft")
    return MicrosoftEndpoints(
        login_base="https://login.microsoftonline.com", graph_base="https://graph.microsoft.com"
    )
