"""The installable app (PWA): the web app manifest, the service worker, and the pages the service
worker keeps for when there is no signal.

The offline pages ("shells") hold no data: they are the same for everyone and are filled in the
browser from what offline.js keeps in IndexedDB (the user's snapshot and outbox). So the cache the
service worker fills never holds a child's name, and clearing IndexedDB clears every child's data."""
from __future__ import annotations

import functools
import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from schools.models import Activity, CareContact

# What the service worker stores when it installs: the offline pages and the files they need.
STATIC_FILES = ("css/app.css", "schools/archive.css", "offline/offline.css", "offline/offline.js",
                "offline/shell.js", "icons/icon-192.png", "icons/icon-512.png")
SHELL_PAGES = ("offline_need_network", "offline_tracker", "offline_home", "offline_activities")


@cache
def _version() -> str:
    """Changes when a file the service worker stores changes, so phones fetch the new ones."""
    digest = hashlib.sha256()
    for name in STATIC_FILES:
        path = finders.find(name)
        if path:
            with open(path, "rb") as fh:
                digest.update(fh.read())
    for template in ("offline/sw.js", "offline/shell_tracker.html", "offline/shell_home.html",
                     "offline/shell_activities.html", "offline/need_network.html", "offline/_outbox.html",
                     "base.html"):
        digest.update(get_template(template).template.source.encode())
    return digest.hexdigest()[:12]


def _language(request) -> str:
    """The user's chosen language, else the site's: the service worker's own requests do not
    carry the phone's Accept-Language everywhere, and the cached page must not fall back to English."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _shell(request, template: str, **context):
    # No user data in the page: it is cached and shown to whoever opens the app offline.
    # Nor a message meant for the user's next page: the worker fetches these pages in the background.
    return render(request, template, {"offline_shell": True, "nav_tabs": None, "messages": (), **context})


def _in_language(view):
    """Render in _language(request), whatever the request's Accept-Language says."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        with translation.override(_language(request)):
            response = view(request, *args, **kwargs)
        response["Content-Language"] = _language(request)
        return response
    return wrapped


@require_GET
def service_worker(request):
    precache = [reverse(name) for name in SHELL_PAGES] + [static(name) for name in STATIC_FILES]
    response = render(request, "offline/sw.js", {
        "version": _version(), "precache": json.dumps(precache), "static_prefix": json.dumps(settings.STATIC_URL),
        "fallbacks": json.dumps({
            "tracker": reverse("offline_tracker"), "home": reverse("offline_home"),
            "activities": reverse("offline_activities"), "other": reverse("offline_need_network")}),
    }, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    # The browser checks for a new worker on every visit; never a stale one from an HTTP cache.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
@_in_language
def manifest(request):
    body = {
        "name": _("Left-behind children's home"),
        "short_name": _("Children's home"),
        "lang": "zh-CN",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1e6b52",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")



@never_cache
@require_GET
@_in_language
def need_network(request):
    return _shell(request, "offline/need_network.html")


@never_cache
@require_GET
@_in_language
def shell_tracker(request):
    return _shell(request, "offline/shell_tracker.html",
                  kinds_json=json.dumps([[k, str(label)] for k, label in CareContact.Kind.choices], ensure_ascii=False))


@never_cache
@require_GET
@_in_language
def shell_home(request):
    return _shell(request, "offline/shell_home.html")


@never_cache
@require_GET
@_in_language
def shell_activities(request):
    return _shell(request, "offline/shell_activities.html", activity_kinds=Activity.Kind.choices)
