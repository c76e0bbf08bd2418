"""The compliance API beyond the generic isolation cases: YAML in and out, validation errors,
publish / new draft / lock, live scores per role, manual scores with their trail, snapshots,
exports (run, progress, download) and the two file endpoints' isolation."""
from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse

from compliance import services
from compliance.exports import run_export
from compliance.models import ChecklistVersion
from tenancy.scoping import district_scope
from tests.api.cases_compliance import SMALL_YAML, WINDOW
from tests.support.language import english_messages  # noqa: F401  (autouse)

BAD_YAML = """\
checklist: bad
title_zh: 错误
total: 20
sections:
- code: S
  title_zh: 测试
  items:
  - {code: A1, title_zh: 一, title_en: One, points: 5, check: records, scoring: automatic, metric: no_such_metric,
     rule: threshold, threshold: 1}
  - {code: A1, title_zh: 二, title_en: Two, points: 5, check: spot_check, scoring: manual}
"""


def url(name, *args):
    return reverse(f"api:v1:{name}", args=args)


@pytest.fixture
def own(tree):
    version = services.checklist_load_default(district=tree.district)
    assessment = services.assessment_create(
        district=tree.district, checklist_version=version, title="全区考核", semester_label=WINDOW["semester_label"],
        semester_start=dt.date(2026, 9, 1), semester_end=dt.date(2027, 1, 24))
    return assessment


def test_yaml_import_errors_list_item_and_field(tree, api_as):
    client = api_as("bureau_admin")
    with district_scope(tree.district):
        before = ChecklistVersion.objects.count()
    r = client.post(url("compliance-checklists-list"), {"district": tree.district.id, "yaml": BAD_YAML}, format="json")
    assert r.status_code == 400, r.content
    errors = r.json()["errors"]
    assert {"item": "A1", "field": "metric"} in [{"item": e["item"], "field": e["field"]} for e in errors]
    assert any(e["field"] == "code" for e in errors)  # duplicate code
    assert any(e["field"] == "total" for e in errors)  # 10 points declared as 20
    with district_scope(tree.district):
        assert ChecklistVersion.objects.count() == before


def test_import_publish_export_and_new_draft(tree, api_as):
    client = api_as("bureau_admin")
    r = client.post(url("compliance-checklists-list"), {"district": tree.district.id,
                                                        "yaml": SMALL_YAML.format(code="api")}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "draft" and body["errors"] == [] and body["items"][0]["code"] == "M1"
    pk = body["id"]
    r = client.patch(url("compliance-checklists-detail", pk), {"status": "published"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "published"
    r = client.patch(url("compliance-checklists-detail", pk), {"status": "published"}, format="json")
    assert r.status_code == 400  # published once, immutable afterwards
    r = client.get(url("compliance-checklists-yaml", pk))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/yaml")
    text = r.getvalue().decode()
    assert "checklist: api" in text and "M1" in text
    r = client.post(url("compliance-checklists-list"), {"based_on": pk}, format="json")
    assert r.status_code == 201 and r.json()["number"] == 2 and r.json()["status"] == "draft"


def test_yaml_download_is_isolated(tree, api_as):
    far = services.checklist_load_default(district=tree.other_district)
    own = services.checklist_load_default(district=tree.district)
    assert api_as("anonymous").get(url("compliance-checklists-yaml", own.id)).status_code == 401
    assert api_as("gupei_admin").get(url("compliance-checklists-yaml", own.id)).status_code == 200
    assert api_as("gupei_admin").get(url("compliance-checklists-yaml", far.id)).status_code == 404
    assert api_as("nobody").get(url("compliance-checklists-yaml", own.id)).status_code == 404


def test_live_scores_school_sees_own_row_bureau_the_district(tree, api_as, own):
    def ids(role):
        r = api_as(role).get(url("compliance-scores-list"), {"assessment": own.id})
        assert r.status_code == 200, r.content
        return {row["id"] for row in r.json()["results"]}

    assert ids("gupei_admin") == {tree.gupei.id}
    assert ids("menzhuang_admin") == {tree.menzhuang.id}
    assert ids("gupei_township") == {tree.gupei.id, tree.village_a.id, tree.village_b.id}
    assert ids("bureau_admin") == {tree.gupei.id, tree.village_a.id, tree.village_b.id, tree.menzhuang.id}
    detail = api_as("gupei_admin").get(url("compliance-scores-detail", tree.gupei.id), {"assessment": own.id}).json()
    assert {it["code"] for it in detail["items"]} >= {"A1", "E1", "F3", "G1"}
    assert api_as("gupei_admin").get(url("compliance-scores-detail", tree.menzhuang.id),
                                     {"assessment": own.id}).status_code == 404
    far_v = services.checklist_load_default(district=tree.other_district)
    far = services.assessment_create(district=tree.other_district, checklist_version=far_v, title="外区",
                                     semester_label="x", semester_start=dt.date(2026, 9, 1),
                                     semester_end=dt.date(2027, 1, 24))
    assert api_as("bureau_admin").get(url("compliance-scores-list"), {"assessment": far.id}).status_code == 404


def test_manual_score_put_and_audit_trail(tree, api_as, own):
    client = api_as("bureau_admin")
    r = client.post(url("compliance-manual-scores-list"), {"assessment": own.id, "school": tree.gupei.id,
                                                           "item": "E3", "score": "4", "comment": "开放"}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    r = client.put(url("compliance-manual-scores-detail", pk), {"score": "2", "comment": "周三未开放"}, format="json")
    assert r.status_code == 200 and r.json()["score"] == "2.00"
    r = client.put(url("compliance-manual-scores-detail", pk), {"score": "9", "comment": "x"}, format="json")
    assert r.status_code == 400  # E3 is worth 5
    r = client.post(url("compliance-manual-scores-list"), {"assessment": own.id, "school": tree.gupei.id,
                                                           "item": "A1", "score": "1"}, format="json")
    assert r.status_code == 400  # automatic item
    trail = client.get(url("compliance-manual-score-changes-list"), {"assessment": own.id}).json()["results"]
    assert [(t["old_score"], t["new_score"], t["comment"]) for t in trail] == [
        (None, "4.00", "开放"), ("4.00", "2.00", "周三未开放")]
    # The school sees its own trail, the other school nothing.
    assert api_as("gupei_admin").get(url("compliance-manual-score-changes-list")).json()["count"] == 2
    assert api_as("menzhuang_admin").get(url("compliance-manual-score-changes-list")).json()["count"] == 0
    # Locked: nothing changes any more.
    assert client.patch(url("compliance-assessments-detail", own.id), {"status": "locked"},
                        format="json").status_code == 200
    r = client.put(url("compliance-manual-scores-detail", pk), {"score": "3", "comment": "x"}, format="json")
    assert r.status_code == 400
    assert client.post(url("compliance-snapshots-list"), {"assessment": own.id}, format="json").status_code == 400


def test_snapshot_now_and_detail_rows_are_filtered(tree, api_as, own):
    r = api_as("bureau_admin").post(url("compliance-snapshots-list"), {"assessment": own.id}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert len(r.json()["schools"]) == 4
    rows = api_as("gupei_admin").get(url("compliance-snapshots-detail", pk)).json()["schools"]
    assert [row["school"] for row in rows] == [tree.gupei.id]


def test_export_run_progress_and_download(tree, api_as, own):
    client = api_as("bureau_admin")
    r = client.post(url("compliance-exports-list"), {"assessment": own.id}, format="json")
    assert r.status_code == 201, r.content
    job = r.json()
    assert job["status"] == "queued" and job["download_url"] is None
    assert client.get(url("compliance-exports-download", job["id"])).status_code == 409
    run_export(job["id"])  # what the Celery task does
    body = client.get(url("compliance-exports-detail", job["id"])).json()
    assert (body["status"], body["progress"]) == ("done", 100)
    r = client.get(body["download_url"])
    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    assert wb.sheetnames == ["Summary", "Items", "Gaps"]
    # Isolation of the download: other users get 404, anonymous 401.
    for role in ("gupei_admin", "gupei_township", "menzhuang_admin", "nobody"):
        assert api_as(role).get(body["download_url"]).status_code == 404, role
    assert api_as("anonymous").get(body["download_url"]).status_code == 401
