"""End to end in real headless Chromium at 375 px: a guardian's phone is validated on the child
form ("123" is refused next to the field) and shown as a tap-to-call link on the child's page."""
from __future__ import annotations

import pytest
from django.urls import reverse

from schools.models import Child
from tenancy.scoping import tenant_scope
from tests.web.pages_archive import make_child

pytestmark = pytest.mark.needs_chromium


def test_a_bad_phone_is_refused_and_a_good_one_is_a_tel_link(live_server, tree, phone_page):
    child = make_child(tree.gupei)
    page, base = phone_page, live_server.url
    page.goto(base + "/login/")
    page.fill("#id_username", "gupei_admin")
    page.fill("#id_password", "Demo2026!")
    page.click("button[type=submit].btn-primary")
    page.wait_for_load_state()

    edit = base + reverse("child_edit", kwargs={"school_pk": tree.gupei.pk, "pk": child.pk})
    page.goto(edit)
    page.fill("#id_guardian_phone", "123")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_load_state()
    error = page.locator("#id_guardian_phone ~ .errorlist")
    assert error.is_visible() and "不是电话号码" in error.inner_text()
    with tenant_scope([tree.gupei.id]):
        assert Child.objects.get(pk=child.pk).guardian_phone == "13800001111"

    page.fill("#id_guardian_phone", "139 1234 5678")
    page.click("form button[type=submit].btn-primary")
    page.wait_for_load_state()
    detail = base + reverse("child_detail", kwargs={"school_pk": tree.gupei.pk, "pk": child.pk})
    page.goto(detail)
    link = page.locator("a.tel[href='tel:13912345678']")
    assert link.is_visible() and link.inner_text() == "13912345678"
    assert link.bounding_box()["height"] >= 40
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
