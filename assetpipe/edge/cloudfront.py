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

With the ``dictionaries`` option the viewer-request function also reads a CloudFront
KeyValueStore (:func:`dictionary_store` writes its content from a build's ``staticfiles.json``)
and rewrites to a delta's key only when the store lists it; a viewer-response function
(``cloudfront-response-function.js``) adds ``Use-As-Dictionary`` from the same store.

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

from assetpipe.conf.dictionaries import DictionarySettings
from assetpipe.conf.edge import CorsConfig
from assetpipe.conf.kit import OPTIONS
from assetpipe.edge import cors as cors_rule
from assetpipe.edge.negotiation import (
    Negotiation,
    config_js,
    negotiate_dictionary_js,
    negotiate_image_js,
    negotiate_js,
    use_as_dictionary_js,
)
from assetpipe.headers import AVAILABLE_DICTIONARY
from assetpipe.naming import (
    DELTA_ENCODING,
    DICTIONARY_ID_LENGTH,
    dictionary_hash,
    dictionary_id,
    read_dictionaries,
)

# CloudFront's limit on a function's code, 10 KB ("Quotas", those on CloudFront Functions).
FUNCTION_MAX_BYTES = 10 * 1024
# The policies' and the function's name; CloudFront's names are unique per account.
NAME = "assetpipe-static"
RUNTIME = "cloudfront-js-2.0"
# A day when an object has no Cache-Control (assetpipe sets it on every object), and a year
# as the cap, hashed files' max-age: the objects' own Cache-Control decides between the two.
DEFAULT_TTL = 86400
MAX_TTL = 31536000
# The key value store's limits ("File format for key-value pairs"; "Quotas", those on key value
# stores): a key of 512 characters, a value of 1024, an import file of 5 MB. Counted in UTF-8
# bytes, never fewer than characters.
KVS_KEY_MAX_BYTES = 512
KVS_VALUE_MAX_BYTES = 1024
KVS_FILE_MAX_BYTES = 5 * 1024 * 1024
# The file `manage.py assetpipe edge` writes the store's content to, and the second function's.
KVS_FILE = "cloudfront-kvs.json"
RESPONSE_FUNCTION_FILE = "cloudfront-response-function.js"
RESPONSE_FUNCTION_NAME = NAME + "-response"
# A function reads the one key value store associated with it ("Helper methods for key value
# stores"); the import is the function's first line.
KVS_IMPORT = "import cf from 'cloudfront';"
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

# Reads a header of CloudFront's event shape; both viewer-request handlers need it.
HEADER_VALUE = """\
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
"""

# With image formats: a raster image's key becomes its image variant's by Accept (the build
# wrote every format's key), and only otherwise the precompressed variant's by Accept-Encoding.
# The variant's key is the URI, so the cache key keeps each variant apart without Accept in it.
IMAGE_HANDLER = (
    "\n"
    + HEADER_VALUE
    + """
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
)

# With dictionaries: the handler looks the key up in the key value store first and rewrites to
# the delta's key only when the store lists the dictionary the viewer names; anything else (no
# entry, an id not listed, a malformed header, dcz not accepted, a store that fails) gets the
# variant it gets without the option. runtime 2.0's async/await, as the store's get() needs.
DICTIONARY_HANDLER = (
    """
var KVS = cf.kvs();

"""
    + HEADER_VALUE
    + """
// The URI of the delta the store lists for this key and the viewer's dictionary, or null.
// get() throws for a key the store lacks: not a dictionary file.
async function deltaUri(uri, available, acceptEncoding) {
  var sha256 = availableDictionary(available);
  if (sha256 === null || !dczAccepted(acceptEncoding)) {
    return null;
  }
  try {
    var entry = await KVS.get(decodeURIComponent(uri.slice(1)), { format: "json" });
    var id = sha256.slice(0, ID_LENGTH);
    return Array.isArray(entry.ids) && entry.ids.indexOf(id) >= 0 ? uri + "." + id + ".dcz" : null;
  } catch (e) {
    return null;
  }
}

// CloudFront viewer request: ask the bucket for the delta the store says exists for the
// viewer's dictionary, else for the variant the viewer prefers. A request this cannot read is
// passed on unchanged: the original is always there.
async function handler(event) {
  var request = event && event.request;
  try {
    if (typeof request.uri !== "string") {
      return request;
    }
    var acceptEncoding = headerValue(request.headers["accept-encoding"]);
    var available = headerValue(request.headers["available-dictionary"]);
    var delta = await deltaUri(request.uri, available, acceptEncoding);
    if (delta !== null) {
      request.uri = delta;
      return request;
    }
    // VARIANT
  } catch (e) {
    // Not a request CloudFront sends; leave it as it came.
  }
  return request;
}
"""
)
ENCODING_VARIANT = """\
    if (acceptEncoding !== null) {
      request.uri = negotiatePath(request.uri, acceptEncoding, CONFIG).path;
    }
"""
IMAGE_VARIANT = """\
    var image = negotiateImagePath(request.uri, headerValue(request.headers["accept"]), CONFIG);
    if (image !== null && image.format !== null) {
      request.uri = image.path;
    } else if (acceptEncoding !== null) {
      request.uri = negotiatePath(request.uri, acceptEncoding, CONFIG).path;
    }
"""

# The viewer response: the file's entry in the same store gives Use-As-Dictionary. The URI is
# the one the viewer asked for or the one the request function made, so a delta's or a
# variant's suffix is taken off first; the policy's Vary already names Available-Dictionary.
RESPONSE_HANDLER = """
var KVS = cf.kvs();

// The key the viewer asked for, without the suffix the request function may have added.
function requestedKey(uri) {
  var key = decodeURIComponent(uri.slice(1));
  if (DELTA.test(key)) {
    return key.replace(DELTA, "");
  }
  for (var i = 0; i < SUFFIXES.length; i++) {
    if (key.slice(-SUFFIXES[i].length) === SUFFIXES[i]) {
      return key.slice(0, -SUFFIXES[i].length);
    }
  }
  return key;
}

// CloudFront viewer response: a dictionary file's successful or 304 response is declared a
// dictionary for its next versions. Any other response is passed on unchanged.
async function handler(event) {
  var response = event && event.response;
  try {
    var status = response.statusCode;
    if ((status >= 200 && status < 300) || status === 304) {
      // get() throws for a key the store lacks: not a dictionary file.
      var entry = await KVS.get(requestedKey(event.request.uri), { format: "json" });
      if (typeof entry.match === "string" && typeof entry.dest === "string") {
        response.headers["use-as-dictionary"] = { value: useAsDictionary(entry.match, entry.dest) };
      }
    }
  } catch (e) {
    // Not a dictionary file, or not a response CloudFront sends.
  }
  return response;
}
"""


def edge_files(
    negotiation: Negotiation,
    cors: CorsConfig | None,
    dictionaries: DictionarySettings | None = None,
) -> dict[str, str]:
    """The function(s), the two policies and the deployment steps, by file name. With the
    ``dictionaries`` option the viewer-request function reads the key value store and a
    viewer-response function joins them; the store's content is :func:`dictionary_store`'s."""
    functions = {"cloudfront-function.js": function_code(negotiation, dictionaries is not None)}
    if dictionaries is not None:
        functions[RESPONSE_FUNCTION_FILE] = response_function_code(negotiation)
    for code in functions.values():
        size = len(code.encode())
        if size > FUNCTION_MAX_BYTES:
            raise ImproperlyConfigured(
                f"assetpipe: the CloudFront function would be {size} bytes, over CloudFront's "
                f'{FUNCTION_MAX_BYTES}: shorten {OPTIONS}["never_compress"]'
            )
    return {
        **functions,
        "cache-policy.json": _json(cache_policy()),
        "response-headers-policy.json": _json(
            response_headers_policy(
                cors,
                images=bool(negotiation.image_formats),
                dictionaries=dictionaries is not None,
            )
        ),
        "README.md": readme(negotiation, cors)
        + ("" if dictionaries is None else dictionaries_readme(negotiation)),
    }


def function_code(negotiation: Negotiation, dictionaries: bool = False) -> str:
    """The viewer-request function: the negotiation, ``negotiate.js`` and the handler."""
    images = bool(negotiation.image_formats)
    if dictionaries:
        return (
            f"{KVS_IMPORT}\n"
            "// assetpipe: serve the delta or the precompressed variant the viewer accepts "
            f"(CloudFront Functions, {RUNTIME}).\n"
            "// Generated by `manage.py assetpipe edge` from the build's settings: regenerate it "
            "when they change.\n\n"
            f"var CONFIG = {config_js(negotiation)};\n"
            f"var ID_LENGTH = {DICTIONARY_ID_LENGTH};\n\n"
            + _compact(negotiate_js() + (negotiate_image_js() if images else ""))
            + _compact(negotiate_dictionary_js())
            + DICTIONARY_HANDLER.replace(
                "    // VARIANT\n", IMAGE_VARIANT if images else ENCODING_VARIANT
            )
        )
    return (
        "// assetpipe: serve the precompressed variant the viewer accepts "
        f"(CloudFront Functions, {RUNTIME}).\n"
        "// Generated by `manage.py assetpipe edge` from the build's settings: regenerate it "
        "when they change.\n\n"
        f"var CONFIG = {config_js(negotiation)};\n\n{negotiate_js()}"
        + ("\n" + negotiate_image_js() + IMAGE_HANDLER if images else HANDLER)
    )


def response_function_code(negotiation: Negotiation) -> str:
    """The viewer-response function: ``Use-As-Dictionary`` on a dictionary file's responses."""
    suffixes = sorted({suffix for _, suffix in negotiation.as_json()["encodings"]})
    return (
        f"{KVS_IMPORT}\n"
        "// assetpipe: mark the live build's dictionary files (CloudFront Functions, "
        f"{RUNTIME}, viewer response).\n"
        "// Generated by `manage.py assetpipe edge` from the build's settings: regenerate it "
        "when they change.\n\n"
        f"var SUFFIXES = {json.dumps(suffixes)};\n"
        f"var DELTA = /\\.[0-9a-f]{{{DICTIONARY_ID_LENGTH}}}\\.{DELTA_ENCODING}$/;\n\n"
        + use_as_dictionary_js()
        + RESPONSE_HANDLER
    )


def dictionary_store(negotiation: Negotiation, manifest: bytes) -> tuple[str, list[str]]:
    """The key value store's content for a build (its ``staticfiles.json``), in the format
    CloudFront imports (``{"data": [{"key": ..., "value": ...}]}``), and the names left out
    because their key or value is over the store's limits.

    One entry per dictionary file, keyed by its key in the bucket: its ``match``, ``dest`` and
    the ids (:func:`assetpipe.naming.dictionary_id`) of the dictionaries its deltas were made
    with, the deltas publishing put beside it before the manifest. The function rewrites only
    to an id listed here, so it never names a key the build did not publish; a file left out
    is served as without the option."""
    data: list[dict[str, str]] = []
    skipped: list[str] = []
    for name, entry in sorted(read_dictionaries(manifest).items()):
        hashes = (dictionary_hash(encoded) for encoded in entry["deltas"])
        value = {
            "match": entry["match"],
            "dest": entry["dest"],
            "ids": sorted({dictionary_id(sha256) for sha256 in hashes if sha256 is not None}),
        }
        key = negotiation.prefix + name
        text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        if len(key.encode()) > KVS_KEY_MAX_BYTES or len(text.encode()) > KVS_VALUE_MAX_BYTES:
            skipped.append(name)
            continue
        data.append({"key": key, "value": text})
    document = json.dumps({"data": data}, indent=1, ensure_ascii=False) + "\n"
    size = len(document.encode())
    if size > KVS_FILE_MAX_BYTES:
        raise ImproperlyConfigured(
            f"assetpipe: the key value store of {len(data)} dictionary files would be {size} "
            f"bytes, over CloudFront's {KVS_FILE_MAX_BYTES}: lower "
            f'{OPTIONS}["dictionaries"]["previous_builds"], or serve the dictionaries through '
            "Cloudflare or nginx"
        )
    return document, skipped


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


def response_headers_policy(
    cors: CorsConfig | None, *, images: bool = False, dictionaries: bool = False
) -> dict[str, Any]:
    """CreateResponseHeadersPolicy's ``ResponseHeadersPolicyConfig``.

    ``Vary: Accept-Encoding`` on every response, since the function picks the body by that
    header; with a list of origins the allowed one is echoed, so ``Origin`` joins it
    (:func:`assetpipe.edge.cors.response_headers`). Set by the policy, the CORS headers are
    computed per response and never come from a cached one (``OriginOverride``).

    With ``images`` (the function picks image variants by ``Accept``) ``Accept`` joins it. A
    policy sets its headers on every response of the behaviour, so non-images vary on
    ``Accept`` too; a browser sends the same ``Accept`` for every request of one kind (style,
    script, image), so that costs its cache nothing.

    With ``dictionaries`` ``Available-Dictionary`` joins it: the request function picks a
    delta by that header. A browser sends it only for a URL a dictionary's ``match`` covers,
    so on other files it costs nothing; set by the policy alone, it holds whichever of the
    policy and the viewer-response function CloudFront applies last.
    """
    vary = [
        "Accept-Encoding",
        *(["Accept"] if images else []),
        *([AVAILABLE_DICTIONARY] if dictionaries else []),
    ]
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


def dictionaries_readme(negotiation: Negotiation) -> str:
    """The deployment steps the ``dictionaries`` option adds."""
    return f"""
## Compression dictionaries

With the `dictionaries` option the viewer-request function reads a CloudFront KeyValueStore
whose content `{KVS_FILE}` holds: one entry per dictionary file of the build (its key under
`{negotiation.prefix}`, and as the value its `match`, `dest` and the 16-hex ids of the
dictionaries a delta was published for). A request of such a file whose `Available-Dictionary`
names a listed id and whose `Accept-Encoding` takes `dcz` is rewritten to the delta's key
(`<file>.<id>.dcz`, `Content-Encoding: dcz`); any other request gets the variant it gets
without the option. `{RESPONSE_FUNCTION_FILE}` (viewer response, the same store) adds
`Use-As-Dictionary` to a dictionary file's responses, and the response headers policy's `Vary`
names `Available-Dictionary`. The cache key needs nothing more: the delta's key is the URI.

A function can read only what the store lists, and publishing uploads every delta before the
manifest that lists it, so the order of a deploy is:

1. Publish the build (`collectstatic`, or `manage.py assetpipe sync`): its deltas, its files,
   then its `staticfiles.json`.
2. Write the store's content from that `staticfiles.json`:
   `manage.py assetpipe edge --out DIR` (`--manifest FILE` for another copy than STATIC_ROOT's).
3. The first time, create the store from the file (uploaded to an S3 location you own,
   outside `{negotiation.prefix}`) and associate it with both functions:

       aws cloudfront create-key-value-store --name {NAME} \\
           --import-source SourceType=S3,SourceARN=arn:aws:s3:::BUCKET/PATH/{KVS_FILE}
       aws cloudfront update-function --name {NAME} --if-match ETAG \\
           --function-config '{{"Comment": "assetpipe variants", "Runtime": "{RUNTIME}",
             "KeyValueStoreAssociations": {{"Quantity": 1,
               "Items": [{{"KeyValueStoreARN": "KVS_ARN"}}]}}}}' \\
           --function-code fileb://cloudfront-function.js

   and create `{RESPONSE_FUNCTION_NAME}` from `{RESPONSE_FUNCTION_FILE}` the same way,
   associated with the cache behaviour as its viewer-response function.
   On later deploys, update the store to the file: put every entry it has and delete every
   key it lacks (`aws cloudfront-keyvaluestore update-keys --kvs-arn KVS_ARN --if-match ETAG
   --puts '[...]' --deletes '[...]'`, the ETag from `describe-key-value-store`). Entries of
   files no longer live go in that same update, before `manage.py assetpipe prune` may delete
   their deltas; after a `rollback`, write and load the store from the live manifest again.
4. Until the store is updated the new build's files are served as without the option (their
   entries are not there yet), never a delta the bucket lacks.

Files whose key is over 512 bytes or whose entry is over 1 KB (the store's limits) are left
out of the store, and the command names them: they are served as without the option.
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


def _compact(code: str) -> str:
    """The shared ES5 helpers without their comment lines, blank lines and indentation, so
    that the dictionaries' handler fits CloudFront's 10 KB beside them (the files, read with
    their comments, are the source; none has a multi-line string a line could split)."""
    lines = (line.strip() for line in code.splitlines())
    return "".join(f"{line}\n" for line in lines if line and not line.startswith("//"))


def _items(values: Any) -> dict[str, Any]:
    items = list(values)
    return {"Quantity": len(items), "Items": items}


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
