"""Compliance pages for the isolation walker (tests/web/test_page_isolation.py).

Each object is an assessment ROOTED AT the school under test (so the school's subtree is what the
assessment covers), on a small manual-only checklist (no metric dependencies). School staff are sent
from the district dashboard to their school's page (302) and get 403 on overseer pages; bureau-only
actions tried by an overseer without the right come back as a message (302).

Checklist versions are district objects and take their id in the query string or the form; their
isolation (another district's bureau, school staff) is tested in test_compliance_checklists.py.
"""
from __future__ import annotations

import datetime as dt
import itertools

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from compliance import services
from compliance.exports import export_folder
from compliance.models import Assessment, ComplianceExport, Snapshot
from compliance.scoring import assessment_schools
from tenancy.scoping import district_scope
from tests.support.access_log import Logged, logged_per_school

from .pages import Page, register

_seq = itertools.count()

ISOLATION_YAML = """\
checklist: isolation
title_zh: 隔离测试
title_en: Isolation test
total: 4
sections:
- code: S
  title_zh: 抽查
  items:
  - code: I1
    title_zh: 按时开放
    title_en: Open as posted
    points: 4
    check: spot_check
    scoring: manual
"""


def _assessment(t, school):
    draft = services.checklist_import_yaml(district=school.district, text=ISOLATION_YAML, actor=None)
    version = services.checklist_version_publish(version=draft, actor=None)
    return services.assessment_create(
        district=school.district, checklist_version=version, title=f"隔离 {next(_seq)}", semester_label="2022春",
        semester_start=dt.date(2022, 2, 14), semester_end=dt.date(2022, 7, 8), root_school=school, actor=None)


def _a(t, school):
    return {"pk": _assessment(t, school).pk}


def _school(t, school):
    return {"pk": _assessment(t, school).pk, "school_pk": school.pk}


def _item(t, school):
    return {**_school(t, school), "code": "I1"}


def _job(t, school, *, done=False):
    assessment = _assessment(t, school)
    with district_scope(assessment):
        job = ComplianceExport.objects.create(assessment=assessment, status="running", progress=40)
        if done:
            name = default_storage.save(f"{export_folder(assessment.pk)}/isolation-{job.pk}.xlsx",
                                        ContentFile(b"PK fake"))
            ComplianceExport.objects.filter(pk=job.pk).update(status="done", progress=100, file=name)
    return {"pk": assessment.pk, "job_pk": job.pk}


# ---------------------------------------------------------------- access-log expectations
# An assessment's snapshots and exports are logged once per school it assesses (compliance/audit.py).
# The expectations read district-owned rows, outside any request: in the school's district scope.
def _in_district(expect):
    def scoped(t, school, kwargs, data, user):
        with district_scope(school):
            return expect(t, school, kwargs, data, user)
    return scoped


def _on_assessed(assessment_pk, action, object_type, object_id, user):
    ids = assessment_schools(Assessment.objects.get(pk=assessment_pk)).values_list("id", flat=True)
    return logged_per_school(list(ids), action, user, object_type, object_id)


@_in_district
def _snapshot_taken(t, school, kwargs, data, user):
    # Only the bureau admin takes snapshots; anyone else's POST comes back with a message.
    if user != t.bureau_admin:
        return []
    snapshot = Snapshot.objects.filter(assessment_id=kwargs["pk"]).latest("id")
    return _on_assessed(kwargs["pk"], "create", "compliance.snapshot", snapshot.pk, user)


def _scored(t, school, kwargs, data, user):
    # The bureau admin and inspector score manual items; anyone else is refused with a message.
    if user not in (t.bureau_admin, t.bureau_inspector):
        return []
    return [Logged(kwargs["school_pk"], "create", "compliance.manualscore", f"{kwargs['pk']}:I1", user.pk)]


@_in_district
def _export_requested(t, school, kwargs, data, user):
    if user != t.bureau_admin:
        return []
    job = ComplianceExport.objects.filter(assessment_id=kwargs["pk"]).latest("id")
    return _on_assessed(kwargs["pk"], "create", "compliance.export", job.pk, user)


@_in_district
def _export_downloaded(t, school, kwargs, data, user):
    return _on_assessed(kwargs["pk"], "export", "compliance.export", kwargs["job_pk"], user)


@_in_district
def _ranking_exported(t, school, kwargs, data, user):
    # The file holds the schools the user sees of the assessment: here every school it assesses.
    return _on_assessed(kwargs["pk"], "export", "compliance.ranking", kwargs["pk"], user)


for page in [
    Page("compliance_dashboard", _a, owner_status=302, notes="school staff are sent to their school's page"),
    Page("compliance_assessment_lock", _a, owner_status=403),
    Page("compliance_snapshot_take", _a, method="post", owner_status=403, inspector_status=302, logs=_snapshot_taken),
    Page("compliance_school", _school),
    Page("compliance_item", _item),
    Page("compliance_manual_score", _item, method="post", owner_status=302, inspector_status=302,
         inspector_writes=True, data=lambda t, s: {"score": "3", "comment": "ok"}, logs=_scored,
         notes="no scoring right: a message, then back; the inspector scores"),
    Page("compliance_ranking_export", _a, owner_status=403, logs=_ranking_exported,
         notes="the dashboard's ranking as XLSX: overseers only"),
    Page("compliance_ranking_print", _a, owner_status=403, notes="the dashboard's ranking to print: overseers only"),
    Page("compliance_exports", _a, owner_status=403),
    Page("compliance_export_run", _a, method="post", owner_status=403, inspector_status=302, logs=_export_requested),
    Page("compliance_export_status", _job, owner_status=403),
    Page("compliance_export_download", lambda t, s: _job(t, s, done=True), owner_status=403,
         logs=_export_downloaded),
]:
    register(page)
