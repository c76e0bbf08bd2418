"""Settings for the test suite (pytest). Same database engine and role as production."""
import os
from pathlib import Path

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, STATIC_ROOT

DEBUG = False
# Hashing with argon2 on every test user is slow; production keeps argon2 (tests check base).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests that run a real SMTP server (tests/support/smtp.py) hand the worker the SMTP backend.
EMAIL_BACKEND = os.environ.get("TEST_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# One folder per pytest-xdist process, so one process's clean-up never removes another's files.
MEDIA_ROOT = str(BASE_DIR / "var" / "test-media" / os.environ.get("PYTEST_XDIST_WORKER", "main"))
# Always the filesystem, whatever STORAGE_S3_BUCKET says: tests never reach a bucket (tests that need
# object-storage behaviour override STORAGES with tests/support/storage.py's in-memory storage).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AXES_FAILURE_LIMIT = 5
ALLOWED_HOSTS = ["*"]

# whitenoise warns on every request when STATIC_ROOT does not exist (collectstatic never runs in tests).
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

# ---------------------------------------------------------------- hardening
# Throttles stay on, with rates no test (nor a schemathesis run) reaches; tests of the throttles
# lower them locally with override_settings.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": "1000000/hour", "anon": "1000000/hour"}  # noqa: F405
TWO_FACTOR_REQUIRED = False

# ---------------------------------------------------------------- read replica
# CI configures the replica alias for the whole suite, but TestCase data is uncommitted and invisible
# on the standby: routing stays off; tests/replica/ turns it on with override_settings.
REPLICA_READS = False
