"""How the access log names the schools app's records (tenancy.access_log_text describers)."""
from __future__ import annotations

from .masking import mask_child_name
from .models import Child


def children(ids: list[str]) -> dict[str, str]:
    """A child's record by the masked name, as every list of children shows it to staff."""
    numeric = [int(i) for i in ids if i.isdigit()]
    return {str(pk): mask_child_name(name) for pk, name in Child.objects.filter(pk__in=numeric).values_list("pk", "name")}
