"""End to end in real headless Chromium at 375 px: a school admin logs in, lands on the start page and
reaches the school page."""
from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.needs_chromium

PHONE_WIDTH = 375


def _no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH


def test_school_admin_logs_in_on_a_phone_and_reaches_the_school_page(live_server, tree, phone_page):
    page = phone_page
    page.goto(live_server.url + "/")
    # Anonymous: sent to the login page, in Chinese.
    assert page.url.startswith(live_server.url + "/login/")
    assert page.locator("h1").inner_text() == "登录"
    assert _no_horizontal_overflow(page)

    page.fill("#id_username", "gupei_admin")
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(live_server.url + "/")  # the start page, then the school's own page
    assert page.locator("h1").inner_text() == "今日待办"
    page.click(f"a[href='/schools/{tree.gupei.pk}/']")
    page.wait_for_url(f"{live_server.url}/schools/{tree.gupei.pk}/")

    assert page.locator("h1").inner_text() == "古沛中心小学"
    body = page.locator("body").inner_text()
    assert "留守儿童之家" in body and "教职工与角色" in body and "访问日志" in body
    # Stylesheet served from platform/static (no CDN): the header has the brand colour.
    assert page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor") == "rgb(30, 107, 82)"
    assert _no_horizontal_overflow(page)
    # Tap targets in the tab bar are at least 44 px high.
    heights = page.eval_on_selector_all(".tabbar a", "els => els.map(e => e.getBoundingClientRect().height)")
    assert heights and min(heights) >= 44

    shots = settings.VAR_DIR / "e2e"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "school-page-375.png"), full_page=True)

    # The staff page (forms, role badges) also fits the phone.
    page.click("text=教职工与角色")
    page.wait_for_url(f"{live_server.url}/schools/{tree.gupei.pk}/staff/")
    assert "材料员" in page.locator("body").inner_text()
    clerk = page.locator("ul.rows > li", has_text="gupei_clerk")
    clerk.locator("details.manage summary").click()  # unfold the clerk's role controls
    assert clerk.locator("button.btn-danger").is_visible()
    assert _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "staff-page-375.png"), full_page=True)
