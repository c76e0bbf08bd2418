"""The one way the platform writes an XLSX file: `safe_workbook(target, **options)`.

Every cell text may come from a school user (an activity title, a child's class, a staff name),
so a workbook built here never turns text into a formula or a link:

- `strings_to_formulas` and `strings_to_urls` are off and cannot be turned back on;
- text that starts with = + - @, a tab or a carriage return (OWASP's CSV-injection triggers) is
  written as a string cell with Excel's quote-prefix style, see `_quoted`;
- text shaped like xlsxwriter's internal rich-string markup ("<r>...</r>") is written as escaped
  rich text: xlsxwriter would otherwise copy it into the sheet XML unescaped, and in
  constant_memory mode that lets a title inject a live <f> cell.

The platform's own formulas go through `write_formula` explicitly; nothing else makes one.
Subclassing Workbook/Worksheet and overriding the write methods is xlsxwriter's documented way to
change how cells are written (its "inheritance" examples); constant_memory and in_memory work as
usual.
"""
from __future__ import annotations

import copy

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet, convert_cell_args

# OWASP CSV-injection triggers: a spreadsheet may evaluate text that starts with one of these.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_LOCKED_OFF = ("strings_to_formulas", "strings_to_urls")


def _is_raw_rich_markup(text: str) -> bool:
    # The exact test xlsxwriter applies when it writes a cell's (or a shared) string.
    return text.startswith("<r>") and text.endswith("</r>")


class SafeWorksheet(Worksheet):
    """A worksheet whose text cells are always inert text. write(), write_row() and write_column()
    send every str (subclasses included) to write_string(), which neutralises it."""

    quoted_format = None  # set by SafeWorkbook: Format | None -> the same format with quote_prefix

    @convert_cell_args
    def write(self, row, col, *args):
        if args and isinstance(args[0], str) and args[0] != "":
            return self.write_string(row, col, *args)
        return super().write(row, col, *args)

    @convert_cell_args
    def write_row(self, row, col, data, cell_format=None):
        for token in data:
            error = self.write(row, col, token, cell_format)
            if error:
                return error
            col += 1
        return 0

    @convert_cell_args
    def write_column(self, row, col, data, cell_format=None):
        for token in data:
            error = self.write(row, col, token, cell_format)
            if error:
                return error
            row += 1
        return 0

    @convert_cell_args
    def write_string(self, row, col, string, cell_format=None):
        string = str(string)
        if string.startswith(FORMULA_TRIGGERS):
            cell_format = self.quoted_format(cell_format)
        elif _is_raw_rich_markup(string):
            # Three plain fragments (xlsxwriter needs more than two): each is XML-escaped, and the
            # cell reads back as exactly `string`.
            parts = [string[0], string[1], string[2:]]
            return self.write_rich_string(row, col, *parts, *([cell_format] if cell_format else []))
        return super().write_string(row, col, string, cell_format)


class SafeWorkbook(xlsxwriter.Workbook):
    worksheet_class = SafeWorksheet

    def __init__(self, filename=None, options=None):
        options = dict(options or {})
        for key in _LOCKED_OFF:
            if options.get(key):
                raise ValueError(f"{key} cannot be turned on: cell text may come from users")
            options[key] = False
        super().__init__(filename, options)
        self._quoted_formats: dict[int, tuple[Format | None, Format]] = {}

    def add_worksheet(self, name=None, worksheet_class=None):
        if worksheet_class not in (None, SafeWorksheet):
            raise ValueError("worksheets of a safe workbook are SafeWorksheets")
        sheet = super().add_worksheet(name, SafeWorksheet)
        sheet.quoted_format = self._quoted
        return sheet

    def _quoted(self, cell_format: Format | None) -> Format:
        """`cell_format` plus Excel's quotePrefix: the cell stays text (as if typed after an
        apostrophe) even when someone edits it, and the user sees exactly what was written; a
        literal apostrophe in the value would instead show up and alter the data."""
        key = id(cell_format)
        cached = self._quoted_formats.get(key)
        if cached is None:
            if cell_format is None:
                quoted = self.add_format({"quote_prefix": True})
            else:
                quoted = copy.copy(cell_format)
                # A fresh format of its own: xlsxwriter assigns indices and caches the key lazily.
                quoted.xf_index = quoted.dxf_index = quoted._format_key = None
                quoted.set_quote_prefix(True)
                self.formats.append(quoted)
            # Keep the original alive with its copy, so its id() is never reused for another format.
            cached = self._quoted_formats[key] = (cell_format, quoted)
        return cached[1]


def safe_workbook(target, **options) -> SafeWorkbook:
    """A workbook writing to `target` (a path or a binary file object). Options are xlsxwriter's
    (constant_memory, in_memory, ...), except that strings_to_formulas/strings_to_urls stay off."""
    return SafeWorkbook(target, options)
