"""Every user-visible string is marked for translation: template text outside {% translate %}
/ {% blocktranslate %} (and the title/aria-label/placeholder attributes), and Python strings
given to messages, form labels/help texts and permission/validation errors. The compiled
catalogue is the one the .po file describes."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.conf import settings
from django.template.base import Lexer, TokenType

BASE = Path(settings.BASE_DIR)
OUR_APPS = ("appointments", "calendar_sync", "contacts", "upsales_crm")
# Names, symbols and the language switch's own names are the same in every language.
ALLOWED = {
    "Upsales CRM",
    "· Upsales CRM",
    "English",
    "Svenska",
    "CRM",
    "→",
    "←",
    "·",
    "–",
    "—",
    "+",
    "×",
}
VISIBLE_ATTRS = re.compile(r'\b(?:title|aria-label|placeholder|alt)="([^"{]*[A-Za-z][^"{]*)"')
NOT_TEXT_BLOCKS = {"block main_class"}  # a CSS class name, not text
LETTERS = re.compile(r"[A-Za-zÅÄÖåäö]{2,}")


def _visible_text(html: str) -> list[str]:
    """Text between tags, and the attributes a user reads."""
    found = VISIBLE_ATTRS.findall(html)
    without_tags = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    without_tags = re.sub(r"<!--.*?-->", " ", without_tags, flags=re.S)
    without_tags = re.sub(r"<[^>]*>", "\n", without_tags)
    for chunk in without_tags.split("\n"):
        text = re.sub(r"&\w+;", " ", chunk).strip()
        if text and LETTERS.search(text) and text not in ALLOWED:
            found.append(text)
    return found


def untranslated_template_text(source: str) -> list[str]:
    translated = 0  # inside {% blocktranslate %} or {% comment %}
    in_class_block = False  # inside {% block main_class %}: a CSS class name
    raw = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in ("blocktranslate", "blocktrans", "comment"):
                translated += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                translated -= 1
            elif token.contents in NOT_TEXT_BLOCKS:
                in_class_block = True
            elif name == "endblock":
                in_class_block = False
        elif token.token_type == TokenType.TEXT and not translated and not in_class_block:
            raw.append(token.contents)
    return _visible_text("\n".join(raw))


def test_template_text_is_marked_for_translation():
    problems = {}
    for path in sorted((BASE / "templates").rglob("*.html")):
        if path.parts[-2] == "drf_spectacular":
            continue
        found = untranslated_template_text(path.read_text("utf-8"))
        if found:
            problems[str(path.relative_to(BASE))] = found
    assert problems == {}


def test_the_check_finds_an_unmarked_string():
    source = '{% load i18n %}<p title="Open it">{% translate "Fine" %}</p><b>Not marked</b>'
    assert untranslated_template_text(source) == ["Open it", "Not marked"]
    assert (
        untranslated_template_text("{% blocktranslate %}Marked {{ x }}{% endblocktranslate %}")
        == []
    )


USER_FACING_CALLS = {"success", "error", "warning", "info", "add_message"}  # messages.*
USER_FACING_KWARGS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label"}
USER_FACING_ERRORS = {"ValidationError", "AppointmentPermissionDenied", "PermissionDenied"}


def _literal(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and LETTERS.search(node.value)
    ):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return ast.unparse(node)
    return None


def unmarked_python_strings(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = (
            func.value.id
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            else ""
        )
        args = []
        if owner == "messages" and name in USER_FACING_CALLS:
            args = node.args[1:2]
        elif name in USER_FACING_ERRORS:
            args = node.args[:1]
        args += [k.value for k in node.keywords if k.arg in USER_FACING_KWARGS]
        found += [text for a in args if (text := _literal(a)) is not None]
    return found


def test_python_strings_shown_to_users_are_marked_for_translation():
    problems = {}
    for app in OUR_APPS:
        for path in sorted((BASE / app).rglob("*.py")):
            # The API's schema texts are its English developer documentation.
            if "migrations" in path.parts or path.name.endswith(("api.py", "serializers.py")):
                continue
            found = unmarked_python_strings(path.read_text("utf-8"))
            if found:
                problems[str(path.relative_to(BASE))] = found
    assert problems == {}


def test_the_python_check_finds_an_unmarked_string():
    source = 'messages.error(request, "Nope")\nraise ValidationError(_("Fine"))\nf = X(label="Raw")'
    assert unmarked_python_strings(source) == ["Nope", "Raw"]


def test_the_compiled_catalogue_matches_the_po_file():
    from django.utils.translation import gettext as _
    from django.utils.translation import override, pgettext

    po = (BASE / "locale/sv/LC_MESSAGES/django.po").read_text("utf-8")
    entries = re.findall(r'(?:^msgctxt "(.*)"\n)?^msgid "(.+)"\nmsgstr "(.+)"$', po, re.M)
    assert len(entries) > 100
    with override("sv"):
        stale = [
            (ctx, msgid, msgstr)
            for ctx, msgid, msgstr in entries
            if (pgettext(ctx, msgid) if ctx else _(msgid)) != msgstr.replace('\\"', '"')
        ]
    assert stale == []
