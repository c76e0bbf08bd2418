# Load the Celery app with Django so @shared_task uses our broker, never a default one.
from .celery_app import app as celery_app

__all__ = ("celery_app",)
