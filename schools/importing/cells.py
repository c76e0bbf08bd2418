"""Identity numbers and the cell parsers: each returns a clean value or raises _CellError with a
translated reason the preview shows next to the cell."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils.translation import gettext as _

from ..phones import NotAPhone, normalise_phone
from .columns import (
    _COMPACT_DATE_RE,
    _DATE_RE,
    _ID_CHECK,
    _ID_RE,
    _ID_WEIGHTS,
    ASSESSMENT_TITLES,
    ASSESSMENTS,
    ASSISTANCE_TITLES,
    ASSISTANCES,
    CN_DIGITS,
    CUSTODY_TITLES,
    CUSTODY_TYPES,
    GENDERS,
    HEALTH_TITLES,
    HEALTHS,
    INCOME_SOURCES,
    INCOME_TITLES,
    LEFT_BEHIND_KINDS,
    MAX_NAME,
    _CellError,
)


def id_check_digit(first17: str) -> str:
    """The 18th character of a resident ID number for its first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def make_id_number(birth_date: dt.date, gender: str, *, region: str = "341182", sequence: int = 1) -> str:
    """A well-formed ID number (for demo data and tests): region + birth date + sequence + check.

    The sequence's last digit carries the gender (odd = male), as in GB 11643.
    region 341182 is 明光市 (Mingguang, Anhui).
    """
    seq = sequence % 1000
    if (seq % 2 == 1) != (gender == "male"):
        seq = (seq + 1) % 1000
    first17 = f"{region}{birth_date:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


# --- cell parsers (each raises _CellError with a translated reason) -----------------------------

def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    return str(value).strip()


def _normalised(value) -> str:
    """Full-width digits/letters/brackets → ASCII, spaces removed: for structured values only."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _as_text(value)))


def parse_text(value, *, max_length: int) -> str:
    text = _as_text(value)
    if len(text) > max_length:
        raise _CellError(_("Too long: at most %(max)d characters (this cell has %(len)d).")
                         % {"max": max_length, "len": len(text)})
    return text


def _is_han(ch: str) -> bool:
    """A CJK ideograph, the rare ones too: Extension A, the basic block, compatibility ideographs,
    and Extensions B–H in planes 2 and 3 (𠮷 U+20BB7, 𪚥 U+2A6A5 are in real registers)."""
    code = ord(ch)
    return (0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x323AF)


def parse_name(value) -> str:
    text = parse_text(value, max_length=MAX_NAME)
    # Registers pad two-character names for alignment ("张　三"); a Chinese name has no spaces.
    compact = re.sub(r"\s+", "", text)
    if compact and all(_is_han(ch) or ch == "·" for ch in compact):
        return compact
    return re.sub(r"\s+", " ", text)


def parse_gender(value) -> str:
    key = _normalised(value).lower()
    if key in GENDERS:
        return GENDERS[key]
    raise _CellError(_("Gender must be 男 or 女."))


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value)
        if value == number and _COMPACT_DATE_RE.match(str(number)):
            text = str(number)
        elif 20000 <= value < 80000:  # 1954 to 2119; a bare year such as 2016 is not a date
            # A date cell that lost its date format shows Excel's serial day number.
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
        else:
            raise _CellError(_("Not a date. Write dates like 2026-03-05."))
    else:
        text = unicodedata.normalize("NFKC", _as_text(value)).strip()
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not match:
        raise _CellError(_("Not a date. Write dates like 2026-03-05."))
    year, month, day = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _CellError(_("%(text)s is not a valid date.") % {"text": text}) from None


def parse_id_number(value) -> str:
    if isinstance(value, float):
        # Excel keeps 15 significant digits: an ID typed into a number cell has lost its last digits.
        raise _CellError(_("Excel stored the ID number as a number and lost digits. "
                           "Format the column as text and type the number again."))
    text = _normalised(value).upper()
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", text):
        raise _CellError(_("Excel stored the ID number as a number and lost digits. "
                           "Format the column as text and type the number again."))
    if len(text) == 15 and text.isdigit():
        raise _CellError(_("This is an old 15-digit ID number. Enter the 18-digit number."))
    if not _ID_RE.match(text):
        raise _CellError(_("An ID number has 18 characters: 17 digits, then a digit or X."))
    if id_check_digit(text[:17]) != text[17]:
        raise _CellError(_("The ID number's check digit is wrong; please check the number."))
    try:
        dt.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise _CellError(_("The ID number does not contain a valid birth date.")) from None
    return text


def id_birth_date(id_number: str) -> dt.date:
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def id_gender(id_number: str) -> str:
    return "male" if int(id_number[16]) % 2 else "female"


def parse_grade(value) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = int(value) if float(value).is_integer() else None
    else:
        text = _normalised(value)
        text = text.removesuffix("年级").removesuffix("年")
        if text in CN_DIGITS:
            number = CN_DIGITS[text]
        elif text.isdigit():
            number = int(text)
        else:
            number = None
    if number is None or not 1 <= number <= 6:
        raise _CellError(_("Grade must be 1 to 6 (for example 3 or 三年级)."))
    return number


def parse_left_behind_kind(value) -> str:
    key = _normalised(value).lower()
    if key in LEFT_BEHIND_KINDS:
        return LEFT_BEHIND_KINDS[key]
    raise _CellError(_("Left-behind kind must be 双亲外出, 父亲外出 or 母亲外出."))


def parse_phone(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return normalise_phone(_normalised(value))
    except NotAPhone as exc:
        raise _CellError(str(exc)) from None


def _one_of(value, accepted: dict[str, str], titles: dict[str, str]) -> str:
    key = _normalised(value).lower()
    if key in accepted:
        return accepted[key]
    raise _CellError(_("Write one of: %(choices)s.") % {"choices": "、".join(titles.values())})


def parse_custody_type(value) -> str:
    return _one_of(value, CUSTODY_TYPES, CUSTODY_TITLES)


def parse_assessment(value) -> str:
    return _one_of(value, ASSESSMENTS, ASSESSMENT_TITLES)


def parse_income_source(value) -> str:
    return _one_of(value, INCOME_SOURCES, INCOME_TITLES)


def parse_health_status(value) -> str:
    return _one_of(value, HEALTHS, HEALTH_TITLES)


def parse_assistance(value) -> list[str]:
    """低保、医疗救助 -> ["dibao", "medical"]: several separated by 、，,;； or spaces; 无 for none."""
    parts = [p for p in re.split(r"[、，,;；/\s]+", unicodedata.normalize("NFKC", _as_text(value))) if p]
    if parts in (["无"], ["没有"], ["否"]):
        return []
    return list(dict.fromkeys(_one_of(p, ASSISTANCES, ASSISTANCE_TITLES) for p in parts))
