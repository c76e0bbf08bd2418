"""The Celery application. Workers and beat put platform/ on sys.path via `celery -A config.celery_app`
run from the repository root with PYTHONPATH=platform (Makefile, compose)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# config.diagnostics is not an app's tasks.py, so autodiscovery would not find it.
app = Celery("liushou", include=["config.diagnostics"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
