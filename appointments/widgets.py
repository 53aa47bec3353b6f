"""Date and time inputs in the page's language.

A browser's own pickers (``<input type="date">`` / ``"time"``) show the format of the
*browser's* locale, whatever the page's language: a Swedish page in an English browser showed
12/07/2026 and 02:30 PM. On a page in one of ``TYPED_LANGUAGES`` these inputs are text boxes in
that language's own format (Swedish: 2026-12-07 and 14:30, the very values the native inputs
submit, so the forms' scripts read both alike), the format shown as a placeholder; the server
reads them with the language's input formats (``upsales_crm/formats/sv``) and ``app.js`` tidies
what was typed (``930`` → ``09:30``). English pages keep the browser's pickers.
"""

from __future__ import annotations

from django import forms
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TYPED_LANGUAGES = frozenset({"sv"})


def typed_format() -> bool:
    """Whether the current page asks for dates and times as typed text."""
    return (translation.get_language() or "").split("-")[0] in TYPED_LANGUAGES


class _Typed:
    kind = ""
    hint: str | Promise = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)  # type: ignore[misc]
        if typed_format():
            widget = context["widget"]
            widget["type"] = "text"
            widget["attrs"].update(
                placeholder=str(self.hint),
                autocomplete="off",
                size=10,
                title=str(self.hint),
                **{"data-typed": self.kind},
            )
        return context


class LocalDateInput(_Typed, forms.DateInput):
    """A date: the browser's picker, or ``YYYY-MM-DD`` typed (see the module)."""

    kind = "date"
    hint = _("YYYY-MM-DD")

    def __init__(self, attrs=None):
        super().__init__(attrs={"type": "date", **(attrs or {})}, format="%Y-%m-%d")


class LocalTimeInput(_Typed, forms.TimeInput):
    """A time of day, 24-hour: the browser's picker, or ``HH:MM`` typed (see the module)."""

    kind = "time"
    hint = _("HH:MM")

    def __init__(self, attrs=None):
        super().__init__(attrs={"type": "time", **(attrs or {})}, format="%H:%M")
