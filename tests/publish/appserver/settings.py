"""An app server without STATIC_ROOT: names come from the bucket, pinned to ``STATIC_BUILD``."""

import os

SECRET_KEY = "assetpipe-appserver"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
DATABASES: dict[str, dict[str, str]] = {}
ROOT_URLCONF = "tests.publish.appserver.urls"
MIDDLEWARE: list[str] = []
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [os.environ["APPSERVER_TEMPLATES"]],
    }
]
STATIC_URL = os.environ["APPSERVER_STATIC_URL"]
STATIC_ROOT = None
STORAGES = {
    "staticfiles": {
        "BACKEND": "assetpipe.storage.AssetPipeStorage",
        "OPTIONS": {
            "s3": {
                "bucket_name": os.environ["APPSERVER_BUCKET"],
                "location": "static",
                "endpoint_url": os.environ["APPSERVER_S3_ENDPOINT"],
                "region_name": "us-east-1",
                "read_manifest_from_bucket": True,
                # Unset: the live manifest. Set: the build this release was made with.
                "manifest_digest": os.environ.get("STATIC_BUILD") or None,
            }
        },
    }
}
