// Runs an edge function's code for the tests, as a restricted runtime would: in a fresh vm
// context that has ECMAScript's built-ins and nothing else (no require, process, timers, fetch,
// Buffer or console), where code generation from strings (eval, new Function) throws.
//
//   node function_driver.js run FUNCTION.js < EVENTS.json
//       EVENTS is a JSON array of events; prints a JSON array with, for each, {"request": the
//       value handler(event) returned} or {"error": what it threw}. One process per batch.
//   node function_driver.js check FUNCTION.js ACORN_DIR NAME...
//       prints {"es5": null or acorn's error for ecmaVersion 5, "names": the NAMEs the code
//       spells as identifiers, "context": typeof each NAME in the function's context}.
"use strict";

var fs = require("fs");
var path = require("path");
var vm = require("vm");

// A loop that never ends fails the batch instead of hanging the test run.
var TIMEOUT_MS = 10000;

function restrictedContext() {
  return vm.createContext({}, { codeGeneration: { strings: false, wasm: false } });
}

function load(file) {
  var context = restrictedContext();
  vm.runInContext(fs.readFileSync(file, "utf8"), context, { filename: file, timeout: TIMEOUT_MS });
  return context;
}

function run(file) {
  var context = load(file);
  context.__events = fs.readFileSync(0, "utf8");
  // The batch runs inside the context, so that each event is an object of its realm, as the
  // runtime's would be.
  var output = vm.runInContext(
    "JSON.stringify(JSON.parse(__events).map(function (event) {" +
      "  try { return { request: handler(event) }; }" +
      "  catch (e) { return { error: String(e) }; }" +
      "}))",
    context,
    { timeout: TIMEOUT_MS }
  );
  process.stdout.write(output);
}

function check(file, acornDir, names) {
  var acorn = require(path.resolve(acornDir, "acorn"));
  var code = fs.readFileSync(file, "utf8");
  var result = { es5: null, names: [], context: {} };
  try {
    acorn.parse(code, { ecmaVersion: 5, sourceType: "script" });
  } catch (e) {
    result.es5 = String(e);
  }
  var spelled = {};
  try {
    var tokens = acorn.tokenizer(code, { ecmaVersion: "latest" });
    for (var token = tokens.getToken(); token.type !== acorn.tokTypes.eof; token = tokens.getToken()) {
      if (token.type === acorn.tokTypes.name && names.indexOf(token.value) >= 0) {
        spelled[token.value] = true;
      }
    }
  } catch (e) {
    result.es5 = result.es5 || String(e);
  }
  result.names = Object.keys(spelled).sort();
  var context = load(file);
  names.forEach(function (name) {
    result.context[name] = vm.runInContext("typeof " + name, context);
  });
  result.context["eval('1')"] = (function () {
    try {
      return String(vm.runInContext("eval('1')", context));
    } catch (e) {
      return e.name;
    }
  })();
  process.stdout.write(JSON.stringify(result));
}

var command = process.argv[2];
if (command === "run") {
  run(process.argv[3]);
} else if (command === "check") {
  check(process.argv[3], process.argv[4], process.argv.slice(5));
} else {
  process.stderr.write("usage: function_driver.js run FILE | check FILE ACORN_DIR NAME...\n");
  process.exit(2);
}
