// assetpipe: pick an image variant's key (.avif, .webp) by Accept.
// The same rules as assetpipe.edge.negotiation's preferred_image_format and image_negotiable
// (Python); ES5 only, and it uses trimOws, QVALUE and utf8Length from negotiate.js.

// The entry of config.images ([format, suffix, media type], server preference first) that the
// Accept header prefers, or null. Only a format's own media type counts, never image/* or */*.
function preferredImageFormat(header, images) {
  if (header === undefined || header === null) {
    return null;
  }
  var weights = {};
  var elements = String(header).split(",");
  for (var i = 0; i < elements.length; i++) {
    var parts = elements[i].split(";");
    var type = trimOws(parts[0]).toLowerCase();
    var found = -1;
    for (var f = 0; f < images.length; f++) {
      if (images[f][2] === type) {
        found = f;
      }
    }
    if (found < 0) {
      continue;
    }
    var weight = 1;
    for (var j = 1; j < parts.length; j++) {
      var at = parts[j].indexOf("=");
      var name = trimOws(at < 0 ? parts[j] : parts[j].slice(0, at)).toLowerCase();
      if (name === "q") {
        var value = at < 0 ? "" : trimOws(parts[j].slice(at + 1));
        weight = QVALUE.test(value) ? parseFloat(value) : 0;
      }
    }
    var known = Object.prototype.hasOwnProperty.call(weights, type);
    weights[type] = known ? Math.min(weight, weights[type]) : weight;
  }
  var best = null;
  var bestWeight = 0;
  for (var k = 0; k < images.length; k++) {
    var own = images[k][2];
    var w = Object.prototype.hasOwnProperty.call(weights, own) ? weights[own] : 0;
    if (w > bestWeight) {
      best = images[k];
      bestWeight = w;
    }
  }
  return best;
}

// Whether the object at this key is a raster image with every image variant beside it.
function imageNegotiable(key, config) {
  if (!config.images || !config.images.length) {
    return false;
  }
  if (key.slice(0, config.prefix.length) !== config.prefix) {
    return false;
  }
  var name = key.slice(config.prefix.length);
  if (name === config.manifest || name.slice(0, config.history.length) === config.history) {
    return false;
  }
  var dot = name.lastIndexOf(".");
  var extension = dot < 0 ? "" : name.slice(dot + 1);
  if (dot < 0 || extension.indexOf("/") >= 0 || config.raster.indexOf(extension.toLowerCase()) < 0) {
    return false;
  }
  var longest = 0;
  for (var j = 0; j < config.images.length; j++) {
    longest = Math.max(longest, config.images[j][1].length);
  }
  return utf8Length(name.slice(name.lastIndexOf("/") + 1)) + longest <= config.nameMax;
}

// The path to request from the bucket for this request path when it is a raster image, with
// the format picked: {path: ..., format: "avif" | "webp" | null}; null for any other path.
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
  return chosen === null ? { path: path, format: null } : { path: path + chosen[1], format: chosen[0] };
}
