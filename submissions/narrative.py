"""The sections of a narrative (work summary), after the seed's seven sections.

Pure functions: no database. The DOCX writer (compile job) uses the same keys and titles.
"""
from __future__ import annotations

import hashlib
import re

from django.utils.translation import gettext_lazy as _

# (key, title). `intro` and `closing` have no heading in the document.
SECTIONS = [
    ("intro", _("Introduction")),
    ("s1", "一、提高认识，高度重视"),
    ("s2", "二、加大投入，硬件过关"),
    ("s3", "三、制度先行，措施得力"),
    ("s4", "四、培训代理家长队伍"),
    ("s5", "五、注重特色，形式多样"),
    ("s6", "六、全方位帮扶学习"),
    ("s7", "七、材料积累与宣传"),
    ("closing", _("Closing")),
]
SECTION_KEYS = [k for k, _t in SECTIONS]
MAX_SECTION_CHARS = 5000

_NUMERALS = "一二三四五六七"
_HEADING = re.compile(r"([一二三四五六七])[、,，.．]")


def join_sections(sections: dict) -> str:
    """The narrative as one text, sections in document order (what similarity compares)."""
    return "\n".join(sections[k].strip() for k in SECTION_KEYS if (sections or {}).get(k, "").strip())


def digest(sections: dict) -> str:
    return hashlib.sha256(join_sections(sections).encode("utf-8")).hexdigest()


def split_sections(text: str) -> dict:
    """Split a pasted summary at its headings 一、… 七、 into section keys.

    Text before 一、 is the introduction; a final paragraph starting with 总之 is the closing.
    Headings must appear in order; a stray numeral later in the text is left alone.
    """
    out: dict[str, str] = {}
    pos = 0
    key = "intro"
    expected = 0
    for m in _HEADING.finditer(text):
        if expected < len(_NUMERALS) and m.group(1) == _NUMERALS[expected]:
            out[key] = text[pos:m.start()].strip()
            key = f"s{expected + 1}"
            pos = m.start()
            expected += 1
    rest = text[pos:]
    idx = rest.find("总之")
    if key == "s7" and idx > 0:
        out[key] = rest[:idx].strip()
        out["closing"] = rest[idx:].strip()
    else:
        out[key] = rest.strip()
    return {k: v for k, v in out.items() if v}
