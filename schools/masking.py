"""How a child's name and a phone number are masked, for every page, export and package."""
from __future__ import annotations


def mask_child_name(name: str | None, *, per_character: bool = True) -> str:
    """张小明 -> 张** (one star per hidden character), or 张* with per_character=False where even the
    length of the name is not shown. Empty for no name."""
    if not name:
        return ""
    return name[0] + "*" * (max(len(name) - 1, 1) if per_character else 1)


def mask_phone(value: str) -> str:
    """13912345678 -> 139****5678: the first three and last four digits."""
    digits = value or ""
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * max(len(digits) - 7, 1) + digits[-4:]
