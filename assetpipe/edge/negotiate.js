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
