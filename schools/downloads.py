"""The read actions for a school's files: an evidence file and its thumbnail, the children's
archive as a workbook, and the blank import template. Each is the one door for its file, used by
the web page and the API alike (see tenancy.downloads)."""
from __future__ import annotations

import io
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tenancy.downloads import XLSX, Download, FileUnavailable, download_name, open_stored
from tenancy.models import AccessLog, School
from tenancy.selectors import has_school_perm
from tenancy.services import access_log_record, access_log_record_many

from . import importing, selectors
from .models import Evidence, evidence_folder

# Photos of children: the user's browser may keep them a while, a shared cache never.
PHOTO_CACHE = "private, max-age=3600"


def _require_evidence_reader(user, evidence: Evidence) -> None:
    """The rule of the API's EvidenceViewSet and the web's evidence pages: view_home on the
    school, and for a care contact's evidence the right to read that child's personal record
    (a materials clerk, an unassigned teacher, the bureau without an identity grant do not).
    Anything else is 404: the item's existence is not revealed."""
    if not has_school_perm(user, "view_home", evidence.school):
        raise Http404
    if evidence.care_contact_id and not selectors.children_with_identity_visible_to(user).filter(
            pk=evidence.care_contact.child_id).exists():
        raise Http404


def _open_logged(user, evidence: Evidence, name: str, *, request, detail: dict | None = None):
    handle = open_stored(name, under=evidence_folder(evidence.school_id))
    try:
        access_log_record(user=user, school_id=evidence.school_id, action=AccessLog.Action.VIEW, obj=evidence,
                          request=request, detail=detail)
    except BaseException:
        handle.close()
        raise
    return handle


@transaction.atomic
def evidence_file(*, user, evidence: Evidence, request=None) -> Download:
    """The uploaded file: a photo shown inline, a document as an attachment. Logged as a view."""
    _require_evidence_reader(user, evidence)
    handle = _open_logged(user, evidence, evidence.file.name, request=request)
    filename = ""
    if evidence.kind == Evidence.Kind.DOCUMENT:
        ext = evidence.file.name.rsplit(".", 1)[-1]
        filename = download_name(evidence.school.name, evidence.caption or _("evidence"), str(evidence.pk), ext=ext)
    return Download(handle=handle, content_type=evidence.content_type, filename=filename, cache_control=PHOTO_CACHE)


@transaction.atomic
def evidence_thumbnail(*, user, evidence: Evidence, request=None) -> Download:
    """A photo's small copy. It still shows the children: logged as a view like the photo."""
    _require_evidence_reader(user, evidence)
    if not evidence.thumbnail:
        raise FileUnavailable(_("This file is not available."))
    handle = _open_logged(user, evidence, evidence.thumbnail.name, request=request, detail={"file": "thumbnail"})
    return Download(handle=handle, content_type="image/jpeg", cache_control=PHOTO_CACHE)


@transaction.atomic
def children_export(*, user, school: School, unmasked: bool, render: Callable[[list, list], bytes],
                    request=None) -> Download:
    """The archive as a workbook, `render(columns, rows)` making its bytes. Only whoever manages
    the archive exports; the full, unmasked form also needs view_child_identity. An export is a
    read of every child in it: one "export" row per child, in one INSERT."""
    if not has_school_perm(user, "manage_children", school):
        raise PermissionDenied
    if unmasked and not has_school_perm(user, "view_child_identity", school):
        raise PermissionDenied
    columns, rows = selectors.children_export_rows(school, unmasked=unmasked)
    access_log_record_many(user=user, school_id=school.id, object_ids=[r["id"] for r in rows],
                           action=AccessLog.Action.EXPORT, object_type="schools.child", request=request,
                           detail={"unmasked": unmasked})
    stamp = timezone.localdate().strftime("%Y%m%d")
    kind = "full" if unmasked else "masked"
    return Download(handle=io.BytesIO(render(columns, rows)), content_type=XLSX,
                    filename=download_name(school.name, _("children"), stamp,
                                           _("full") if unmasked else _("masked"), ext="xlsx"),
                    ascii_filename=f"children-{school.code}-{stamp}-{kind}.xlsx")


@transaction.atomic
def register_export(*, user, school: School, unmasked: bool, render: Callable[[list, list], bytes],
                    request=None) -> Download:
    """The school's children in the civil-affairs register's own columns (selectors.REGISTER_COLUMNS),
    `render(columns, rows)` making the workbook. The same rule as the archive export: whoever manages
    the archive, the full form also needs view_child_identity; one "export" row per child."""
    if not has_school_perm(user, "manage_children", school):
        raise PermissionDenied
    if unmasked and not has_school_perm(user, "view_child_identity", school):
        raise PermissionDenied
    rows = selectors.register_export_rows(school, unmasked=unmasked)
    access_log_record_many(user=user, school_id=school.id, object_ids=[r["id"] for r in rows],
                           action=AccessLog.Action.EXPORT, object_type="schools.child", request=request,
                           detail={"unmasked": unmasked, "layout": "register"})
    stamp = timezone.localdate().strftime("%Y%m%d")
    kind = "full" if unmasked else "masked"
    return Download(handle=io.BytesIO(render(list(selectors.REGISTER_COLUMNS), rows)), content_type=XLSX,
                    filename=download_name(school.name, _("civil-affairs register"), stamp,
                                           _("full") if unmasked else _("masked"), ext="xlsx"),
                    ascii_filename=f"register-{school.code}-{stamp}-{kind}.xlsx")


def children_import_template(*, user) -> Download:
    """The blank import template (column titles and an example row). Not access-logged: it holds
    no record of anyone. Anyone signed in may have it; the web offers it on the import page."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied
    return Download(handle=io.BytesIO(importing.children_template_xlsx()), content_type=XLSX,
                    filename=download_name(_("children import template"), ext="xlsx"),
                    ascii_filename="children-template.xlsx")
