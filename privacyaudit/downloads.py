"""The read actions of the audit pack, used by the web pages and the API alike: each checks the
user, writes the access-log row and hands back what to show or stream. A pack holds the whole
district's figures, so each read is logged on every school of the district."""
from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from tenancy.downloads import DOCX, XLSX, Download, FileUnavailable, NotReady, download_name, open_stored
from tenancy.models import AccessLog
from tenancy.services import access_log_record_many

from . import selectors
from .models import AuditPack, audit_pack_folder
from .services._common import log_on_district

KINDS = {"xlsx": XLSX, "docx": DOCX}


def _require_reader(user, pack: AuditPack) -> None:
    if not selectors.can_read_packs(user, pack.district_id):
        raise Http404  # not one of the user's districts' packs: as if it did not exist


@transaction.atomic
def pack_file(*, user, pack: AuditPack, kind: str, request=None) -> Download:
    """One file of a built pack, for the bureau's readers of its district."""
    _require_reader(user, pack)
    if kind not in KINDS:
        raise FileUnavailable(_("This file is not available."))
    if pack.status != AuditPack.Status.DONE:
        raise NotReady(_("This audit pack is not ready."))
    handle = open_stored((pack.files or {}).get(kind), under=audit_pack_folder(pack.district_id))
    try:
        log_on_district(user, pack.district_id, AccessLog.Action.EXPORT, pack, {"file": kind, "year": pack.year},
                        request=request)
    except BaseException:
        handle.close()
        raise
    filename = download_name(pack.district.name, _("minors' data audit"), str(pack.year),
                             _("v%(n)d") % {"n": pack.version}, ext=kind)
    return Download(handle=handle, content_type=KINDS[kind], filename=filename,
                    ascii_filename=f"audit-{pack.year}-v{pack.version}.{kind}")


@transaction.atomic
def pack_report(*, user, pack: AuditPack, request=None) -> dict:
    """The built report's figures, to show as a page (logged as a view of the pack)."""
    _require_reader(user, pack)
    if pack.status != AuditPack.Status.DONE:
        raise NotReady(_("This audit pack is not ready."))
    log_on_district(user, pack.district_id, AccessLog.Action.VIEW, pack, {"year": pack.year}, request=request)
    return pack.figures


@transaction.atomic
def breach_read(*, user, breach, request=None) -> None:
    """A read of a breach's record (its page): logged as a view on each affected school. The caller
    found the breach among what the user may see (privacyaudit.selectors.breaches_visible_to)."""
    access_log_record_many(user=user, school_ids=sorted(set(breach.affected_schools)), action=AccessLog.Action.VIEW,
                           object_type=breach._meta.label_lower, object_id=breach.pk, request=request)
