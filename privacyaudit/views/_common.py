"""What the audit pages share: the district in the URL, for the bureau's readers only."""
from __future__ import annotations

from django.http import Http404

from tenancy.models import District
from tenancy.selectors import districts_visible_to

from .. import selectors


def reader_district(request, pk: int) -> District:
    """The district of the URL if the user reads its packs and breaches (the bureau); 404 for
    anyone else, school staff of the district included: as if the page did not exist."""
    district = districts_visible_to(request.user).filter(pk=pk).first()
    if district is None or not selectors.can_read_packs(request.user, district):
        raise Http404
    return district
