from .breaches import district_breach, district_breaches, school_breach, school_breaches
from .packs import audit_home, audit_pack_build, audit_pack_download, audit_pack_report, audit_pack_status, audit_packs

__all__ = ["audit_home", "audit_pack_build", "audit_pack_download", "audit_pack_report", "audit_pack_status",
           "audit_packs", "district_breach", "district_breaches", "school_breach", "school_breaches"]
