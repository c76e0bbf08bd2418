"""Isolation cases for the compliance endpoints: checklists, assessments, live scores,
snapshots, manual item scores and their audit trail, exports."""
from __future__ import annotations

from compliance import services
from compliance.exports import export_folder
from compliance.models import ManualScoreChange
from compliance.scoring import assessment_schools
from tenancy import services as tenancy_services
from tenancy.roles import Role
from tenancy.scoping import district_scope, tenant_scope

from .harness import (
    OTHER_DISTRICT_ROLES,
    SCHOOL_OWNED_SEES,
    Case,
    ExtraRoute,
    district_school_ids,
    logged,
    logged_per_school,
    register,
    stored_file,
)

DISTRICT_ROLES_SEE = {"gupei_admin", "menzhuang_admin", "bureau_admin", "bureau_inspector", "gupei_township",
                      "gupei_teacher", "gupei_clerk"}
# Everyone in the district but the bureau admin: they see its checklists and assessments but do not manage them.
NOT_MANAGERS = ("gupei_admin", "menzhuang_admin", "bureau_inspector", "gupei_township", "gupei_teacher", "gupei_clerk")
# The same in the other district, which sees only its own ("far") rows.
FAR_SEE = {role: {"far"} for role in OTHER_DISTRICT_ROLES}
FAR_NOT_MANAGERS = tuple(r for r in OTHER_DISTRICT_ROLES if r != "other_bureau_admin")
WINDOW = {"semester_label": "2026 秋季学期", "semester_start": "2026-09-01", "semester_end": "2027-01-24"}

SMALL_YAML = """\
checklist: {code}
title_zh: 接口测试
total: 10
sections:
- code: S
  title_zh: 测试
  items:
  - {{code: M1, title_zh: 抽查, title_en: Spot check, points: 10, check: spot_check, scoring: manual}}
"""


def _base(tree) -> dict:
    """Published default checklists and assessments in both districts, plus a township one."""
    own_v = services.checklist_load_default(district=tree.district)
    far_v = services.checklist_load_default(district=tree.other_district)
    window = {"semester_label": WINDOW["semester_label"]}
    import datetime as dt

    window.update(semester_start=dt.date(2026, 9, 1), semester_end=dt.date(2027, 1, 24))
    own = services.assessment_create(district=tree.district, checklist_version=own_v, title="全区考核", **window)
    township = services.assessment_create(district=tree.district, checklist_version=own_v, title="古沛片区",
                                          root_school=tree.gupei, **window)
    far = services.assessment_create(district=tree.other_district, checklist_version=far_v, title="外区", **window)
    return {"own_v": own_v, "far_v": far_v, "own": own, "township": township, "far": far}


# ---------------------------------------------------------------- access-log expectations
# Checklists, assessments, snapshots and exports belong to a district, and the access log to a
# school: their writes are logged once per school they concern (compliance/audit.py), a checklist
# on every school of its district, the rest on every school the assessment assesses.
def _on_district_schools(action, version, user):
    return logged_per_school(district_school_ids(version.checklist.district_id), action, user,
                             version._meta.label_lower, version.pk)


def _on_assessed_schools(action, obj, user, *, object_type=None):
    assessment = getattr(obj, "assessment", obj)
    ids = assessment_schools(assessment).values_list("id", flat=True)
    return logged_per_school(ids, action, user, object_type or obj._meta.label_lower, obj.pk)


def _export_rows(action, job, user):
    return _on_assessed_schools(action, job, user, object_type="compliance.export")


# ---------------------------------------------------------------- checklists
def _checklists(tree):
    own = services.checklist_import_yaml(district=tree.district, text=SMALL_YAML.format(code="api-draft"))
    far = services.checklist_import_yaml(district=tree.other_district, text=SMALL_YAML.format(code="api-draft"))
    return {"own": own, "far": far}


def _checklist_payloads(tree, objs):
    published = services.checklist_load_default(district=tree.district)
    return {
        "own_yaml": {"district": tree.district.id, "yaml": SMALL_YAML.format(code="api-new")},
        "far_yaml": {"district": tree.other_district.id, "yaml": SMALL_YAML.format(code="api-new")},
        "own_copy": {"based_on": published.id},
    }


register(Case(
    basename="compliance-checklists",
    make=_checklists,
    sees={role: {"own"} for role in DISTRICT_ROLES_SEE} | {"nobody": set()} | FAR_SEE,
    write_ok={"update": {"bureau_admin": {"own"}, "other_bureau_admin": {"far"}},
              "partial_update": {"bureau_admin": {"own"}, "other_bureau_admin": {"far"}}},
    update_payload=lambda version: {"status": "published"},
    snapshot=lambda version: (version.status, version.number),
    # The YAML is the district's published target, no school's or child's data: not logged
    # (compliance.downloads.checklist_yaml).
    extra_routes=[ExtraRoute("compliance-checklists-yaml", logs=lambda version, user: [])],
    logs=_on_district_schools,
    create_payloads=_checklist_payloads,
    create_expect={
        "bureau_admin": {"own_yaml": 201, "own_copy": 201},
        **{role: {"own_yaml": 403, "own_copy": 403} for role in NOT_MANAGERS},
        "other_bureau_admin": {"far_yaml": 201},
        **{role: {"far_yaml": 403} for role in FAR_NOT_MANAGERS},
    },
))


# ---------------------------------------------------------------- assessments
def _assessments(tree):
    base = _base(tree)
    return {"own": base["own"], "township": base["township"], "far": base["far"]}


def _assessment_payloads(tree, objs):
    return {
        "own": {"district": tree.district.id, "checklist_version": objs["own"].checklist_version_id,
                "title": "新考核", **WINDOW},
        "far": {"district": tree.other_district.id, "checklist_version": objs["far"].checklist_version_id,
                "title": "新考核", **WINDOW},
    }


register(Case(
    basename="compliance-assessments",
    make=_assessments,
    sees={
        "gupei_admin": {"own", "township"}, "gupei_teacher": {"own", "township"}, "gupei_clerk": {"own", "township"},
        "gupei_township": {"own", "township"}, "bureau_admin": {"own", "township"},
        "bureau_inspector": {"own", "township"}, "menzhuang_admin": {"own"}, "nobody": set(),
    } | FAR_SEE,  # the other district's assessment is district-wide
    write_ok={"update": {"bureau_admin": {"own", "township"}, "other_bureau_admin": {"far"}},
              "partial_update": {"bureau_admin": {"own", "township"}, "other_bureau_admin": {"far"}}},
    update_payload=lambda a: {"status": "locked"},
    snapshot=lambda a: (a.status, a.revision),
    logs=_on_assessed_schools,
    create_payloads=_assessment_payloads,
    create_expect={
        "bureau_admin": {"own": 201},
        **{role: {"own": 403} for role in NOT_MANAGERS},
        "other_bureau_admin": {"far": 201},
        **{role: {"far": 403} for role in FAR_NOT_MANAGERS},
    },
))


# ---------------------------------------------------------------- live scores
def _scores(tree):
    _base(tree)
    return {"a": tree.gupei, "village": tree.village_a, "b": tree.menzhuang, "far": tree.far_school}


register(Case(basename="compliance-scores", make=_scores, sees=SCHOOL_OWNED_SEES))


# ---------------------------------------------------------------- snapshots
def _snapshots(tree):
    base = _base(tree)
    objs = {"own": services.snapshot_take(assessment=base["own"]),
            "far": services.snapshot_take(assessment=base["far"])}
    objs["own"]._assessments = base
    return objs


register(Case(
    basename="compliance-snapshots",
    make=_snapshots,
    sees={role: {"own"} for role in DISTRICT_ROLES_SEE} | {"nobody": set()} | FAR_SEE,
    logs=_on_assessed_schools,
    create_payloads=lambda tree, objs: {"own": {"assessment": objs["own"].assessment_id},
                                        "far": {"assessment": objs["far"].assessment_id}},
    create_expect={
        "bureau_admin": {"own": 201},
        **{role: {"own": 403} for role in NOT_MANAGERS},
        "other_bureau_admin": {"far": 201},
        **{role: {"far": 403} for role in FAR_NOT_MANAGERS},
    },
))


# ---------------------------------------------------------------- manual scores and their trail
def _far_inspector(tree):
    user = tenancy_services.user_create(username="far_inspector", password=None)
    tenancy_services.membership_grant(user=user, role=Role.BUREAU_INSPECTOR, district=tree.other_district)
    return user


def _manual_scores(tree):
    base = _base(tree)
    far_inspector = _far_inspector(tree)
    objs = {}
    for label, school in (("a", tree.gupei), ("village", tree.village_a), ("b", tree.menzhuang)):
        objs[label] = services.manual_score_set(assessment=base["own"], school=school, item_code="E3", score="4",
                                                comment="开放正常", actor=tree.bureau_inspector)
    objs["far"] = services.manual_score_set(assessment=base["far"], school=tree.far_school, item_code="E3",
                                            score="4", comment="开放正常", actor=far_inspector)
    return objs


def _manual_payloads(tree, objs):
    own, far = objs["a"].assessment_id, objs["far"].assessment_id
    body = {"item": "G1", "score": "4", "comment": "访谈良好"}
    return {"a": {"assessment": own, "school": tree.gupei.id, **body},
            "village": {"assessment": own, "school": tree.village_a.id, **body},
            "b": {"assessment": own, "school": tree.menzhuang.id, **body},
            "far": {"assessment": far, "school": tree.far_school.id, **body}}


register(Case(
    basename="compliance-manual-scores",
    make=_manual_scores,
    sees=SCHOOL_OWNED_SEES,
    # The inspector's one write: it scores the manual items (harness.READ_ONLY_EXCEPTIONS).
    write_ok={action: {"bureau_admin": {"a", "village", "b"}, "bureau_inspector": {"a", "village", "b"},
                       "other_bureau_admin": {"far"}, "other_bureau_inspector": {"far"}}
              for action in ("update", "partial_update")},
    update_payload=lambda ms: {"score": "2.50", "comment": "复查：周三未开放"},
    snapshot=lambda ms: (ms.score, ms.comment),
    # A score is named by its assessment and item code, as in the item's history
    # (compliance.services.manual_score_set).
    logs=lambda action, ms, user: logged(ms, action, user, object_id=f"{ms.assessment_id}:{ms.item.code}"),
    create_payloads=_manual_payloads,
    create_expect={
        "bureau_admin": {"a": 201, "village": 201, "b": 201},
        "bureau_inspector": {"a": 201, "village": 201, "b": 201},
        "gupei_admin": {"a": 403}, "gupei_teacher": {"a": 403}, "gupei_clerk": {"a": 403}, "menzhuang_admin": {"b": 403},
        "gupei_township": {"a": 403, "village": 403},
        "other_bureau_admin": {"far": 201}, "other_bureau_inspector": {"far": 201},
    },
))


def _manual_changes(tree):
    scores = _manual_scores(tree)
    out = {}
    for label, ms in scores.items():
        with tenant_scope([ms.school_id]):
            out[label] = ManualScoreChange.objects.filter(assessment_id=ms.assessment_id, school_id=ms.school_id).get()
    return out


register(Case(basename="compliance-manual-score-changes", make=_manual_changes, sees=SCHOOL_OWNED_SEES))


# ---------------------------------------------------------------- exports
def _export_files(tree, objs):
    """Each export done with a small file (what the download streams; the worker is not run)."""
    from compliance.models import ComplianceExport

    for job in objs.values():
        name = stored_file(f"{export_folder(job.assessment_id)}/isolation-{job.pk}.xlsx")
        with district_scope(job):
            ComplianceExport.objects.filter(pk=job.pk).update(status=ComplianceExport.Status.DONE, file=name)


def _exports(tree):
    base = _base(tree)
    return {"own": services.export_request(assessment=base["own"], actor=tree.bureau_admin),
            "far": services.export_request(assessment=base["far"])}


register(Case(
    basename="compliance-exports",
    make=_exports,
    # Export history is for bureau users with aggregate access to the district (the inspector
    # reads it but does not run exports).
    sees={"bureau_admin": {"own"}, "bureau_inspector": {"own"},
          "other_bureau_admin": {"far"}, "other_bureau_inspector": {"far"}},
    extra_routes=[ExtraRoute("compliance-exports-download", prepare=_export_files,
                             logs=lambda job, user: _export_rows("download", job, user))],
    logs=_export_rows,
    create_payloads=lambda tree, objs: {"own": {"assessment": objs["own"].assessment_id},
                                        "far": {"assessment": objs["far"].assessment_id}},
    create_expect={
        "bureau_admin": {"own": 201},
        **{role: {"own": 403} for role in NOT_MANAGERS},
        "other_bureau_admin": {"far": 201},
        **{role: {"far": 403} for role in FAR_NOT_MANAGERS},
    },
))
