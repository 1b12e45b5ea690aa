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

With the ``dictionaries`` option the Worker reads which files are dictionaries from the live
build's ``staticfiles.json`` in the bucket (kept per isolate no longer than its ``max-age``),
marks their responses (``Use-As-Dictionary``, ``Vary``), and answers a request naming a listed
dictionary with the delta only when the bucket returns it; otherwise as without the option.
"""

from __future__ import annotations

import json
import textwrap
from importlib.resources import files

from assetpipe.conf.dictionaries import DictionarySettings
from assetpipe.conf.edge import CorsConfig
from assetpipe.edge import cors as cors_rule
from assetpipe.edge.negotiation import (
    Negotiation,
    config_js,
    negotiate_dictionary_js,
    negotiate_image_js,
    negotiate_js,
    use_as_dictionary_js,
)
from assetpipe.headers import AVAILABLE_DICTIONARY, DELTA_VARY, USE_AS_DICTIONARY
from assetpipe.naming import DELTA_ENCODING, DICTIONARY_ID_LENGTH

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


# With dictionaries (the ``dictionaries`` option), what the handler does besides: it looks the
# key up in the live build's dictionaries, tries the delta before the variant it picked, and
# marks a dictionary file's responses. A delta is answered only when the bucket has it: a
# dictionary older than the last builds, or a delta not worth making, gets today's response.
_DICTIONARY_PICK = """\
    var entry = await dictionaryEntry(env, key);
"""
_DICTIONARY_VARY = """\
    if (entry !== null) {
      headers.set("Vary", DELTA_VARY);
    }
"""
_FETCH = """\
    var upstream;
    try {
      upstream = await fetch("""
_DICTIONARY_FETCH = """\
    var upstream = await fetchDelta(request, env, path, entry);
    try {
      upstream = upstream || await fetch("""
_COPY = """\
    copyHeaders(upstream.headers, KEPT, headers);
"""
_DICTIONARY_COPY = """\
    copyHeaders(upstream.headers, KEPT, headers);
    if (entry !== null && (upstream.ok || upstream.status === 304)) {
      headers.set(USE_AS_DICTIONARY, entry.header);
    }
"""

# The Worker's side of dictionaries: the live build's table, and the delta's request.
_DICTIONARIES = """\
// The live build's dictionaries: its staticfiles.json's "dictionaries" by key, each entry
// {header: Use-As-Dictionary, hashes: {SHA-256 hex of each dictionary it has a delta for}}.
// Read from the bucket by the first request that finds it stale, and kept in the isolate no
// longer than the manifest's own Cache-Control allows (max-age minus Age), so a deploy reaches
// every isolate within one max-age. Only plain data is shared between requests.
var dictionaries = { table: {}, expires: 0 };

function dictionaryTable(manifest, prefix) {
  var table = {};
  var found = manifest !== null && typeof manifest === "object" ? manifest.dictionaries : null;
  if (found === null || typeof found !== "object") {
    return table;
  }
  for (var name in found) {
    var entry = found[name];
    if (!has(found, name) || entry === null || typeof entry !== "object"
        || typeof entry.match !== "string" || typeof entry.dest !== "string"
        || !Array.isArray(entry.deltas)) {
      continue;
    }
    var hashes = {};
    var valid = true;
    for (var i = 0; i < entry.deltas.length && valid; i++) {
      var hex = availableDictionary(":" + entry.deltas[i] + ":");
      valid = hex !== null;
      hashes[hex] = true;
    }
    if (valid) {
      table[prefix + name] = { header: useAsDictionary(entry.match, entry.dest), hashes: hashes };
    }
  }
  return table;
}

// How long a response may be reused by its Cache-Control and Age, in milliseconds.
function freshFor(headers) {
  var maxAge = /(?:^|,)[ \\t]*max-age=([0-9]+)/i.exec(headers.get("Cache-Control") || "");
  var age = parseInt(headers.get("Age") || "0", 10) || 0;
  return maxAge === null ? 0 : Math.max(0, parseInt(maxAge[1], 10) - age) * 1000;
}

async function dictionaryEntry(env, key) {
  var now = Date.now();
  if (now >= dictionaries.expires) {
    var table = {};
    var lifetime = RETRY_MS;
    try {
      var response = await fetch(bucketUrl(env, keyPath(CONFIG.prefix + CONFIG.manifest)), {
        headers: { "Accept-Encoding": "identity" },
        cf: { cacheEverything: true },
      });
      if (response.status === 200) {
        table = dictionaryTable(await response.json(), CONFIG.prefix);
        lifetime = freshFor(response.headers);
      }
    } catch (error) {
      table = {};  // no table: every file is served as without the option
    }
    dictionaries = { table: table, expires: now + lifetime };
  }
  return has(dictionaries.table, key) ? dictionaries.table[key] : null;
}

// The bucket's response for the delta of path against the dictionary the client names, when
// the entry lists it, the client takes dcz and the bucket has the key; else null.
async function fetchDelta(request, env, path, entry) {
  if (entry === null || !dczAccepted(clientAcceptEncoding(request))) {
    return null;
  }
  var sha256 = availableDictionary(request.headers.get(AVAILABLE_DICTIONARY));
  if (sha256 === null || !has(entry.hashes, sha256)) {
    return null;
  }
  var forwarded = new Headers({ "Accept-Encoding": DELTA_ENCODING });
  copyHeaders(request.headers, FORWARDED, forwarded);
  var delta = path + "." + sha256.slice(0, ID_LENGTH) + "." + DELTA_ENCODING;
  var response;
  try {
    response = await fetch(bucketUrl(env, delta), {
      method: request.method,
      headers: forwarded,
      encodeResponseBody: "manual",
      cf: { cacheEverything: true },
    });
  } catch (error) {
    return null;
  }
  if (response.status === 200 || response.status === 304) {
    return response;
  }
  if (response.body !== null) {
    await response.body.cancel();
  }
  return null;
}

function bucketUrl(env, path) {
  return env.ORIGIN.replace(/\\/+$/, "") + path;
}
"""
# Seconds before a Worker that could not read the manifest tries again.
RETRY_SECONDS = 10


def _handler(images: bool, dictionaries: bool = False) -> str:
    handler = _HANDLER
    if images:
        assert _PICK in handler and _VARY in handler
        handler = handler.replace(_PICK, _IMAGE_PICK).replace(_VARY, _IMAGE_VARY)
    if dictionaries:
        pick, vary = (_IMAGE_PICK, _IMAGE_VARY) if images else (_PICK, _VARY)
        assert pick in handler and vary in handler and _FETCH in handler and _COPY in handler
        handler = (
            handler.replace(pick, _DICTIONARY_PICK + pick)
            .replace(vary, vary + _DICTIONARY_VARY)
            .replace(_FETCH, _DICTIONARY_FETCH)
            .replace(_COPY, _DICTIONARY_COPY)
        )
    return handler


def path_js() -> str:
    """``path.js``: the request path's key, read without a URL parser's normalisation."""
    return files("assetpipe.edge").joinpath("path.js").read_text(encoding="utf-8")


def worker_js(
    negotiation: Negotiation,
    cors: CorsConfig | None,
    dictionaries: DictionarySettings | None = None,
) -> str:
    """The ES module Worker for this negotiation, CORS rule and ``dictionaries`` option."""
    constants = [
        f"var CONFIG = {config_js(negotiation)};",
        f"var CORS = {cors_rule.config_js(cors)};",
        f"var ALLOW = {json.dumps(', '.join(ALLOW))};",
        f"var FORWARDED = {json.dumps(list(FORWARDED))};",
        f"var KEPT = {json.dumps(list(KEPT))};",
    ]
    if dictionaries is not None:
        constants += [
            f"var AVAILABLE_DICTIONARY = {json.dumps(AVAILABLE_DICTIONARY)};",
            f"var USE_AS_DICTIONARY = {json.dumps(USE_AS_DICTIONARY)};",
            f"var DELTA_VARY = {json.dumps(DELTA_VARY)};",
            f"var DELTA_ENCODING = {json.dumps(DELTA_ENCODING)};",
            f"var ID_LENGTH = {DICTIONARY_ID_LENGTH};",
            f"var RETRY_MS = {RETRY_SECONDS * 1000};",
        ]
    images = bool(negotiation.image_formats)
    return "\n\n".join(
        [
            _HEADER + "\n".join(constants),
            negotiate_js().rstrip(),
            *([negotiate_image_js().rstrip()] if images else []),
            *(
                [negotiate_dictionary_js().rstrip(), use_as_dictionary_js().rstrip()]
                if dictionaries is not None
                else []
            ),
            path_js().rstrip(),
            cors_rule.cors_js().rstrip(),
            *([_DICTIONARIES.rstrip()] if dictionaries is not None else []),
            _handler(images, dictionaries is not None),
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


def readme(
    negotiation: Negotiation,
    cors: CorsConfig | None,
    dictionaries: DictionarySettings | None = None,
) -> str:
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
    if dictionaries is not None:
        summary += "\n\n" + textwrap.fill(
            "Compression dictionaries: the Worker reads the live build's "
            f"`{negotiation.prefix}{negotiation.manifest_name}` from the bucket (again once its "
            "`max-age` has passed) and sends its files' responses `Use-As-Dictionary` and "
            "`Vary: Accept-Encoding, Available-Dictionary`. A request of such a file that names "
            "a dictionary the file has a delta for (`Available-Dictionary`) and accepts `dcz` "
            "gets the delta (`<file>.<16 hex>.dcz`) with `Content-Encoding: dcz`, when the "
            "bucket has it; any other request gets what it would get without dictionaries.",
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


def edge_files(
    negotiation: Negotiation,
    cors: CorsConfig | None,
    dictionaries: DictionarySettings | None = None,
) -> dict[str, str]:
    """The files ``manage.py assetpipe edge`` writes for Cloudflare."""
    return {
        "worker.js": worker_js(negotiation, cors, dictionaries),
        "wrangler.toml": wrangler_toml(negotiation),
        "README.md": readme(negotiation, cors, dictionaries),
    }
