// esbuild entry (unhashed name, so Django hashes it); its chunks are prehashed by pattern.
import { count } from "../src/shared.js";

count("main");
import("./lazy.js").then((lazy) => (globalThis.__bundleResults.lazy = lazy.greet()));
