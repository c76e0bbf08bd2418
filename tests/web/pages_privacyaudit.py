"""Pages of the minors'-data audit for the isolation walks: the bureau's audit packs and breach
register of a district (DistrictPage: the bureau admin builds and records, the inspector reads,
every school role of the district gets 404), and a school admin's breach register (Page)."""
from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from privacyaudit import services
from privacyaudit.models import AuditPack, Breach, BreachNotice, audit_pack_folder
from tenancy.scoping import district_scope
from tests.support.access_log import Logged, district_school_ids, logged_per_school

from .pages import DistrictPage, Page, register, register_district

_seq = itertools.count()
SCHOOL_ROLES = ("gupei_township", "gupei_admin", "gupei_teacher", "gupei_clerk", "village_a_admin")


def _statuses(admin: int, inspector: int) -> dict:
    return {"bureau_admin": admin, "bureau_inspector": inspector} | {u: 404 for u in SCHOOL_ROLES}


def _district(t, district):
    return {"pk": district.pk}


def _pack(t, district, *, done=True):
    from tests.api.harness import stored_file

    year = timezone.localdate().year
    with district_scope(district):
        version = AuditPack.objects.filter(district=district, year=year).count() + 1
        pack = AuditPack.objects.create(district=district, year=year, version=version)
    if done:
        files = {k: stored_file(f"{audit_pack_folder(district.pk)}/walk-{pack.pk}.{k}") for k in ("docx", "xlsx")}
        figures = {"district": district.name, "year": year, "as_of": str(timezone.localdate()),
                   "period": [f"{year}-01-01", str(timezone.localdate())],
                   "sections": [{"key": "data", "title": "t", "notes": [], "tables": [],
                                 "figures": [{"key": "children_held", "label": "l", "value": 1, "sql": "SELECT 1",
                                              "finding": False}]}]}
        with district_scope(district):
            AuditPack.objects.filter(pk=pack.pk).update(status="done", progress=100, files=files, figures=figures)
    return {"pk": district.pk, "pack_pk": pack.pk}


def _pack_file(kind):
    return lambda t, district: _pack(t, district) | {"kind": kind}


def _pack_logged(action):
    def rows(t, district, kwargs, data, user):
        pack_pk = kwargs.get("pack_pk") or AuditPack.objects.filter(district=district).order_by("-id").first().pk
        return logged_per_school(district_school_ids(district.pk), action, user, "privacyaudit.auditpack", pack_pk)
    return rows


def _breach_data(t, district_or_school, *, schools=None):
    today = timezone.localdate()
    data = {"occurred_on": (today - dt.timedelta(days=2)).isoformat(), "discovered_on": today.isoformat(),
            "data_involved": f"监护人电话{next(_seq)}", "children_affected": "3", "description": "误发",
            "measures": "撤回"}
    if schools is not None:
        data["affected_schools"] = [str(s) for s in schools]
    return data


def _district_breach_data(t, district):
    schools = district_school_ids(district.pk)[:2]
    return _breach_data(t, district, schools=schools)


def _breach(t, district, school=None):
    today = timezone.localdate()
    actor = None
    kwargs = {}
    if school is None:
        actor = t.bureau_admin if district == t.district else t.other_bureau_admin
        kwargs["affected_schools"] = district_school_ids(district.pk)[:2]
    else:
        actor = {t.gupei.pk: t.gupei_admin, t.menzhuang.pk: t.menzhuang_admin, t.village_a.pk: t.village_a_admin,
                 t.far_centre.pk: t.other_admin, t.far_village.pk: t.other_village_admin}[school.pk]
    return services.breach_record(actor=actor, district=district, school=school, occurred_on=today,
                                  discovered_on=today, data_involved=f"照片{next(_seq)}", children_affected=2,
                                  description="外传", measures="删除", **kwargs)


def _district_breach(t, district):
    return {"pk": district.pk, "breach_pk": _breach(t, district).pk}


def _notice_data(t, _owner):
    return {"method": "sms", "sent_on": timezone.localdate().isoformat(), "guardians_notified": "2",
            "text": "已告知监护人"}


def _breach_logged(t, district, kwargs, data, user):
    with district_scope(district):
        breach = Breach.objects.get(data_involved=data["data_involved"])
    return sorted(Logged(sid, "create", "privacyaudit.breach", str(breach.pk), user.pk)
                  for sid in breach.affected_schools)


def _notice_logged(t, owner, kwargs, data, user):
    district = owner if not hasattr(owner, "district_id") else owner.district
    with district_scope(district):
        breach = Breach.objects.get(pk=kwargs["breach_pk"])
        notice = BreachNotice.objects.filter(breach=breach).order_by("-id").first()
    return sorted(Logged(sid, "create", "privacyaudit.breachnotice", str(notice.pk), user.pk)
                  for sid in breach.affected_schools)


for page in [
    DistrictPage("audit_packs", _district, _statuses(200, 200)),
    DistrictPage("audit_pack_build", _district, _statuses(200, 403)),
    DistrictPage("audit_pack_build", _district, _statuses(302, 403), method="post",
                 data=lambda t, d: {"year": str(timezone.localdate().year)}, logs=_pack_logged("create")),
    DistrictPage("audit_pack_report", _pack, _statuses(200, 200)),
    DistrictPage("audit_pack_status", lambda t, d: _pack(t, d, done=False), _statuses(200, 200)),
    DistrictPage("audit_pack_download", _pack_file("docx"), _statuses(200, 200), logs=_pack_logged("export")),
    DistrictPage("audit_pack_download", _pack_file("xlsx"), _statuses(200, 200), logs=_pack_logged("export")),
    DistrictPage("district_breaches", _district, _statuses(200, 200)),
    DistrictPage("district_breaches", _district, _statuses(302, 403), method="post", data=_district_breach_data,
                 logs=_breach_logged),
    DistrictPage("district_breach", _district_breach, _statuses(200, 200)),
    DistrictPage("district_breach", _district_breach, _statuses(302, 403), method="post", data=_notice_data,
                 logs=_notice_logged),
]:
    register_district(page)


def _school(t, school):
    return {"school_pk": school.pk}


def _school_breach(t, school):
    return {"school_pk": school.pk, "breach_pk": _breach(t, school.district, school).pk}


def _school_breach_logged(t, school, kwargs, data, user):
    with district_scope(school.district):
        breach = Breach.objects.get(data_involved=data["data_involved"])
    return [Logged(school.pk, "create", "privacyaudit.breach", str(breach.pk), user.pk)]


# A school's breach register is its admin's (manage_children): teachers, clerks, the township and
# the bureau get 403 here (the bureau reads every breach on its district's pages).
SCHOOL_ONLY = dict(teacher_status=403, clerk_status=403, overseer_status=403, inspector_status=403)
for page in [
    Page("school_breaches", _school, **SCHOOL_ONLY),
    Page("school_breaches", _school, method="post", owner_status=302, data=_breach_data, logs=_school_breach_logged,
         **SCHOOL_ONLY),
    Page("school_breach", _school_breach, **SCHOOL_ONLY),
    Page("school_breach", _school_breach, method="post", owner_status=302, data=_notice_data, logs=_notice_logged,
         **SCHOOL_ONLY),
]:
    register(page)
