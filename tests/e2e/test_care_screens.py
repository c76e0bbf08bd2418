"""The teacher's follow-up cases (我的帮扶个案) on a 360 px phone, in real headless Chromium, on the
demo district seeded as of today: overdue in red, due within the week in amber, no sideways
scroll, tap targets of 40 px, and the way to a case's timeline and its confirmation to close.

    WRITE_DOCS=1 .venv/bin/python -m pytest tests/e2e/test_care_screens.py -p no:cacheprovider

(or `make screens`) also saves docs/screens/teacher_cases.png.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.support.browser import login

pytestmark = pytest.mark.needs_chromium
WIDTH = 360
DOCS = Path(settings.BASE_DIR) / "docs" / "screens"


def test_teacher_cases_on_a_phone(live_server, db, phone_page, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    page = phone_page
    page.set_viewport_size({"width": WIDTH, "height": 760})
    login(page, live_server.url, "gupei_teacher")
    page.click("a.todo-link:has-text('帮扶个案')")
    assert page.locator("h1").inner_text() == "我的帮扶个案"
    assert page.locator("li.case-overdue").count() >= 1 and page.locator("li.case-soon").count() >= 1
    assert page.locator(".tag-overdue").first.inner_text() == "已逾期"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    heights = page.eval_on_selector_all("ul.cases a.row-link", "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 40
    out = DOCS if os.environ.get("WRITE_DOCS") == "1" else settings.VAR_DIR / "e2e"
    out.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out / "teacher_cases.png"), full_page=False)
    # The overdue case: its timeline, then the close page asks for a reason and a confirmation.
    page.click("li.case-overdue a.row-link")
    assert page.locator("ul.timeline li").count() >= 1
    page.click("a.btn-danger")
    page.fill("#id_close_reason", "妈妈回家照顾孩子了")
    page.click("button.btn-danger")
    # No confirmation tick: the form is not sent (the browser holds the required box), nothing closed.
    assert page.url.endswith("/close/") and page.locator("#id_confirm:invalid").count() == 1
    page.check("#id_confirm")
    page.click("button.btn-danger")
    assert page.locator("h1").inner_text() == "我的帮扶个案"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
