"""Every URL pattern of the site with its full route, for the walks that must cover each page."""
from __future__ import annotations

from django.urls import URLPattern, URLResolver


def walk(patterns, prefix=""):
    """(route, URLPattern) for every pattern below `patterns`, includes followed."""
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p
