"""The import template clerks download and fill in."""
from __future__ import annotations

import datetime as dt
import io

from django.utils.translation import gettext as _

from .cells import (
    make_id_number,
)
from .columns import (
    ASSESSMENT_TITLES,
    COLUMN_BY_FIELD,
    COLUMNS,
    CUSTODY_TITLES,
    HEALTH_TITLES,
    INCOME_TITLES,
    KIND_TITLES,
)


def children_template_xlsx() -> bytes:
    """The import template: header row, dropdowns, text-formatted ID/phone columns, an example row."""
    from documents.workbook import safe_workbook

    out = io.BytesIO()
    book = safe_workbook(out, in_memory=True)
    sheet = book.add_worksheet("儿童名单")
    required = book.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
    optional = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                "valign": "vcenter"})
    as_text = book.add_format({"num_format": "@"})
    as_date = book.add_format({"num_format": "yyyy-mm-dd"})
    widths = {"name": 10, "gender": 6, "birth_date": 12, "id_number": 22, "grade": 8, "class_name": 8,
              "left_behind_kind": 11, "parents_work_place": 16, "guardian_name": 11, "guardian_relation": 11,
              "guardian_phone": 14, "second_contact_name": 11, "second_contact_phone": 14,
              "home_village": 16, "health_notes": 24, "consent_date": 14, "consent_method": 11,
              "custody_type": 16, "guardianship_assessment": 12, "guardian_since": 14, "parents_last_contact_on": 14,
              "income_source": 14, "assistance": 16, "health_status": 10, "disability": 14, "illness": 14,
              "household_registration": 20}
    last_row = 2000
    for col, column in enumerate(COLUMNS):
        fmt = None
        if column.field in ("id_number", "guardian_phone", "second_contact_phone", "class_name"):
            fmt = as_text  # so Excel keeps all 18 digits and leading zeros
        elif column.field in ("birth_date", "consent_date", "guardian_since", "parents_last_contact_on"):
            fmt = as_date
        sheet.set_column(col, col, widths[column.field], fmt)
        sheet.write(0, col, column.title, required if column.required else optional)
    sheet.set_row(0, 30)
    sheet.freeze_panes(1, 0)

    def dropdown(field_name: str, choices: list[str]) -> None:
        col = [c.field for c in COLUMNS].index(field_name)
        sheet.data_validation(1, col, last_row, col, {
            "validate": "list", "source": choices,
            "error_title": COLUMN_BY_FIELD[field_name].title,
            "error_message": "、".join(choices),
        })

    dropdown("gender", ["男", "女"])
    dropdown("left_behind_kind", list(KIND_TITLES.values()))
    dropdown("grade", ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"])
    dropdown("custody_type", list(CUSTODY_TITLES.values()))
    dropdown("guardianship_assessment", list(ASSESSMENT_TITLES.values()))
    dropdown("income_source", list(INCOME_TITLES.values()))
    dropdown("health_status", list(HEALTH_TITLES.values()))

    example_birth = dt.date(2016, 9, 1)
    example = {
        "name": "张小明", "gender": "男", "birth_date": example_birth,
        "id_number": make_id_number(example_birth, "male", sequence=13),
        "grade": "三年级", "class_name": "2", "left_behind_kind": "双亲外出",
        "parents_work_place": "江苏省南京市", "guardian_name": "张大山", "guardian_relation": "祖父",
        "guardian_phone": "13812345678", "second_contact_name": "李秀英", "second_contact_phone": "0550-8123456",
        "home_village": "古沛镇小王村", "health_notes": "健康", "consent_date": dt.date(2026, 3, 2),
        "consent_method": "书面签字",
        "custody_type": "父母均外出务工", "guardianship_assessment": "较好", "guardian_since": dt.date(2025, 2, 10),
        "parents_last_contact_on": dt.date(2026, 2, 28), "income_source": "务工收入", "assistance": "无",
        "health_status": "健康", "disability": "", "illness": "", "household_registration": "安徽省明光市古沛镇",
    }
    for col, column in enumerate(COLUMNS):
        value = example[column.field]
        if isinstance(value, dt.date):
            sheet.write_datetime(1, col, dt.datetime.combine(value, dt.time()), as_date)
        else:
            sheet.write_string(1, col, value)

    notes = book.add_worksheet("填写说明")
    notes.set_column(0, 0, 100)
    lines = [
        _("Fill in one child per row on the first sheet, below the header row. Row 2 is an example: "
          "replace or delete it."),
        _("Orange columns are required; blue columns are optional."),
        _("Dates: 2026-03-05, 2026/3/5, 2026.3.5 or 2026年3月5日."),
        _("ID number: 18 characters; type it into the ID column, which is formatted as text."),
        _("Grade: 1 to 6 or 一年级 to 六年级. Left-behind kind: 双亲外出, 父亲外出 or 母亲外出."),
        _("Phone: an 11-digit mobile number, or a landline with its area code (0550-1234567)."),
        _("The last columns are the civil-affairs register's: custody type, guardianship assessment, income, "
          "assistance (several separated by 、), health category, disability, illness and household "
          "registration. When both parents work away, the entrusted guardian's name, relation and phone are "
          "required; an ill or disabled child needs the illness or disability described."),
        _("CSV files are also accepted (UTF-8 or the GBK/GB18030 that Excel saves)."),
    ]
    for row, line in enumerate(lines):
        notes.write_string(row, 0, line)
    book.close()
    return out.getvalue()
