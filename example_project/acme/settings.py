"""Settings for ACME's shop: assetpipe builds the static files, WhiteNoise serves them, and
customer uploads go to a private, per-tenant prefix of a shared media bucket.

Both buckets live on one S3 endpoint. ``manage.py demo`` starts a local one (moto's server on
loopback), so nothing here needs an AWS account; point ``ACME_S3_ENDPOINT`` elsewhere (or drop
``endpoint_url``) to use real S3.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
# Everything the demo writes (the built STATIC_ROOT and assetpipe's build state) goes here.
DEMO_DIR = Path(os.environ.get("ACME_DEMO_DIR", BASE_DIR.parent.parent / ".demo")).resolve()
S3_ENDPOINT = os.environ.get("ACME_S3_ENDPOINT", "http://127.0.0.1:9753")
TENANT = os.environ.get("ACME_TENANT", "acme-corp")
EDGE_CDN = os.environ.get("ACME_EDGE_CDN")
STATIC_BUCKET = os.environ.get("ACME_STATIC_BUCKET", "acme-static")
MEDIA_BUCKET = "acme-media"
SERVER = os.environ.get("ACME_SERVER", "whitenoise")  # or "servestatic", under acme.asgi

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    # The admin is installed for its stylesheets, which the shop's pages reuse.
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "assetpipe",  # before staticfiles, so that its collectstatic is the one that runs
    "django.contrib.staticfiles",
    "acme",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves STATIC_ROOT, picking the .br/.gz variants assetpipe wrote: WhiteNoise under WSGI,
    # ServeStatic (and preload Link headers) under ASGI with ACME_SERVER=servestatic.
    *(
        [
            "assetpipe.serve.servestatic.ServeStaticMiddleware",
            "assetpipe.serve.preload.PreloadMiddleware",
        ]
        if SERVER == "servestatic"
        else ["whitenoise.middleware.WhiteNoiseMiddleware"]
    ),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "acme.urls"
WSGI_APPLICATION = "acme.wsgi.application"
ASGI_APPLICATION = "acme.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
# The shop keeps no data of its own; sessions are signed cookies.
DATABASES: dict[str, dict[str, str]] = {}
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
USE_TZ = True
TIME_ZONE = "UTC"

# "/static/" serves the files from this site (WhiteNoise). Set it to the bucket's or a CDN's
# URL, e.g. "https://acme-static.s3.amazonaws.com/static/", to load them from there: the
# "cors" option below is what lets this site's pages use them from that other origin.
STATIC_URL = os.environ.get("ACME_STATIC_URL", "/static/")
STATIC_ROOT = DEMO_DIR / "build" / "static"
# Uploads above this size would be spooled to disk before going to S3; the demo form is small.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

STORAGES = {
    "staticfiles": {
        "BACKEND": "assetpipe.storage.AssetPipeStorage",
        "OPTIONS": {
            "encodings": ["br", "gzip"],
            # app.js imports ./greeting.js: rewrite the specifier to the hashed name too.
            "js_module_imports": True,
            # Integrity values and the module graph for {% load assetpipe %}: the page's
            # scripts and stylesheets carry integrity, and its .mjs modules (which the rewrite
            # above, for *.js, leaves as written) load through {% importmap %}.
            "integrity": True,
            # Any page may read the static files cross-origin: `manage.py assetpipe cors --apply`
            # gives the bucket this rule, and `assetpipe nginx` sends it.
            "cors": {"origins": ["*"]},
            # Published after each build, so app servers or a CDN can read the same files.
            "s3": {
                "bucket_name": STATIC_BUCKET,
                "location": "static",
                "endpoint_url": S3_ENDPOINT,
                "region_name": "us-east-1",
                # With a CDN, the .br/.gz variants are published too, for it to pick from.
                **({"variants": "static_root_and_bucket"} if EDGE_CDN else {}),
            },
            # The CDN in front of the bucket ("cloudfront" or "cloudflare"), if any: every
            # variant is then built and published, for `manage.py assetpipe edge` to serve.
            **({"cdn": EDGE_CDN} if EDGE_CDN else {}),
        },
    },
    "default": {
        "BACKEND": "assetpipe.media.TenantMediaStorage",
        "OPTIONS": {
            "bucket_name": MEDIA_BUCKET,
            "location": "media",
            "tenant": TENANT,
            "endpoint_url": S3_ENDPOINT,
            "region_name": "us-east-1",
        },
    },
}

if SERVER == "servestatic":
    # ServeStatic sends the same Content-Type as nginx and S3 with assetpipe's media types.
    from assetpipe.serve import servestatic_mimetypes

    SERVESTATIC_MIMETYPES = servestatic_mimetypes()
