"""The one rule for a phone number, used by the forms, the API (through the services) and the
import: a mainland mobile number (1[3-9] and 9 more digits, +86/0086 allowed in front) or a
landline with its area code (0550-1234567, an extension after a second dash)."""
from __future__ import annotations

import re

from django.utils.translation import gettext as _

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^(0\d{2,3})-?(\d{7,8})(?:-(\d{1,6}))?$")
PHONE_FIELDS = ("guardian_phone", "second_contact_phone")


class NotAPhone(ValueError):
    pass


def not_a_phone_message() -> str:
    return _("Not a phone number: write an 11-digit mobile number or a landline with its "
             "area code, such as 0550-1234567.")


def normalise_phone(value: str) -> str:
    """The number in its stored form (13912345678, 0550-1234567, 0550-1234567-12); "" stays "".
    Raises NotAPhone for anything else ("123", letters, a number without its area code)."""
    text = re.sub(r"\s+", "", str(value or "")).replace("－", "-").replace("—", "-")
    if not text:
        return ""
    digits = re.sub(r"[-()（）]", "", text)
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and MOBILE_RE.match(digits[len(prefix):]):
            digits = digits[len(prefix):]
            break
    if MOBILE_RE.match(digits):
        return digits
    landline = LANDLINE_RE.match(text.replace("（", "(").replace("）", ")").replace("(", "").replace(")", "-")
                                 .replace("--", "-"))
    if landline:
        area, number, extension = landline.groups()
        return f"{area}-{number}" + (f"-{extension}" if extension else "")
    raise NotAPhone(not_a_phone_message())


def tel_href(value: str) -> str:
    """A tel: link for a full phone number, "" for anything else (a masked 139****5678 is not one)."""
    try:
        number = normalise_phone(value)
    except NotAPhone:
        return ""
    parts = number.split("-")
    return f"tel:{parts[0]}-{parts[1]};ext={parts[2]}" if len(parts) == 3 else f"tel:{number}"
