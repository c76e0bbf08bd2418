"""The Celery application. Workers and beat put platform/ on sys.path via `celery -A config.celery_app`
run from the repository root with PYTHONPATH=platform (Makefile, compose)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("liushou")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
