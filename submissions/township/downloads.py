"""The read action for a township package's files: the one door for the page and the API. It
holds every included school's figures, so a download is logged as an export on each of them
(the centre's own row first)."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tenancy.downloads import DOCX, XLSX, Download, FileUnavailable, download_name, open_stored
from tenancy.models import AccessLog
from tenancy.services import access_log_record_many

from ..models import TownshipPackage, township_storage_key

KINDS = {"xlsx": XLSX, "docx": DOCX}
KIND_NAMES = {"xlsx": lambda: _("data workbook"), "docx": lambda: _("work summary")}


def included_school_ids(package: TownshipPackage) -> list[int]:
    """The centre and every school whose figures the package holds, each once."""
    ids = [package.school_id]
    for school in package.schools or []:
        if school.get("id") not in ids:
            ids.append(school["id"])
    return ids


@transaction.atomic
def township_file(*, user, package: TownshipPackage, kind: str, request=None) -> Download:
    """One file of a done package. The package comes from township_packages_visible_to (another
    centre's or district's is 404 before this)."""
    if kind not in KINDS or package.status != TownshipPackage.Status.DONE:
        raise FileUnavailable(_("This file is not available."))
    # The folder derives from the row's identity: a stored key pointing elsewhere is refused.
    folder = township_storage_key(package.school_id, package.period_id, package.version)
    handle = open_stored((package.files or {}).get(kind), under=folder)
    try:
        access_log_record_many(user=user, school_ids=included_school_ids(package), action=AccessLog.Action.EXPORT,
                               object_type=package._meta.label_lower, object_id=package.pk, request=request,
                               detail={"file": kind, "version": package.version})
    except BaseException:
        handle.close()
        raise
    period = package.period
    filename = download_name(package.school.name, package.report_type.name,
                             f"{period.start_on:%Y%m%d}-{period.end_on:%Y%m%d}", _("township summary"),
                             KIND_NAMES[kind](), _("v%(n)d") % {"n": package.version}, ext=kind)
    ascii_filename = (f"{package.report_type.code}-{period.start_on:%Y%m%d}-{package.school.code}"
                      f"-township-v{package.version}.{kind}")
    return Download(handle=handle, content_type=KINDS[kind], filename=filename, ascii_filename=ascii_filename)
