"""Django system checks for assetpipe's settings (``manage.py check``).

=================  =======  ===========================================================
id                 level    problem
=================  =======  ===========================================================
assetpipe.E001     error    static publishing and another S3 storage (media, any alias)
                            share a bucket and their key prefixes overlap
assetpipe.E002     error    a media storage's tenant is missing or invalid
assetpipe.E003     error    a media storage cannot be created from its OPTIONS
assetpipe.E004     error    an AssetPipeStorage option is unknown, of the wrong type or out
                            of range, or ``state_dir`` is inside STATIC_ROOT
assetpipe.W001     warning  media objects would be public (a public ACL)
assetpipe.W002     warning  media URLs are not signed (``querystring_auth=False``)
assetpipe.W003     warning  "assetpipe" is not listed before "django.contrib.staticfiles"
                            in INSTALLED_APPS, so ``collectstatic`` is Django's command
assetpipe.W004     warning  STATIC_URL is on another origin than the pages and the static
                            storage has no ``cors`` option: browsers refuse its web fonts,
                            and with ``integrity`` every stylesheet, script and module
=================  =======  ===========================================================

Every check also carries the ``assetpipe`` tag (``manage.py check --tag assetpipe``).
``assetpipe.media`` (and with it boto3) is imported only once a media storage is found, and the
static storage's options are checked without creating the storage, so checking a project
without media on S3 stays cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.apps import AppConfig, apps
from django.conf import STATICFILES_STORAGE_ALIAS, settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from assetpipe.build.state import state_dir_problem
from assetpipe.conf import storages
from assetpipe.conf.options import SETTING, storage_option_problems
from assetpipe.conf.storages import configured_options
from assetpipe.publish.overlap import overlap, s3_storages, static_prefix

if TYPE_CHECKING:
    from assetpipe.media import TenantMediaStorage

# Selects assetpipe's checks, e.g. before ``manage.py assetpipe <subcommand>``.
TAG = "assetpipe"


def _media_backends() -> Iterator[tuple[str, type[TenantMediaStorage] | ImproperlyConfigured]]:
    """``(alias, backend)`` of every TenantMediaStorage in ``STORAGES``, or the error (a missing
    extra) that prevents importing one."""
    for alias, config in settings.STORAGES.items():
        try:
            backend = import_string(config["BACKEND"])
        except ImproperlyConfigured as error:
            if str(config.get("BACKEND", "")).startswith("assetpipe."):
                yield alias, error  # assetpipe.media without the media extra
            continue
        except (ImportError, KeyError, TypeError):
            continue  # Django reports an unusable STORAGES entry where it is used.
        # A TenantMediaStorage backend has just imported assetpipe.media; if nothing did,
        # there is none, and a project without media on S3 never imports boto3 here.
        media = sys.modules.get("assetpipe.media.storage")
        if media and isinstance(backend, type) and issubclass(backend, media.TenantMediaStorage):
            yield alias, backend


def _media_storages() -> Iterator[tuple[str, TenantMediaStorage | ImproperlyConfigured]]:
    """Each media storage as configured, or the error that prevents creating it."""
    for alias, backend in _media_backends():
        if isinstance(backend, ImproperlyConfigured):
            yield alias, backend
            continue
        try:
            yield alias, backend(**configured_options(settings.STORAGES[alias]))
        except ImproperlyConfigured as error:
            yield alias, error


def _obj(alias: str) -> str:
    return f'STORAGES["{alias}"]'


@register(Tags.files, TAG)
def check_media_configuration(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias, storage in _media_storages():
        # Imported only if the backend's import succeeded: without the media extra it fails.
        media = sys.modules.get("assetpipe.media.storage")
        if media is not None and isinstance(storage, media.TenantConfigurationError):
            messages.append(
                Error(
                    str(storage),
                    hint="Set the tenant option (for one tenant per deploy, e.g. from a "
                    "CUSTOMER environment variable) or tenant_resolver, not both.",
                    obj=_obj(alias),
                    id="assetpipe.E002",
                )
            )
        elif isinstance(storage, ImproperlyConfigured):
            messages.append(Error(str(storage), obj=_obj(alias), id="assetpipe.E003"))
    return messages


@register(Tags.files, Tags.security, TAG)
def check_media_privacy(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias, storage in _media_storages():
        if isinstance(storage, ImproperlyConfigured):
            continue
        from assetpipe.media.storage import PUBLIC_ACLS

        acl = storage.object_parameters.get("ACL") or storage.default_acl
        if acl in PUBLIC_ACLS:
            messages.append(
                CheckWarning(
                    f"Media objects in bucket {storage.bucket_name!r} are uploaded with the "
                    f"{acl!r} ACL: anyone who learns a key can read the file.",
                    hint="Remove default_acl and object_parameters['ACL'] from the OPTIONS; "
                    "signed URLs give access to private objects.",
                    obj=_obj(alias),
                    id="assetpipe.W001",
                )
            )
        if not storage.querystring_auth:
            messages.append(
                CheckWarning(
                    f"Media URLs for bucket {storage.bucket_name!r} are not signed "
                    "(querystring_auth=False): they work only if the objects are public.",
                    hint="Remove querystring_auth from the OPTIONS to hand out signed URLs "
                    "that expire.",
                    obj=_obj(alias),
                    id="assetpipe.W002",
                )
            )
    return messages


@register(Tags.files, Tags.staticfiles, TAG)
def check_media_static_overlap(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    static = static_prefix()
    if static is None:
        return []
    messages: list[CheckMessage] = []
    for alias, where in s3_storages():
        # A storage that cannot be created is reported by Django where it is used, or by
        # assetpipe.E002/E003 for a TenantMediaStorage.
        found = None if isinstance(where, ImproperlyConfigured) else overlap(static, where)
        if found is not None:
            messages.append(
                Error(
                    f"{found}: pruning static files would delete those files, publishing "
                    "could overwrite them, and a bucket or runner policy for the static "
                    "files would let others read them.",
                    # The words of overlap.FIX, written out for the reference page's generator.
                    hint="Give static files and media disjoint locations in the bucket (e.g. "
                    '"static" and "media"), or separate buckets.',
                    obj=_obj(alias),
                    id="assetpipe.E001",
                )
            )
    return messages


@register(Tags.staticfiles, TAG)
def check_static_options(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not storages.uses_assetpipe():
        return []
    entry = storages.static_entry()
    options = entry.get("OPTIONS", {}) if entry is not None else {}
    problems: list[str] = [str(problem) for problem in storage_option_problems(options)]
    if isinstance(options, Mapping):
        problems.extend(_state_dir_problems(options))
    obj = _obj(STATICFILES_STORAGE_ALIAS)
    return [Error(problem, obj=obj, id="assetpipe.E004") for problem in problems]


def _state_dir_problems(options: Mapping[str, Any]) -> list[str]:
    # The storage refuses this only when a build asks for its state; say so before.
    state_dir, root = options.get("state_dir"), options.get("location") or settings.STATIC_ROOT
    if not isinstance(state_dir, str | Path) or not state_dir or not isinstance(root, str | Path):
        return []
    problem = state_dir_problem(Path(root), state_dir)
    return [f'assetpipe: {SETTING}["state_dir"] {problem}.'] if problem else []


@register(Tags.staticfiles, TAG)
def check_app_order(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not storages.uses_assetpipe():
        return []
    names = [config.name for config in apps.get_app_configs()]
    staticfiles = "django.contrib.staticfiles"
    if staticfiles not in names or names.index("assetpipe") < names.index(staticfiles):
        return []
    return [
        CheckWarning(
            '"assetpipe" is listed after "django.contrib.staticfiles" in INSTALLED_APPS, so '
            "collectstatic is Django's command, not assetpipe's, which reports the build at "
            "the command's verbosity.",
            hint='List "assetpipe" before "django.contrib.staticfiles" in INSTALLED_APPS.',
            obj="INSTALLED_APPS",
            id="assetpipe.W003",
        )
    ]


# Middleware that serves STATIC_ROOT with "Access-Control-Allow-Origin: *", unless its setting
# (default True) turns that off.
ANY_ORIGIN_MIDDLEWARE = {
    "whitenoise.middleware.WhiteNoiseMiddleware": "WHITENOISE_ALLOW_ALL_ORIGINS",
    "servestatic.middleware.ServeStaticMiddleware": "SERVESTATIC_ALLOW_ALL_ORIGINS",
}


@register(Tags.staticfiles, TAG)
def check_cross_origin_static(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not storages.uses_assetpipe():
        return []
    options = storages.static_options()
    static_url = settings.STATIC_URL
    host = _other_origin(static_url)
    if host is None or options.get("cors") is not None:
        return []
    if _any_origin_middleware() and not _bucket_host(host, options.get("s3")):
        return []  # the middleware's responses reach the browser, through a CDN or not
    if options.get("integrity") is True:
        refused = (
            "its web fonts and every stylesheet, script and module that {% load assetpipe %} "
            'tags render (integrity makes each a crossorigin="anonymous" request)'
        )
    else:
        refused = (
            'its web fonts, and every tag with crossorigin="anonymous" (which the "integrity" '
            "option puts on each stylesheet, script and module tag)"
        )
    return [
        CheckWarning(
            f"STATIC_URL {static_url!r} is on another origin than the pages, and {SETTING} has "
            f'no "cors" option: browsers refuse {refused} unless that origin answers with '
            "Access-Control-Allow-Origin.",
            hint=f'Set {SETTING}["cors"], e.g. {{"origins": ["https://www.example.com"]}} or '
            '{"origins": ["*"]}, and give the bucket its rule with `manage.py assetpipe cors '
            "--apply`; a CDN or server in front of it must send the same headers.",
            obj=_obj(STATICFILES_STORAGE_ALIAS),
            id="assetpipe.W004",
        )
    ]


def _other_origin(static_url: object) -> str | None:
    """The host of an absolute (``https://host/``) or scheme-relative (``//host/``) URL."""
    if not isinstance(static_url, str) or not static_url.startswith(("http://", "https://", "//")):
        return None
    return urlsplit(static_url).netloc.lower() or None


def _any_origin_middleware() -> bool:
    return any(
        name in ANY_ORIGIN_MIDDLEWARE and getattr(settings, ANY_ORIGIN_MIDDLEWARE[name], True)
        for name in settings.MIDDLEWARE
    )


def _bucket_host(host: str, s3: object) -> bool:
    """Whether ``host`` serves the bucket itself, where no middleware's headers reach."""
    if host.endswith(".amazonaws.com"):
        return True
    if not isinstance(s3, Mapping):
        return False
    endpoint = s3.get("endpoint_url")
    return isinstance(endpoint, str) and urlsplit(endpoint).netloc.lower() == host
