"""The care app's pages for the isolation walkers. A case or referral is about a child: the school
admin opens it; a teacher not assigned to the child gets 404 on it; the materials clerk, the
township and the bureau get 403 on every page that names children (they see figures only, on
care_school_counts and the district page)."""
from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from care import risk_yaml
from care import services as care_services
from care.models import Case, CaseAction, Referral, RiskRuleVersion
from tenancy.scoping import tenant_scope
from tests.support.access_log import district_school_ids, logged, logged_per_school

from .pages import DistrictPage, Page, register, register_district

# Pages naming children: a teacher of the school sees their own (none here) or gets 404 on one
# child's record; the clerk and the overseers have no care level (403).
LIST = dict(teacher_status=200, clerk_status=403, overseer_status=403, inspector_status=403)
RECORD = dict(teacher_status=404, clerk_status=403, overseer_status=403, inspector_status=403)


def _school(t, school):
    return {"school_pk": school.pk}


def _admin(school):
    from tenancy.models import Membership
    from tenancy.roles import Role

    return Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).order_by("id").first().user


def _child(school):
    from tests.care.common import calm_child

    return calm_child(school, contacts=())


def _case(t, school):
    child = _child(school)
    with tenant_scope([school.pk]):
        case = Case.objects.create(school=school, child=child, opened_reason=Case.Reason.MANUAL, owner=_admin(school),
                                   due_on=timezone.localdate() + dt.timedelta(days=3))
    return {"school_pk": school.pk, "pk": case.pk}


def _referral(t, school):
    child = _child(school)
    with tenant_scope([school.pk]):
        referral = Referral.objects.create(school=school, child=child, to="civil_affairs",
                                           made_on=timezone.localdate(), made_by=_admin(school), reason="需要救助")
    return {"school_pk": school.pk, "pk": referral.pk}


def _action_logged(t, school, kwargs, data, user):
    with tenant_scope([school.pk]):
        action = CaseAction.objects.filter(case_id=kwargs["pk"]).order_by("-id").first()
        return logged(action, "create", user)


def _case_logged(action):
    def rows(t, school, kwargs, data, user):
        with tenant_scope([school.pk]):
            return logged(Case.objects.get(pk=kwargs["pk"]), action, user)
    return rows


def _referral_logged(t, school, kwargs, data, user):
    with tenant_scope([school.pk]):
        return logged(Referral.objects.get(pk=kwargs["pk"]), "update", user)


for _page in [
    Page("care_cases", _school, **LIST),
    Page("care_case_new", _school, **LIST),
    Page("care_risk", _school, **LIST),
    Page("care_referrals", _school, **LIST),
    Page("care_referral_new", _school, **LIST),
    Page("care_case", _case, **RECORD),
    Page("care_case_close", _case, **RECORD),
    Page("care_case_action", _case, method="post", owner_status=302, logs=_action_logged,
         data=lambda t, s: {"text": "电话联系了奶奶", "done_on": timezone.localdate().isoformat()}, **RECORD),
    Page("care_case_close", _case, method="post", owner_status=302, logs=_case_logged("update"),
         data=lambda t, s: {"close_reason": "情况好转", "confirm": "on"}, **RECORD),
    Page("care_referral", _referral, **RECORD),
    Page("care_referral", _referral, method="post", owner_status=302, logs=_referral_logged,
         data=lambda t, s: {"answer": "已安排家访", "answered_on": timezone.localdate().isoformat()}, **RECORD),
    # Figures only, for those who oversee schools (view_aggregates): not the school's own staff.
    Page("care_school_counts", _school, owner_status=403, teacher_status=403, clerk_status=403, overseer_status=200,
         inspector_status=200),
]:
    register(_page)


# ---------------------------------------------------------------- the district's figures and rules
def _district(t, district):
    return {"pk": district.pk}


def _version(t, district):
    version = care_services.risk_rules_save(actor=None, district=district, source=risk_yaml.default_source())
    return {"pk": district.pk, "version_pk": version.pk}


def _upload(t, district):
    return {"file": SimpleUploadedFile("rules.yaml", risk_yaml.default_source().encode(), "application/yaml")}


def _rules_logged(action):
    def rows(t, district, kwargs, data, user):
        pk = kwargs.get("version_pk") or RiskRuleVersion.objects.filter(district=district).order_by("-number")[0].pk
        return logged_per_school(district_school_ids(district.pk), action, user, "care.riskruleversion", pk)
    return rows


BUREAU_READS = {"bureau_admin": 200, "bureau_inspector": 200, "gupei_township": 403, "gupei_admin": 403,
                "gupei_teacher": 403, "gupei_clerk": 403}
BUREAU_WRITES = {"bureau_admin": 302, "bureau_inspector": 403, "gupei_township": 403, "gupei_admin": 403,
                 "gupei_teacher": 403}

for _page in [
    DistrictPage("care_district", _district, BUREAU_READS),
    DistrictPage("care_district", _district, BUREAU_WRITES, method="post", data=_upload,
                 logs=_rules_logged("create")),
    # The rules are the district's published weights: anyone with a role in it may read them.
    DistrictPage("care_rules_download", _version, {"bureau_admin": 200, "gupei_admin": 200, "gupei_teacher": 200},
                 logs=lambda *args: []),
    DistrictPage("care_rules_activate", _version, BUREAU_WRITES, method="post", logs=_rules_logged("update")),
]:
    register_district(_page)
