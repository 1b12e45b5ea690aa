// assetpipe: a Cloudflare Worker that serves a published build's precompressed variants.
// Written by `manage.py assetpipe edge`; write it again when the storage options change.
// CONFIG: which keys have .br/.gz variants (assetpipe.edge.negotiation); CORS: the CORS rule
// (assetpipe.edge.cors), null without a "cors" option.
var CONFIG = {"encodings": [["br", ".br"], ["gzip", ".gz"]], "history": "manifests/", "images": [["avif", ".avif", "image/avif"], ["webp", ".webp", "image/webp"]], "manifest": "staticfiles.json", "nameMax": 255, "prefix": "static/", "raster": ["gif", "jpeg", "jpg", "png"], "skip": ["3gp", "7z", "aac", "avi", "avif", "bmp", "br", "bz2", "docx", "epub", "flac", "flv", "gif", "gz", "heic", "ico", "jar", "jpeg", "jpg", "m4a", "m4v", "mkv", "mov", "mp3", "mp4", "mpeg", "mpg", "odt", "oga", "ogg", "opus", "pdf", "png", "pptx", "rar", "swf", "tbz", "tgz", "wav", "webm", "webp", "whl", "wmv", "woff", "woff2", "xlsx", "xz", "zip", "zst"], "variantSuffixes": [".br", ".gz"]};
var CORS = {"allowedHeaders": ["*"], "maxAge": 600, "methods": ["GET", "HEAD"], "origins": ["https://shop.example"]};
var ALLOW = "GET, HEAD, OPTIONS";
var FORWARDED = ["If-Modified-Since", "If-None-Match", "Range"];
var KEPT = ["Accept-Ranges", "Cache-Control", "Content-Encoding", "Content-Length", "Content-Range", "Content-Type", "ETag", "Expires", "Last-Modified"];

// assetpipe: pick a precompressed variant's key by Accept-Encoding.
// The same rules as assetpipe.edge.negotiation (Python); ES5 only, so that it runs in
// CloudFront Functions (cloudfront-js-2.0), Cloudflare Workers and node alike.

var QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

// HTTP's optional white space: spaces and tabs only.
function trimOws(text) {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

function has(object, key) {
  return Object.prototype.hasOwnProperty.call(object, key);
}

// Token (lower case, aliased) -> weight of an Accept or Accept-Encoding header, as _qvalue:
// 1 without q, 0 if malformed, a token listed twice its lowest.
function headerWeights(header, aliases) {
  var weights = {};
  var elements = String(header).split(",");
  for (var i = 0; i < elements.length; i++) {
    var parts = elements[i].split(";");
    var token = trimOws(parts[0]).toLowerCase();
    if (!token) {
      continue;
    }
    token = has(aliases, token) ? aliases[token] : token;
    var weight = 1;
    for (var j = 1; j < parts.length; j++) {
      var at = parts[j].indexOf("=");
      if (trimOws(at < 0 ? parts[j] : parts[j].slice(0, at)).toLowerCase() === "q") {
        var value = at < 0 ? "" : trimOws(parts[j].slice(at + 1));
        weight = QVALUE.test(value) ? parseFloat(value) : 0;
      }
    }
    weights[token] = has(weights, token) ? Math.min(weight, weights[token]) : weight;
  }
  return weights;
}

// The choice (server preference first) whose token, choice[index], weighs most above 0; a
// token the header lacks weighs fallback.
function bestChoice(weights, choices, index, fallback) {
  var best = null;
  var most = 0;
  for (var k = 0; k < choices.length; k++) {
    var w = has(weights, choices[k][index]) ? weights[choices[k][index]] : fallback;
    if (w > most) {
      best = choices[k];
      most = w;
    }
  }
  return best;
}

// The coding of config.encodings (server preference first) that the header prefers, or null.
function preferredEncoding(header, encodings) {
  if (header === undefined || header === null) {
    return null;
  }
  var weights = headerWeights(header, { "x-gzip": "gzip" });
  return bestChoice(weights, encodings, 0, has(weights, "*") ? weights["*"] : 0);
}

// UTF-8 length of a string, as the file system counts a name's bytes.
function utf8Length(text) {
  var length = 0;
  for (var i = 0; i < text.length; i++) {
    var code = text.charCodeAt(i);
    if (code < 0x80) {
      length += 1;
    } else if (code < 0x800) {
      length += 2;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      length += 4;
      i++;
    } else {
      length += 3;
    }
  }
  return length;
}

// Whether the object at this key has every variant (assetpipe publishes them together).
function negotiable(key, config) {
  if (!config.encodings.length || key.slice(0, config.prefix.length) !== config.prefix) {
    return false;
  }
  var name = key.slice(config.prefix.length);
  if (!name || name === config.manifest || name.slice(0, config.history.length) === config.history) {
    return false;
  }
  for (var i = 0; i < config.variantSuffixes.length; i++) {
    var suffix = config.variantSuffixes[i];
    if (name.slice(-suffix.length) === suffix) {
      return false;
    }
  }
  var dot = name.lastIndexOf(".");
  if (dot >= 0 && config.skip.indexOf(name.slice(dot + 1).toLowerCase()) >= 0) {
    return false;
  }
  return variantNamesFit(name, config.encodings, config.nameMax);
}

// Whether every variant's file name (name + each suffix, the second item of each of
// variants) is one a file system takes: the build writes none longer.
function variantNamesFit(name, variants, nameMax) {
  var longest = 0;
  for (var j = 0; j < variants.length; j++) {
    longest = Math.max(longest, variants[j][1].length);
  }
  return utf8Length(name.slice(name.lastIndexOf("/") + 1)) + longest <= nameMax;
}

// The path to request from the bucket for this request path ("/" + the percent-encoded key),
// with the Content-Encoding it carries: {path: ..., encoding: "br" | "gzip" | null}.
function negotiatePath(path, acceptEncoding, config) {
  var key;
  try {
    key = decodeURIComponent(path.charAt(0) === "/" ? path.slice(1) : path);
  } catch (e) {
    return { path: path, encoding: null };  // not a key any build published
  }
  if (!negotiable(key, config)) {
    return { path: path, encoding: null };
  }
  var chosen = preferredEncoding(acceptEncoding, config.encodings);
  return chosen === null
    ? { path: path, encoding: null }
    : { path: path + chosen[1], encoding: chosen[0] };
}

// assetpipe: pick an image variant's key (.avif, .webp) by Accept, as preferred_image_format
// and image_negotiable (assetpipe.edge.negotiation) do; ES5, with negotiate.js's helpers.

// The entry of images ([format, suffix, media type], server preference first) that Accept
// prefers, or null. Only a format's own media type counts, never image/* or */*.
function preferredImageFormat(header, images) {
  if (header === undefined || header === null) {
    return null;
  }
  return bestChoice(headerWeights(header, {}), images, 2, 0);
}

// Whether the key is a raster image's, with every image variant beside it.
function imageNegotiable(key, config) {
  var name = key.slice(config.prefix.length);
  var dot = name.lastIndexOf(".");
  var extension = name.slice(dot + 1);
  if (key.slice(0, config.prefix.length) !== config.prefix || dot < 0
      || name === config.manifest || name.slice(0, config.history.length) === config.history
      || extension.indexOf("/") >= 0 || config.raster.indexOf(extension.toLowerCase()) < 0) {
    return false;
  }
  return variantNamesFit(name, config.images, config.nameMax);
}

// For a raster image's path, the path to request and the format picked ({path, format},
// format null for the original); null for any other path.
function negotiateImagePath(path, accept, config) {
  var key;
  try {
    key = decodeURIComponent(path.charAt(0) === "/" ? path.slice(1) : path);
  } catch (e) {
    return null;
  }
  if (!imageNegotiable(key, config)) {
    return null;
  }
  var chosen = preferredImageFormat(accept, config.images);
  return { path: chosen === null ? path : path + chosen[1], format: chosen && chosen[0] };
}

// assetpipe: the key a request path names, for edge code that builds the origin's URL itself.
// A URL parser (new URL(), fetch()) resolves "..", "%2e%2e" and "\" in a path, so a path under
// the static route could name a key outside the prefix once parsed. These functions read the
// path as received and refuse any that could be read as another key. ES5.

// A percent-encoded dot, slash or backslash still in a decoded key: a proxy that decodes again
// would find a separator or a dot segment there.
var ENCODED_SEPARATOR = /%(2e|2f|5c)/i;
// Control characters, and the backslash that some parsers read as "/".
var UNSAFE_KEY_CHARACTER = /[\\\u0000-\u001f\u007f]/;

// The path of a request URL as the client sent it, without its query or fragment.
function rawPath(url) {
  var rest = url.slice(url.indexOf("//") + 2);
  var start = rest.search(/[/?#]/);
  if (start < 0 || rest.charAt(start) !== "/") {
    return "/";
  }
  var path = rest.slice(start);
  var end = path.search(/[?#]/);
  return end < 0 ? path : path.slice(0, end);
}

// The key a request path ("/" + the percent-encoded key) names inside prefix, or null when it
// names none there or could be read as another key: the path is decoded once and refused if it
// has an encoded slash or backslash, an empty, "." or ".." segment (plain or encoded), a
// backslash, a control character, something still encoded that would decode to one of these,
// or is not valid UTF-8.
function staticKey(path, prefix) {
  if (typeof path !== "string" || path.charAt(0) !== "/" || /%(2f|5c)/i.test(path)) {
    return null;
  }
  var key;
  try {
    key = decodeURIComponent(path.slice(1));
  } catch (e) {
    return null;
  }
  if (key.length <= prefix.length || key.slice(0, prefix.length) !== prefix
      || UNSAFE_KEY_CHARACTER.test(key) || ENCODED_SEPARATOR.test(key)) {
    return null;
  }
  var segments = key.split("/");
  for (var i = 0; i < segments.length; i++) {
    if (segments[i] === "" || segments[i] === "." || segments[i] === "..") {
      return null;
    }
  }
  return key;
}

// The path that names key at the origin: each segment percent-encoded, so that no URL parser on
// the way finds a dot segment or a separator the key does not have.
function keyPath(key) {
  var segments = key.split("/");
  for (var i = 0; i < segments.length; i++) {
    segments[i] = encodeURIComponent(segments[i]);
  }
  return "/" + segments.join("/");
}

// assetpipe: the CORS rule for static files, as the headers an edge sends.
// The same rule as assetpipe.edge.cors (Python): GET and HEAD from the configured origins, never
// with credentials. ES5 only, like negotiate.js. `cors` is assetpipe.edge.cors.as_json(...), or
// null when the storage has no "cors" option: then no CORS header is sent and every preflight
// is refused, as S3 does for a bucket without CORS rules.

// Whether text matches pattern, in which each "*" stands for any run of characters.
function wildcardMatch(text, pattern) {
  var parts = pattern.split("*");
  if (parts.length === 1) {
    return text === pattern;
  }
  var first = parts[0];
  var last = parts[parts.length - 1];
  if (text.length < first.length + last.length) {
    return false;
  }
  if (text.slice(0, first.length) !== first || text.slice(text.length - last.length) !== last) {
    return false;
  }
  var at = first.length;
  var end = text.length - last.length;
  for (var i = 1; i < parts.length - 1; i++) {
    var found = text.indexOf(parts[i], at);
    if (found < 0 || found + parts[i].length > end) {
      return false;
    }
    at = found + parts[i].length;
  }
  return true;
}

// Whether origin matches one of the configured origins (each may hold one "*").
function originAllowed(origin, cors) {
  for (var i = 0; i < cors.origins.length; i++) {
    if (wildcardMatch(origin, cors.origins[i])) {
      return true;
    }
  }
  return false;
}

// The CORS headers of a response to a request from origin (null: no Origin header).
// "*" is sent to every request, so caches may share one response; a list of origins echoes an
// allowed origin, and the response then varies on Origin. Timing-Allow-Origin goes with it, so
// that the same pages may read each file's Resource Timing (sizes included).
function corsHeaders(origin, cors) {
  var headers = {};
  if (cors === null) {
    return headers;
  }
  if (cors.origins.indexOf("*") >= 0) {
    headers["Access-Control-Allow-Origin"] = "*";
    headers["Timing-Allow-Origin"] = "*";
    return headers;
  }
  headers["Vary"] = "Origin";
  if (origin !== null && originAllowed(origin, cors)) {
    headers["Access-Control-Allow-Origin"] = origin;
    headers["Timing-Allow-Origin"] = origin;
  }
  return headers;
}

// The headers of the answer to a preflight, or null to refuse it: the method must be one of
// the rule's and every requested header must match one of its allowed headers.
function preflightHeaders(origin, method, requestHeaders, cors) {
  if (cors === null || !originAllowed(origin, cors) || cors.methods.indexOf(method) < 0) {
    return null;
  }
  var names = [];
  var requested = requestHeaders ? String(requestHeaders).split(",") : [];
  for (var i = 0; i < requested.length; i++) {
    var name = requested[i].replace(/^[ \t]+|[ \t]+$/g, "").toLowerCase();
    if (!name) {
      continue;
    }
    var allowed = false;
    for (var j = 0; j < cors.allowedHeaders.length && !allowed; j++) {
      allowed = wildcardMatch(name, cors.allowedHeaders[j].toLowerCase());
    }
    if (!allowed) {
      return null;
    }
    names.push(name);
  }
  var headers = corsHeaders(origin, cors);
  headers["Access-Control-Allow-Methods"] = cors.methods.join(", ");
  if (names.length) {
    headers["Access-Control-Allow-Headers"] = names.join(", ");
  }
  headers["Access-Control-Max-Age"] = String(cors.maxAge);
  return headers;
}

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
    // The path as received: new URL() would resolve "..", "%2e%2e" and "\" first, so a path
    // under the route could name a key outside the prefix.
    var key = staticKey(rawPath(request.url), CONFIG.prefix);
    if (key === null) {
      // Never sent to the bucket: the Worker reads its prefix alone.
      var refused = new Headers({ "Content-Type": "text/plain; charset=utf-8" });
      addHeaders(refused, corsHeaders(origin, CORS));
      return new Response("Not Found\n", { status: 404, headers: refused });
    }
    var path = keyPath(key);
    var image = negotiateImagePath(path, request.headers.get("Accept"), CONFIG);
    var picked = image !== null && image.format !== null
      ? { path: image.path, encoding: null }
      : negotiatePath(path, clientAcceptEncoding(request), CONFIG);
    // The coding the object is stored in, so that no cache on the way transforms it.
    var forwarded = new Headers({ "Accept-Encoding": picked.encoding || "identity" });
    copyHeaders(request.headers, FORWARDED, forwarded);
    // Every response for a raster image varies on Accept: the original, a 304 or a 404 too.
    var vary = image === null ? "Accept-Encoding" : "Accept-Encoding, Accept";
    var headers = new Headers({ Vary: vary });
    addHeaders(headers, corsHeaders(origin, CORS));
    var upstream;
    try {
      upstream = await fetch(env.ORIGIN.replace(/\/+$/, "") + picked.path, {
        method: request.method,
        headers: forwarded,
        // The stored bytes as they are: otherwise the runtime decodes a br/gzip body.
        encodeResponseBody: "manual",
        // Cache every key by its Cache-Control: .br and .mjs are not among the extensions
        // Cloudflare caches by default.
        cf: { cacheEverything: true },
      });
    } catch (error) {
      return new Response("The bucket could not be reached.\n", { status: 502, headers: headers });
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
