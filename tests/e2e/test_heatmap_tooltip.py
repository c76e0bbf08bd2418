"""In real headless Chromium: the district dashboard's tooltips show school names and item titles as
text. A school named like an HTML tag must not become markup (nor run a handler) when a tooltip
shows."""
from __future__ import annotations

import pytest

from compliance import services
from tenancy import services as tenancy_services
from tests.support.browser import collect_errors, login, wait_for_script
from tests.support.compliance import SEMESTER, TEST_YAML

pytestmark = pytest.mark.needs_chromium

SCHOOL_NAME = "<img src=x onerror=window.__xss=1>"
ITEM_TITLE = "<b id=xss-item>粗体</b>"
CHART = "echarts.getInstanceByDom(document.getElementById('{}'))"


@pytest.fixture
def hostile_assessment(tree):
    tenancy_services.school_update(school=tree.gupei, name=SCHOOL_NAME)
    text = TEST_YAML.replace("title_zh: 教职工人数", f'title_zh: "{ITEM_TITLE}"')
    draft = services.checklist_import_yaml(district=tree.district, text=text, actor=tree.bureau_admin)
    version = services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    assessment = services.assessment_create(district=tree.district, checklist_version=version, title="测试考核",
                                            actor=tree.bureau_admin, **SEMESTER)
    services.snapshot_take(assessment=assessment, actor=tree.bureau_admin)
    return assessment


def _hover(page, chart_id: str, pixel_js: str) -> str:
    """Move the real mouse onto a point of a chart; return the text of the tooltip that shows."""
    x, y = page.evaluate(f"{CHART.format(chart_id)}.{pixel_js}")
    canvas = page.locator(f"#{chart_id} canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    # ECharts' tooltip is a div inside the chart, filled from the formatter's HTML.
    return wait_for_script(page, f"Array.from(document.querySelectorAll('#{chart_id} div'))"
                            ".map(d => d.textContent).find(t => t.includes('img src')) || ''")


def _no_markup_made(page, errors):
    assert page.evaluate("document.querySelector('.chart img, [id^=chart-] img')") is None
    assert page.evaluate("document.getElementById('xss-item')") is None
    assert page.evaluate("window.__xss") is None
    # The CSP would also have refused the inline handler; no such refusal means no markup was made.
    assert not [e for e in errors if "inline event handler" in e or "Content Security Policy" in e], errors


def test_heatmap_tooltip_shows_names_as_text(live_server, tree, hostile_assessment, phone_page):
    page = phone_page
    errors, _missing = collect_errors(page)
    login(page, live_server.url, "bureau_admin")
    page.goto(f"{live_server.url}/compliance/assessments/{hostile_assessment.pk}/")
    page.wait_for_selector("#chart-heatmap canvas")
    row = page.evaluate(f"{CHART.format('chart-heatmap')}.getOption().yAxis[0].data").index(SCHOOL_NAME)
    text = _hover(page, "chart-heatmap", f"convertToPixel({{seriesIndex: 0}}, [0, {row}])")
    assert SCHOOL_NAME in text and ITEM_TITLE in text, text
    _no_markup_made(page, errors)


def test_ranking_and_trend_tooltips_show_names_as_text(live_server, tree, hostile_assessment, phone_page):
    page = phone_page
    errors, _missing = collect_errors(page)
    login(page, live_server.url, "bureau_admin")
    page.goto(f"{live_server.url}/compliance/assessments/{hostile_assessment.pk}/")
    page.wait_for_selector("#chart-ranking canvas")
    categories = page.evaluate(f"{CHART.format('chart-ranking')}.getOption().yAxis[0].data")
    row = next(i for i, c in enumerate(categories) if SCHOOL_NAME in c)
    assert SCHOOL_NAME in _hover(page, "chart-ranking", f"convertToPixel({{seriesIndex: 0}}, [1, {row}])")
    _no_markup_made(page, errors)
    page.wait_for_selector("#chart-trend canvas")
    series = page.evaluate(f"{CHART.format('chart-trend')}.getOption().series.map(s => s.name)")
    index = series.index(SCHOOL_NAME)
    point = page.evaluate(f"{CHART.format('chart-trend')}.getOption().series[{index}].data[0]")
    assert SCHOOL_NAME in _hover(page, "chart-trend", f"convertToPixel({{seriesIndex: {index}}}, {point!r})")
    _no_markup_made(page, errors)
