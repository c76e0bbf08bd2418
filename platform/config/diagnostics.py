"""Celery tasks that report on the worker process itself (no data, no tenant scope).

The worker imports this module through config.celery_app's `include`, so a test can ask a real
worker which module `import platform` gives it: platform/ is a source root and must never shadow
the standard library (docs/ARCHITECTURE.md).
"""
from celery import shared_task


@shared_task(name="config.platform_module_file")
def platform_module_file() -> str:
    """The file of the `platform` module as this worker process imports it."""
    import platform

    return platform.__file__
