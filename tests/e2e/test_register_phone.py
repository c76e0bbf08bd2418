"""In real headless Chromium at 360 px: the child form's 民政登记信息 section (a refused rule shown
next to its field, the assistance boxes big enough to tap) and the child's page, with no sideways
scroll."""
from __future__ import annotations

import pytest
from django.urls import reverse

from schools.models import Child
from tenancy.scoping import tenant_scope
from tests.support.browser import login
from tests.web.pages_archive import make_child

pytestmark = pytest.mark.needs_chromium

NARROW = {"width": 360, "height": 740}


def _sideways(page) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") > NARROW["width"]


def test_register_section_fits_360_and_refuses_next_to_the_field(live_server, tree, phone_page):
    child = make_child(tree.gupei)
    page, base = phone_page, live_server.url
    page.set_viewport_size(NARROW)
    login(page, base, "gupei_admin")
    page.goto(base + reverse("child_edit", kwargs={"school_pk": tree.gupei.pk, "pk": child.pk}))
    section = page.locator("#register-fields")
    assert section.is_visible() and "民政登记信息" in section.inner_text()
    assert not _sideways(page)
    boxes = page.locator("#id_assistance label")
    assert boxes.count() == 4
    for i in range(4):
        assert boxes.nth(i).bounding_box()["height"] >= 40
    page.select_option("#id_custody_type", "both_away")
    page.select_option("#id_left_behind_kind", "father")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_load_state()
    error = page.locator("#id_custody_type ~ .errorlist")
    assert error.is_visible() and "监护类型" in error.inner_text()
    assert not _sideways(page)

    page.select_option("#id_left_behind_kind", "both")
    page.select_option("#id_guardianship_assessment", "none")
    page.locator("#id_assistance label", has_text="低保").click()
    page.click("form button[type=submit].btn-primary")
    page.wait_for_url(base + reverse("child_detail", kwargs={"school_pk": tree.gupei.pk, "pk": child.pk}))
    assert "将自动建立帮扶个案" in page.locator("#register-warnings").inner_text()
    assert "低保" in page.locator("#register-facts").inner_text()
    assert not _sideways(page)
    with tenant_scope([tree.gupei.id]):
        saved = Child.objects.get(pk=child.pk)
    assert saved.custody_type == "both_away" and saved.assistance == ["dibao"]
