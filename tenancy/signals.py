"""Signals tenancy sends for the layers above to act on (tenancy imports none of them)."""
from django.dispatch import Signal

# Sent in the granting or revoking transaction, before a revoked membership is deleted:
# membership=<Membership>, granted=<bool>, actor=<User or None: seeding and system setup>.
role_changed = Signal()
