"""A shop whose static files assetpipe builds, publishes to S3 and WhiteNoise serves.

Its tests render templates with ``{% static %}`` and assetpipe's tags. Nothing here is about
testing: the suite gets its build from assetpipe's pytest plugin or test runner.
"""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "shop-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
INSTALLED_APPS = ["assetpipe", "django.contrib.staticfiles", "shop"]
MIDDLEWARE = ["assetpipe.serve.whitenoise.WhiteNoiseMiddleware"]
ROOT_URLCONF = "shop_site.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    }
]
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

STATIC_URL = "/static/"
# Production's: `manage.py collectstatic` builds it and publishes to the bucket below.
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "assetpipe.storage.AssetPipeStorage",
        "OPTIONS": {
            "missing_references": "fail",
            "integrity": True,
            # Nothing listens there: a build that tried to publish would fail.
            "s3": {"bucket_name": "shop-static", "endpoint_url": "http://127.0.0.1:9"},
        },
    },
}
