"""End to end in real headless Chromium at 375 px: a teacher records a home visit from the tracker
by tapping a cell (no page load), the dashboard's coverage changes, and another teacher's child is 404."""
from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from schools import services as school_services
from tenancy import services
from tenancy.roles import Role
from tenancy.scoping import tenant_scope
from tests.web.pages_archive import ensure_semester, make_child

pytestmark = pytest.mark.needs_chromium

PHONE_WIDTH = 375


def _no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") <= PHONE_WIDTH


@pytest.fixture
def school_home(tree):
    """Gupei: three children of gupei_teacher, one of another teacher."""
    ensure_semester(tree.district)
    today = timezone.localdate()
    other = services.user_create(username="gupei_teacher2", password="Demo2026!", display_name="李老师")
    services.membership_grant(user=other, role=Role.TEACHER, school=tree.gupei)
    tree.mine = [make_child(tree.gupei, 700 + i, name=name) for i, name in enumerate(["王小明", "李小红", "张小军"])]
    tree.theirs = make_child(tree.gupei, 710, name="赵小燕")
    with tenant_scope([tree.gupei.id]):
        for child in tree.mine:
            school_services.proxy_assignment_create(actor=tree.gupei_admin, child=child,
                                                    proxy_parent=tree.gupei_teacher,
                                                    starts_on=today - dt.timedelta(days=7))
        school_services.proxy_assignment_create(actor=tree.gupei_admin, child=tree.theirs, proxy_parent=other,
                                                starts_on=today - dt.timedelta(days=7))
    return tree


def test_teacher_records_a_home_visit_from_the_tracker(live_server, school_home, phone_page):
    t, page = school_home, phone_page
    base = live_server.url
    shots = settings.VAR_DIR / "e2e"
    shots.mkdir(parents=True, exist_ok=True)

    page.goto(base + "/login/")
    page.fill("#id_username", "gupei_teacher")
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{base}/")  # the start page: today's work

    # 更多 links to the archive pages; the dashboard shows no home visit yet (4 children).
    dashboard = f"{base}/schools/{t.gupei.pk}/dashboard/"
    page.click("nav a[data-tab='more']")
    page.click(f"main a[href='/schools/{t.gupei.pk}/dashboard/']")
    page.wait_for_url(dashboard)
    assert page.locator("[data-coverage=home_visit]").inner_text().startswith("0/4")
    assert _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "dashboard-375.png"), full_page=True)

    # The tracker lists the teacher's three children only.
    page.click(f"nav a[href='/schools/{t.gupei.pk}/tracker/']")
    tracker = f"{base}/schools/{t.gupei.pk}/tracker/"
    page.wait_for_url(tracker)
    assert page.locator(".tracker-rows > li").count() == 3
    assert "赵小燕" not in page.locator("main").inner_text()
    assert _no_horizontal_overflow(page)
    heights = page.eval_on_selector_all("button.tracker-cell", "els => els.map(e => e.getBoundingClientRect().height)")
    assert min(heights) >= 44

    # Tap: recorded by fetch(), the page does not reload, the cell turns done.
    page.evaluate("window.__same_page = true")
    cell = page.locator(f"button[data-cell='{t.mine[0].pk}:home_visit']")
    assert "done" not in cell.get_attribute("class")
    cell.tap()
    page.wait_for_selector(f"button[data-cell='{t.mine[0].pk}:home_visit'].done")
    assert page.evaluate("window.__same_page") is True and page.url == tracker
    today = timezone.localdate()
    assert cell.locator("[data-last]").inner_text() == today.strftime("%m-%d")
    assert page.locator("[data-toast]").is_visible()
    page.screenshot(path=str(shots / "tracker-375.png"), full_page=True)
    # The row now links to the new contact's page, for notes and photos (one tap further).
    detail = page.locator(f"li[data-child='{t.mine[0].pk}'] a[data-detail]")
    assert detail.is_visible()
    href = detail.get_attribute("href")
    assert href.startswith(f"/schools/{t.gupei.pk}/contacts/")
    detail.tap()
    page.wait_for_url(base + href)
    assert "王小明" in page.locator("main").inner_text() and page.locator("form[data-upload]").count() == 1
    assert _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "contact-375.png"), full_page=True)

    # Coverage on the dashboard changed.
    page.goto(dashboard)
    assert page.locator("[data-coverage=home_visit]").inner_text().startswith("1/4")

    # Another teacher's child: 404, nothing revealed.
    response = page.goto(f"{base}/schools/{t.gupei.pk}/children/{t.theirs.pk}/")
    assert response.status == 404
    assert "赵小燕" not in page.content()
    # Their own child opens, masked.
    response = page.goto(f"{base}/schools/{t.gupei.pk}/children/{t.mine[0].pk}/")
    assert response.status == 200 and "王小明" in page.locator("h1").inner_text()
    assert _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / "child-375.png"), full_page=True)
