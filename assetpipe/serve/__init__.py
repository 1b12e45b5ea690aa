"""Serving a STATIC_ROOT built by assetpipe: nginx configuration (``manage.py assetpipe nginx``)
and the one WhiteNoise setting that makes it send the same headers as nginx and S3.

WhiteNoise's middleware serves assetpipe's output as it is; only its table of media types lacks
a few of assetpipe's (``.map``, ``.webmanifest``, fonts), so give it assetpipe's::

    from assetpipe.serve import whitenoise_mimetypes

    WHITENOISE_MIMETYPES = whitenoise_mimetypes()

and ServeStatic, WhiteNoise's fork, the same (``SERVESTATIC_MIMETYPES = servestatic_mimetypes()``).
Neither function imports the server, so a settings module may call it before Django is set up.
"""

from __future__ import annotations

from assetpipe.headers import MEDIA_TYPES, media_type

# WhiteNoise looks these whole names up before extensions; nginx cannot, so they get what their
# extension gives them (WhiteNoise's own table lists them; see whitenoise.media_types).
_WHITENOISE_NAMES = ("apple-app-site-association", "crossdomain.xml")


def whitenoise_mimetypes() -> dict[str, str]:
    """``WHITENOISE_MIMETYPES``: assetpipe's media types, for every name WhiteNoise knows."""
    types = dict(MEDIA_TYPES)
    types.update({name: media_type(name) for name in _WHITENOISE_NAMES})
    return types


def servestatic_mimetypes() -> dict[str, str]:
    """``SERVESTATIC_MIMETYPES``: assetpipe's media types, for every name ServeStatic knows."""
    return whitenoise_mimetypes()  # ServeStatic's table is WhiteNoise's
