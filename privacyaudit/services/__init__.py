"""Every write of the audit app: requesting and building packs, recording breaches and notices."""
from .breaches import breach_notice_record, breach_record
from .packs import audit_pack_request, audit_packs_schedule, last_year

__all__ = ["audit_pack_request", "audit_packs_schedule", "breach_notice_record", "breach_record", "last_year"]
