// Built by tests/bundlers: base is STATIC_URL, the manifest goes where django-vite reads it.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/static/",
  build: {
    outDir: process.env.BUNDLE_OUT_DIR,
    emptyOutDir: true,
    // "manifest.json" at the root, as django-vite recommends; "true": .vite/manifest.json.
    manifest: process.env.BUNDLE_MANIFEST === "true" ? true : "manifest.json",
    assetsInlineLimit: 0,
    rollupOptions: { input: "src/main.js" },
  },
});
