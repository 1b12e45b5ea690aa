// assetpipe: the Use-As-Dictionary header of a dictionary file (RFC 9842), as
// assetpipe.headers.use_as_dictionary writes it; ES5.

// A structured-field string: quoted, with "\" and '"' escaped.
function sfString(text) {
  return '"' + String(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"') + '"';
}

// Use-As-Dictionary for a file whose next versions match covers, for requests of dest.
function useAsDictionary(match, dest) {
  return "match=" + sfString(match) + ", match-dest=(" + sfString(dest) + ")";
}
