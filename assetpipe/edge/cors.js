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
