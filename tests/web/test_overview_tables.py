"""The overview tables on their pages, as XLSX and in print: the compliance dashboard's ranking and
the bureau's reporting matrix, filtered by township and sorted by any column. The page, the export
and the print view show the same rows in the same order; bad parameters fall back to the default
with a message (never a 500); a township admin's filter never reaches past their subtree."""
from __future__ import annotations

import io
import re
from urllib.parse import unquote

import openpyxl
import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from compliance import services as compliance_services
from compliance.selectors import RANKING_COLUMNS
from tenancy.models import AccessLog
from tenancy.scoping import system_scope
from tests.support.compliance import assessment, version  # noqa: F401  (fixtures)

from .test_submissions_bureau import _cells, en, matrix_report  # noqa: F401  (fixtures)

NUMERIC = {"rank": 0, "score": 1, "lost": 3, "pending": 4}  # index among a ranking row's value spans


@pytest.fixture
def scored(tree, assessment):  # noqa: F811
    for school, score in ((tree.menzhuang, 4), (tree.gupei, 1), (tree.village_a, 3)):
        compliance_services.manual_score_set(assessment=assessment, school=school, item_code="M1", score=score,
                                             actor=tree.bureau_inspector)
    return assessment


def _ranking(body: str) -> list[dict]:
    table = body.split('class="data ranking"', 1)[1].split("</table>", 1)[0]
    rows = []
    for school_id, row in re.findall(r'<tr data-school="(\d+)">(.*?)</tr>', table, re.S):
        values = [v.strip() for v in re.findall(r'<span class="value">([^<]*)', row)]
        name = re.search(r'<a href="[^"]+">([^<]+)</a>', row).group(1)
        rows.append({"id": int(school_id), "name": name, "values": values})
    return rows


def _number(text: str):
    return None if text in ("–", "") else float(text)


def _dashboard(client, assessment, **params):  # noqa: F811
    response = client.get(reverse("compliance_dashboard", kwargs={"pk": assessment.pk}), params)
    assert response.status_code == 200
    return response.content.decode()


def _export_log(object_type: str, user) -> list[tuple[int, str]]:
    with system_scope("test: read the export rows"):
        return sorted(AccessLog.objects.filter(object_type=object_type, user=user, action="export")
                      .values_list("school_id", "object_id"))


def _sheet_rows(content: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    return [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]


def _filename(response) -> str:
    disposition = response["Content-Disposition"]
    return unquote(re.split(r"filename\*=utf-8''", disposition, flags=re.I)[1])


# ---------------------------------------------------------------- the compliance ranking
def test_ranking_filters_by_township(en, tree, scored):  # noqa: F811
    en.force_login(tree.bureau_admin)
    everyone = {tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id}
    body = _dashboard(en, scored)
    assert {r["id"] for r in _ranking(body)} == everyone
    for township in (tree.gupei, tree.menzhuang):  # both are offered to the bureau
        assert f'<option value="{township.id}"' in body
    assert {r["id"] for r in _ranking(_dashboard(en, scored, township=tree.gupei.id))} == {
        tree.gupei.id, tree.village_a.id, tree.village_b.id}
    assert [r["id"] for r in _ranking(_dashboard(en, scored, township=tree.menzhuang.id))] == [tree.menzhuang.id]


def test_a_township_admin_filters_only_inside_their_subtree(en, tree, scored):  # noqa: F811
    en.force_login(tree.gupei_township)
    subtree = {tree.gupei.id, tree.village_a.id, tree.village_b.id}
    body = _dashboard(en, scored, township=tree.menzhuang.id)
    assert {r["id"] for r in _ranking(body)} == subtree
    assert "Unknown township" in body
    assert f'<option value="{tree.menzhuang.id}"' not in body


@pytest.mark.parametrize("column", RANKING_COLUMNS)
def test_ranking_sorts_by_any_column(en, tree, scored, column):  # noqa: F811
    en.force_login(tree.bureau_admin)
    for descending in (False, True):
        body = _dashboard(en, scored, sort=("-" if descending else "") + column)
        assert "Unknown sort column" not in body
        rows = _ranking(body)
        assert len(rows) == 4
        if column == "school":
            keys = [r["name"] for r in rows]
        elif column in NUMERIC:
            keys = [_number(r["values"][NUMERIC[column]]) for r in rows]
        else:
            continue  # township and change: covered by the export check below
        present = [k for k in keys if k is not None]
        assert keys[:len(present)] == present, "empty values go last"
        assert present == sorted(present, reverse=descending), (column, descending, keys)
        # The column's header link turns the order round.
        link = f'?sort={"" if descending else "-"}{column}'
        assert link in body, link


def test_ranking_by_score_follows_the_rank(en, tree, scored):  # noqa: F811
    en.force_login(tree.bureau_admin)
    rows = _ranking(_dashboard(en, scored, sort="-score"))
    scores = [_number(r["values"][1]) for r in rows]
    assert len(set(scores)) >= 3, "the fixture gives the schools different scores"
    ranks = [_number(r["values"][0]) for r in rows]
    assert ranks == sorted(ranks), "the best score holds rank 1"
    ascending = _ranking(_dashboard(en, scored, sort="score"))
    assert [r["id"] for r in ascending] == [r["id"] for r in reversed(rows)]


@pytest.mark.parametrize("params", [{"sort": "bogus"}, {"sort": "-"}, {"township": "x"}, {"township": "999999"},
                                    {"sort": "--score"}, {"township": "", "sort": ""}])
def test_bad_ranking_parameters_fall_back_to_the_default(en, tree, scored, params):  # noqa: F811
    en.force_login(tree.bureau_admin)
    default = [r["id"] for r in _ranking(_dashboard(en, scored))]
    body = _dashboard(en, scored, **params)
    assert [r["id"] for r in _ranking(body)] == default
    for path in ("compliance_ranking_export", "compliance_ranking_print"):
        assert en.get(reverse(path, kwargs={"pk": scored.pk}), params).status_code == 200


def test_ranking_export_holds_the_page_rows(client, tree, scored):  # noqa: F811
    client.force_login(tree.bureau_admin)  # zh-hans: the file name and the header are Chinese
    params = {"township": tree.gupei.id, "sort": "-score"}
    page = _ranking(_dashboard(client, scored, **params))
    response = client.get(reverse("compliance_ranking_export", kwargs={"pk": scored.pk}), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert _filename(response) == "测试考核 达标排名.xlsx"
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[3]] == ["名次", "学校", "乡镇", "得分", "变化", "失分", "待评"]
    rows = _sheet_rows(content)
    assert [r[1] for r in rows] == [r["name"] for r in page]
    assert {r[2] for r in rows} == {tree.gupei.name}  # the township column: the centre's name
    assert [r[3] for r in rows] == [_number(r["values"][1]) for r in page]
    # Logged as an export on each school in the file, and on no other.
    assert _export_log("compliance.ranking", tree.bureau_admin) == sorted(
        (s.id, str(scored.pk)) for s in (tree.gupei, tree.village_a, tree.village_b))


def test_ranking_print_view(client, tree, scored):  # noqa: F811
    client.force_login(tree.bureau_admin)
    params = {"township": tree.gupei.id, "sort": "school"}
    page = _ranking(_dashboard(client, scored, **params))
    response = client.get(reverse("compliance_ranking_print", kwargs={"pk": scored.pk}), params)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="nav"' not in body and "site-header" not in body  # no navigation on paper
    assert "css/print.css" in body and "@media print" in open(finders.find("css/print.css")).read()
    printed = re.findall(r'<tr data-school="(\d+)">', body)
    assert [int(i) for i in printed] == [r["id"] for r in page]
    assert "古沛中心小学" in body and tree.menzhuang.name not in body


def test_school_staff_get_no_ranking_file(client, tree, scored):  # noqa: F811
    client.force_login(tree.gupei_admin)
    for name in ("compliance_ranking_export", "compliance_ranking_print"):
        assert client.get(reverse(name, kwargs={"pk": scored.pk})).status_code == 403
    assert _export_log("compliance.ranking", tree.gupei_admin) == []


# ---------------------------------------------------------------- the reporting matrix
def _matrix(client, report, **params):
    response = client.get(reverse("reporting_matrix"), {"report_type": report.pk, **params})
    assert response.status_code == 200
    return response.content.decode()


def _order(body: str) -> list[str]:
    return list(_cells(body))


def test_matrix_filters_by_township(en, tree, matrix_report):  # noqa: F811
    en.force_login(tree.bureau_admin)
    assert set(_order(_matrix(en, matrix_report))) == {"gupei", "gupei-a", "menzhuang"}
    assert _order(_matrix(en, matrix_report, township=tree.gupei.id)) == ["gupei", "gupei-a"]
    assert _order(_matrix(en, matrix_report, township=tree.menzhuang.id)) == ["menzhuang"]
    en.force_login(tree.gupei_township)
    body = _matrix(en, matrix_report, township=tree.menzhuang.id)
    assert _order(body) == ["gupei", "gupei-a"] and "Unknown township" in body


@pytest.mark.parametrize("sort, expected", [
    ("school", ["gupei", "gupei-a", "menzhuang"]),
    ("-school", ["menzhuang", "gupei-a", "gupei"]),
    ("p1", ["menzhuang", "gupei-a", "gupei"]),  # missing, late, on time: what needs action first
    ("-p1", ["gupei", "gupei-a", "menzhuang"]),
    ("on_time", ["gupei-a", "menzhuang", "gupei"]),  # 0 %, 0 % (tree order), 100 %
    ("-on_time", ["gupei", "gupei-a", "menzhuang"]),
    ("reporting", ["menzhuang", "gupei", "gupei-a"]),
    ("-township", ["menzhuang", "gupei", "gupei-a"]),
])
def test_matrix_sorts_by_any_column(en, tree, matrix_report, sort, expected):  # noqa: F811
    en.force_login(tree.bureau_admin)
    body = _matrix(en, matrix_report, sort=sort)
    assert _order(body) == expected
    assert "Unknown sort column" not in body


@pytest.mark.parametrize("params", [{"sort": "p99"}, {"sort": "<script>"}, {"township": "-1"}, {"township": "abc"}])
def test_bad_matrix_parameters_fall_back_to_the_default(en, tree, matrix_report, params):  # noqa: F811
    en.force_login(tree.bureau_admin)
    body = _matrix(en, matrix_report, **params)
    assert _order(body) == ["gupei", "gupei-a", "menzhuang"]
    assert "Unknown" in body
    for name in ("reporting_matrix_export", "reporting_matrix_print"):
        assert en.get(reverse(name), {"report_type": matrix_report.pk, **params}).status_code == 200


def test_matrix_export_holds_the_page_rows(client, tree, matrix_report):  # noqa: F811
    client.force_login(tree.bureau_admin)
    params = {"report_type": matrix_report.pk, "sort": "p1"}
    response = client.get(reverse("reporting_matrix_export"), params)
    assert response.status_code == 200
    assert _filename(response) == f"{matrix_report.name} 报送情况.xlsx"
    content = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    header = [c.value for c in sheet[3]]
    assert header[:2] == ["学校", "乡镇"] and header[-3:] == ["报送率（%）", "按时报送率（%）", "中心校已审核"]
    rows = _sheet_rows(content)
    assert [r[0] for r in rows] == [tree.menzhuang.name, tree.village_a.name, tree.gupei.name]
    assert [r[2] for r in rows] == ["缺少", "逾期", "按时"]
    assert [(r[-3], r[-2], r[-1]) for r in rows] == [(0, 0, 0), (100, 0, 0), (100, 100, 0)]
    assert _export_log("submissions.matrix", tree.bureau_admin) == sorted(
        (s.id, str(matrix_report.pk)) for s in (tree.gupei, tree.village_a, tree.menzhuang))


def test_matrix_print_view(client, tree, matrix_report):  # noqa: F811
    client.force_login(tree.bureau_admin)
    response = client.get(reverse("reporting_matrix_print"), {"report_type": matrix_report.pk,
                                                               "township": tree.gupei.id})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="nav"' not in body and "css/print.css" in body
    assert re.findall(r'<tr data-school="([^"]+)">', body) == ["gupei", "gupei-a"]
    assert "按时" in body and "逾期" in body


def test_matrix_files_are_the_bureaus_and_overseers_only(client, tree, matrix_report):  # noqa: F811
    for name in ("reporting_matrix_export", "reporting_matrix_print"):
        url = reverse(name)
        for username in ("gupei_admin", "gupei_teacher", "other_bureau_admin", "other_township"):
            client.force_login(getattr(tree, username))
            response = client.get(url, {"report_type": matrix_report.pk, "district": tree.district.pk})
            assert response.status_code == 404, (name, username)
        client.force_login(tree.gupei_township)  # an overseer gets their subtree only
        response = client.get(url, {"report_type": matrix_report.pk})
        assert response.status_code == 200
    assert _export_log("submissions.matrix", tree.other_bureau_admin) == []
    assert _export_log("submissions.matrix", tree.gupei_township) == sorted(
        (s.id, str(matrix_report.pk)) for s in (tree.gupei, tree.village_a))
