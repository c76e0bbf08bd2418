"""The import columns, the row and error records, and the limits of an import file."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 5000  # the largest school in a district has a few hundred left-behind children
HEADER_SEARCH_ROWS = 20  # a title row (often merged) or a note may sit above the header
MAX_COLUMNS = 64  # the template has 27; cells further right are not read
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
    # The civil-affairs register's fields (schools.register), all optional in a file.
    custody_type: str = ""
    guardianship_assessment: str = ""
    guardian_since: dt.date | None = None
    parents_last_contact_on: dt.date | None = None
    income_source: str = ""
    assistance: list[str] = field(default_factory=list)
    health_status: str = ""
    disability: str = ""
    illness: str = ""
    household_registration: str = ""


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
    # The civil-affairs register's columns, titled as the register titles them. Its 健康状况 (a
    # category) is 健康类别 here: 健康状况 has always been the free-text health notes in these files.
    Column("custody_type", "监护类型", "Custody type", ("留守儿童类型", "custody type"), False),
    Column("guardianship_assessment", "监护情况评估", "Guardianship assessment",
           ("监护评估", "监护情况", "guardianship assessment"), False),
    Column("guardian_since", "受委托监护起始日期", "Guardian since", ("监护起始日期", "委托监护日期"), False),
    Column("parents_last_contact_on", "父母最近联系日期", "Parents last in touch on",
           ("最近联系日期", "父母上次联系日期"), False),
    Column("income_source", "家庭主要收入来源", "Family's main income", ("主要收入来源", "收入来源"), False),
    Column("assistance", "享受救助情况", "Assistance received", ("救助情况", "享受救助"), False),
    Column("health_status", "健康类别", "Health status", ("健康状况类别", "身体状况"), False),
    Column("disability", "残疾情况", "Disability", ("残疾类别",), False),
    Column("illness", "患病情况", "Illness", ("疾病情况", "所患疾病"), False),
    Column("household_registration", "户籍所在地", "Household registration", ("户籍地", "户口所在地"), False),
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
# The register's own words for its choices: the template's dropdowns and the register export.
CUSTODY_TITLES = {"both_away": "父母均外出务工", "one_away_other_unable": "一方外出务工另一方无监护能力"}
ASSESSMENT_TITLES = {"good": "较好", "fair": "一般", "poor": "差", "none": "无人监护"}
INCOME_TITLES = {"migrant_work": "务工收入", "farming": "务农收入", "business": "经商收入", "subsidy": "政府补贴",
                 "other": "其他"}
ASSISTANCE_TITLES = {"dibao": "低保", "temporary": "临时救助", "medical": "医疗救助", "housing": "住房救助"}
HEALTH_TITLES = {"healthy": "健康", "ill": "患病", "disabled": "残疾", "ill_and_disabled": "患病且残疾"}
# What a file may say for each (the titles above, the codes, and common variants).
CUSTODY_TYPES = {**{v: k for k, v in CUSTODY_TITLES.items()}, **{k: k for k in CUSTODY_TITLES},
                 "父母均外出": "both_away", "双亲外出": "both_away", "一方外出另一方无监护能力": "one_away_other_unable",
                 "一方外出": "one_away_other_unable"}
ASSESSMENTS = {**{v: k for k, v in ASSESSMENT_TITLES.items()}, **{k: k for k in ASSESSMENT_TITLES},
               "好": "good", "良好": "good", "较差": "poor", "无": "none"}
INCOME_SOURCES = {**{v: k for k, v in INCOME_TITLES.items()}, **{k: k for k in INCOME_TITLES},
                  "务工": "migrant_work", "外出务工": "migrant_work", "务农": "farming", "种地": "farming",
                  "经商": "business", "补贴": "subsidy", "政府补助": "subsidy"}
ASSISTANCES = {**{v: k for k, v in ASSISTANCE_TITLES.items()}, **{k: k for k in ASSISTANCE_TITLES},
               "最低生活保障": "dibao", "城乡低保": "dibao", "农村低保": "dibao"}
HEALTHS = {**{v: k for k, v in HEALTH_TITLES.items()}, **{k: k for k in HEALTH_TITLES},
           "良好": "healthy", "疾病": "ill", "残疾且患病": "ill_and_disabled"}
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
