"""A wire-faithful emulator of Google Calendar v3 / Admin Directory and Microsoft Graph v1.0.

It imports nothing from the CRM: it models Google and Microsoft, not us. See README.md here.
"""

from .server import EmulatorServer
from .state import EmulatorState

__all__ = ["EmulatorServer", "EmulatorState"]
