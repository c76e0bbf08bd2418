"""Uploaded documents are stored without the metadata that names their author, editor, company or
the folder they were saved in, through the real upload service; the content is intact, the SHA-256
is of the stored bytes, and the same document saved by two people is found as one file."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from schools import services
from schools.evidence import EvidenceError, check_document
from schools.models import Activity, Evidence, ReusedEvidenceFlag
from tenancy.scoping import tenant_scope
from tests.support.documents import (
    AUTHOR,
    COMPANY,
    FOLDER,
    IDENTIFYING,
    MANAGER,
    TITLE,
    docx_bytes,
    pdf_bytes,
    xlsx_bytes,
)


def _activity(school, today, title="读书会") -> Activity:
    with tenant_scope([school.id]):
        return services.activity_create(actor=None, school=school, date=today - dt.timedelta(days=1),
                                        kind="theme_activity", title=title)


def _upload(user, school, name, data, attach_to=None) -> tuple[Evidence, bytes]:
    with tenant_scope([school.id]):
        item = services.evidence_upload(actor=user, school=school, attach_to=attach_to,
                                        uploaded_file=SimpleUploadedFile(name, data))
    with default_storage.open(item.file.name, "rb") as fh:
        return item, fh.read()


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _assert_nothing_identifying(blob: bytes) -> None:
    found = [text for text in IDENTIFYING if text.encode("utf-8") in blob]
    assert not found, f"still in the stored file: {found}"


def test_docx_is_stored_without_author_editor_title_company(home, today):
    original = docx_bytes(metadata=True)
    assert AUTHOR.encode() in _parts(original)["docProps/core.xml"] and COMPANY.encode() in _parts(original)["docProps/app.xml"]
    item, stored = _upload(home.gupei_clerk, home.gupei, "计划.docx", original, _activity(home.gupei, today))
    assert item.kind == "document" and item.file.name.endswith(".docx")
    assert item.sha256 == hashlib.sha256(stored).hexdigest() and item.size == len(stored)
    assert item.sha256 in item.file.name
    stored_parts, original_parts = _parts(stored), _parts(original)
    _assert_nothing_identifying(b"".join(stored_parts.values()))

    from docx import Document

    doc = Document(io.BytesIO(stored))
    props = doc.core_properties
    assert (props.author, props.last_modified_by, props.title, props.comments) == ("", "", "", "")
    # The content is intact: the same paragraphs and table, and every part other than docProps/ byte for byte.
    assert [p.text for p in doc.paragraphs] == ["第一段 first", "第二段 second"]
    assert [c.text for c in doc.tables[0].rows[0].cells] == ["儿童", "12"]
    assert list(stored_parts) == list(original_parts)
    assert {n: d for n, d in stored_parts.items() if not n.startswith("docProps/")} == {
        n: d for n, d in original_parts.items() if not n.startswith("docProps/")}


def test_xlsx_is_stored_without_author_company_manager_and_folder(home, today):
    original = xlsx_bytes(metadata=True)
    assert FOLDER.encode() in _parts(original)["xl/workbook.xml"] and MANAGER.encode() in _parts(original)["docProps/app.xml"]
    item, stored = _upload(home.gupei_clerk, home.gupei, "名单.xlsx", original, _activity(home.gupei, today))
    assert item.file.name.endswith(".xlsx") and item.sha256 == hashlib.sha256(stored).hexdigest()
    stored_parts, original_parts = _parts(stored), _parts(original)
    _assert_nothing_identifying(b"".join(stored_parts.values()))
    assert b"absPath" not in stored_parts["xl/workbook.xml"]

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(stored))
    props = book.properties  # (openpyxl names itself the creator when the file names nobody)
    assert (props.title, props.description, props.lastModifiedBy) == (None, None, None)
    assert b"creator" not in stored_parts["docProps/core.xml"] and b"Company" not in stored_parts["docProps/app.xml"]
    assert book.sheetnames == ["名单"]
    assert [[c.value for c in row] for row in book["名单"].iter_rows()] == [["姓名", "人数"], ["三(1)班", 12]]
    assert '<sheet name="名单"'.encode() in stored_parts["xl/workbook.xml"]
    unchanged = {n for n in original_parts if not n.startswith("docProps/") and n != "xl/workbook.xml"}
    assert unchanged and all(stored_parts[n] == original_parts[n] for n in unchanged)


def test_pdf_is_stored_without_info_dictionary_and_xmp(home, today):
    original = pdf_bytes("Activity plan 2026", metadata=True)
    assert AUTHOR.encode("utf-16-be") in original or b"Zhang San" in original  # precondition
    item, stored = _upload(home.gupei_clerk, home.gupei, "plan.pdf", original, _activity(home.gupei, today))
    assert item.file.name.endswith(".pdf") and item.sha256 == hashlib.sha256(stored).hexdigest()

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(stored))
    assert reader.metadata is None and reader.xmp_metadata is None
    assert "/Info" not in reader.trailer and b"xmpmeta" not in stored and b"Zhang San" not in stored
    assert AUTHOR.encode("utf-16-be") not in stored and TITLE.encode("utf-16-be") not in stored
    assert len(reader.pages) == 1 and reader.pages[0].extract_text() == "Activity plan 2026"


def test_rule_document_is_stripped_too(home):
    with tenant_scope([home.gupei.id]):
        version = services.rule_document_version_add(
            actor=home.gupei_clerk, school=home.gupei, kind="annual_plan", adopted_on=dt.date(2026, 9, 1),
            uploaded_file=SimpleUploadedFile("年度计划.docx", docx_bytes(metadata=True)))
        name = version.evidence.file.name
    with default_storage.open(name, "rb") as fh:
        _assert_nothing_identifying(b"".join(_parts(fh.read()).values()))


@pytest.mark.parametrize("make", [docx_bytes, xlsx_bytes, pdf_bytes], ids=["docx", "xlsx", "pdf"])
def test_the_same_document_saved_by_two_people_is_one_file(home, today, make):
    """The hash is of the stripped bytes: another school's copy of a document is flagged as the same
    file even though a different person saved it; re-uploading gives the same stored file."""
    mine = make(metadata=True, author="王老师 Wang")
    theirs = make(metadata=True, author="赵老师 Zhao")
    assert mine != theirs
    first, _stored = _upload(home.gupei_clerk, home.gupei, "a", mine, _activity(home.gupei, today))
    again, _stored = _upload(home.gupei_clerk, home.gupei, "a", mine, _activity(home.gupei, today, "二"))
    other, _stored = _upload(home.menzhuang_admin, home.menzhuang, "b", theirs, _activity(home.menzhuang, today))
    assert first.sha256 == again.sha256 == other.sha256 and first.file.name.split("/")[-1] == other.file.name.split("/")[-1]
    with tenant_scope([home.menzhuang.id]):
        flags = list(ReusedEvidenceFlag.objects.filter(evidence=other).values_list("reason", "matched_school_id"))
    assert (ReusedEvidenceFlag.Reason.SAME_FILE, home.gupei.id) in flags


def test_a_different_document_is_not_the_same_file(home, today):
    first, _s = _upload(home.gupei_clerk, home.gupei, "a.pdf", pdf_bytes("one", metadata=True), _activity(home.gupei, today))
    other, _s = _upload(home.menzhuang_admin, home.menzhuang, "b.pdf", pdf_bytes("two", metadata=True),
                        _activity(home.menzhuang, today))
    assert first.sha256 != other.sha256
    with tenant_scope([home.menzhuang.id]):
        assert not ReusedEvidenceFlag.objects.filter(evidence=other).exists()


# --- what cannot be stripped ------------------------------------------------------------------------

def test_signed_pdf_is_kept_as_signed():
    """Rewriting a signed PDF would break its signature: it is stored as uploaded (docs/ARCHITECTURE.md, section 7)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, NumberObject

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes("signed", metadata=True))))
    writer.root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/SigFlags"): NumberObject(3)})
    out = io.BytesIO()
    writer.write(out)
    signed = out.getvalue()
    checked = check_document(signed)
    assert checked.data == signed and checked.sha256 == hashlib.sha256(signed).hexdigest()


def test_password_protected_pdf_is_refused(home, today):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes("secret"))))
    writer.encrypt(user_password="open-sesame", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(EvidenceError, match="Password-protected PDFs are not accepted"):
        check_document(out.getvalue())
    # Only restrictions (no password to open): readable, so stripped like any other PDF.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes("restricted", metadata=True))))
    writer.encrypt(user_password="", owner_password="owner", permissions_flag=0)
    out = io.BytesIO()
    writer.write(out)
    data = check_document(out.getvalue()).data
    reader = PdfReader(io.BytesIO(data))
    assert reader.metadata is None and reader.pages[0].extract_text() == "restricted"


def test_pdf_that_cannot_be_read_is_refused_and_nothing_is_stored(home, today):
    broken = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"  # no xref at all
    with pytest.raises(EvidenceError, match="PDF is damaged"):
        check_document(broken)
    with tenant_scope([home.gupei.id]), pytest.raises((EvidenceError, ValidationError)):
        services.evidence_upload(actor=home.gupei_clerk, school=home.gupei, uploaded_file=SimpleUploadedFile("x.pdf", broken),
                                 attach_to=_activity(home.gupei, today))
    with tenant_scope([home.gupei.id]):
        assert not Evidence.objects.exists()


def test_zip_with_two_entries_of_one_name_is_refused():
    data = docx_bytes()
    out = io.BytesIO()
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                target.writestr(info, source.read(info))
            target.writestr("docProps/core.xml", f"<cp:coreProperties>{AUTHOR}</cp:coreProperties>")
    with pytest.raises(EvidenceError, match="damaged"):
        check_document(out.getvalue())
