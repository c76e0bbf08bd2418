"""Small real documents for upload tests: a PDF, a DOCX and an XLSX, optionally carrying the
metadata an office program writes (author, last editor, title, company, manager, the folder)."""
from __future__ import annotations

import io
import zipfile

AUTHOR, EDITOR, TITLE, COMPANY, MANAGER = "张三 Zhang San", "李四 Li Si", "秘密标题 Secret title", "某某公司 ACME", "王经理 Boss"
FOLDER = "C:\\Users\\zhangsan\\Desktop\\留守儿童\\"
IDENTIFYING = [AUTHOR, EDITOR, TITLE, COMPANY, MANAGER, "zhangsan"]


def pdf_bytes(text: str = "Hello", *, metadata: bool = False, author: str = AUTHOR) -> bytes:
    """A one-page PDF showing `text` (ASCII); with `metadata`, an information dictionary and XMP."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})})
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("ascii"))
    page[NameObject("/Contents")] = writer._add_object(content)
    if metadata:
        writer.add_metadata({"/Author": author, "/Title": TITLE, "/Creator": "Microsoft Word", "/Company": COMPANY})
        writer.xmp_metadata = (
            '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{author}</dc:creator></rdf:Description>'
            '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _replace_parts(data: bytes, parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, parts.pop(info.filename, None) or source.read(info))
        for name, payload in parts.items():
            target.writestr(name, payload)
    return out.getvalue()


APP_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties xmlns="http://schemas.openxml'
           'formats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/'
           f'officeDocument/2006/docPropsVTypes"><Application>Microsoft Office Word</Application><Manager>{MANAGER}'
           f'</Manager><Company>{COMPANY}</Company></Properties>').encode()


def docx_bytes(paragraphs=("第一段 first", "第二段 second"), *, metadata: bool = False, author: str = AUTHOR) -> bytes:
    from docx import Document

    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    table = doc.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "儿童", "12"
    props = doc.core_properties
    props.author = props.last_modified_by = props.title = props.comments = ""
    if metadata:
        props.author, props.last_modified_by, props.title = author, EDITOR, TITLE
    out = io.BytesIO()
    doc.save(out)
    data = out.getvalue()
    return _replace_parts(data, {"docProps/app.xml": APP_XML}) if metadata else data


def xlsx_bytes(rows=(("姓名", "人数"), ("三(1)班", 12)), *, metadata: bool = False, author: str = AUTHOR) -> bytes:
    import xlsxwriter  # a third-party producer, as a school's own spreadsheet would be

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    if metadata:
        book.set_properties({"author": author, "title": TITLE, "company": COMPANY, "manager": MANAGER,
                             "comments": EDITOR})
    sheet = book.add_worksheet("名单")
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    data = out.getvalue()
    if not metadata:
        return data
    # Excel records the folder the file was saved in (with the Windows user name) in workbook.xml.
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        workbook = z.read("xl/workbook.xml").decode("utf-8")
    abs_path = ('<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                '<mc:Choice Requires="x15"><x15ac:absPath xmlns:x15ac="http://schemas.microsoft.com/office/'
                f'spreadsheetml/2010/11/ac" url="{FOLDER}"/></mc:Choice></mc:AlternateContent>')
    workbook = workbook.replace("<workbookPr", abs_path + "<workbookPr", 1)
    return _replace_parts(data, {"xl/workbook.xml": workbook.encode("utf-8")})
