// Runs a CloudFront function that reads a key value store, for the tests, as the runtime would:
// an ES module in a fresh vm context with ECMAScript's built-ins and nothing else, where code
// generation from strings throws, and whose `import cf from 'cloudfront'` gets a module whose
// kvs() reads the store's import file (CloudFront's {"data": [{"key", "value"}]} format) with
// the documented helper methods: get(key, {format}) rejects for a key the store lacks, exists().
// The runtime calls the module's `handler`; the driver exports it to reach it.
//
//   node --experimental-vm-modules kvs_driver.js run FUNCTION.js STORE.json < EVENTS.json
//       prints a JSON array with, for each event, {"result": what handler(event) resolved to}
//       or {"error": what it threw}, and "gets": the keys it asked the store for.
//   node kvs_driver.js check FUNCTION.js ACORN_DIR
//       prints {"module": null or acorn's error for the code as an ES2017 module,
//       "es5": null or acorn's error for it as ES5 once the import line, "async" and "await"
//       are taken out}: the function uses nothing newer than those.
"use strict";

var fs = require("fs");
var path = require("path");
var vm = require("vm");

var TIMEOUT_MS = 10000;

// The cloudfront module, made inside the function's context so that its values belong to
// the function's realm, as the runtime's would.
var CLOUDFRONT = [
  "(function (data) {",
  "  var store = {};",
  "  data.forEach(function (item) {",
  "    if (Object.prototype.hasOwnProperty.call(store, item.key)) {",
  "      throw new Error('duplicate key ' + item.key);",
  "    }",
  "    store[item.key] = item.value;",
  "  });",
  "  var gets = [];",
  "  var handle = {",
  "    get: async function (key, options) {",
  "      gets.push(key);",
  "      if (!Object.prototype.hasOwnProperty.call(store, key)) {",
  "        throw new Error('KeyValueStore: key not found');",
  "      }",
  "      var format = options && options.format ? options.format : 'string';",
  "      if (format === 'json') { return JSON.parse(store[key]); }",
  "      if (format === 'string') { return store[key]; }",
  "      throw new Error('unsupported format ' + format);",
  "    },",
  "    exists: async function (key) {",
  "      return Object.prototype.hasOwnProperty.call(store, key);",
  "    },",
  "  };",
  "  return { module: { kvs: function () { return handle; } }, gets: gets };",
  "})",
].join("\n");

async function run(file, storeFile) {
  var context = vm.createContext({}, { codeGeneration: { strings: false, wasm: false } });
  var store = JSON.parse(fs.readFileSync(storeFile, "utf8"));
  var made = vm.runInContext(CLOUDFRONT, context)(
    vm.runInContext("JSON.parse", context)(JSON.stringify(store.data))
  );
  var cloudfront = new vm.SyntheticModule(["default"], function () {
    this.setExport("default", made.module);
  }, { context: context, identifier: "cloudfront" });
  var code = fs.readFileSync(file, "utf8") + "\nexport { handler };\n";
  var module = new vm.SourceTextModule(code, { context: context, identifier: file });
  await module.link(function (specifier) {
    if (specifier !== "cloudfront") {
      throw new Error("the runtime has no module " + specifier);
    }
    return cloudfront;
  });
  await module.evaluate({ timeout: TIMEOUT_MS });
  var handler = module.namespace.handler;
  var events = vm.runInContext("JSON.parse", context)(fs.readFileSync(0, "utf8"));
  var results = [];
  for (var i = 0; i < events.length; i++) {
    made.gets.length = 0;
    try {
      var result = await handler(events[i]);
      results.push({ result: JSON.parse(JSON.stringify(result)), gets: made.gets.slice() });
    } catch (e) {
      results.push({ error: String(e), gets: made.gets.slice() });
    }
  }
  process.stdout.write(JSON.stringify(results));
}

function check(file, acornDir) {
  var acorn = require(path.resolve(acornDir, "acorn"));
  var code = fs.readFileSync(file, "utf8");
  var result = { module: null, es5: null };
  try {
    acorn.parse(code, { ecmaVersion: 2017, sourceType: "module" });
  } catch (e) {
    result.module = String(e);
  }
  var lines = code.split("\n");
  var rest = lines[0] === "import cf from 'cloudfront';" ? lines.slice(1).join("\n") : code;
  rest = rest.replace(/\basync function\b/g, "function").replace(/\bawait\b /g, "");
  try {
    acorn.parse(rest, { ecmaVersion: 5, sourceType: "script" });
  } catch (e) {
    result.es5 = String(e);
  }
  process.stdout.write(JSON.stringify(result));
}

var command = process.argv[2];
if (command === "run") {
  run(process.argv[3], process.argv[4]).catch(function (e) {
    process.stderr.write(String(e && e.stack) + "\n");
    process.exit(1);
  });
} else if (command === "check") {
  check(process.argv[3], process.argv[4]);
} else {
  process.stderr.write("usage: kvs_driver.js run FILE STORE | check FILE ACORN_DIR\n");
  process.exit(2);
}
