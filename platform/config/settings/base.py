"""Settings shared by every environment. Values come from the environment (django-environ)."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import embedded_db

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
    "knox",  # API tokens: hashed, expiring, several per user (the model is tenancy.ApiToken)
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served locally: /api/docs/ works offline
    "guardian",
    "axes",
    "django_celery_beat",
    "tenancy",
    "jobs",  # the background-job life cycle, the task outbox and the stale-job sweeper
    "notices",  # notices to people: in-app inbox, e-mail, DingTalk/WeCom group robots
    "schools",
    "compliance",
    "submissions",
    "care",  # follow-up of the children who most need attention: risk index, cases, referrals
    "privacy",  # minors' data paperwork: consent register, guardian requests, data officer
    "privacyaudit",  # the annual minors'-data audit pack and recorded data breaches
    "today",
    "offline",  # the installable app (PWA): manifest, service worker, the pages that work without a signal
    "api",
    "ops",  # operations: backup/restore, health check, database roles, `make run`, the demo loader
    "benchmarks",  # `make bench` (a management command; no models, no URLs)
    "csp",  # Content-Security-Policy (see "hardening" below)
    "django_otp",  # two-factor authentication (TOTP)
    "django_otp.plugins.otp_totp",
]

# In the order a request passes through them.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Security headers: Content-Security-Policy and Permissions-Policy (see "hardening" below).
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Two-factor authentication (django-otp, TOTP). OTPMiddleware marks request.user verified;
    # tenancy.two_factor's middleware sends an unverified user to enrolment or to the code page.
    "django_otp.middleware.OTPMiddleware",
    "tenancy.two_factor.TwoFactorMiddleware",
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
                "tenancy.navigation.nav_context",
                "notices.nav.context",
                "offline.context.offline",
            ],
        },
    },
]


def _database_url() -> str:
    url = env("DATABASE_URL", default="")
    if url:
        return url
    return embedded_db.database_url()


def _database_owner() -> dict | None:
    """The owner role (config/db_roles.py), which owns the schema and runs `migrate`: only its user
    and password are taken from DATABASE_OWNER_URL; the server and database are DATABASE_URL's
    (so the test database needs no URL of its own). None: not configured, and `migrate` refuses."""
    if not env("DATABASE_URL", default=""):
        return embedded_db.owner_credentials()
    url = env("DATABASE_OWNER_URL", default="")
    if not url:
        return None
    owner = env.db_url_config(url)
    return {"USER": owner["USER"], "PASSWORD": owner["PASSWORD"]}


# The runtime role: web, worker and beat connect as it; it owns nothing.
DATABASES = {"default": env.db_url_config(_database_url())}
DATABASE_OWNER = _database_owner()
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode (docs/ARCHITECTURE.md, "Connection pooler") consecutive
# transactions of one connection may run on different server backends, so nothing may outlive a
# transaction: no server-side cursors (Django holds them WITH HOLD outside a transaction) and no
# prepared statements (Django's default already; pinned here so an OPTIONS change cannot re-enable
# them). Session mode and a direct connection need neither.
DATABASE_POOL_MODE = env("DATABASE_POOL_MODE", default="")
if DATABASE_POOL_MODE not in ("", "session", "transaction"):
    raise ImproperlyConfigured(f"DATABASE_POOL_MODE must be empty, session or transaction, not {DATABASE_POOL_MODE!r}")
if DATABASE_POOL_MODE == "transaction":
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None

# A streaming hot standby of the same database (docs/ARCHITECTURE.md, Read replica): the runtime role
# on the standby. Empty: no replica, every read on the primary. The heavy bureau reads
# (tenancy.replica.replica_reads) go to it when it has replayed the reader's own writes.
_replica_url = env("DATABASE_REPLICA_URL", default="")
if _replica_url:
    DATABASES["replica"] = env.db_url_config(_replica_url)
    DATABASES["replica"].update({
        "ATOMIC_REQUESTS": False,
        "CONN_MAX_AGE": DATABASES["default"]["CONN_MAX_AGE"],
        "CONN_HEALTH_CHECKS": True,
        # The test database on the standby is the primary's, replicated: never created there.
        "TEST": {"MIRROR": "default"},
    })
    # An unreachable standby must cost a request seconds at most (replica_reads then uses the primary).
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
    DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"]
# Route the heavy reads to the replica when one is configured (tests turn it on case by case).
REPLICA_READS = env.bool("REPLICA_READS", default=True)
# How long a writer's WAL position is remembered (seconds): longer than the replica ever lags.
REPLICA_WRITE_MEMORY_SECONDS = env.int("REPLICA_WRITE_MEMORY_SECONDS", default=300)
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


def _default_storage() -> dict:
    """Evidence, compiled packages and exports: on the filesystem under MEDIA_ROOT, or in an
    S3-compatible bucket (AWS, MinIO, OSS...) through django-storages when STORAGE_S3_BUCKET is set.
    The code only uses the storage API (save/open/exists/delete/listdir), never a local path."""
    bucket = env("STORAGE_S3_BUCKET", default="").strip()
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    options = {
        "bucket_name": bucket,
        # Files are children's photos: never public. Downloads stream through the app's views
        # (which log the access); a URL, if ever generated, is signed and expires.
        "default_acl": "private",
        "querystring_auth": True,
        # Never replace a file silently: a name that exists gets a new one (the jobs that must
        # overwrite their own files delete them first, see config/storage.py).
        "file_overwrite": False,
        # A download reads the object into a spooled temporary file: past 8 MiB it goes to disk
        # (the default, 0, keeps every file wholly in memory, e.g. a large compiled package).
        "max_memory_size": 8 * 1024 * 1024,
    }
    # Empty means unset (docker-compose.yml passes each one through, empty by default).
    optional = {
        "endpoint_url": env("STORAGE_S3_ENDPOINT_URL", default=""),  # MinIO or another S3-compatible service
        "region_name": env("STORAGE_S3_REGION", default=""),
        "access_key": env("STORAGE_S3_ACCESS_KEY_ID", default=""),  # unset: boto3's own chain (instance role)
        "secret_key": env("STORAGE_S3_SECRET_ACCESS_KEY", default=""),
        "addressing_style": env("STORAGE_S3_ADDRESSING_STYLE", default=""),  # "path": MinIO without virtual hosts
        "location": env("STORAGE_S3_PREFIX", default=""),  # a folder inside the bucket
    }
    options.update({option: value.strip() for option, value in optional.items() if value.strip()})
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


STORAGES = {
    "default": _default_storage(),
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # Token first: DRF answers 401 (with a WWW-Authenticate challenge) rather than 403 to anonymous
    # requests only when the first class names one. Sessions work too (the web UI's login).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tenancy.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# API tokens (django-rest-knox, tenancy/tokens.py): `Authorization: Token <token>`, stored as a digest,
# valid for API_TOKEN_TTL_HOURS after they are issued (a week by default; then log in again). A new
# password, a deactivated account or the loss of the last role revokes them all at once.
API_TOKEN_TTL_HOURS = env.int("API_TOKEN_TTL_HOURS", default=24 * 7)
if API_TOKEN_TTL_HOURS < 1:
    raise ImproperlyConfigured("API_TOKEN_TTL_HOURS must be at least 1: API tokens always expire.")
KNOX_TOKEN_MODEL = "tenancy.ApiToken"
# knox's own table would stay empty (its model is swapped for tenancy.ApiToken): not created at all.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
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
    # Keep the task time limits below Redis' redelivery window.
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

# Children's sensitive fields are encrypted with this key; rotate via a list.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=["dev-only-field-key"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "pgserver": {"level": "WARNING"}},
}

# ---------------------------------------------------------------- schools
# Children who left (transferred, graduated, no longer left behind) keep their sensitive fields
# this many days, then the nightly purge (schools.tasks.purge_expired_children) clears them.
CHILD_DATA_RETENTION_DAYS = env.int("CHILD_DATA_RETENTION_DAYS", default=365)
# When the nightly jobs of the schools app run (celery beat, local time).
SCHOOLS_NIGHTLY_HOUR = env.int("SCHOOLS_NIGHTLY_HOUR", default=2)

# ---------------------------------------------------------------- privacy
# Days a school has to answer a guardian's request to see, correct or delete a child's data.
PRIVACY_GUARDIAN_REQUEST_DAYS = env.int("PRIVACY_GUARDIAN_REQUEST_DAYS", default=15)

# ---------------------------------------------------------------- compliance
# Live assessment scores are cached this long (the key also carries a revision that every
# score-changing write bumps, so manual scores show at once; record changes within this window).
COMPLIANCE_SCORE_CACHE_SECONDS = env.int("COMPLIANCE_SCORE_CACHE_SECONDS", default=60)
# Extra modules that register metrics (compliance.metrics.register_metric), imported at startup
# in web and worker processes alike.
COMPLIANCE_METRIC_MODULES = env.list("COMPLIANCE_METRIC_MODULES", default=[])
# (minute, hour) of the nightly snapshot job registered with django-celery-beat after migrate.
COMPLIANCE_NIGHTLY_SNAPSHOT_AT = (30, 2)

# ---------------------------------------------------------------- submissions
# Reporting calendar: periods are generated this many days ahead, so the matrix can show
# upcoming periods as "not due".
SUBMISSIONS_PERIOD_HORIZON_DAYS = env.int("SUBMISSIONS_PERIOD_HORIZON_DAYS", default=62)
# A bureau unlock lasts this many days unless the bureau picks a date.
SUBMISSIONS_UNLOCK_DAYS = env.int("SUBMISSIONS_UNLOCK_DAYS", default=7)
# Copied narratives: exact Jaccard of 5-character shingles at or above THRESHOLD is flagged;
# shared passages shorter than MIN_PASSAGE normalised characters are not listed.
SUBMISSIONS_SIMILARITY = {"THRESHOLD": 0.5, "MIN_PASSAGE": 12}
# Beat entries of the periodic-task registry (jobs/beat.py, submissions/beat.py), local time.
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
    # Who acted on a submission (school, centre school, bureau): SubmissionEvent.level, returned_level.
    "ApprovalLevelEnum": "submissions.models.Level",
    # What a reader may see of a child (api/schools/children.py): another field named "level".
    "ChildReadLevelEnum": ["admin", "identity", "proxy", "basic"],
})
def _compile_status_choices():
    from django.apps import apps

    return apps.get_model("submissions", "PackageVersion")._meta.get_field("status").choices


SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update({
    "GuardianRequestKindEnum": "privacy.models.GuardianRequest.Kind",
    # A compile's status (the school's package and the township package share its labels).
    "CompileStatusEnum": lambda: _compile_status_choices(),
})

# ---------------------------------------------------------------- backup and restore
# `manage.py backup` / `make backup` write archives here unless --output-dir says otherwise.
BACKUP_DIR = env("BACKUP_DIR", default=str(VAR_DIR / "backups"))
# Keys for the HMAC over an archive's manifest (tamper evidence): the first signs, any of them
# verifies (rotation). Unset: a key derived from SECRET_KEY (ops/backup/).
BACKUP_HMAC_KEYS = env.list("BACKUP_HMAC_KEY", default=[])
# Folder holding pg_dump/pg_restore. Unset: ops/backup/ looks in pgserver's bundled client,
# /usr/lib/postgresql/*/bin and PATH, and takes the oldest one that is at least the server's version.
BACKUP_PG_BIN_DIR = env("BACKUP_PG_BIN_DIR", default="")

# ---------------------------------------------------------------- broker and database faults
# Every enqueue goes through the transactional outbox (jobs/outbox.py): the message row commits
# with the request, is published right after commit, and re-published by the beat job
# `jobs.flush_outbox` (every minute) if the broker was down. So publishing must fail FAST rather
# than hang a request: one connection attempt with a short timeout, one quick retry.
CELERY_BROKER_CONNECTION_TIMEOUT = 2  # seconds per connection attempt (AMQP and Redis)
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
if not CELERY_BROKER_URL.startswith("filesystem://"):
    # redis-py reads its connect timeout from the transport options.
    CELERY_BROKER_TRANSPORT_OPTIONS = {**CELERY_BROKER_TRANSPORT_OPTIONS, "socket_connect_timeout": 2}
# Read timeout (seconds) of the connection the outbox publishes on (jobs/outbox.py): without it a
# Redis that accepts connections but never answers hangs the request forever (measured). Only on
# the publisher's connection: a worker's idle subscriptions must not time out.
JOBS_PUBLISH_SOCKET_TIMEOUT = 5
# Workers and beat keep retrying the broker forever (they must come back by themselves).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# Stale-job sweeper (`jobs.sweep_stale`, every 5 minutes): a job still running this long after its
# hard time limit is failed; a job still waiting to start after JOBS_QUEUED_MAX_HOURS is failed.
JOBS_STALE_GRACE_SECONDS = 600
JOBS_QUEUED_MAX_HOURS = 12
# Test-only: seconds the compliance export sleeps between its steps, so a test can kill a worker mid-job.
COMPLIANCE_EXPORT_STEP_DELAY = env.float("COMPLIANCE_EXPORT_STEP_DELAY", default=0.0)
# Database restarts: CONN_HEALTH_CHECKS (set above) makes Django test a reused connection before a
# request uses it, so a server restart costs the requests in flight (a clean 503 page / JSON, see
# config/errors.py), never a restart of the app. CONN_MAX_AGE: DATABASE_CONN_MAX_AGE above.

# ---------------------------------------------------------------- hardening
# Security headers. django-csp sends the Content-Security-Policy: scripts only from our own origin
# (every template loads its JS from static files; there is no inline <script> or onclick= left, and
# Swagger UI uses drf-spectacular's split view, whose init script is a separate URL). Styles keep
# 'unsafe-inline': ECharts writes style attributes into its tooltips, and injected CSS cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],  # data: for the 2FA QR code and Swagger's icons, blob: for photo previews
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],  # with X_FRAME_OPTIONS = "DENY": no page can be framed (clickjacking)
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# django-permissions-policy: nothing here uses these browser features (photo capture goes through
# <input type=file capture>, which needs no camera permission).
PERMISSIONS_POLICY = {
    "accelerometer": [], "autoplay": [], "camera": [], "display-capture": [], "geolocation": [],
    "gyroscope": [], "magnetometer": [], "microphone": [], "payment": [], "usb": [],
}
# Two-factor authentication: the middleware is in MIDDLEWARE, after authentication.
# Required for the roles that can grant roles (bureau, township and school admins) when true;
# production defaults to true. When false, anyone may enrol from the security page, and an enrolled
# user is always asked for a code.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=False)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="留守儿童之家")

# Throttling. django-axes locks logins out per username and, separately, per IP address (see the
# axes block above for the limit and cool-off); its lockout answer is a 429 with Retry-After.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# One address (a school's NAT) may fail more often than one account; tenancy.throttling.AxesHandler
# applies this limit to the address and AXES_FAILURE_LIMIT to the username.
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=20)
AXES_HANDLER = "tenancy.throttling.AxesHandler"
AXES_LOCKOUT_CALLABLE = "tenancy.throttling.lockout_response"
# DRF throttles: per authenticated user, and per IP for anonymous requests (the token endpoint).
# api.throttling reads the rates at request time, so tests can lower them with override_settings.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["api.throttling.UserRateThrottle", "api.throttling.AnonRateThrottle"]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": env("API_THROTTLE_USER", default="1200/hour"),
    "anon": env("API_THROTTLE_ANON", default="120/hour"),
}
# Throttle counts live in the default cache: per process unless CACHE_URL points at a shared cache
# (e.g. redis://redis:6379/2), which production should do when it runs several gunicorn workers.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# Keeps two deployments (or benchmark runs) sharing one Redis apart: keys such as the score
# cache's name database ids, which every fresh database starts again from 1.
CACHES["default"]["KEY_PREFIX"] = env("CACHE_KEY_PREFIX", default="")
# The client's IP for the login lockouts, the API throttles and every access-log row: REMOTE_ADDR,
# or with N trusted reverse proxies in front, the N-th X-Forwarded-For entry from the right
# (production defaults to 1: TLS ends at a proxy). One function reads it: tenancy.client_ip; the
# API throttles call it too (api.throttling), so DRF's NUM_PROXIES is not used.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "tenancy.client_ip.client_ip"

# ---------------------------------------------------------------- notices
# Where links in e-mails and robot cards point (the site's public address, no trailing slash).
NOTICES_SITE_URL = env("NOTICES_SITE_URL", default="")
# Delivery retries: base × 2^(attempt-1) seconds, capped at an hour (notices/services.py).
NOTICES_RETRY_BASE_SECONDS = env.int("NOTICES_RETRY_BASE_SECONDS", default=30)
# Users get e-mail for every kind of notice unless they turn it off (notices settings page).
NOTICES_EMAIL_DEFAULT = env.bool("NOTICES_EMAIL_DEFAULT", default=True)
# The only places a group robot's webhook may point (scheme://host): the robot services themselves.
NOTICES_ROBOT_ORIGINS = {
    "dingtalk": env.list("NOTICES_DINGTALK_ORIGINS", default=["https://oapi.dingtalk.com"]),
    "wecom": env.list("NOTICES_WECOM_ORIGINS", default=["https://qyapi.weixin.qq.com"]),
}
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="webmaster@localhost")

# ---------------------------------------------------------------- offline (the installable app)
# A phone that has not synced for this many days deletes what it keeps for offline work (children's
# names and contact status, records waiting to be sent); the page reads it from the snapshot and
# from <body data-offline-days>.
OFFLINE_MAX_AGE_DAYS = env.int("OFFLINE_MAX_AGE_DAYS", default=14)
