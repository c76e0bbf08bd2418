"""Settings shared by every environment. Values come from the environment (django-environ)."""
from __future__ import annotations

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[3]  # repository root
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served locally: /api/docs/ works offline
    "guardian",
    "axes",
    "django_celery_beat",
    "tenancy",
    "schools",
    "compliance",
    "submissions",
    "api",
    "benchmarks",  # `make bench` (a management command; no models, no URLs)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Enters the tenant scope (ORM + row-level security) for the whole view. Must follow auth.
    "tenancy.middleware.TenantScopeMiddleware",
    # Last, as django-axes requires.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "platform" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenancy.context_processors.tenancy",
                "tenancy.views.nav_context",
            ],
        },
    },
]


def _database_url() -> str:
    url = env("DATABASE_URL", default="")
    if url:
        return url
    from config import embedded_db

    return embedded_db.database_url()


DATABASES = {"default": env.db_url_config(_database_url())}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "tenancy.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# django-guardian: direct-FK permission models live in tenancy; no anonymous user row.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# django-axes: lock out after repeated failures, per username and IP.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "platform" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "platform" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # Token first: DRF answers 401 (with a WWW-Authenticate challenge) rather than 403 to anonymous
    # requests only when the first class names one. Sessions work too (the web UI's login).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "留守儿童之家 District Platform API",
    "DESCRIPTION": (
        "Tenant-scoped API for left-behind children's homes. Authenticate with a session or with "
        "`Authorization: Token <token>` (POST /api/v1/auth/token/). Another school's object is 404."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # No CDN: the machine (and many schools' networks) may be offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Celery. With no broker configured, kombu's filesystem transport needs no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env("CELERY_FILESYSTEM_BROKER_DIR", default=str(VAR_DIR / "broker")))
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
else:
    # Keep the task time limits below Redis' redelivery window (REFERENCES.md).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Progress and outcomes live in the database; a result backend is optional (tests use file://).
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# File-building tasks go to "<default>-exports" (config/queues.py): every worker layout consumes both.
CELERY_TASK_ROUTES = ["config.queues.route_task"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# `manage.py seed_demo` creates users with a known password: never in production.
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=True)

# Children's sensitive fields are encrypted with this key (issue #3); rotate via a list.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=["dev-only-field-key"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}

# ---------------------------------------------------------------- schools (issue #3)
# Children who left (transferred, graduated, no longer left behind) keep their sensitive fields
# this many days, then the nightly purge (schools.tasks.purge_expired_children) clears them.
CHILD_DATA_RETENTION_DAYS = env.int("CHILD_DATA_RETENTION_DAYS", default=365)
# When the nightly jobs of the schools app run (celery beat, local time).
SCHOOLS_NIGHTLY_HOUR = env.int("SCHOOLS_NIGHTLY_HOUR", default=2)

# --- Compliance (issue #4) -------------------------------------------------------------------
# Live assessment scores are cached this long (the key also carries a revision that every
# score-changing write bumps, so manual scores show at once; record changes within this window).
COMPLIANCE_SCORE_CACHE_SECONDS = env.int("COMPLIANCE_SCORE_CACHE_SECONDS", default=60)
# Extra modules that register metrics (compliance.metrics.register_metric), imported at startup
# in web and worker processes alike.
COMPLIANCE_METRIC_MODULES = env.list("COMPLIANCE_METRIC_MODULES", default=[])
# (minute, hour) of the nightly snapshot job registered with django-celery-beat after migrate.
COMPLIANCE_NIGHTLY_SNAPSHOT_AT = (30, 2)

# ---------------------------------------------------------------- submissions (issue #5)
# Reporting calendar: periods are generated this many days ahead, so the matrix can show
# upcoming periods as "not due".
SUBMISSIONS_PERIOD_HORIZON_DAYS = env.int("SUBMISSIONS_PERIOD_HORIZON_DAYS", default=62)
# A bureau unlock lasts this many days unless the bureau picks a date.
SUBMISSIONS_UNLOCK_DAYS = env.int("SUBMISSIONS_UNLOCK_DAYS", default=7)
# Copied narratives: exact Jaccard of 5-character shingles at or above THRESHOLD is flagged;
# shared passages shorter than MIN_PASSAGE normalised characters are not listed.
SUBMISSIONS_SIMILARITY = {"THRESHOLD": 0.5, "MIN_PASSAGE": 12}
# Beat entries registered in django_celery_beat after migrate (submissions/beat.py), local time.
SUBMISSIONS_BEAT_SCHEDULES = {
    "submissions: open periods": ("submissions.open_periods", {"minute": "10", "hour": "0"}),
    "submissions: reminders": ("submissions.send_reminders", {"minute": "0", "hour": "8"}),
}

# The school's home API (api/schools*.py): several models have a "kind" choice set; name each enum.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update({
    "EquipmentKindEnum": "schools.models.Equipment.Kind",
    "EvidenceKindEnum": "schools.models.Evidence.Kind",
    "ActivityKindEnum": "schools.models.Activity.Kind",
    "CareContactKindEnum": "schools.models.CareContact.Kind",
    "RuleKindEnum": "schools.models.RuleKind",
})

# Compiling packages (submissions.tasks.compile_package). The time limits stay below the broker's
# visibility timeout, so Redis never hands a still-running compile to a second worker.
SUBMISSIONS_COMPILE_SOFT_TIME_LIMIT = 15 * 60
SUBMISSIONS_COMPILE_TIME_LIMIT = 20 * 60
# Test-only: seconds the compile sleeps between its steps, so a test can kill a worker mid-job.
SUBMISSIONS_COMPILE_STEP_DELAY = env.float("SUBMISSIONS_COMPILE_STEP_DELAY", default=0.0)
# Redis redelivers an unacknowledged message after this many seconds (a killed worker's task).
if not CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    }
# The consolidated district export of each period runs once after the period's due date
# (beat entry below); periods due longer ago than this are not back-filled.
SUBMISSIONS_EXPORT_LOOKBACK_DAYS = 30
SUBMISSIONS_BEAT_SCHEDULES = {
    **SUBMISSIONS_BEAT_SCHEDULES,
    "submissions: district exports": ("submissions.scheduled_district_exports", {"minute": "40", "hour": "1"}),
}

# Several apps have choice sets on fields named "kind" and "status": name each enum in the schema.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "ChildStatusEnum": "schools.models.Child.Status",
    "SubmissionStatusEnum": "submissions.models.Status",
    "ReportKindEnum": "submissions.models.ReportKind",
})
