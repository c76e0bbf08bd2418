"""The bureau's matrix counts the reports approved by the centre school (APPROVED) apart from the
other sent ones: their own cell state, colour and words, a figure of their own in the rates, the
XLSX export and the print view; they still count as sent, and as on time when they were."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from submissions import selectors
from tests.support.api import api_as  # noqa: F401
from tests.support.scopes import user_scope
from tests.support.township import township_report


def _report(tree):
    """Period 1 of a VIA_CENTRE report ended yesterday (due in two days): every school sent it on
    time; the centre approved village A only."""
    today = timezone.localdate()
    t = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False, approve=("gupei-a",),
                        today=today + timedelta(days=20))
    return t, today


def test_an_approved_report_has_its_own_cell_and_figure(tree):
    t, today = _report(tree)
    with user_scope(tree.bureau_admin):
        m = selectors.completeness_matrix(user=tree.bureau_admin, report_type=t.report_type, today=today)
    cells = {row.school.code: row.cells[0].status for row in m.rows}
    assert cells == {"gupei": "on_time", "gupei-a": "approved", "gupei-b": "on_time"}
    first = m.period_rates[0]
    # Sent: all three (the approved one too); on time: all three; approved by the centre: one.
    assert (first.expected, first.submitted, first.on_time, first.approved) == (3, 3, 3, 1)
    assert first.approved_rate == round(1 / 3, 4)
    rows = {row.school.code: row.rates.approved for row in m.rows}
    assert rows == {"gupei": 0, "gupei-a": 1, "gupei-b": 0}


@pytest.mark.platform_language
def test_the_page_export_and_print_view_show_the_approved_state(client, tree):
    t, _today = _report(tree)
    client.force_login(tree.bureau_admin)
    params = {"district": tree.district.pk, "report_type": t.report_type.pk}
    body = client.get(reverse("reporting_matrix"), params).content.decode()
    row = re.search(r'<tr data-school="gupei-a">(.*?)</tr>', body[body.index('id="matrix"'):], re.S).group(1)
    assert 'data-cell="approved"' in row and "cell-approved" in row
    assert "已由中心校审核，等待教育局" in body, "the legend names the state in Chinese"
    assert 'class="swatch cell-approved"' in body
    by_school = re.search(r'id="rates-by-school".*?</table>', body, re.S).group(0)
    village = re.search(r'<tr data-school="gupei-a">(.*?)</tr>', by_school, re.S).group(1)
    assert re.findall(r'<span class="value">([^<]+)<', village)[-1] == "1"

    response = client.get(reverse("reporting_matrix_export"), params)
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    header = values[2]
    assert header[-1] == "中心校已审核"
    rows = {r[0]: r for r in values[3:] if r[0]}
    assert rows[tree.village_a.name][2] == "已由中心校审核，等待教育局" and rows[tree.village_a.name][-1] == 1
    assert rows[tree.village_b.name][-1] == 0

    printed = client.get(reverse("reporting_matrix_print"), params).content.decode()
    assert 'data-cell="approved"' in printed and "中心校已审核" in printed


def test_the_api_matrix_has_the_figure(tree, api_as):  # noqa: F811
    t, _today = _report(tree)
    body = api_as("bureau_admin").get(f"/api/v1/report-types/{t.report_type.pk}/matrix/").json()
    cells = {row["school"]["name"]: row["cells"][0]["status"] for row in body["rows"]}
    assert cells[tree.village_a.name] == "approved"
    assert (body["period_rates"][0]["approved"], body["period_rates"][0]["submitted"]) == (1, 3)
