"""Uploaded documents (PDF, DOCX, XLSX) without the metadata that names people or places.

Pure functions, no models and no storage, like schools.evidence (whose check_document calls
strip_document_metadata once it knows what the file is). Every EvidenceError message is user-facing
and translated.
"""
from __future__ import annotations

import io
import zipfile

from django.utils.translation import gettext as _

from .evidence import EvidenceError


def strip_document_metadata(data: bytes, extension: str) -> bytes:
    """The document without the metadata that names people or places: for DOCX/XLSX the package's
    core, extended and custom properties (docProps/*: creator, lastModifiedBy, title, company,
    manager, ...) and Excel's record of the folder the file was saved in; for PDF the document
    information dictionary and every XMP/PieceInfo stream. The content is left as it is.

    Deterministic (the same content gives the same bytes, whoever saved it and when), so the
    SHA-256 of the result finds a re-uploaded document. A signed PDF is returned unchanged:
    rewriting it would invalidate the signature (see README.md)."""
    if extension == "pdf":
        return _strip_pdf(data)
    return _strip_ooxml(data)


_PROPERTY_PARTS = {
    # part name -> the empty properties document that replaces it (all elements are optional)
    "docProps/core.xml": b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
                         b'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms='
                         b'"http://purl.org/dc/terms/"/>',
    "docProps/app.xml": b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
                        b'extended-properties"/>',
    "docProps/custom.xml": b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
                           b'custom-properties"/>',
}
# Relationship types (transitional and strict) of the three property parts, by the part they replace.
_PROPERTY_RELATIONSHIPS = {
    "core-properties": "docProps/core.xml",
    "extended-properties": "docProps/app.xml",
    "extendedProperties": "docProps/app.xml",
    "custom-properties": "docProps/custom.xml",
    "customProperties": "docProps/custom.xml",
}
_XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_ABS_PATH_NS = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"
# Entries get Office's own fixed timestamp: the save time is metadata too, and a fixed one keeps the
# result the same for the same content.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def _property_parts(archive: zipfile.ZipFile, names: set[str]) -> dict[str, bytes]:
    """{part name: replacement} for the property parts: the usual names, plus wherever the
    package's relationships put them."""
    parts = {name: _PROPERTY_PARTS[name] for name in _PROPERTY_PARTS if name in names}
    if "_rels/.rels" not in names:
        return parts
    from lxml import etree

    try:
        root = etree.fromstring(archive.read("_rels/.rels"), parser=_xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        raise EvidenceError(_("The document is damaged or incomplete and cannot be read.")) from None
    for rel in root:
        kind = str(rel.get("Type", "")).rsplit("/", 1)[-1]
        target = str(rel.get("Target", "")).lstrip("/")
        if kind in _PROPERTY_RELATIONSHIPS and target in names:
            parts[target] = _PROPERTY_PARTS[_PROPERTY_RELATIONSHIPS[kind]]
    return parts


def _xml_parser():
    from lxml import etree

    # No DTDs, no entities, no network: an uploaded package's XML is data, never instructions.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _without_abs_path(workbook_xml: bytes) -> bytes:
    """xl/workbook.xml without <x15ac:absPath url="C:\\Users\\<name>\\...">, the folder Excel saved in."""
    from lxml import etree

    try:
        root = etree.fromstring(workbook_xml, parser=_xml_parser())
    except (etree.XMLSyntaxError, ValueError):
        raise EvidenceError(_("The document is damaged or incomplete and cannot be read.")) from None
    found = root.findall(f".//{{{_ABS_PATH_NS}}}absPath")
    if not found:
        return workbook_xml
    for element in found:
        element.getparent().remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _strip_ooxml(data: bytes) -> bytes:
    damaged = _("The document is damaged or incomplete and cannot be read.")
    out = io.BytesIO()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
            infos = [info for info in source.infolist() if not info.is_dir()]
            names = {info.filename for info in infos}
            if len(names) != len(infos):
                # Two entries of one name: readers disagree on which counts, so neither may hide data.
                raise EvidenceError(damaged)
            replacements = _property_parts(source, names)
            for info in infos:
                payload = source.read(info)
                if info.filename in replacements:
                    payload = _XML_DECLARATION + replacements[info.filename]
                elif info.filename == "xl/workbook.xml" and b"absPath" in payload:
                    payload = _without_abs_path(payload)
                entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_EPOCH)
                stored = info.compress_type == zipfile.ZIP_STORED
                entry.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                target.writestr(entry, payload)
    except EvidenceError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError):
        raise EvidenceError(damaged) from None
    return out.getvalue()


def _strip_pdf(data: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    damaged = _("The PDF is damaged and cannot be read.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EvidenceError(_("Password-protected PDFs are not accepted. Please upload the PDF without a "
                                  "password."))
        root = reader.trailer["/Root"].get_object()
        acroform = root.get("/AcroForm")
        sig_flags = acroform.get_object().get("/SigFlags", 0) if acroform is not None else 0
        if "/Perms" in root or int(sig_flags) & 1:
            return data  # signed: any rewrite breaks the signature, so it is stored as signed
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None  # the document information dictionary (/Info in the trailer)
        # XMP streams (/Metadata) and application data (/PieceInfo) may hang off any object: the
        # catalog, pages, images, fonts. Drop every reference, then every object left unreferenced.
        seen: set[int] = set()
        stack = [writer.root_object]
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                if obj.idnum in seen:
                    continue
                seen.add(obj.idnum)
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):  # streams included
                for key in ("/Metadata", "/PieceInfo"):
                    obj.pop(key, None)
                stack.extend(obj.values())
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
    except EvidenceError:
        raise
    except Exception:  # pypdf raises many kinds on a broken file; all mean the same to the user
        raise EvidenceError(damaged) from None
    return out.getvalue()
