"""The children's archive in and out: the import (preview, confirm, template) and the export."""
from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from pathlib import PurePosixPath

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from documents.workbook import safe_workbook
from tenancy.downloads import download_response
from tenancy.forms import error_text
from tenancy.views import school_page

from .. import downloads, importing, selectors, services
from ..evidence import EvidenceStorageError
from ..forms_archive import ImportUploadForm
from ..register import register_warnings

# ---------------------------------------------------------------- import
logger = logging.getLogger(__name__)
IMPORT_SESSION_KEY = "archive_import:%s"
IMPORT_DIR = "imports"


def _import_pending(request, school):
    return request.session.get(IMPORT_SESSION_KEY % school.pk)


def _import_discard(request, school) -> None:
    pending = request.session.pop(IMPORT_SESSION_KEY % school.pk, None)
    if pending and pending.get("path", "").startswith(f"{IMPORT_DIR}/{school.pk}/"):
        default_storage.delete(pending["path"])


IMPORT_MAX_AGE = dt.timedelta(hours=24)


def _import_sweep(school) -> None:
    """Uploads left unconfirmed (a closed tab) hold children's data: drop this school's older ones."""
    folder = f"{IMPORT_DIR}/{school.pk}"
    try:
        _dirs, files = default_storage.listdir(folder)
        for name in files:
            if timezone.now() - default_storage.get_modified_time(f"{folder}/{name}") > IMPORT_MAX_AGE:
                default_storage.delete(f"{folder}/{name}")
    except (FileNotFoundError, NotImplementedError, OSError):
        pass


def _import_read(pending):
    with default_storage.open(pending["path"], "rb") as fh:
        return importing.read_children_file(fh, pending["filename"])


@school_page("manage_children")
def children_import(request, school):
    """GET: the upload form. POST: keep the file (server side, bound to this session and school) and
    show the preview with every row error; nothing is written to the archive yet."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > importing.MAX_FILE_BYTES:
            form.add_error("file", _("The file is larger than 10 MB."))
        else:
            _import_discard(request, school)
            _import_sweep(school)
            suffix = PurePosixPath(upload.name).suffix.lower()[:6] if "." in upload.name else ""
            try:
                path = default_storage.save(f"{IMPORT_DIR}/{school.pk}/{uuid.uuid4().hex}{suffix}",
                                            ContentFile(upload.read()))
            except Exception:
                logger.exception("import upload could not be stored")
                form.add_error("file", EvidenceStorageError().args[0])
            else:
                pending = {"path": path, "filename": upload.name[:200], "user": request.user.pk}
                request.session[IMPORT_SESSION_KEY % school.pk] = pending
                preview = _import_read(pending)
                checks = _import_checks(school, preview)
                if not checks["can_confirm"]:
                    _import_discard(request, school)  # nothing to confirm: do not keep the file
                return render(request, "schools/archive/import.html", {
                    "school": school, "form": form, "preview": preview, **checks,
                    "columns": {c.field: c.title for c in importing.COLUMNS},
                })
    return render(request, "schools/archive/import.html", {
        "school": school, "form": form, "preview": preview,
        "columns": {c.field: c.title for c in importing.COLUMNS},
    })


def _import_checks(school, preview) -> dict:
    """The archive's duplicate rules over a readable file (the same ones the commit applies):
    ID numbers the district holds stop the import, likely duplicates need a tick to confirm."""
    if not preview.ok:
        return {"can_confirm": False, "rejected": None, "warnings": []}
    errors, warnings = selectors.import_duplicates(school, preview.rows)
    return {"can_confirm": not errors,
            # The register's warnings (schools.register): shown, not in the way of the import.
            "register_notes": [{"row_number": row.row_number, "reason": text}
                               for row in preview.rows for text in register_warnings(row)],
            "warnings": [{"row_number": w.row_number, "column": w.column_title(), "reason": w.reason}
                         for w in warnings],
            "rejected": [{"row_number": e.row_number, "column": e.column_title(), "reason": e.reason}
                         for e in errors]}


@login_required
@require_POST
@school_page("manage_children")
def children_import_confirm(request, school):
    pending = _import_pending(request, school)
    if not pending or pending.get("user") != request.user.pk or not default_storage.exists(pending["path"]):
        messages.error(request, _("There is no uploaded file to confirm. Upload it again."))
        return redirect("children_import", school_pk=school.pk)
    preview = _import_read(pending)  # read again: what is written is what was checked now
    try:
        created = services.children_import_commit(actor=request.user, school=school, preview=preview,
                                                  request=request,
                                                  confirm_duplicates=request.POST.get("confirm_duplicates") == "1")
    except services.ImportNeedsConfirmation:
        messages.error(request, _("Some rows look like children already in the archive: tick the confirmation "
                                  "to import them anyway."))
        return render(request, "schools/archive/import.html", {
            "school": school, "form": ImportUploadForm(), "preview": preview, **_import_checks(school, preview),
            "columns": {c.field: c.title for c in importing.COLUMNS},
        })
    except services.ImportRejected as exc:
        _import_discard(request, school)
        return render(request, "schools/archive/import.html", {
            "school": school, "form": ImportUploadForm(), "preview": preview, "rejected": exc.row_errors,
            "columns": {c.field: c.title for c in importing.COLUMNS},
        }, status=400)
    except ValidationError as exc:
        _import_discard(request, school)
        messages.error(request, error_text(exc))
        return redirect("children_import", school_pk=school.pk)
    _import_discard(request, school)
    messages.success(request, _("%(n)s children were imported.") % {"n": len(created)})
    noted = sum(1 for child in created if register_warnings(child))
    if noted:
        messages.warning(request, _("%(n)s of them have notes from the civil-affairs register's checks: see each "
                                    "child's page.") % {"n": noted})
    return redirect("children_list", school_pk=school.pk)


@school_page("manage_children")
def children_import_template(request, school):
    # Offered on the import page, to whoever may import (the template itself is blank).
    return download_response(downloads.children_import_template(user=request.user))


# ---------------------------------------------------------------- export
def _cell_text(value) -> str:
    return "" if value is None else (value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value))


@school_page("manage_children")
def children_export(request, school):
    """The archive as XLSX. Sensitive fields masked unless ?unmasked=1 by the school admin
    (manage_children + view_child_identity); every exported child is in the access log
    (schools.downloads.children_export checks, logs and hands back the file)."""
    unmasked = request.GET.get("unmasked") == "1"
    return download_response(downloads.children_export(user=request.user, school=school, unmasked=unmasked,
                                                       render=_children_workbook, request=request))


@school_page("manage_children")
def register_export(request, school):
    """The children in the civil-affairs register's columns (schools.downloads.register_export):
    masked unless ?unmasked=1 by the school admin, every exported child access-logged."""
    unmasked = request.GET.get("unmasked") == "1"
    return download_response(downloads.register_export(user=request.user, school=school, unmasked=unmasked,
                                                       render=_register_workbook, request=request))


def _register_workbook(columns, rows) -> bytes:
    out = io.BytesIO()
    book = safe_workbook(out, in_memory=True)
    sheet = book.add_worksheet("农村留守儿童信息")
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "vcenter"})
    for col, (_name, title) in enumerate(columns):
        sheet.write_string(0, col, title, bold)
        sheet.set_column(col, col, 6 if col == 0 else (20 if _name in ("id_number", "household_registration") else 12))
    for r, row in enumerate(rows, start=1):
        for col, (name, _title) in enumerate(columns):
            value = row.get(name)
            if name == "_index":
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, _cell_text(value))
    sheet.set_row(0, 30)
    sheet.freeze_panes(1, 2)
    book.close()
    return out.getvalue()


def _children_workbook(columns, rows) -> bytes:
    # safe_workbook: text that looks like a formula stays text
    out = io.BytesIO()
    book = safe_workbook(out, in_memory=True)
    sheet = book.add_worksheet(_("Children")[:31])
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for col, (_name, title) in enumerate(columns):
        sheet.write_string(0, col, str(title), bold)
        sheet.set_column(col, col, 14)
    for r, row in enumerate(rows, start=1):
        for col, (name, _title) in enumerate(columns):
            sheet.write_string(r, col, _cell_text(row.get(name)))
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()
