"""DRF throttles whose rates are read at request time.

DRF's own classes copy DEFAULT_THROTTLE_RATES into a class attribute at import, so a changed setting
(override_settings in a test, or a settings reload) would be ignored. A throttled client gets DRF's
429 with a Retry-After header. The per-IP key is the client's address by the platform's one rule
(tenancy.client_ip, the same as the login lockouts and the access log), not DRF's own parsing.
"""
from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings

from tenancy.client_ip import client_ip


class _LiveRates:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request) or ""


class UserRateThrottle(_LiveRates, throttling.UserRateThrottle):
    """Per authenticated user (by id); anonymous requests are keyed by IP."""


class AnonRateThrottle(_LiveRates, throttling.AnonRateThrottle):
    """Per IP, for anonymous requests only (the token endpoint)."""
