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
