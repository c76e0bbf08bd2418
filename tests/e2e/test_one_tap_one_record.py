"""One tap is one record, in real headless Chromium: a double click on 保存 of the new-child form
adds one child, and a double tap on a tracker cell records one contact and shows the count the
server holds."""
from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.utils import timezone

from schools import services as school_services
from schools.models import CareContact, Child
from tenancy.scoping import tenant_scope
from tests.web.pages_archive import ensure_semester, make_child

pytestmark = pytest.mark.needs_chromium


def _sign_in(page, base, username, school):
    page.goto(base + "/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{base}/")  # the start page


def _children(school, **filters):
    with tenant_scope([school.id]):
        return list(Child.objects.filter(school=school, **filters))


def _contacts(school, child, kind):
    with tenant_scope([school.id]):
        return CareContact.objects.filter(child=child, kind=kind).count()


def test_double_click_on_save_adds_one_child(live_server, tree, phone_page, monkeypatch):
    page, base = phone_page, live_server.url
    # A slow phone network: the first request is still being answered when the second click comes
    # (the live server runs in this process, so slowing the service slows that request).
    real_create = school_services.child_create

    def slow_create(**kwargs):
        time.sleep(1.0)
        return real_create(**kwargs)

    monkeypatch.setattr(school_services, "child_create", slow_create)
    _sign_in(page, base, "gupei_admin", tree.gupei)
    page.goto(f"{base}/schools/{tree.gupei.pk}/children/new/")
    page.fill("#id_name", "双击测试")
    page.select_option("#id_gender", "female")
    page.fill("#id_grade", "3")
    page.fill("#id_class_name", "三(2)班")
    page.select_option("#id_left_behind_kind", "both")
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" and "/children/new/" in r.url else None)
    save = page.locator("form.card button[type=submit]")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    page.wait_for_timeout(300)  # the first POST is on its way; the user clicks again
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(rf".*/schools/{tree.gupei.pk}/children/\d+/$"))
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    assert len(posts) == 2  # the browser really sent both
    made = _children(tree.gupei, name="双击测试")
    assert len(made) == 1, [c.pk for c in made]
    assert page.url.endswith(f"/children/{made[0].pk}/")
    assert "双击测试" in page.locator("h1").inner_text()


@pytest.fixture
def tracker_child(tree):
    ensure_semester(tree.district)
    return make_child(tree.gupei, 820, name="点两下")


def test_double_tap_in_the_tracker_records_one_contact_and_shows_the_true_count(live_server, tree, tracker_child,
                                                                                 phone_page):
    page, base, kid = phone_page, live_server.url, tracker_child
    _sign_in(page, base, "gupei_admin", tree.gupei)
    page.goto(f"{base}/schools/{tree.gupei.pk}/tracker/")
    cell = page.locator(f"button[data-cell='{kid.pk}:talk']")
    cell.dblclick()
    page.wait_for_selector(f"button[data-cell='{kid.pk}:talk'].done")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # a second request, had one gone out, would be answered by now
    assert _contacts(tree.gupei, kid, "talk") == 1
    today = timezone.localdate()
    assert cell.locator("[data-last]").inner_text() == today.strftime("%m-%d")

    # Someone else records the same contact meanwhile: the next tap shows the server's count (3),
    # not the page's guess (2).
    with tenant_scope([tree.gupei.id]):
        school_services.care_contact_record(actor=tree.gupei_admin, child_id=kid.pk, kind="talk",
                                            happened_on=today - dt.timedelta(days=1))
    cell.click()
    for _ in range(50):
        if "×3" in cell.locator("[data-last]").inner_text():
            break
        page.wait_for_timeout(100)
    assert cell.locator("[data-last]").inner_text() == today.strftime("%m-%d") + " ×3"
    assert cell.get_attribute("data-count") == "3"
    assert _contacts(tree.gupei, kid, "talk") == 3
