"""Signals the schools app sends for the layers above to act on (schools imports none of them)."""
from django.dispatch import Signal

# A child's record was created, updated or imported, sent once the writing transaction committed
# (transaction.on_commit), so a receiver never acts on a write that rolled back.
# kwargs: child_id=<int>, school_id=<int>, actor=<User or None: the demo seed and system jobs>,
# changed=<set of Child field names written; "id_number" for the ID number>.
# The request's tenant scope has ended when it fires: a receiver opens its own scope
# (tenancy.scoping.tenant_scope([school_id]) or system_scope(reason)) and keeps its work short.
child_register_changed = Signal()
