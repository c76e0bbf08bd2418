"""Reading a school's children register from XLSX or CSV into a checked preview.

Pure: nothing is written here. read_children_file() turns a file into ChildRow objects plus one
RowError per problem; the caller shows the preview and writes all rows in one transaction only when
preview.ok.

Row numbers are the ones the user sees in Excel (the first line of the file is row 1), and an error's
column is the column title as written in the file, so the user can find the cell.

A RowError with row_number 0 is about the file as a whole (unreadable, no header row, too many rows).
"""
from __future__ import annotations

# The public names, _blank (callers skip empty cells with it) and _CellError (a parser's refusal).
from .cells import (  # noqa: F401
    _blank,
    id_birth_date,
    id_check_digit,
    id_gender,
    make_id_number,
    parse_assessment,
    parse_assistance,
    parse_custody_type,
    parse_date,
    parse_gender,
    parse_grade,
    parse_health_status,
    parse_id_number,
    parse_income_source,
    parse_left_behind_kind,
    parse_name,
    parse_phone,
    parse_text,
)
from .columns import (  # noqa: F401
    ASSESSMENT_TITLES,
    ASSISTANCE_TITLES,
    CN_DIGITS,
    COLUMN_BY_FIELD,
    COLUMNS,
    CUSTODY_TITLES,
    GENDER_TITLES,
    GENDERS,
    HEADER_SEARCH_ROWS,
    HEALTH_TITLES,
    INCOME_TITLES,
    KIND_TITLES,
    LEFT_BEHIND_KINDS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_NAME,
    MAX_NOTES,
    MAX_ROWS,
    MAX_SHEET_ROWS,
    MAX_SHORT,
    MAX_TEXT,
    ChildRow,
    Column,
    ImportPreview,
    RowError,
    _CellError,
)
from .reader import (  # noqa: F401
    read_children_file,
)
from .template import children_template_xlsx  # noqa: F401
