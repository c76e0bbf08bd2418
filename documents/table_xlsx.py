"""A one-sheet workbook of a table as a page shows it (a title line, a header row, the rows), for
the overview tables' exports. Built by the safe factory like every workbook the platform writes."""
from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from .workbook import safe_workbook


def table_workbook(*, sheet: str, title: str, header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """Numbers stay numbers (Excel sorts and sums them); None is an empty cell; text is inert text."""
    out = io.BytesIO()
    book = safe_workbook(out, in_memory=True)
    bold = book.add_format({"bold": True})
    ws = book.add_worksheet(sheet[:31])
    ws.write(0, 0, title, bold)
    ws.write_row(2, 0, list(header), bold)
    widths = [len(str(h)) for h in header]
    for r, row in enumerate(rows, start=3):
        for c, value in enumerate(row):
            if value is None or value == "":
                ws.write_blank(r, c, None)
            else:
                ws.write(r, c, float(value) if not isinstance(value, (int, float, str, bool)) else value)
            if c < len(widths):
                widths[c] = max(widths[c], len(str(value or "")))
    for c, width in enumerate(widths):
        ws.set_column(c, c, min(40, 2 * width + 2))  # CJK characters are two columns wide
    ws.freeze_panes(3, 0)
    book.close()
    return out.getvalue()
