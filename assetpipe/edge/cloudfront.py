"""CloudFront: a viewer-request function that picks the ``.br``/``.gz`` key, and its two policies.

:func:`edge_files` renders, from the build's :class:`~assetpipe.edge.negotiation.Negotiation` and
:class:`~assetpipe.conf.edge.CorsConfig`:

- ``cloudfront-function.js``: ``negotiate.js`` with the negotiation embedded, and a handler that
  rewrites ``request.uri`` to the variant's key (``/static/app.css`` to ``/static/app.css.br``).
  The URI is part of the cache key, so each variant is cached under its own key;
- ``cache-policy.json``: TTLs that defer to the objects' ``Cache-Control``, and a cache key of
  the URI and CloudFront's normalised ``Accept-Encoding`` alone;
- ``response-headers-policy.json``: the CORS rule (:mod:`assetpipe.edge.cors`) and ``Vary``;
- ``README.md``: how to deploy them.

What the function relies on from the runtime (``cloudfront-js-2.0``), by the AWS page that says
it; the tests hold the rendered code to each:

- "JavaScript runtime 2.0 features for CloudFront Functions": ECMAScript 5.1 syntax and
  built-ins (``String``, ``Array``, ``Math``, ``Object``, ``parseFloat``,
  ``decodeURIComponent``; the tests parse the code as ES5); no dynamic code evaluation, timers,
  network or file system (the tests run it where ``require``, ``process``, ``setTimeout`` and
  ``fetch`` are absent and ``eval`` throws).
- "Restrictions on CloudFront Functions": a small compute budget (the work is linear in the
  header and the name, with no I/O).
- "Quotas" (quotas on CloudFront Functions): the code is at most 10 KB
  (:data:`FUNCTION_MAX_BYTES`); :func:`edge_files` refuses to render a larger one.
- "CloudFront Functions event structure": header names are lower case; a header sent more
  than once has its first value in ``value`` and every value, the first included, in
  ``multiValue``; a viewer-request function returns the request, whose ``uri`` it may change.
- "Restrictions on all edge functions": the URI is passed as received, percent-encoding and all
  (``negotiatePath`` decodes it to a key and appends the suffix to it as it is), and a changed
  URI keeps the request's cache behaviour and origin.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.kit import OPTIONS
from assetpipe.edge import cors as cors_rule
from assetpipe.edge.negotiation import Negotiation, config_js, negotiate_image_js, negotiate_js

# CloudFront's limit on a function's code, 10 KB ("Quotas", those on CloudFront Functions).
FUNCTION_MAX_BYTES = 10 * 1024
# The policies' and the function's name; CloudFront's names are unique per account.
NAME = "assetpipe-static"
RUNTIME = "cloudfront-js-2.0"
# A day when an object has no Cache-Control (assetpipe sets it on every object), and a year
# as the cap, hashed files' max-age: the objects' own Cache-Control decides between the two.
DEFAULT_TTL = 86400
MAX_TTL = 31536000
# A CloudFront origin may have one "*", as the leftmost label of its host.
_CLOUDFRONT_ORIGIN = re.compile(r"\*|[^*]*|https?://\*\.[^*]+")

HANDLER = """
// CloudFront viewer request: ask the bucket for the variant the viewer prefers. A request
// this cannot read is passed on unchanged: the original is always there.
function handler(event) {
  var request = event && event.request;
  try {
    var header = request.headers["accept-encoding"];
    if (!header) {
      return request;
    }
    var value = header.value;
    if (header.multiValue && header.multiValue.length) {
      var values = [];
      for (var i = 0; i < header.multiValue.length; i++) {
        values.push(header.multiValue[i].value);
      }
      value = values.join(", ");
    }
    if (typeof request.uri === "string" && typeof value === "string") {
      request.uri = negotiatePath(request.uri, value, CONFIG).path;
    }
  } catch (e) {
    // Not a request CloudFront sends; leave it as it came.
  }
  return request;
}
"""

# With image formats: a raster image's key becomes its image variant's by Accept (the build
# wrote every format's key), and only otherwise the precompressed variant's by Accept-Encoding.
# The variant's key is the URI, so the cache key keeps each variant apart without Accept in it.
IMAGE_HANDLER = """
// A header's value, every value when it was sent more than once; null when absent.
function headerValue(header) {
  if (!header) {
    return null;
  }
  var value = header.value;
  if (header.multiValue && header.multiValue.length) {
    var values = [];
    for (var i = 0; i < header.multiValue.length; i++) {
      values.push(header.multiValue[i].value);
    }
    value = values.join(", ");
  }
  return typeof value === "string" ? value : null;
}

// CloudFront viewer request: ask the bucket for the image variant (by Accept) or the
// precompressed variant (by Accept-Encoding) the viewer prefers. A request this cannot read is
// passed on unchanged: the original is always there.
function handler(event) {
  var request = event && event.request;
  try {
    if (typeof request.uri !== "string") {
      return request;
    }
    var image = negotiateImagePath(request.uri, headerValue(request.headers["accept"]), CONFIG);
    if (image !== null && image.format !== null) {
      request.uri = image.path;
      return request;
    }
    var value = headerValue(request.headers["accept-encoding"]);
    if (value !== null) {
      request.uri = negotiatePath(request.uri, value, CONFIG).path;
    }
  } catch (e) {
    // Not a request CloudFront sends; leave it as it came.
  }
  return request;
}
"""


def edge_files(negotiation: Negotiation, cors: CorsConfig | None) -> dict[str, str]:
    """The function, the two policies and the deployment steps, by file name."""
    function = function_code(negotiation)
    size = len(function.encode())
    if size > FUNCTION_MAX_BYTES:
        raise ImproperlyConfigured(
            f"assetpipe: the CloudFront function would be {size} bytes, over CloudFront's "
            f'{FUNCTION_MAX_BYTES}: shorten {OPTIONS}["never_compress"]'
        )
    return {
        "cloudfront-function.js": function,
        "cache-policy.json": _json(cache_policy()),
        "response-headers-policy.json": _json(
            response_headers_policy(cors, images=bool(negotiation.image_formats))
        ),
        "README.md": readme(negotiation, cors),
    }


def function_code(negotiation: Negotiation) -> str:
    """The viewer-request function: the negotiation, ``negotiate.js`` and the handler."""
    return (
        "// assetpipe: serve the precompressed variant the viewer accepts "
        f"(CloudFront Functions, {RUNTIME}).\n"
        "// Generated by `manage.py assetpipe edge` from the build's settings: regenerate it "
        "when they change.\n\n"
        f"var CONFIG = {config_js(negotiation)};\n\n{negotiate_js()}"
        + ("\n" + negotiate_image_js() + IMAGE_HANDLER if negotiation.image_formats else HANDLER)
    )


def cache_policy() -> dict[str, Any]:
    """CreateCachePolicy's ``CachePolicyConfig``.

    The key is the URI, which the function has already made the variant's, and the
    ``Accept-Encoding`` that CloudFront normalises to ``br``/``gzip`` when these two flags are
    on; the flags also let CloudFront compress what has no variants (the manifest) on the fly.
    ``Accept-Encoding`` is then not listed among the headers: CloudFront adds it itself.

    ``Origin`` stays out of the key although the CORS headers depend on it: the response
    headers policy computes them for every response from the viewer's ``Origin``, cached or
    not, overriding whatever the cached one carried, and the bucket never sees an ``Origin`` (no
    header reaches it) to answer with headers of its own. Keying on it would store one copy of
    every object per page origin for nothing.
    """
    return {
        "Name": NAME,
        "Comment": "assetpipe static files: the URI (the variant's key) and normalised "
        "Accept-Encoding; TTLs from Cache-Control",
        "MinTTL": 0,
        "DefaultTTL": DEFAULT_TTL,
        "MaxTTL": MAX_TTL,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True,
            "EnableAcceptEncodingBrotli": True,
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"},
            "QueryStringsConfig": {"QueryStringBehavior": "none"},
        },
    }


def response_headers_policy(cors: CorsConfig | None, *, images: bool = False) -> dict[str, Any]:
    """CreateResponseHeadersPolicy's ``ResponseHeadersPolicyConfig``.

    ``Vary: Accept-Encoding`` on every response, since the function picks the body by that
    header; with a list of origins the allowed one is echoed, so ``Origin`` joins it
    (:func:`assetpipe.edge.cors.response_headers`). Set by the policy, the CORS headers are
    computed per response and never come from a cached one (``OriginOverride``).

    With ``images`` (the function picks image variants by ``Accept``) ``Accept`` joins it. A
    policy sets its headers on every response of the behaviour, so non-images vary on
    ``Accept`` too; a browser sends the same ``Accept`` for every request of one kind (style,
    script, image), so that costs its cache nothing.
    """
    vary = ["Accept-Encoding", *(["Accept"] if images else [])]
    config: dict[str, Any] = {
        "Name": NAME,
        "Comment": "assetpipe static files: Vary for the variants"
        + ("" if cors is None else ", the CORS rule"),
    }
    if cors is not None:
        for origin in cors.origins:
            if not _CLOUDFRONT_ORIGIN.fullmatch(origin):
                raise ImproperlyConfigured(
                    f'assetpipe: {OPTIONS}["cors"]["origins"] has {origin!r}; CloudFront takes '
                    'a "*" only as the leftmost label of the host, e.g. "https://*.example.com"'
                )
        # The rule's Vary ("Origin" when an allowed origin is echoed), as the other servers.
        vary.extend(
            filter(None, cors_rule.response_headers(cors, None).get("Vary", "").split(", "))
        )
        config["CorsConfig"] = {
            "AccessControlAllowOrigins": _items(cors.origins),
            # The rule's GET and HEAD, and OPTIONS, a preflight's own method.
            "AccessControlAllowMethods": _items((*cors_rule.METHODS, "OPTIONS")),
            "AccessControlAllowHeaders": _items(cors_rule.ALLOWED_HEADERS),
            "AccessControlAllowCredentials": False,
            "AccessControlMaxAgeSec": cors.max_age,
            "OriginOverride": True,
        }
    config["CustomHeadersConfig"] = _items(
        [{"Header": "Vary", "Value": ", ".join(vary), "Override": True}]
    )
    return config


def readme(negotiation: Negotiation, cors: CorsConfig | None) -> str:
    """The deployment steps for these files."""
    pattern = f"/{negotiation.prefix}*" if negotiation.prefix else "Default (*)"
    cors_step = (
        "The response headers policy states the `cors` option's rule: CloudFront\n"
        "   answers with it, whatever the bucket's CORS rules say."
        if cors is not None
        else "Without a `cors` option the response headers policy adds only `Vary`."
    )
    return f"""# CloudFront edge for assetpipe's static files

Generated by `manage.py assetpipe edge` from the build's settings: prefix
`{negotiation.prefix}`, encodings {", ".join(negotiation.encodings)}. When `encodings` or
`never_compress` change, publish a build made with them first, then regenerate
these files and update the function.
{_images_note(negotiation)}
1. Publish a build made with the `cdn` option (`collectstatic`, or `manage.py assetpipe
   sync`): every file the function may rewrite has all its variants, and publishing
   refuses a build that lacks one. Builds made without the option lack some (small or
   incompressible files): associate the function (step 4) once no app server serves one.
2. Create and publish the function (runtime `{RUNTIME}`):

       aws cloudfront create-function --name {NAME} \\
           --function-config '{{"Comment": "assetpipe variants", "Runtime": "{RUNTIME}"}}' \\
           --function-code fileb://cloudfront-function.js
       aws cloudfront publish-function --name {NAME} --if-match ETAG

   `ETAG` is the `ETag` that create-function returned; `aws cloudfront test-function`
   runs the function on a sample event before it is published.
3. Create the policies:

       aws cloudfront create-cache-policy --cache-policy-config file://cache-policy.json
       aws cloudfront create-response-headers-policy \\
           --response-headers-policy-config file://response-headers-policy.json

   {cors_step}
4. In the distribution, the cache behaviour for `{pattern}` (origin: the bucket):
   - function association: viewer request, CloudFront Functions, `{NAME}` (LIVE);
   - cache policy `{NAME}`, response headers policy `{NAME}`, no origin request policy;
   - allowed methods GET, HEAD, OPTIONS; viewer protocol policy redirect-to-https
     (browsers ask for `br` over HTTPS only);
   - "Compress objects automatically" can stay on: CloudFront never compresses a
     response that has a `Content-Encoding`, so it compresses only what has no variants.
5. A private bucket: give the origin an Origin Access Control (signing behaviour
   "always", sigv4, origin type s3); `manage.py assetpipe bucket-policy --cloudfront ARN`
   prints the bucket policy that lets only that distribution read the static prefix.
"""


def _images_note(negotiation: Negotiation) -> str:
    if not negotiation.image_formats:
        return ""
    formats = ", ".join(f"`{f}`" for f in negotiation.image_formats)
    return f"""
Image variants: for a JPEG, PNG or GIF the function asks for the image variant the viewer's
`Accept` names ({formats}, in that order of preference; `image/*` and `*/*` name none),
e.g. `hero.1a2b3c4d5e6f.jpg.avif`, else the original. The variant's key is the URI, so the
cache key needs no `Accept`: keep the cache policy as it is. The response headers policy adds
`Vary: Accept-Encoding, Accept` to every response of the behaviour.
"""


def _items(values: Any) -> dict[str, Any]:
    items = list(values)
    return {"Quantity": len(items), "Items": items}


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
