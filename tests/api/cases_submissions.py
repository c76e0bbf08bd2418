"""Isolation cases for the submissions endpoints.

Each test gets a fresh `world`: a fortnightly report type in the tree's district (gupei,
village_a, menzhuang), three periods opened around today, and one in the other district (far).
"""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from notices.models import Notification
from submissions import services
from submissions.models import (
    DistrictExport,
    Narrative,
    PackageVersion,
    PeriodType,
    ReportKind,
    SimilarityFlag,
    Submission,
    SubmissionEvent,
    UnlockRequest,
    district_export_folder,
)
from submissions.narrative import digest
from tenancy.scoping import district_scope, system_school_ids, tenant_scope

from .harness import (
    SCHOOL_OWNED_SEES,
    Case,
    ExtraRoute,
    district_school_ids,
    logged,
    logged_per_school,
    register,
    stored_file,
)

# The district's overseers (the bureau and the township admins), and the other district's.
OVERSIGHT_SEES = {"bureau_admin": {"own"}, "bureau_inspector": {"own"}, "gupei_township": {"own"},
                  "other_bureau_admin": {"far"}, "other_bureau_inspector": {"far"}, "other_township": {"far"}}
# A school's submissions are for those who take part in its reporting: not its teachers (as on
# the web pages, which refuse them).
REPORTING_SEES = {role: labels for role, labels in SCHOOL_OWNED_SEES.items() if role != "gupei_teacher"}


def _package_files(tree, objs):
    with tenant_scope(system_school_ids()):
        for version in objs.values():
            name = stored_file(f"{version.storage_key}/isolation.xlsx")
            PackageVersion.objects.filter(pk=version.pk).update(files={"xlsx": name})


def _export_files(tree, objs):
    for export in objs.values():
        name = stored_file(f"{district_export_folder(export.district_id)}/isolation-{export.pk}.xlsx")
        with district_scope(export):
            DistrictExport.objects.filter(pk=export.pk).update(status=DistrictExport.Status.DONE, file=name)


def _per_district_school(action):
    """A district export holds every school's figures: its creation and each download are logged
    once per school of the district (submissions.services._log_district, submissions.downloads)."""
    def rows(*args):
        export, user = args[-2], args[-1]
        return logged_per_school(district_school_ids(export.district_id), action, user, "submissions.districtexport",
                                 export.pk)
    return rows


def _report_type(tree, district, schools, code="api-progress"):
    today = timezone.localdate()
    return services.report_type_create(
        actor=None, district=district, name="进展报送", code=code, kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=today - timedelta(days=34), end_on=today + timedelta(days=60),
        due_offset_days=3, timely_within_days=3, lock_after_days=30, schools=schools,
    )


def _compile(sub, actor=None):
    version = services.package_version_start(submission=sub, actor=actor)
    return services.package_version_complete(version=version)


def world(tree) -> dict:
    """Submissions seq 1 of a / village / b / far compiled; menzhuang's seq 2 already sent."""
    own = _report_type(tree, tree.district, [tree.gupei, tree.village_a, tree.menzhuang])
    far = _report_type(tree, tree.other_district, [tree.far_school], code="far-progress")
    services.periods_open(today=timezone.localdate())
    schools = {"a": tree.gupei, "village": tree.village_a, "b": tree.menzhuang, "far": tree.far_school}
    w = {"own": own, "far": far, "sub": {}, "sub2": {}, "sub3": {}, "version": {}}
    with tenant_scope(system_school_ids()):
        for label, school in schools.items():
            rt = far if label == "far" else own
            subs = {s.period.seq: s for s in Submission.objects.filter(school=school, report_type=rt)
                    .select_related("period", "school", "report_type")}
            w["sub"][label], w["sub2"][label], w["sub3"][label] = subs[1], subs[2], subs[3]
            w["version"][label] = _compile(subs[1])
        sent = w["sub2"]["b"]
        _compile(sent)
        sent.refresh_from_db()
        w["sent_b"] = services.submission_submit(actor=tree.menzhuang_admin, submission=sent, enqueue_similarity=False)
    w["own_period"] = w["sub"]["a"].period
    w["far_period"] = w["sub"]["far"].period
    return w


# ---------------------------------------------------------------- report types and periods
def _report_type_payload(tree, district, schools, code):
    today = timezone.localdate()
    return {"district": district.id, "name": "新报表", "code": code, "kind": "progress", "period_type": "monthly",
            "start_on": today.isoformat(), "schools": [s.id for s in schools]}


register(Case(
    basename="report-types",
    # No periods opened: a report type nobody reported on can be deleted.
    make=lambda tree: {"own": _report_type(tree, tree.district, [tree.gupei]),
                       "far": _report_type(tree, tree.other_district, [tree.far_school], code="far")},
    sees=OVERSIGHT_SEES,
    write_ok={action: {"bureau_admin": {"own"}, "other_bureau_admin": {"far"}}
              for action in ("update", "partial_update", "destroy")},
    update_payload=lambda rt: {"name": f"{rt.name}（改）", "is_active": True},
    snapshot=lambda rt: (rt.name, rt.is_active),
    extra_routes=[ExtraRoute("report-types-matrix")],
    # The calendar is every school's: logged once per school of the district (_log_district).
    logs=lambda action, rt, user: logged_per_school(district_school_ids(rt.district_id), action, user,
                                                    "submissions.reporttype", rt.pk),
    create_payloads=lambda tree, objs: {
        "own": _report_type_payload(tree, tree.district, [], "new-own"),
        "far": _report_type_payload(tree, tree.other_district, [], "new-far"),
    },
    create_expect={
        "bureau_admin": {"own": 201},
        # They see the district but do not manage its calendar.
        "gupei_admin": {"own": 403}, "menzhuang_admin": {"own": 403}, "gupei_teacher": {"own": 403},
        "gupei_clerk": {"own": 403}, "gupei_township": {"own": 403}, "bureau_inspector": {"own": 403},
        "other_bureau_admin": {"far": 201},
        **{role: {"far": 403} for role in ("other_bureau_inspector", "other_township", "other_admin",
                                          "other_teacher", "other_clerk")},
    },
))


def _periods(tree):
    w = world(tree)
    return {"own": w["own_period"], "far": w["far_period"]}


register(Case(basename="report-periods", make=_periods, sees=OVERSIGHT_SEES))


# ---------------------------------------------------------------- submissions and their events
register(Case(
    basename="submissions",
    make=lambda tree: dict(world(tree)["sub"]),
    sees=REPORTING_SEES,
))


def _events(tree):
    w = world(tree)
    tree._world = w
    with tenant_scope(system_school_ids()):
        return {label: SubmissionEvent.objects.filter(submission=sub, action="open").get()
                for label, sub in w["sub"].items()}


def _event_payloads(tree, objs):
    w = tree._world
    body = {label: {"submission": sub.pk, "action": "submit"} for label, sub in w["sub"].items()}
    body["accept_b"] = {"submission": w["sent_b"].pk, "action": "accept", "comment": "好"}
    body["return_b"] = {"submission": w["sent_b"].pk, "action": "return", "comment": "请补充材料"}
    return body


register(Case(
    basename="submission-events",
    make=_events,
    sees=REPORTING_SEES,
    # An event is a transition of its submission: logged as an update of the submission.
    logs=lambda action, event, user: logged(event, "update", user, object_type="submissions.submission",
                                            object_id=event.submission_id),
    create_payloads=_event_payloads,
    create_expect={
        "gupei_admin": {"a": 201},
        "gupei_clerk": {"a": 201},  # the materials clerk compiles and sends the school's reports
        "menzhuang_admin": {"b": 201, "accept_b": 403, "return_b": 403},
        "gupei_township": {"a": 403, "village": 403},
        # accept_b first; then return_b finds it accepted (a clear 400 from the service).
        "bureau_admin": {"a": 403, "village": 403, "b": 403, "accept_b": 201, "return_b": 400},
        # Reads the submissions, reviews none of them.
        "bureau_inspector": {"a": 403, "village": 403, "b": 403, "accept_b": 403, "return_b": 403},
        "other_bureau_admin": {"far": 403},
    },
))


# ---------------------------------------------------------------- unlock requests
def _unlock_requests(tree):
    w = world(tree)
    tree._world = w
    now = timezone.now()
    with tenant_scope(system_school_ids()):
        return {label: UnlockRequest.objects.create(school_id=sub.school_id, submission=sub, reason=f"逾期（{label}）",
                                                    requested_at=now)
                for label, sub in w["sub"].items()}


def _unlock_request_payloads(tree, objs):
    """A report locked for three weeks at gupei and menzhuang, and gupei's unlocked one ("a")."""
    today = timezone.localdate()
    rt = services.report_type_create(
        actor=None, district=tree.district, name="逾期报送", code="api-locked", kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=today - timedelta(days=40), end_on=today + timedelta(days=20),
        due_offset_days=3, timely_within_days=3, lock_after_days=3, schools=[tree.gupei, tree.menzhuang])
    services.periods_open(today=today, report_type_ids=[rt.id])
    with tenant_scope(system_school_ids()):
        locked = {s.school_id: s for s in Submission.objects.filter(report_type=rt, period__seq=1)}
    return {"locked_a": {"submission": locked[tree.gupei.id].pk, "reason": "管理员生病"},
            "locked_b": {"submission": locked[tree.menzhuang.id].pk, "reason": "停电"},
            "a": {"submission": tree._world["sub"]["a"].pk, "reason": "未锁定"}}


def _unlock_logs(action, request, user):
    rows = logged(request, action if action == "create" else "update", user)
    if action != "create":  # granting performs the unlock, an update of the submission
        rows += logged(request, "update", user, object_type="submissions.submission", object_id=request.submission_id)
    return rows


register(Case(
    basename="unlock-requests",
    make=_unlock_requests,
    sees=REPORTING_SEES,
    write_ok={action: {"bureau_admin": {"a", "village", "b"}, "other_bureau_admin": {"far"}}
              for action in ("update", "partial_update")},
    update_payload=lambda r: {"status": "granted"},
    snapshot=lambda r: r.status,
    logs=_unlock_logs,
    create_payloads=_unlock_request_payloads,
    create_expect={
        "gupei_admin": {"locked_a": 201, "a": 400},  # "a" is not locked: nothing to unlock
        "menzhuang_admin": {"locked_b": 201},
        "gupei_clerk": {"locked_a": 403, "a": 403},  # the admin speaks for the school
        "gupei_township": {"locked_a": 403, "a": 403},
        "bureau_admin": {"locked_a": 403, "locked_b": 403, "a": 403},
        "bureau_inspector": {"locked_a": 403, "locked_b": 403, "a": 403},
    },
))


# ---------------------------------------------------------------- package versions and narratives
def _versions(tree):
    w = world(tree)
    tree._world = w
    return dict(w["version"])


register(Case(
    basename="package-versions",
    make=_versions,
    sees=REPORTING_SEES,
    extra_routes=[ExtraRoute("package-versions-download", args=lambda v: [v.pk, "xlsx"], prepare=_package_files)],
    create_payloads=lambda tree, objs: {label: {"submission": sub.pk} for label, sub in tree._world["sub"].items()},
    create_expect={
        "gupei_admin": {"a": 201},
        "menzhuang_admin": {"b": 201},
        "gupei_clerk": {"a": 201},
        "gupei_township": {"a": 403, "village": 403},
        "bureau_admin": {"a": 403, "village": 403, "b": 403},
        "other_bureau_admin": {"far": 403},
    },
))


def _narratives(tree):
    w = world(tree)
    tree._world = w
    out = {}
    with tenant_scope(system_school_ids()):
        for label, sub in w["sub"].items():
            sections = {"s1": f"一、提高认识（{label}）"}
            out[label] = Narrative.objects.create(school_id=sub.school_id, submission=sub, sections=sections,
                                                  digest=digest(sections))
    return out


register(Case(
    basename="narratives",
    make=_narratives,
    sees=REPORTING_SEES,
    write_ok={action: {"gupei_admin": {"a"}, "menzhuang_admin": {"b"}, "gupei_clerk": {"a"}}
              for action in ("update", "partial_update")},
    update_payload=lambda n: {"sections": {"s1": "一、提高认识，高度重视（修改）", "s2": "二、加大投入"}},
    snapshot=lambda n: n.sections,
    create_payloads=lambda tree, objs: {label: {"submission": sub.pk, "sections": {"intro": "我校……"}}
                                        for label, sub in tree._world["sub3"].items()},
    create_expect={
        "gupei_admin": {"a": 201},
        "menzhuang_admin": {"b": 201},
        "gupei_clerk": {"a": 201},
        "gupei_township": {"a": 403, "village": 403},
        "bureau_admin": {"a": 403, "village": 403, "b": 403},
        "other_bureau_admin": {"far": 403},
    },
))


# ---------------------------------------------------------------- the bureau's reads
def _flags(tree):
    w = world(tree)

    def flag(x, y):
        a, b = sorted([x, y], key=lambda s: s.pk)
        return SimilarityFlag.objects.create(school_id=a.school_id, report_type_id=a.report_type_id, submission_a=a,
                                             submission_b=b, school_b_id=b.school_id, score=0.9,
                                             passages=[{"a": [0, 12], "b": [0, 12], "length": 12, "text": "提高认识"}])

    with tenant_scope(system_school_ids()):
        return {
            "a": flag(w["sub"]["a"], w["sub"]["village"]),  # inside the township's subtree
            "b": flag(w["sub"]["b"], w["sub"]["a"]),  # menzhuang and gupei
            "far": flag(w["sub"]["far"], w["sub2"]["far"]),
        }


register(Case(
    basename="similarity-flags",
    make=_flags,
    sees={"bureau_admin": {"a", "b"}, "bureau_inspector": {"a", "b"}, "gupei_township": {"a"},
          # Both sides of "far" are far_school's: outside the other township's subtree.
          "other_bureau_admin": {"far"}, "other_bureau_inspector": {"far"}},
))


def _exports(tree):
    w = world(tree)
    tree._world = w
    with district_scope(tree.district):
        own = DistrictExport.objects.create(district=tree.district, report_type=w["own"], period=w["own_period"])
    with district_scope(tree.other_district):
        far = DistrictExport.objects.create(district=tree.other_district, report_type=w["far"], period=w["far_period"])
    return {"own": own, "far": far}


register(Case(
    basename="district-exports",
    make=_exports,
    # The inspector reads and downloads the bureau's exports but does not run one.
    sees={"bureau_admin": {"own"}, "bureau_inspector": {"own"},
          "other_bureau_admin": {"far"}, "other_bureau_inspector": {"far"}},
    extra_routes=[ExtraRoute("district-exports-download", prepare=_export_files,
                             logs=_per_district_school("export"))],
    logs=_per_district_school("create"),
    create_payloads=lambda tree, objs: {"own": {"period": tree._world["own_period"].pk},
                                        "far": {"period": tree._world["far_period"].pk}},
    # The township sees the period (its subtree reports on it) but the export is the bureau's.
    create_expect={"bureau_admin": {"own": 201}, "gupei_township": {"own": 403}, "bureau_inspector": {"own": 403},
                   "other_bureau_admin": {"far": 201}, "other_township": {"far": 403},
                   "other_bureau_inspector": {"far": 403}},
))


# ---------------------------------------------------------------- notifications
# District-owned (the district whose reporting they are about), each in one user's inbox: a user
# sees their own only, and the other district's users theirs ("far_…").
OWNERS = {"a": "gupei_admin", "b": "menzhuang_admin", "bureau": "bureau_admin", "township": "gupei_township",
          "teacher": "gupei_teacher", "inspector": "bureau_inspector",
          "far_bureau": "other_bureau_admin", "far_inspector": "other_bureau_inspector",
          "far_township": "other_township", "far_admin": "other_admin", "far_teacher": "other_teacher",
          "far_clerk": "other_clerk"}


def _notifications(tree):
    out = {}
    for label, role in OWNERS.items():
        district = tree.other_district if label.startswith("far") else tree.district
        with district_scope(district):
            out[label] = Notification.objects.create(district=district, user=getattr(tree, role),
                                                     text=f"提醒 {label}")
    return out


register(Case(
    basename="notifications",
    make=_notifications,
    sees={role: {label} for label, role in OWNERS.items()} | {"nobody": set()},
    write_ok={action: {role: {label} for label, role in OWNERS.items()} for action in ("update", "partial_update")},
    update_payload=lambda n: {"is_read": True},
    snapshot=lambda n: n.is_read,
    # A user's own inbox: the read flag is no school's data (the access log is school-owned).
    logs=lambda action, n, user: [],
))


# ---------------------------------------------------------------- the centre school's bulk decisions
def _approval_world(tree) -> dict:
    """A VIA_CENTRE report in each district; periods 1 and 2 sent by village_a and far_village."""
    from submissions.models import ApprovalRoute

    w = {}
    for label, district, village, admin in (("a", tree.district, tree.village_a, tree.village_a_admin),
                                            ("far", tree.other_district, tree.far_village, tree.other_village_admin)):
        rt = _report_type(tree, district, [village], code=f"approval-{label}")
        services.report_type_update(actor=None, report_type=rt, route=ApprovalRoute.VIA_CENTRE)
        w[label] = (rt, village, admin)
    services.periods_open(today=timezone.localdate())
    out = {}
    with tenant_scope(system_school_ids()):
        for label, (rt, village, admin) in w.items():
            subs = {s.period.seq: s for s in Submission.objects.filter(school=village, report_type=rt)
                    .select_related("period", "school", "report_type")}
            for seq in (1, 2):
                _compile(subs[seq])
                subs[seq].refresh_from_db()
                services.submission_submit(actor=admin, submission=subs[seq], enqueue_similarity=False)
            out[label] = subs
    return out


def _approval_batches(tree):
    from submissions.models import ApprovalBatch

    subs = _approval_world(tree)
    tree._approval = subs
    approvers = {"a": tree.gupei_township, "far": tree.other_township}
    with tenant_scope(system_school_ids()):
        return {label: services.approval_batch_create(actor=approvers[label], action=ApprovalBatch.Action.APPROVE,
                                                      submissions=[Submission.objects.select_related(
                                                          "school", "report_type", "period").get(pk=subs[label][1].pk)])
                for label in approvers}


def _batch_logs(action, batch, user):
    """The batch itself, and each decided submission's transition on its village school."""
    rows = logged(batch, "create", user)
    for sub in Submission.objects.filter(pk__in=batch.submission_ids):
        rows += logged(sub, "update", user)
    return rows


register(Case(
    basename="approval-batches",
    make=_approval_batches,
    # The centre's approvers and the bureau; never the village schools, nor the centre's own staff.
    sees={"bureau_admin": {"a"}, "bureau_inspector": {"a"}, "gupei_township": {"a"},
          "other_bureau_admin": {"far"}, "other_bureau_inspector": {"far"}, "other_township": {"far"}},
    create_payloads=lambda tree, objs: {
        label: {"action": "approve", "submissions": [tree._approval[label][2].pk], "comment": "齐全"}
        for label in ("a", "far")},
    create_expect={
        "gupei_township": {"a": 201},
        "other_township": {"far": 201},
        # The bureau sees the village submission but does not approve for the centre.
        "bureau_admin": {"a": 403},
        "other_bureau_admin": {"far": 403},
    },
    logs=_batch_logs,
))

__all__ = ["world", "PackageVersion"]
