"""The demo's narratives: the seed's two near-identical 2022 summaries (门庄小学, 古沛中心小学) and
an independently written summary of the same length (涧溪中心小学), kept in submissions/data/.
"""
from __future__ import annotations

import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

_TITLES = re.compile(r"^(?:[^。，,]{0,40}?工作总结)+")
_PAGE_FOOTER = re.compile(r"第\s*\d+\s*页\s*共\s*\d+\s*页\s*$")


def split_seed_document(raw: str) -> tuple[str, str]:
    """(门庄小学 summary, 古沛中心小学 summary) from the scraped seed document.

    The second summary follows "扩展阅读:"; the download site's header ends at the last line
    naming the .doc file; repeated titles and the page footer are dropped.
    """
    first, second = raw.split("扩展阅读:", 1)
    marker = ".doc\n"
    first = first[first.rfind(marker) + len(marker):] if marker in first else first
    out = []
    for part in (first, second):
        part = _TITLES.sub("", part.strip())
        part = _PAGE_FOOTER.sub("", part).strip()
        out.append(part)
    return out[0], out[1]


def seed_summaries() -> tuple[str, str]:
    return split_seed_document((DATA / "seed_summaries_2022.txt").read_text(encoding="utf-8"))


def independent_summary() -> str:
    """Written for this project: same seven sections, different school and wording."""
    lines = (DATA / "independent_summary_jianxi.txt").read_text(encoding="utf-8").strip().splitlines()
    return "\n".join(lines[1:]).strip()  # without its title line
