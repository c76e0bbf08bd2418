"""Login throttling (django-axes): the answer a locked-out client gets, and separate limits per
username and per address. Who the client is: tenancy.client_ip."""
from __future__ import annotations

import math

from django.conf import settings
from django.shortcuts import render


def retry_after_seconds(request=None) -> int | None:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    return math.ceil(cool_off.total_seconds()) if cool_off else None


def lockout_response(request, original_response=None, credentials=None):
    """axes' lockout page (429), plus Retry-After: the cool-off, counted from the last failure."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "cooloff_timedelta": get_cool_off(request),
    }
    # AXES_HTTP_RESPONSE_CODE gets its default from axes.conf at start-up, unseen by the stubs.
    status = settings.AXES_HTTP_RESPONSE_CODE  # type: ignore[misc]
    response = render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=status)
    seconds = retry_after_seconds(request)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response


def _axes_handler_base():
    from axes.handlers.database import AxesDatabaseHandler

    return AxesDatabaseHandler


# The base is imported lazily (axes needs the app registry), so mypy cannot see it.
class AxesHandler(_axes_handler_base()):  # type: ignore[misc]
    """axes' database handler with separate limits per username and per IP address.

    axes compares one number with one limit (the largest failure count over AXES_LOCKOUT_PARAMETERS).
    One limit does not fit both: many teachers of a school share one NAT address, so the address may
    fail more often than one account before it looks like an attack. The IP's count therefore locks
    at AXES_IP_FAILURE_LIMIT and is reported on the per-username scale.

    A successful login only clears its own username's failures from its own address: clearing every
    failure of the address would let anyone with a valid account reset the IP's count at will.
    """

    def get_failures(self, request, credentials=None) -> int:
        from axes.attempts import get_cool_off_threshold
        from axes.helpers import get_client_username, get_failure_limit
        from axes.models import AccessAttempt
        from django.db.models import Sum

        attempts = AccessAttempt.objects.all()
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))

        def total(**kwargs) -> int:
            return attempts.filter(**kwargs).aggregate(n=Sum("failures_since_start"))["n"] or 0

        by_user = total(username=get_client_username(request, credentials))
        by_ip = total(ip_address=request.axes_ip_address)
        if by_ip >= settings.AXES_IP_FAILURE_LIMIT:
            return max(by_user, get_failure_limit(request, credentials))
        return by_user

    def reset_user_attempts(self, request, credentials=None) -> int:
        from axes.helpers import get_client_username
        from axes.models import AccessAttempt

        count, _ = AccessAttempt.objects.filter(
            username=get_client_username(request, credentials), ip_address=request.axes_ip_address,
        ).delete()
        return count
