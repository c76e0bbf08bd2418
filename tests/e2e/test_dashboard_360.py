"""In real headless Chromium at 360 px, the narrowest phone we support: the compliance dashboard and
the reporting matrix never scroll sideways (a wide table scrolls inside its own box), values never
break across lines, the matrix cells and the other tap targets of the tables are at least
40 x 40 px, the heatmap names its columns by item title with a legend of value ranges, and the
trend chart's legend is readable text."""
from __future__ import annotations

import re

import pytest

from compliance import services
from submissions.models import ReportType
from tenancy.scoping import system_scope
from tests.support.browser import collect_errors, login, wait_for_script
from tests.support.compliance import assessment, version  # noqa: F401  (fixtures)
from tests.web.pages_submissions import fresh_report
from tests.web.test_submissions_bureau import matrix_report  # noqa: F401  (fixture)

pytestmark = pytest.mark.needs_chromium

NARROW = {"width": 360, "height": 740}
ITEM_TITLES = ["教职工人数", "有校管理员", "教职工分档", "按时开放"]  # tests/support/compliance.py TEST_YAML
BANDS = ["0–24%", "25–49%", "50–74%", "75–99%", "100%"]
LONG_NAME = "2026年春季学期留守儿童之家建设进展报送（双周）"
CHART = "echarts.getInstanceByDom(document.getElementById('{}'))"

# The number of lines an element's text occupies (a value broken in two has two). Line boxes are
# told apart by position, so a smaller nested span on the same line is not a second line.
LINES = """sel => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent !== null).map(e => {
  const range = document.createRange(); range.selectNodeContents(e);
  const rects = Array.from(range.getClientRects()).filter(r => r.width > 0).sort((a, b) => a.top - b.top);
  let lines = 0, bottom = -Infinity;
  for (const r of rects) {
    if (r.top >= bottom - 1) { lines += 1; bottom = r.bottom; } else { bottom = Math.max(bottom, r.bottom); }
  }
  return [e.textContent.trim(), lines];
})"""
# Visible elements smaller than 40 x 40 px.
SMALL = """sel => Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent !== null).map(e => {
  const r = e.getBoundingClientRect(); return [e.textContent.trim(), Math.round(r.width), Math.round(r.height)];
}).filter(([t, w, h]) => w < 40 || h < 40)"""


def _sideways(page) -> bool:
    # Against the phone's width, not innerWidth: a mobile browser widens its layout viewport (and
    # innerWidth with it) to the content, so innerWidth would hide the very overflow we look for.
    return page.evaluate("document.scrollingElement.scrollWidth") > NARROW["width"]


def _broken_values(page, selector: str) -> list:
    found = page.evaluate(LINES, selector)
    assert found, f"no {selector} on the page"
    return [(text, lines) for text, lines in found if lines != 1]


@pytest.fixture
def dashboard_page(live_server, tree, assessment, phone_page):  # noqa: F811
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=2,
                              actor=tree.bureau_inspector)
    services.snapshot_take(assessment=assessment, actor=tree.bureau_admin)
    services.manual_score_set(assessment=assessment, school=tree.menzhuang, item_code="M1", score=3,
                              actor=tree.bureau_inspector)
    services.snapshot_take(assessment=assessment, actor=tree.bureau_admin)
    page = phone_page
    page.set_viewport_size(NARROW)
    login(page, live_server.url, "bureau_admin")
    page.goto(f"{live_server.url}/compliance/assessments/{assessment.pk}/")
    page.wait_for_selector("#chart-trend canvas")
    return page


def test_dashboard_fits_360_and_values_stay_whole(dashboard_page):
    page = dashboard_page
    assert not _sideways(page), page.evaluate("document.scrollingElement.scrollWidth")
    assert _broken_values(page, "table.ranking td.num") == []
    assert _broken_values(page, "table.heat td.cell") == []
    # Sort headers, school links and heatmap cells are full tap targets.
    assert page.evaluate(SMALL, "table.ranking thead a, table.ranking tbody a, table.heat td.cell a") == []


def test_heatmap_columns_are_item_titles_with_a_value_legend(dashboard_page):
    page = dashboard_page
    headers = page.locator("table.heat thead th[scope=col]")
    texts = [t.strip() for t in headers.all_inner_texts()][1:]  # the first is the school column
    assert texts == ITEM_TITLES
    titles = [headers.nth(i + 1).get_attribute("title") for i in range(len(ITEM_TITLES))]
    assert titles == ITEM_TITLES  # the whole title where the header is cut short
    legend = [t.strip() for t in page.locator("#heat-legend li").all_inner_texts()]
    assert legend[:len(BANDS)] == BANDS, legend
    # The chart names its columns by title too, and its colour pieces carry the same ranges.
    option = page.evaluate(f"{CHART.format('chart-heatmap')}.getOption()")
    assert option["xAxis"][0]["data"] == ITEM_TITLES
    assert [p["label"] for p in option["visualMap"][0]["pieces"]] == BANDS
    # The legend's swatch colour is the colour of the cells in that band.
    cell = page.locator("table.heat td.cell.p4, table.heat td.cell.p0").first
    band = "p4" if "p4" in cell.get_attribute("class") else "p0"
    colour = "getComputedStyle(document.querySelector('{}')).backgroundColor"
    assert page.evaluate(colour.format(f"table.heat td.cell.{band}")) == page.evaluate(
        colour.format(f"#heat-legend .swatch.{band}"))


def test_trend_legend_is_readable_and_toggles_lines(dashboard_page):
    page = dashboard_page
    series = page.evaluate(f"{CHART.format('chart-trend')}.getOption().series.map(s => s.name)")
    buttons = page.locator("#trend-legend button")
    assert [t.strip() for t in buttons.all_inner_texts()] == series and len(series) == 4
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], box
        assert box["height"] >= 40
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#trend-legend button')).fontSize)")
    assert size >= 13
    buttons.first.scroll_into_view_if_needed()
    buttons.first.click()
    name = series[0]
    wait_for_script(page, f"{CHART.format('chart-trend')}.getOption().legend[0].selected[{name!r}] === false")
    assert buttons.first.get_attribute("aria-pressed") == "false"
    assert not _sideways(page)


def test_school_page_score_stays_on_one_line(dashboard_page, tree):
    page = dashboard_page
    page.locator("table.ranking tbody a", has_text=tree.gupei.name).click()
    page.wait_for_selector(".big-score")
    assert _broken_values(page, ".big-score, .facts dd, .counts .value") == []
    assert not _sideways(page)


def test_matrix_fits_360_with_40px_cells(live_server, tree, matrix_report, phone_page):  # noqa: F811
    # Report types are named like the demo's: long enough to widen a select past the phone.
    with system_scope("test: rename the report type"):
        ReportType.objects.filter(pk=matrix_report.pk).update(name=LONG_NAME)
    fresh_report(tree, [tree.gupei, tree.village_a, tree.village_b, tree.menzhuang])  # a second type
    page = phone_page
    errors, _missing = collect_errors(page)
    page.set_viewport_size(NARROW)
    login(page, live_server.url, "bureau_admin")
    page.goto(f"{live_server.url}/reporting/?report_type={matrix_report.pk}")
    assert page.locator("#matrix td.cell").count() == 12
    assert not _sideways(page), page.evaluate("document.scrollingElement.scrollWidth")
    assert page.evaluate(SMALL, "#matrix td.cell, #matrix thead a") == []
    assert _broken_values(page, "#matrix td.num, #rates-by-type td.num, #rates-by-school td.num") == []
    # The matrix scrolls inside its own box: its last column is reachable there.
    wrap = page.locator(".matrix-wrap")
    assert page.evaluate("document.querySelector('.matrix-wrap').scrollWidth") > wrap.bounding_box()["width"]
    # Sorting and the township filter work on the phone.
    page.locator("#matrix thead a[data-sort=p1]").click()
    page.wait_for_url(re.compile(r"[?&]sort=p1\b"))
    assert page.locator("#matrix tbody tr").first.get_attribute("data-school") == "menzhuang"
    page.select_option("select[name=township]", str(tree.gupei.pk))
    page.locator(".table-tools button[type=submit]").click()
    page.wait_for_url(re.compile(rf"[?&]township={tree.gupei.pk}\b"))
    assert [page.locator("#matrix tbody tr").nth(i).get_attribute("data-school") for i in range(2)] == [
        "gupei-a", "gupei"]  # still by period 1: late before on time
    assert not _sideways(page)
    # The print view of the same rows: no navigation, fits the phone, its back link hidden on paper.
    page.locator(".table-tools a[data-print]").click()
    page.wait_for_url(re.compile(r"/reporting/print/\?"))
    assert page.locator("nav").count() == 0
    assert [page.locator("#matrix tbody tr").nth(i).get_attribute("data-school") for i in range(2)] == [
        "gupei-a", "gupei"]
    assert not _sideways(page)
    page.emulate_media(media="print")
    assert not page.locator(".screen-only").is_visible()
    assert not [e for e in errors if not e.startswith("Failed to load resource")], errors
