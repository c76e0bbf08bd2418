"""Celery tasks of the tenancy app."""
from celery import shared_task


@shared_task(name="tenancy.ping")
def ping() -> str:
    """Round trip used by /healthz checks and the worker smoke test."""
    return "pong"
