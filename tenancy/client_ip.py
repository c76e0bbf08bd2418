"""Who the client is: the one rule for its IP address, used by the login lockouts (django-axes'
AXES_CLIENT_IP_CALLABLE), the API throttles (api.throttling) and every access-log row."""
from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address, trusting exactly TRUSTED_PROXY_COUNT reverse proxies.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so the
    client is that many entries from the right; anything further left was written by the client
    and is ignored (else an attacker would pick a fresh "IP" per request and never be locked out,
    or write someone else's address into the access log). An entry that is not an IP address
    (only a client can have sent it) falls back to REMOTE_ADDR: the columns that store it are
    typed, and a forged value must not turn a request into a server error.

    `request` may be Django's HttpRequest or DRF's Request (which proxies META); None gives None.
    """
    if request is None:
        return None
    meta = request.META
    remote = meta.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            candidate = hops[-min(count, len(hops))]
            if _is_ip(candidate):
                return candidate
    return remote if remote and _is_ip(remote) else None


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
