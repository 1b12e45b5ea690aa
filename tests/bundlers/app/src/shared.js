// Shared by the entry and the lazy chunk: one module instance means one counter.
const runs = (globalThis.__bundleRuns ??= {});
const results = (globalThis.__bundleResults ??= {});

export function count(module) {
  runs[module] = (runs[module] ?? 0) + 1;
}

export function record(key, value) {
  results[key] = value;
}

count("shared");
