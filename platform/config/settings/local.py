"""Developer settings used by `make run`."""
from .base import *  # noqa: F401,F403
from .base import STORAGES, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
STORAGES = {
    "default": STORAGES["default"],  # filesystem, or S3 when STORAGE_S3_BUCKET is set (base.py)
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
