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
