// assetpipe: compression dictionaries (RFC 9842) at the edge: which dictionary a request names,
// whether it takes dcz, and the header that declares a file a dictionary. The same rules as
// assetpipe.headers (available_dictionary, use_as_dictionary) and the edge's preferred_encoding;
// ES5, with negotiate.js's helpers.

var BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The SHA-256 an Available-Dictionary value names (":<base64>:", a structured-field byte
// sequence), as 64 hex digits; null for no value or any other value.
function availableDictionary(value) {
  if (typeof value !== "string") {
    return null;
  }
  value = trimOws(value);
  if (value.length !== 46 || value.charAt(0) !== ":" || value.slice(44) !== "=:") {
    return null;
  }
  var hex = "";
  var bits = 0;
  var buffer = 0;
  for (var i = 1; i < 44; i++) {
    var sextet = BASE64.indexOf(value.charAt(i));
    if (sextet < 0) {
      return null;
    }
    buffer = ((buffer << 6) | sextet) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      var octet = (buffer >> bits) & 0xff;
      hex += (octet < 16 ? "0" : "") + octet.toString(16);
    }
  }
  return hex;  // 43 sextets: 32 bytes, the 2 bits left over ignored as base64 decoders do
}

// Whether Accept-Encoding makes dcz acceptable (its weight, or else "*"'s, above 0).
function dczAccepted(acceptEncoding) {
  return preferredEncoding(acceptEncoding, [["dcz", ""]]) !== null;
}
