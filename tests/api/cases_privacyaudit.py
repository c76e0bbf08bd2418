"""Isolation cases of the audit packs (api/privacyaudit): the bureau admin and inspector of the
district read its packs, nobody else does (school staff of the district included); only the bureau
admin builds one."""
from __future__ import annotations

from django.utils import timezone

from privacyaudit.models import AuditPack, audit_pack_folder
from tenancy.scoping import district_scope

from .harness import Case, ExtraRoute, district_school_ids, logged_per_school, register, stored_file


def _packs(tree):
    year = timezone.localdate().year
    out = {}
    for label, district in (("own", tree.district), ("far", tree.other_district)):
        with district_scope(district):
            version = AuditPack.objects.filter(district=district, year=year).count() + 1
            out[label] = AuditPack.objects.create(district=district, year=year, version=version)
    return out


def _pack_files(tree, objs):
    for pack in objs.values():
        files = {kind: stored_file(f"{audit_pack_folder(pack.district_id)}/isolation-{pack.pk}.{kind}")
                 for kind in ("docx", "xlsx")}
        with district_scope(pack.district_id):
            AuditPack.objects.filter(pk=pack.pk).update(status=AuditPack.Status.DONE, files=files)


def _per_district_school(action):
    """A pack holds every school's figures: its creation and each download are logged once per
    school of the district (privacyaudit.services._common.log_on_district)."""
    def rows(*args):
        pack, user = args[-2], args[-1]
        return logged_per_school(district_school_ids(pack.district_id), action, user, "privacyaudit.auditpack",
                                 pack.pk)
    return rows


def _create_payloads(tree, objs):
    year = timezone.localdate().year
    return {"own": {"district": tree.district.pk, "year": year}, "far": {"district": tree.other_district.pk,
                                                                          "year": year}}


register(Case(
    basename="audit-packs",
    make=_packs,
    sees={"bureau_admin": {"own"}, "bureau_inspector": {"own"},
          "other_bureau_admin": {"far"}, "other_bureau_inspector": {"far"}},
    extra_routes=[ExtraRoute("audit-packs-download", args=lambda pack, kind=kind: [pack.pk, kind], prepare=_pack_files,
                             logs=_per_district_school("export"))
                  for kind in ("docx", "xlsx")],
    logs=_per_district_school("create"),
    create_payloads=_create_payloads,
    # School staff see their district (its calendar) but hold no district permission: 403.
    create_expect={"bureau_admin": {"own": 201}, "other_bureau_admin": {"far": 201},
                   "bureau_inspector": {"own": 403}, "other_bureau_inspector": {"far": 403},
                   "gupei_admin": {"own": 403}, "menzhuang_admin": {"own": 403}, "gupei_township": {"own": 403},
                   "gupei_teacher": {"own": 403}, "gupei_clerk": {"own": 403},
                   "other_township": {"far": 403}, "other_admin": {"far": 403}, "other_teacher": {"far": 403},
                   "other_clerk": {"far": 403}},
))
