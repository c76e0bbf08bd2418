import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
application = get_wsgi_application()


def _warm() -> None:
    """Import the URLconf (every view, serializer and API module) now rather than in a worker's
    first request: that import takes seconds, and the request that pays for it, plus every one
    queued behind it, shows as a multi-second stall (measured under Locust). With gunicorn's
    preload_app this runs once in the master and forked workers inherit it. No connection may
    cross the fork, so any the imports opened are closed."""
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the attribute access is the import
    connections.close_all()


_warm()
