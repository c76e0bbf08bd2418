"""Every message the code marks for translation has a zh-hans translation that gettext serves.

The catalog test (test_i18n.py) checks the entries the .po has; this one finds the msgids the
source uses, in Python (gettext calls) and in templates (through Django's own templatize, as
makemessages does), so a string added without its .po entry fails here instead of showing
English in the Chinese UI. Django's own catalogs count (a "Yes" Django translates is translated).
"""
from __future__ import annotations

import ast
import re

import pytest
from django.utils import translation
from django.utils.translation.template import templatize

from config import i18n_compile

ROOT = i18n_compile.REPO_ROOT
SOURCE_DIRS = ("tenancy", "schools", "submissions", "compliance", "jobs", "api", "documents", "platform",
               "privacy", "privacyaudit", "today", "care", "notices", "offline")
SINGULAR = {"_", "gettext", "gettext_lazy", "gettext_noop"}
PLURAL = {"ngettext", "ngettext_lazy"}
CONTEXT = {"pgettext", "pgettext_lazy"}
CONTEXT_PLURAL = {"npgettext", "npgettext_lazy"}


STR = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
TEMPLATE_CALL = re.compile(rf"\b(n?p?gettext)\(((?:\s*{STR}\s*,?)+)")
LITERAL = re.compile(rf"({STR})")


def _files(suffix: str):
    for folder in SOURCE_DIRS:
        for path in (ROOT / folder).rglob(f"*{suffix}"):
            if "migrations" not in path.parts and "__pycache__" not in path.parts:
                yield path


def _strings(args) -> list[str] | None:
    if all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
        return [a.value for a in args]
    return None


def _calls(source: str):
    """(context, singular, plural) of every translation call with literal arguments."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name in SINGULAR and (s := _strings(node.args[:1])):
            yield None, s[0], None
        elif name in PLURAL and (s := _strings(node.args[:2])) and len(s) == 2:
            yield None, s[0], s[1]
        elif name in CONTEXT and (s := _strings(node.args[:2])) and len(s) == 2:
            yield s[0], s[1], None
        elif name in CONTEXT_PLURAL and (s := _strings(node.args[:3])) and len(s) == 3:
            yield s[0], s[1], s[2]


def used_msgids() -> dict[tuple, str]:
    found: dict[tuple, str] = {}
    for path in _files(".py"):
        for call in _calls(path.read_text()):
            found.setdefault(call, str(path.relative_to(ROOT)))
    for path in _files(".html"):
        # templatize keeps each tag's gettext call (with literal arguments) among masked text.
        for match in TEMPLATE_CALL.finditer(templatize(path.read_text(), origin=str(path))):
            literals = [ast.literal_eval(lit.lstrip("u")) for lit in LITERAL.findall(match.group(2))]
            for call in _calls(f"{match.group(1)}({', '.join(map(repr, literals))})"):
                found.setdefault(call, str(path.relative_to(ROOT)))
    return found


def _untranslated(context, singular, plural) -> bool:
    with translation.override("zh-hans"):
        if plural is not None:
            got = (translation.npgettext(context, singular, plural, 1) if context
                   else translation.ngettext(singular, plural, 1))
        else:
            got = translation.pgettext(context, singular) if context else translation.gettext(singular)
    return got == singular


def test_the_scan_finds_the_source_messages():
    found = used_msgids()
    assert (None, "Access log", None) in found  # a template's {% translate %}
    assert (None, "Four contacts", None) in found  # a Python gettext call
    assert len(found) > 500


@pytest.mark.parametrize("lang", ["zh-hans"])
def test_every_used_msgid_is_translated(lang):
    missing = [f"{where}: {msgid!r}" + (f" (context {ctx!r})" if ctx else "")
               for (ctx, msgid, plural), where in sorted(used_msgids().items(), key=lambda kv: kv[1])
               if msgid.strip() and _untranslated(ctx, msgid, plural)]
    assert not missing, f"{len(missing)} msgids without a zh-hans translation:\n" + "\n".join(missing)
