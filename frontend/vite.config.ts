/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Django serves the build: assets live under STATIC_URL, and django-vite reads the manifest
// (dist/.vite/manifest.json) to put the hashed file names into templates/app.html.
export default defineConfig({
  base: "/static/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    manifest: true,
    // The app, and the pages outside it (log in, locked out; the API reference's frame) with
    // the same theme.
    rollupOptions: { input: ["src/main.tsx", "src/auth.tsx", "src/apidocs.tsx"] },
    // The big chunks load on demand: the editor when first opened (~300 kB gzipped: React Flow
    // and the form library) and elkjs on the first auto-layout (~1.5 MB, a Java port). The
    // first page (the Mantine shell) is ~210 kB of script gzipped.
    chunkSizeWarningLimit: 1600,
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test/setup.ts"],
    // @rjsf/mantine's ES modules import "dayjs/plugin/x" without the ".js" Node's resolver
    // wants: let Vite resolve and transform it, as the build does.
    server: { deps: { inline: ["@rjsf/mantine"] } },
    // A test that renders a page waits for its chunk to load: seconds on a busy two-core machine.
    testTimeout: 20_000,
  },
});
