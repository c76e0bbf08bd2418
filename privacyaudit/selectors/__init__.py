"""Reads of the audit app: who may see and build packs and breaches (access.py) and the report's
figures (figures.py)."""
from .access import (
    breaches_visible_to,
    can_build_packs,
    can_read_packs,
    can_record_district_breach,
    can_record_school_breach,
    packs_visible_to,
    reader_districts,
)

__all__ = ["breaches_visible_to", "can_build_packs", "can_read_packs", "can_record_district_breach",
           "can_record_school_breach", "packs_visible_to", "reader_districts"]
