"""A Cloudflare Worker in front of the bucket that serves each request its ``.br``/``.gz`` variant.

``edge_files`` renders three files for ``manage.py assetpipe edge``: ``worker.js`` (an ES module
Worker: the negotiation description, ``negotiate.js``, the CORS rule, ``cors.js``, ``path.js``
and the handler below), ``wrangler.toml`` and a ``README.md`` with the deploy steps. The text
depends on the :class:`~assetpipe.edge.negotiation.Negotiation` and
:class:`~assetpipe.conf.edge.CorsConfig` alone, so the same settings always give the same
files.

Three runtime facts shape the handler (docs/cdn-cloudflare.md has the sources):

- ``request.url`` is the URL as the client sent it, but ``new URL()`` and ``fetch()`` resolve
  ``..``, ``%2e%2e`` and ``\\`` in its path: a path under the Worker's route could name a key
  outside the prefix. The handler reads the key from the path as sent (``path.js``), answers
  404 without asking the bucket for any path that leaves the prefix or could be read as another
  key, and asks the bucket for the key it checked, encoded again segment by segment;
- on Cloudflare's network the ``Accept-Encoding`` header a Worker sees is rewritten; the
  client's own value is ``request.cf.clientAcceptEncoding``;
- a body fetched with ``Content-Encoding: br`` or ``gzip`` is decoded by the runtime when the
  Worker reads or re-wraps it, so the handler fetches with ``encodeResponseBody: "manual"`` and
  answers with ``encodeBody: "manual"``: the client receives the stored object's bytes.
"""

from __future__ import annotations

import json
import textwrap
from importlib.resources import files

from assetpipe.conf.edge import CorsConfig
from assetpipe.edge import cors as cors_rule
from assetpipe.edge.negotiation import Negotiation, config_js, negotiate_image_js, negotiate_js

# The date the Worker's runtime behaviour is pinned to: the release of workerd the tests run it
# on (tests/edge/workerd/package.json). Brotli in fetch() is the default from 2024-04-29 on, so
# no compatibility flag is needed.
COMPATIBILITY_DATE = "2026-11-17"
WORKER_NAME = "assetpipe-static"
# The methods the Worker serves; OPTIONS answers CORS preflights.
ALLOW = (*cors_rule.METHODS, "OPTIONS")
# Request headers the bucket needs: the validators and Range. Nothing else is forwarded.
FORWARDED = ("If-Modified-Since", "If-None-Match", "Range")
# The object's response headers the client gets; the others (x-amz-*, any CORS header, Vary)
# are dropped, and Vary and CORS are the Worker's own.
KEPT = (
    "Accept-Ranges",
    "Cache-Control",
    "Content-Encoding",
    "Content-Length",
    "Content-Range",
    "Content-Type",
    "ETag",
    "Expires",
    "Last-Modified",
)

_HEADER = """\
// assetpipe: a Cloudflare Worker that serves a published build's precompressed variants.
// Written by `manage.py assetpipe edge`; write it again when the storage options change.
// CONFIG: which keys have .br/.gz variants (assetpipe.edge.negotiation); CORS: the CORS rule
// (assetpipe.edge.cors), null without a "cors" option.
"""

_HANDLER = """\
// The client's own Accept-Encoding. On Cloudflare's network the header a Worker sees is always
// rewritten, and the client's value is request.cf.clientAcceptEncoding; when that is absent the
// original is served, as the header cannot tell a client that sent none from one that sent
// "br, gzip". Without a cf object (workerd on its own) the header is the client's.
function clientAcceptEncoding(request) {
  if (request.cf) {
    var value = request.cf.clientAcceptEncoding;
    return typeof value === "string" ? value : null;
  }
  return request.headers.get("Accept-Encoding");
}

function copyHeaders(from, names, to) {
  for (var i = 0; i < names.length; i++) {
    var value = from.get(names[i]);
    if (value !== null) {
      to.set(names[i], value);
    }
  }
}

function addHeaders(to, headers) {
  for (var name in headers) {
    if (name === "Vary") {
      to.append(name, headers[name]);
    } else {
      to.set(name, headers[name]);
    }
  }
}

function preflight(request, origin) {
  var method = request.headers.get("Access-Control-Request-Method");
  if (origin === null || method === null) {
    return new Response(null, { status: 204, headers: { Allow: ALLOW } });
  }
  var headers = preflightHeaders(
    origin, method, request.headers.get("Access-Control-Request-Headers"), CORS);
  return headers === null
    ? new Response(null, { status: 403 })
    : new Response(null, { status: 204, headers: headers });
}

export default {
  async fetch(request, env) {
    var origin = request.headers.get("Origin");
    if (request.method === "OPTIONS") {
      return preflight(request, origin);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { Allow: ALLOW } });
    }
    // The path as received: new URL() would resolve "..", "%2e%2e" and "\\" first, so a path
    // under the route could name a key outside the prefix.
    var key = staticKey(rawPath(request.url), CONFIG.prefix);
    if (key === null) {
      // Never sent to the bucket: the Worker reads its prefix alone.
      var refused = new Headers({ "Content-Type": "text/plain; charset=utf-8" });
      addHeaders(refused, corsHeaders(origin, CORS));
      return new Response("Not Found\\n", { status: 404, headers: refused });
    }
    var path = keyPath(key);
    var picked = negotiatePath(path, clientAcceptEncoding(request), CONFIG);
    // The coding the object is stored in, so that no cache on the way transforms it.
    var forwarded = new Headers({ "Accept-Encoding": picked.encoding || "identity" });
    copyHeaders(request.headers, FORWARDED, forwarded);
    var headers = new Headers({ Vary: "Accept-Encoding" });
    addHeaders(headers, corsHeaders(origin, CORS));
    var upstream;
    try {
      upstream = await fetch(env.ORIGIN.replace(/\\/+$/, "") + picked.path, {
        method: request.method,
        headers: forwarded,
        // The stored bytes as they are: otherwise the runtime decodes a br/gzip body.
        encodeResponseBody: "manual",
        // Cache every key by its Cache-Control: .br and .mjs are not among the extensions
        // Cloudflare caches by default.
        cf: { cacheEverything: true },
      });
    } catch (error) {
      return new Response("The bucket could not be reached.\\n", { status: 502, headers: headers });
    }
    copyHeaders(upstream.headers, KEPT, headers);
    var bodyless = request.method === "HEAD" || upstream.status === 304;
    return new Response(bodyless ? null : upstream.body, {
      status: upstream.status,
      statusText: upstream.statusText,
      headers: headers,
      encodeBody: "manual",
    });
  },
};
"""

# With image formats, the handler's choice and Vary as _HANDLER has them, and what replaces them:
# a raster image's key becomes its image variant's by Accept (the build wrote every format's
# key), else the original or its precompressed variant as for any file. The Worker reads the
# request's Accept header: of the two, Cloudflare documents a rewrite of Accept-Encoding only.
_PICK = """\
    var picked = negotiatePath(path, clientAcceptEncoding(request), CONFIG);
"""
_IMAGE_PICK = """\
    var image = negotiateImagePath(path, request.headers.get("Accept"), CONFIG);
    var picked = image !== null && image.format !== null
      ? { path: image.path, encoding: null }
      : negotiatePath(path, clientAcceptEncoding(request), CONFIG);
"""
_VARY = """\
    var headers = new Headers({ Vary: "Accept-Encoding" });
"""
_IMAGE_VARY = """\
    // Every response for a raster image varies on Accept: the original, a 304 or a 404 too.
    var vary = image === null ? "Accept-Encoding" : "Accept-Encoding, Accept";
    var headers = new Headers({ Vary: vary });
"""


def _handler(images: bool) -> str:
    if not images:
        return _HANDLER
    assert _PICK in _HANDLER and _VARY in _HANDLER
    return _HANDLER.replace(_PICK, _IMAGE_PICK).replace(_VARY, _IMAGE_VARY)


def path_js() -> str:
    """``path.js``: the request path's key, read without a URL parser's normalisation."""
    return files("assetpipe.edge").joinpath("path.js").read_text(encoding="utf-8")


def worker_js(negotiation: Negotiation, cors: CorsConfig | None) -> str:
    """The ES module Worker for this negotiation and CORS rule."""
    constants = "\n".join(
        [
            f"var CONFIG = {config_js(negotiation)};",
            f"var CORS = {cors_rule.config_js(cors)};",
            f"var ALLOW = {json.dumps(', '.join(ALLOW))};",
            f"var FORWARDED = {json.dumps(list(FORWARDED))};",
            f"var KEPT = {json.dumps(list(KEPT))};",
        ]
    )
    images = bool(negotiation.image_formats)
    return "\n\n".join(
        [
            _HEADER + constants,
            negotiate_js().rstrip(),
            *([negotiate_image_js().rstrip()] if images else []),
            path_js().rstrip(),
            cors_rule.cors_js().rstrip(),
            _handler(images),
        ]
    )


def route_pattern(negotiation: Negotiation, host: str = "cdn.example.com") -> str:
    """The route that sends the static files' requests to the Worker: the key prefix's path."""
    return f"{host}/{negotiation.prefix}*"


def wrangler_toml(negotiation: Negotiation) -> str:
    return f"""\
# assetpipe: the Worker that serves the static files' precompressed variants (README.md).
name = "{WORKER_NAME}"
main = "worker.js"
# No compatibility flags are needed: brotli in fetch() is the default since 2024-04-29.
compatibility_date = "{COMPATIBILITY_DATE}"

# The static path on your zone, e.g. for STATIC_URL = "https://cdn.example.com/{negotiation.prefix}":
# routes = [{{ pattern = "{route_pattern(negotiation)}", zone_name = "example.com" }}]

[vars]
# The bucket's URL, without a trailing "/"; the Worker requests ORIGIN + "/" + key.
# S3: "https://BUCKET.s3.REGION.amazonaws.com"; R2: the bucket's public r2.dev URL or its
# custom domain, e.g. "https://static-origin.example.com".
ORIGIN = "https://BUCKET.s3.REGION.amazonaws.com"
"""


def readme(negotiation: Negotiation, cors: CorsConfig | None) -> str:
    encodings = ", ".join(f"`{e}`" for e in negotiation.encodings)
    if cors is None:
        cors_line = (
            'No CORS headers are sent (the storage has no "cors" option), and preflights are '
            "answered 403."
        )
    elif cors.any_origin:
        cors_line = "Every response carries `Access-Control-Allow-Origin: *`."
    else:
        cors_line = (
            f"An allowed origin ({', '.join(cors.origins)}) is echoed in "
            "`Access-Control-Allow-Origin`, and every response varies on `Origin`."
        )
    summary = textwrap.fill(
        f"`worker.js` serves the static files published under `{negotiation.prefix}` in the "
        f"bucket. For each request it picks the variant the client accepts ({encodings}, in "
        "that order of preference; none for the extensions the build leaves uncompressed, "
        "`skip` in worker.js), fetches it from the bucket and returns the stored bytes with "
        "their `Content-Encoding`, the original's `Content-Type` and `Cache-Control`, `ETag`, "
        "`Last-Modified` and `Vary: Accept-Encoding`. GET and HEAD are served, conditional "
        "and Range requests are passed on, CORS preflights are answered by the Worker, and "
        f"anything else is 405. {cors_line}",
        width=96,
    )
    if negotiation.image_formats:
        formats = ", ".join(f"`{f}`" for f in negotiation.image_formats)
        summary += "\n\n" + textwrap.fill(
            "For a JPEG, PNG or GIF it first picks the image variant the client's `Accept` "
            f"names ({formats}, in that order of preference; `image/*` and `*/*` name none), "
            "e.g. `hero.1a2b3c4d5e6f.jpg.avif`, with that object's `Content-Type`, and adds "
            "`Accept` to `Vary` on every response for a raster image.",
            width=96,
        )
    return f"""\
# assetpipe's Cloudflare Worker

{summary}

## Deploy

1. Publish with the `"cdn": "cloudflare"` storage option, so that every file the
   Worker may negotiate has every variant in the bucket (publishing refuses a build without).
2. Let the Worker read the prefix: for S3 a public-read bucket policy on `{negotiation.prefix}*`
   (`manage.py assetpipe bucket-policy --public`); for R2 public access through a custom
   domain (or its r2.dev URL). Publish to R2 through its S3 API: the `s3` option's
   `endpoint_url`.
3. Set `ORIGIN` in `wrangler.toml` to the bucket's URL, without a trailing `/`: for S3
   `https://BUCKET.s3.REGION.amazonaws.com`, for R2 the custom domain or r2.dev URL.
4. Set the route to the static path on your zone, e.g. `{route_pattern(negotiation)}`, and
   STATIC_URL to `https://cdn.example.com/{negotiation.prefix}`.
5. `npx wrangler deploy` in this directory.

## Caching and costs

The Worker runs on every request, before Cloudflare's cache. Its requests to the bucket go
through the zone's cache, one entry per key (so one per variant), kept as long as the object's
`Cache-Control` says (`cacheEverything`: `.br` and `.mjs` are not among the extensions cached
by default).

Workers pricing (the "Pricing" page of the Cloudflare Workers documentation): the Free plan
has 100,000 requests a day and 10 ms of CPU time a request; the Paid plan is $5 a month with
10 million requests included, then $0.30 per million, and 30 million CPU milliseconds, then
$0.02 per million. The Worker's requests to the bucket are not billed as requests; the bucket
bills its own reads and transfer (R2 charges no egress, and bills reads as Class B operations).
"""


def edge_files(negotiation: Negotiation, cors: CorsConfig | None) -> dict[str, str]:
    """The files ``manage.py assetpipe edge`` writes for Cloudflare."""
    return {
        "worker.js": worker_js(negotiation, cors),
        "wrangler.toml": wrangler_toml(negotiation),
        "README.md": readme(negotiation, cors),
    }
