"""Each demo role's start page on a phone, in real headless Chromium, on the real demo district
seeded as of today (what `make run` shows).

    WRITE_DOCS=1 .venv/bin/python -m pytest tests/e2e/test_start_screens.py -p no:cacheprovider

(or `make screens`) also saves the screenshots the docs show, as docs/screens/start_<role>.png.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.support.browser import login

pytestmark = pytest.mark.needs_chromium

# role -> the demo login that shows it
ROLES = {
    "teacher": "gupei_teacher",
    "clerk": "gupei_clerk",
    "school_admin": "gupei_admin",
    "township_admin": "gupei_township",
    "bureau_admin": "bureau_admin",
    "bureau_inspector": "bureau_inspector",
}
SCOPES = {
    "teacher": "我负责的儿童", "clerk": "本校", "school_admin": "本校", "township_admin": "本镇村小",
    "bureau_admin": "全区", "bureau_inspector": "全区",
}
NARROWEST = 360
DOCS = Path(settings.BASE_DIR) / "docs" / "screens"


def test_start_page_of_every_role_on_a_phone(live_server, db, phone_page, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    page = phone_page
    out = DOCS if os.environ.get("WRITE_DOCS") == "1" else settings.VAR_DIR / "e2e"
    out.mkdir(parents=True, exist_ok=True)
    for role, username in ROLES.items():
        page.context.clear_cookies()
        login(page, live_server.url, username)
        assert page.locator("h1").inner_text() == "今日待办"
        rows = page.locator("ul.todo > li")
        assert rows.count() > 0, role
        body = page.locator("main, body").first.inner_text()
        assert SCOPES[role] in body, role
        # Every piece of work is one link, big enough to tap, with its count.
        heights = page.eval_on_selector_all("a.todo-link", "els => els.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 40, role
        counts = page.eval_on_selector_all(".todo .count", "els => els.map(e => e.textContent.trim())")
        assert counts and all(c.isdigit() and int(c) > 0 for c in counts), role
        page.screenshot(path=str(out / f"start_{role}.png"), full_page=False)
        # It fits the narrowest phone too.
        page.set_viewport_size({"width": NARROWEST, "height": 760})
        assert page.evaluate("document.scrollingElement.scrollWidth") <= NARROWEST, role
        page.set_viewport_size({"width": 375, "height": 812})
