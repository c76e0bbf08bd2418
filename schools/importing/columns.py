"""The import columns, the row and error records, and the limits of an import file."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000  # the largest school in a district has a few hundred left-behind children
HEADER_SEARCH_ROWS = 20  # a title row (often merged) or a note may sit above the header
MAX_COLUMNS = 64  # the template has 17; cells further right are not read
MAX_SHEET_ROWS = 50_000  # rows past this are not read; data there is an error, not silently dropped
MAX_NAME = 50
MAX_NOTES = 2000
MAX_TEXT = 200
MAX_SHORT = 50


@dataclass
class ChildRow:
    row_number: int
    name: str
    gender: str  # "male" / "female"
    birth_date: dt.date
    id_number: str  # 18 characters, check digit verified, "X" upper-case
    grade: int  # 1..6
    class_name: str
    left_behind_kind: str  # "both" / "father" / "mother"
    parents_work_place: str
    guardian_name: str
    guardian_relation: str
    guardian_phone: str
    second_contact_name: str
    second_contact_phone: str
    home_village: str
    health_notes: str
    consent_date: dt.date | None
    consent_method: str


@dataclass
class RowError:
    row_number: int  # as in Excel (header = row 1 in the template); 0 = the whole file
    column: str  # the column title as written in the file ("" for a whole-file problem)
    reason: str  # translated, user-facing


@dataclass
class ImportPreview:
    rows: list[ChildRow] = field(default_factory=list)  # only rows without any error
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None  # CSV: "utf-8", "utf-8-sig", "gb18030" or "utf-16"; XLSX: None

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


@dataclass(frozen=True)
class Column:
    field: str
    title: str  # the template's (Chinese) title
    english: str
    aliases: tuple[str, ...] = ()
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("name", "姓名", "Name", ("学生姓名", "儿童姓名", "child name"), True),
    Column("gender", "性别", "Gender", ("sex",), True),
    Column("birth_date", "出生日期", "Birth date", ("出生年月日", "出生年月", "生日", "date of birth"), True),
    Column("id_number", "身份证号", "ID number", ("身份证号码", "身份证", "公民身份号码", "id"), True),
    Column("grade", "年级", "Grade", (), True),
    Column("class_name", "班级", "Class", ("班别", "class name"), True),
    Column("left_behind_kind", "留守类型", "Left-behind kind", ("留守情况", "留守类别", "kind"), True),
    Column("parents_work_place", "父母务工地", "Parents' work place",
           ("父母务工地点", "务工地点", "务工地", "parents work place"), False),
    Column("guardian_name", "监护人姓名", "Guardian name", ("监护人", "guardian"), True),
    Column("guardian_relation", "监护人关系", "Guardian relation",
           ("与监护人关系", "监护人与学生关系", "与学生关系", "relation"), False),
    Column("guardian_phone", "监护人电话", "Guardian phone",
           ("监护人联系电话", "监护人手机", "联系电话", "guardian phone number"), True),
    Column("second_contact_name", "第二联系人", "Second contact",
           ("第二联系人姓名", "second contact name"), False),
    Column("second_contact_phone", "第二联系人电话", "Second contact phone",
           ("第二联系人联系电话", "第二联系人手机"), False),
    Column("home_village", "家庭住址（村）", "Home village",
           ("家庭住址", "家庭住址(村)", "住址", "所在村", "村", "village"), False),
    Column("health_notes", "健康状况", "Health notes", ("健康情况", "health"), False),
    Column("consent_date", "监护人同意日期", "Consent date", ("同意日期", "guardian consent date"), False),
    Column("consent_method", "同意方式", "Consent method", ("监护人同意方式",), False),
)
COLUMN_BY_FIELD = {c.field: c for c in COLUMNS}

GENDERS = {"男": "male", "女": "female", "male": "male", "female": "female", "m": "male", "f": "female",
           "男生": "male", "女生": "female"}
LEFT_BEHIND_KINDS = {
    "双亲外出": "both", "父母双方外出": "both", "父母均外出": "both", "父母外出": "both", "双亲": "both",
    "父母双方": "both", "both": "both",
    "父亲外出": "father", "父亲": "father", "父": "father", "father": "father",
    "母亲外出": "mother", "母亲": "mother", "母": "mother", "mother": "mother",
}
KIND_TITLES = {"both": "双亲外出", "father": "父亲外出", "mother": "母亲外出"}
GENDER_TITLES = {"male": "男", "female": "女"}
CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6}

# ISO 7064 MOD 11-2 as used by GB 11643 (resident identity card numbers).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_DATE_RE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class _CellError(Exception):
    pass


class _SheetTooLong(Exception):
    pass
