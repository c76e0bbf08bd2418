"""End to end in real headless Chromium at 375 px: the bureau admin opens the district dashboard and
the ECharts charts (served from our static files) render on canvases without console errors."""
from __future__ import annotations

import pytest
from django.conf import settings

from compliance import services
from tests.support.browser import collect_errors, login
from tests.support.compliance import assessment, version  # noqa: F401  (fixtures)

pytestmark = pytest.mark.needs_chromium


def _no_errors(errors, missing):
    # The browser's own favicon probe is not ours (the shell has no favicon): ignore only that;
    # "Failed to load resource" console lines are checked through the responses themselves.
    ours = [u for u in missing if not u.endswith("/favicon.ico")]
    assert not ours, ours
    assert not [e for e in errors if not e.startswith("Failed to load resource")], errors


def test_dashboard_charts_render_on_a_phone(live_server, tree, assessment, phone_page):
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=2,
                              actor=tree.bureau_inspector)
    services.snapshot_take(assessment=assessment, actor=tree.bureau_admin)
    page = phone_page
    errors, missing = collect_errors(page)
    login(page, live_server.url, "bureau_admin")
    page.goto(f"{live_server.url}/compliance/assessments/{assessment.pk}/")
    assert page.evaluate("typeof window.echarts") == "object"
    for chart in ("#chart-ranking", "#chart-heatmap", "#chart-trend"):
        page.wait_for_selector(f"{chart} canvas")
        box = page.locator(f"{chart} canvas").first.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, chart
    assert page.locator("table.ranking tbody tr").count() == 4
    _no_errors(errors, missing)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    shots = settings.VAR_DIR / "e2e"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "district-dashboard-375.png"), full_page=True)
    # Tapping a heatmap row's school opens the school page.
    page.locator("table.heat tbody th a").first.click()
    page.wait_for_url(f"{live_server.url}/compliance/assessments/{assessment.pk}/schools/*/")
    assert page.locator(".big-score").is_visible()
    _no_errors(errors, missing)
