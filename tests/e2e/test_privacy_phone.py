"""The children's-data pages on the school admin's phone: 360 px, no sideways scroll, tap targets
of 40 px, no English (the checks of test_page_walk.py, on this app's pages only)."""
from __future__ import annotations

import pytest
from django.urls import reverse

from tenancy.models import User
from tests.support.browser import CHROMIUM_ARGS
from tests.support.servers import chromium_path
from tests.web.pages_privacy import PRIVACY_PAGES

from .test_page_walk import DISPLAY_NAMES, VIEWPORT, _check, _visit

pytestmark = pytest.mark.needs_chromium


def test_privacy_pages_fit_a_phone_in_chinese(live_server, tree):
    from playwright.sync_api import sync_playwright

    for username, display_name in DISPLAY_NAMES.items():
        User.objects.filter(username=username).update(display_name=display_name)
    urls = {p.url_name: reverse(p.url_name, kwargs=p.kwargs(tree, tree.gupei)) for p in PRIVACY_PAGES
            if p.method == "get"}
    base, problems, shown = live_server.url, [], set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                          is_mobile=True, has_touch=True)
            page = context.new_page()
            page.goto(base + reverse("login"))
            page.fill("#id_username", "gupei_admin")
            page.fill("#id_password", "Demo2026!")
            page.click("button[type=submit].btn-primary")
            page.wait_for_load_state("load")
            for name, url in urls.items():
                result = _visit(page, base, url)
                assert result is not None, f"{name} did not open"
                shown.add(name)
                problems.extend(_check(name, "gupei_admin", result))
        finally:
            browser.close()
    assert shown == set(urls)
    assert not problems, "\n".join(problems)
