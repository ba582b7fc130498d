"""Flowdeck settings, read from the environment (docs/deployment/configuration.md).

No variables set: the embedded default, everything under FLOWDECK_DATA_DIR (./var) on SQLite,
django-q2 on its ORM broker. DATABASE_URL (PostgreSQL) and REDIS_URL switch to scale-out mode.
"""

from pathlib import Path

import dj_database_url

from flowdeck.env import (
    env_bool,
    env_float,
    env_int,
    env_json_object,
    env_list,
    env_networks,
    env_proxy_ssl_header,
    env_rate,
    env_str,
    env_url,
    secret_key_from_file,
)
from flowdeck.logmask import LOGGERS as LOGMASK_LOGGERS

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("FLOWDECK_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("FLOWDECK_DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or secret_key_from_file(DATA_DIR / "secret_key")
ALLOWED_HOSTS = env_list("FLOWDECK_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("FLOWDECK_CSRF_TRUSTED_ORIGINS", [])

# How many machines run Flowdeck processes against this database; checks refuse SQLite above 1.
FLOWDECK_MACHINES = env_int("FLOWDECK_MACHINES", 1, min_value=1)

INSTALLED_APPS = [
    "daphne",
    "flowdeck.apps.FlowdeckAdminConfig",  # django.contrib.admin with a throttled login
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_q",
    "django_vite",
    "flowdeck.apps.FlowdeckConfig",
    "designer",
    "engine",
    "alerts",
    "connectors",
    "webhooks",
    "people",
]

MIDDLEWARE = [
    # Outermost: every response, static files and errors included, carries the server's clock.
    "flowdeck.servertime.server_time",
    # The header middlewares come before WhiteNoise, so that static files carry them too.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "flowdeck.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A body over its endpoint's limit is a 413 before anything reads it (flowdeck/bodylimit.py).
    "flowdeck.bodylimit.BodyLimitMiddleware",
    # U+0000 in an API URL is a 400: PostgreSQL cannot take it (flowdeck/nul.py).
    "flowdeck.nul.refuse_nul_in_urls",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A login with a one-time password reaches nothing until it chooses a new one.
    "people.passwords.require_new_password",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "flowdeck.urls"
WSGI_APPLICATION = "flowdeck.wsgi.application"
ASGI_APPLICATION = "flowdeck.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", frozenset({"postgres", "postgresql", "pgsql"}))
if DATABASE_URL:
    # Persistent connections: django-q2's ORM broker closes connections older than CONN_MAX_AGE
    # on every poll, and at 0 that costs 10x in throughput (STACK-NOTES). Health checks replace
    # a connection that died with a database restart.
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=None, conn_health_checks=True)
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "flowdeck.sqlite3",
            # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
            # so concurrent writers queue on the busy timeout instead of failing with
            # "database is locked" when they upgrade a read lock (STACK-NOTES: 38 % failures
            # with deferred transactions, none with these options).
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("FLOWDECK_SQLITE_TIMEOUT", 20, min_value=1),
            },
            # A file, not memory: worker and server subprocesses of the tests must share it.
            "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
EMBEDDED = DATABASE_URL is None

# --- Redis: broker, cache and channel layer in scale-out mode --------------------------------
REDIS_URL = env_url("REDIS_URL", frozenset({"redis", "rediss", "unix"}))

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "flowdeck",
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": "flowdeck"},
        }
    }
else:
    # A file cache is shared by every process on the machine: django-q2 keeps its cluster
    # statistics in the cache, and /healthz (web process) reads the workers' (qcluster) there.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
    # Per process only: the embedded live feed (engine/live.py) brings the workers' events
    # into each web process by tailing the event table.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- django-q2 --------------------------------------------------------------------------------
FLOWDECK_TASK_TIMEOUT = env_int("FLOWDECK_TASK_TIMEOUT", 300, min_value=1)
Q_CLUSTER = {
    "name": env_str("FLOWDECK_QUEUE", "flowdeck"),
    "workers": env_int("FLOWDECK_WORKERS", 2, min_value=1, max_value=64),
    "timeout": FLOWDECK_TASK_TIMEOUT,
    # retry must exceed timeout, or a slow task is handed to a second worker while it still runs.
    "retry": FLOWDECK_TASK_TIMEOUT + 60,
    # The engine owns retries (per-node policy); the broker never re-runs a failed task itself.
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": 1000,
    "cache": "default",
    "label": "Task queue",
}
# django-q2's own brokers with a list per run priority (engine/priority.py).
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
    Q_CLUSTER["broker_class"] = "engine.priority.PriorityRedis"
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["broker_class"] = "engine.priority.PriorityORM"
    # Idle pickup latency is about poll / 2 on the ORM broker (STACK-NOTES: 0.05 s gives ~10 ms).
    Q_CLUSTER["poll"] = env_float("FLOWDECK_POLL", 0.05, min_value=0.01, max_value=10)

# --- Auth and API ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with WWW-Authenticate, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "people.tokens.ApiTokenAuthentication",  # hashed, named tokens (people/tokens.py)
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's parsers, refusing U+0000 in a body (flowdeck/nul.py).
    "DEFAULT_PARSER_CLASSES": [
        "flowdeck.nul.JSONParser",
        "flowdeck.nul.FormParser",
        "flowdeck.nul.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "flowdeck.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "flowdeck.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
# API rate limits (flowdeck/throttling.py): per user, and per client address for the calls
# open without a login; 429 with Retry-After beyond. "off" lifts one.
FLOWDECK_API_RATE_USER = env_rate("FLOWDECK_API_RATE_USER", "1200/min")
FLOWDECK_API_RATE_ANON = env_rate("FLOWDECK_API_RATE_ANON", "120/min")
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "flowdeck.throttling.UserRateThrottle",
    "flowdeck.throttling.AnonRateThrottle",
]
# Proxies in front that append the client's address to X-Forwarded-For. 0: the peer's address
# counts, so a client cannot pick a fresh count by sending the header itself.
REST_FRAMEWORK["NUM_PROXIES"] = env_int("FLOWDECK_TRUSTED_PROXIES", 0, min_value=0, max_value=10)
# The counts live in a cache of their own, shared by every process (Redis in scale-out, files on
# one machine): a flood of clients then culls its own entries, never django-q2's statistics.
if REDIS_URL:
    CACHES["throttle"] = {**CACHES["default"], "KEY_PREFIX": "flowdeck-throttle"}
else:
    CACHES["throttle"] = {
        "BACKEND": "flowdeck.cache.LockedFileBasedCache",  # atomic counts across processes
        "LOCATION": str(DATA_DIR / "throttle"),
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }
SPECTACULAR_SETTINGS = {
    "TITLE": "Flowdeck API",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the drf-spectacular-sidecar package, not from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The errors every operation can answer (401, 429, ...), written once (flowdeck/openapi.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "flowdeck.openapi.document_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "engine.states.RunStatus",
        "StepStatusEnum": "engine.states.StepStatus",
        "TaskStatusEnum": "engine.states.TaskStatus",
        "TaskKindEnum": "engine.models.TaskKind",
        "DecisionEnum": "engine.models.Decision",
        "ApprovalDecisionEnum": "engine.serializers.APPROVAL_DECISIONS",
        "CredentialKindEnum": "connectors.kinds.CredentialKind",
        "LogLevelEnum": "engine.steplogs.LEVELS",
        "ScheduleStateEnum": "engine.schedule_models.ScheduleState",
    },
}

# --- Security (docs/security/index.md; headers: flowdeck/security.py) --------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# The app reads the CSRF cookie to send X-CSRFToken, so it cannot be HttpOnly.
CSRF_COOKIE_SAMESITE = "Lax"
# A CSRF refusal by Django's middleware is JSON under /api/ like every other error (DRF's views
# check CSRF themselves and answer JSON already; this is for plain views there).
CSRF_FAILURE_VIEW = "flowdeck.views.csrf_failure"
FLOWDECK_HTTPS = env_bool("FLOWDECK_HTTPS", False)
if FLOWDECK_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("FLOWDECK_SSL_REDIRECT", True)
    # Load balancers often check health over plain HTTP: a redirect would read as down.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("FLOWDECK_HSTS_SECONDS", 31536000, min_value=0)
    # Off by default: it binds every subdomain of the host to HTTPS for a year.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("FLOWDECK_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("FLOWDECK_HSTS_PRELOAD", False)
    # The header by which the TLS-terminating proxy says the request came over HTTPS; it must
    # set it on every request (overwriting the client's). "none": TLS ends at daphne itself.
    SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("FLOWDECK_PROXY_SSL_HEADER", "X-Forwarded-Proto")

# Failed logins (flowdeck/login_throttle.py): this many for one username from one address, or
# the second number from one address whatever the usernames, lock for the window (seconds).
FLOWDECK_LOGIN_FAILURES = env_int("FLOWDECK_LOGIN_FAILURES", 5, min_value=0, max_value=1000)
FLOWDECK_LOGIN_ADDRESS_FAILURES = env_int(
    "FLOWDECK_LOGIN_ADDRESS_FAILURES", 50, min_value=1, max_value=100000
)
FLOWDECK_LOGIN_LOCKOUT_S = env_int("FLOWDECK_LOGIN_LOCKOUT_S", 900, min_value=1, max_value=86400)

# --- Email: reminders and escalations of human tasks -----------------------------------------
# Without FLOWDECK_EMAIL_HOST, mail is written to the worker's log (the console backend), so the
# embedded mode needs no mail server; with it, mail goes out over SMTP.
EMAIL_HOST = env_str("FLOWDECK_EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("FLOWDECK_EMAIL_PORT", 587, min_value=1, max_value=65535)
    EMAIL_HOST_USER = env_str("FLOWDECK_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = env_str("FLOWDECK_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("FLOWDECK_EMAIL_TLS", True)
    EMAIL_TIMEOUT = 30
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("FLOWDECK_EMAIL_FROM", "flowdeck@localhost")
# Where people reach this Flowdeck: the links in emails (approve, reject, open the form) are
# absolute, and a worker sending them has no request to take the host from. Unset, links point
# at the embedded default's address (a warning, flowdeck.W002, says so).
FLOWDECK_BASE_URL = (
    env_url("FLOWDECK_BASE_URL", frozenset({"http", "https"})) or "http://127.0.0.1:8000"
).rstrip("/")
FLOWDECK_BASE_URL_SET = bool(env_str("FLOWDECK_BASE_URL", ""))
# How long an email's decision link works when its task has no due time (one with a due time
# works until then, following escalations); used or not, a link dies with its task.
FLOWDECK_TASK_LINK_MAX_AGE_S = env_int(
    "FLOWDECK_TASK_LINK_MAX_AGE_S", 7 * 86400, min_value=60, max_value=366 * 86400
)

# --- Static files and the single-page app ------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at every start when it is missing
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
# The documentation site that /docs/ serves (flowdeck/docs.py): MkDocs' output, built by
# ./start.sh from mkdocs.yml and docs/ (scripts/setup.sh, setup_docs). Not committed.
DOCS_SITE_DIR = BASE_DIR / "site"
STATICFILES_DIRS = [FRONTEND_DIST]
# Serve straight from the finders: no collectstatic step, and Vite already puts content
# hashes in the asset names, which WhiteNoise recognises and caches forever.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
DJANGO_VITE = {
    "default": {
        "dev_mode": env_bool("FLOWDECK_VITE_DEV", False),
        "manifest_path": FRONTEND_DIST / ".vite" / "manifest.json",
    }
}

# --- Files people attach to tasks (engine/discussion.py) ---------------------------------------
# Django's default storage: the data dir's media/ folder, or another backend (S3-like storage
# through django-storages, docs/deployment/configuration.md) named by FLOWDECK_STORAGE_BACKEND
# with its options as a JSON object in FLOWDECK_STORAGE_OPTIONS. No MEDIA_URL: files are never
# served by a public URL, only by the approvals API to those who may see the task.
MEDIA_ROOT = DATA_DIR / "media"
FLOWDECK_STORAGE_BACKEND = env_str(
    "FLOWDECK_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
)
FLOWDECK_STORAGE_OPTIONS = env_json_object("FLOWDECK_STORAGE_OPTIONS", {})
STORAGES = {
    "default": {
        "BACKEND": FLOWDECK_STORAGE_BACKEND,
        "OPTIONS": FLOWDECK_STORAGE_OPTIONS
        or (
            {"location": str(MEDIA_ROOT)}
            if FLOWDECK_STORAGE_BACKEND == "django.core.files.storage.FileSystemStorage"
            else {}
        ),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The largest file one may attach to a task (bytes); a larger upload gets 413.
FLOWDECK_ATTACHMENT_MAX_BYTES = env_int(
    "FLOWDECK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, min_value=1, max_value=1024**3
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Secret URLs (task links, webhooks, password resets: flowdeck/logmask.py) are masked in every
# line: by a filter on the loggers that write request paths (so every handler, tests' caplog
# too, sees the masked record), and on the console handler for any other logger's line.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_secret_urls": {"()": "flowdeck.logmask.MaskSecretUrls"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_secret_urls"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("FLOWDECK_LOG_LEVEL", "INFO").upper()},
    "loggers": {
        # httpx logs every request's full URL at INFO; a webhook URL may carry a token in its
        # query.
        "httpx": {"level": "WARNING"},
        **{name: {"filters": ["mask_secret_urls"]} for name in LOGMASK_LOGGERS},
    },
}

# --- Engine -----------------------------------------------------------------------------------
# A running attempt's lease; its worker renews it every third of this. A worker that dies is
# noticed when the lease runs out (plus one sweep).
FLOWDECK_LEASE_S = env_float("FLOWDECK_LEASE_S", 15, min_value=1, max_value=3600)
# How often each worker process's sweeper looks for due timers and lost work.
FLOWDECK_SWEEP_INTERVAL_S = env_float("FLOWDECK_SWEEP_INTERVAL_S", 1, min_value=0.05, max_value=60)
# A queued step not picked up for this long is enqueued again (its task was lost).
FLOWDECK_REQUEUE_AFTER_S = env_float("FLOWDECK_REQUEUE_AFTER_S", 20, min_value=1)
# Largest step output (and run output), as JSON. A run's input becomes its trigger's output, so
# a start with a larger input is refused (413 naming input), never started to fail at once.
FLOWDECK_MAX_OUTPUT_BYTES = env_int("FLOWDECK_MAX_OUTPUT_BYTES", 1024 * 1024, min_value=1)
# Largest request body under /api/, refused with 413 by its Content-Length before it is read
# (flowdeck/bodylimit.py). The biggest thing most bodies carry is bounded by the output limit
# (a run's input, a form's data, a pinned output), plus room for the fields around it. Views
# may declare their own: the designer's (a graph, designer/validation.py MAX_GRAPH_BYTES, plus
# room), the webhook's (its trigger's max_body_bytes, up to 10 MiB).
FLOWDECK_MAX_BODY_BYTES = env_int(
    "FLOWDECK_MAX_BODY_BYTES", FLOWDECK_MAX_OUTPUT_BYTES + 64 * 1024, min_value=1024
)
# Django's cap on a body read into memory (request.body, DRF's JSON and form parsers; 2.5 MB by
# default): never below the API's limit, or a body the API admits would fail in the parser.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, FLOWDECK_MAX_BODY_BYTES)
# How deep child runs (flow.subworkflow, flow.map) may nest.
FLOWDECK_MAX_CHILD_DEPTH = env_int("FLOWDECK_MAX_CHILD_DEPTH", 10, min_value=1, max_value=100)
# Test runs of drafts (the designer's "Run step", issue 18) are deleted this many days after
# they started.
FLOWDECK_TEST_RUN_DAYS = env_int("FLOWDECK_TEST_RUN_DAYS", 7, min_value=1, max_value=3650)
# A worker that finished a step runs the next one itself (no broker round trip) for this long.
FLOWDECK_INLINE_BUDGET_S = env_float("FLOWDECK_INLINE_BUDGET_S", 5, min_value=0, max_value=60)
# Modules whose @step functions code.function steps may call.
FLOWDECK_FUNCTION_MODULES = env_list("FLOWDECK_FUNCTION_MODULES", ["engine.example_functions"])
# A schedule's slot that fires this late still counts as on time; older ones were missed while
# nothing fired, and the trigger's catch_up policy decides about them (engine/schedules.py).
FLOWDECK_SCHEDULE_GRACE_S = env_float("FLOWDECK_SCHEDULE_GRACE_S", 60, min_value=0, max_value=86400)

# --- Live updates (engine/live.py) -----------------------------------------------------------
# How committed events reach the websockets: "layer" publishes after commit through the channel
# layer (channels_redis, scale-out); "poll" tails the event table in each web process (embedded;
# no extra server). bench/README.md ("ws_latency.py") has the measurements behind the choice.
FLOWDECK_LIVE_FEED = "layer" if REDIS_URL else "poll"
# The poll feed's period: new events reach a socket within about this (plus a query).
FLOWDECK_LIVE_POLL_S = env_float("FLOWDECK_LIVE_POLL_S", 0.05, min_value=0.01, max_value=5)
# PostgreSQL only: how long a reader looks back for event ids that commit after higher ones.
FLOWDECK_LIVE_SETTLE_S = env_float("FLOWDECK_LIVE_SETTLE_S", 5, min_value=0, max_value=300)

# --- Metrics (/metrics, engine/metrics.py) ----------------------------------------------------
# Who may scrape: a bearer token, and/or the scraper's address in these networks (both when both
# are set); with neither, staff sessions only.
FLOWDECK_METRICS_TOKEN = env_str("FLOWDECK_METRICS_TOKEN", "")
FLOWDECK_METRICS_ALLOW = env_networks("FLOWDECK_METRICS_ALLOW")

# --- Alerts (alerts/) ------------------------------------------------------------------------
# How often one process's sweeper evaluates the alert rules (at most; the sweep runs every second).
FLOWDECK_ALERTS_INTERVAL_S = env_float("FLOWDECK_ALERTS_INTERVAL_S", 5, min_value=0, max_value=3600)
# A webhook POST gives up after this many seconds, and is tried this many times per alert, the
# n-th retry after backoff * 2^(n-1) seconds.
FLOWDECK_ALERT_WEBHOOK_TIMEOUT_S = env_float(
    "FLOWDECK_ALERT_WEBHOOK_TIMEOUT_S", 5, min_value=0.1, max_value=60
)
FLOWDECK_ALERT_WEBHOOK_ATTEMPTS = env_int(
    "FLOWDECK_ALERT_WEBHOOK_ATTEMPTS", 5, min_value=1, max_value=20
)
FLOWDECK_ALERT_WEBHOOK_BACKOFF_S = env_float(
    "FLOWDECK_ALERT_WEBHOOK_BACKOFF_S", 10, min_value=0, max_value=3600
)

# --- Connectors (connectors/) ------------------------------------------------------------------
# Fernet keys sealing credentials at rest, comma-separated (the first seals, all open). Unset: a
# key generated into the data dir on first use (one machine only; check flowdeck.E004).
FLOWDECK_CREDENTIALS_KEY = env_str("FLOWDECK_CREDENTIALS_KEY", "")
# Outbound HTTP (http.request; connectors/netguard.py): private, loopback, link-local and other
# non-public addresses are refused unless inside one of these networks (CIDR, comma-separated).
FLOWDECK_HTTP_ALLOW_NETWORKS = env_networks("FLOWDECK_HTTP_ALLOW_NETWORKS")
# An http.request gives up after this long (and never after its node's timeout_s).
FLOWDECK_HTTP_TIMEOUT_S = env_float("FLOWDECK_HTTP_TIMEOUT_S", 30, min_value=0.1, max_value=3600)

# --- Webhooks (webhooks/) ----------------------------------------------------------------------
# Requests each webhook token may make, "<count>/<s|min|hour|day>" or "off"; more get 429.
FLOWDECK_WEBHOOK_RATE = env_rate("FLOWDECK_WEBHOOK_RATE", "60/min")
# The longest a webhook request's ?wait= may keep its response open for the run to end.
FLOWDECK_WEBHOOK_MAX_WAIT_S = env_float(
    "FLOWDECK_WEBHOOK_MAX_WAIT_S", 30, min_value=0, max_value=300
)
