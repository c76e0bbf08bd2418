"""documents.workbook.safe_workbook: the one workbook factory, and a code check that keeps it so."""
from __future__ import annotations

import ast
import datetime as dt
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from documents.workbook import SafeWorksheet, safe_workbook

ROOT = Path(__file__).resolve().parents[2]
FACTORY = ROOT / "documents" / "workbook.py"
# Benchmarks may write with openpyxl to compare it with the factory's xlsxwriter.
OPENPYXL_ALLOWED = {ROOT / "benchmarks" / "management" / "commands" / "bench_export.py"}
NOT_APPLICATION = {"tests", ".venv", "var", "staticfiles", "node_modules", ".git"}

POISON = ['=HYPERLINK("http://evil.example/x","click")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1",
          "\r=1", '<r><t>a</t></r></is></c><c r="Z1"><f>HYPERLINK("http://evil.example/x","click")</f></c><c><is><r><t>b</t></r>']
PLAIN = ["http://evil.example/x", "mailto:a@b.c", "张小明", "1+1", "{=1}"]


def _build(constant_memory: bool) -> bytes:
    out = io.BytesIO()
    book = safe_workbook(out, in_memory=True, constant_memory=constant_memory)
    sheet = book.add_worksheet("s")
    bold = book.add_format({"bold": True})
    values = POISON + PLAIN
    sheet.write_row(0, 0, values)
    sheet.write_row(1, 0, values, bold)
    for col, value in enumerate(values):
        sheet.write(2, col, value)
        sheet.write_string(3, col, value, bold)
    sheet.write_column(4, 0, values)
    sheet.write_formula(30, 0, "=SUM(1,2)")
    sheet.write_row(31, 0, [3, 2.5, None, "", True, dt.date(2026, 3, 1)])
    book.close()
    return out.getvalue()


def _formulas(content: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    return [part.split(b"</f>")[0] for part in xml.split(b"<f>")[1:]]


@pytest.mark.parametrize("constant_memory", [True, False])
def test_every_write_path_keeps_text_as_text(constant_memory):
    content = _build(constant_memory)
    assert _formulas(content) == [b"SUM(1,2)"], "only the explicit write_formula"
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert not any(n.startswith("xl/worksheets/_rels") for n in z.namelist()), "no hyperlinks"
    sheet = openpyxl.load_workbook(io.BytesIO(content))["s"]
    values = POISON + PLAIN
    rows = [[sheet.cell(r, c + 1) for c in range(len(values))] for r in range(1, 5)]
    rows.append([sheet.cell(5 + i, 1) for i in range(len(values))])
    for cells in rows:
        assert [unescape(c.value) for c in cells] == values
        # Formula triggers carry Excel's quote prefix (text even after an edit); other text does not.
        assert [bool(c.quotePrefix) for c in cells] == [v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in values]
    assert all(c.font.b for c in rows[1] + rows[3]), "the caller's format is kept on quoted cells"
    assert [sheet.cell(32, c).value for c in range(1, 7)] == [3, 2.5, None, None, True, 46082]  # a date: its serial number, as xlsxwriter writes it


@pytest.mark.parametrize("option", ["strings_to_formulas", "strings_to_urls"])
def test_callers_cannot_turn_conversions_back_on(option):
    with pytest.raises(ValueError, match=option):
        safe_workbook(io.BytesIO(), in_memory=True, **{option: True})
    book = safe_workbook(io.BytesIO(), in_memory=True, **{option: False})
    assert getattr(book, option) is False
    book.close()


def test_worksheets_are_always_safe_worksheets():
    from xlsxwriter.worksheet import Worksheet

    book = safe_workbook(io.BytesIO(), in_memory=True)
    assert isinstance(book.add_worksheet(), SafeWorksheet)
    with pytest.raises(ValueError):
        book.add_worksheet("plain", worksheet_class=Worksheet)
    book.close()


# ---------------------------------------------------------------- the code check
def workbook_constructions(source: str, *, allow_openpyxl: bool = False) -> list[int]:
    """Lines that construct an xlsxwriter (or openpyxl) Workbook, or import its class to do so."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module in ("xlsxwriter", "xlsxwriter.workbook"):
            if any(alias.name == "Workbook" for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module == "openpyxl" and not allow_openpyxl:
            if any(alias.name == "Workbook" for alias in node.names):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Workbook":
            owner = node.func.value
            name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if name in ("xlsxwriter", "workbook") or (name == "openpyxl" and not allow_openpyxl):
                lines.append(node.lineno)
    return sorted(lines)


def test_the_checker_finds_what_it_looks_for():
    bad = ("import xlsxwriter\nwb = xlsxwriter.Workbook(path, {'constant_memory': True})\n"
           "from xlsxwriter import Workbook\n"
           "from xlsxwriter.workbook import Workbook as W\n"
           "import openpyxl\nbook = openpyxl.Workbook()\n"
           "from openpyxl import Workbook\n")
    assert workbook_constructions(bad) == [2, 3, 4, 6, 7]
    assert workbook_constructions(bad, allow_openpyxl=True) == [2, 3, 4]
    good = ("from documents.workbook import safe_workbook\nwb = safe_workbook(path, constant_memory=True)\n"
            "import openpyxl\nbook = openpyxl.load_workbook(fh)\n")
    assert workbook_constructions(good) == []


def test_no_workbook_is_built_outside_the_factory():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in NOT_APPLICATION or "migrations" in rel.parts or path == FACTORY:
            continue
        for line in workbook_constructions(path.read_text(), allow_openpyxl=path in OPENPYXL_ALLOWED):
            found.append(f"{rel}:{line}")
    assert not found, ("a workbook built without documents.workbook.safe_workbook (user text could become a "
                       "formula): " + ", ".join(found))


def test_documents_is_a_bottom_layer():
    """schools, submissions and compliance all use documents/: it may import none of the apps."""
    apps = {"api", "benchmarks", "compliance", "schools", "submissions", "tenancy", "config"}
    found = []
    for path in sorted((ROOT / "documents").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            found += [f"{path.name}: {n}" for n in names if n.split(".")[0] in apps]
    assert not found, found
    assert not (ROOT / "documents" / "models.py").exists()
