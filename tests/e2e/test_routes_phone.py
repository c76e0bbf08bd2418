"""The bureau's approval-route page on a 360 px phone in real Chromium: it fits (no sideways
scroll, tap targets >= 40 px, no English), and the bureau admin switches a report type to 经中心校审核
through the confirm page, without JavaScript doing the work."""
from __future__ import annotations

import pytest

from submissions.models import ApprovalRoute, ReportType
from tenancy.models import User
from tenancy.scoping import district_scope
from tests.e2e.test_page_walk import CHECKS, _check
from tests.support.browser import login
from tests.support.submissions import report  # noqa: F401  (fixture)

pytestmark = pytest.mark.needs_chromium

NARROWEST = 360


def test_bureau_changes_a_route_on_a_phone(live_server, tree, report, phone_page):
    User.objects.filter(username="bureau_admin").update(display_name="周局长")
    page, base = phone_page, live_server.url
    page.set_viewport_size({"width": NARROWEST, "height": 760})
    login(page, base, "bureau_admin")
    page.goto(base + "/reporting/routes/")
    assert page.locator("h1").inner_text() == "审核流程"
    assert _check("report_type_routes", "bureau_admin", page.evaluate(CHECKS)) == []

    row = page.locator(f"#rt-{report.pk}")
    row.get_by_label("经中心校审核").check()
    row.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "确定修改审核流程" in page.locator("h1").inner_text()
    assert _check("report_type_route confirm", "bureau_admin", page.evaluate(CHECKS)) == []
    with district_scope(tree.district):
        assert ReportType.objects.get(pk=report.pk).route == ApprovalRoute.DIRECT  # not before confirming
    page.locator("[data-confirm]").click()
    page.wait_for_load_state()
    assert "已改为" in page.content()
    with district_scope(tree.district):
        assert ReportType.objects.get(pk=report.pk).route == ApprovalRoute.VIA_CENTRE
