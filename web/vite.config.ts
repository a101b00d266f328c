import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type { OutputBundle, OutputChunk } from "rolldown";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

/** The app's initial JavaScript (entry plus its static imports), gzip. */
const APP_JS_BUDGET_BYTES = 100 * 1024;

/**
 * Prints the gzip size of the JavaScript each page loads before it runs and
 * fails the build when the app's passes its budget. GraphiQL is reported
 * but has no budget: only people who open the playground pay for it.
 */
function initialJsBudget(): Plugin {
  return {
    name: "loupe-initial-js-budget",
    apply: "build",
    generateBundle(_options, bundle: OutputBundle) {
      const chunks = Object.values(bundle).filter((c): c is OutputChunk => c.type === "chunk");
      for (const entry of chunks.filter((c) => c.isEntry)) {
        const seen = new Set<string>();
        const visit = (fileName: string) => {
          if (seen.has(fileName)) return;
          seen.add(fileName);
          const chunk = bundle[fileName];
          if (chunk?.type === "chunk") chunk.imports.forEach(visit);
        };
        visit(entry.fileName);
        let gzip = 0;
        for (const fileName of seen) {
          const chunk = bundle[fileName] as OutputChunk;
          gzip += gzipSync(chunk.code, { level: 9 }).length;
        }
        const kb = (gzip / 1024).toFixed(1);
        const budget = entry.name === "app" ? ` (budget ${APP_JS_BUDGET_BYTES / 1024} KB)` : " (no budget)";
        console.log(`initial JS of ${entry.name}: ${kb} KB gzip in ${seen.size} file(s)${budget}`);
        if (entry.name === "app" && gzip > APP_JS_BUDGET_BYTES) {
          this.error(`the app's initial JavaScript is ${kb} KB gzip, over its ${APP_JS_BUDGET_BYTES / 1024} KB budget`);
        }
      }
    },
  };
}

// Two pages: the app (Preact) and GraphiQL (React + Monaco). Separate HTML
// entries keep React and Monaco out of everything the app loads.
export default defineConfig({
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
  plugins: [initialJsBudget()],
  build: {
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: {
        app: resolve(import.meta.dirname, "index.html"),
        graphiql: resolve(import.meta.dirname, "graphiql.html"),
      },
      onLog(level, log, handler) {
        // GraphiQL's dependencies carry React directives ("use client") that
        // mean nothing in a client-only bundle.
        if (log.code === "MODULE_LEVEL_DIRECTIVE") return;
        handler(level, log);
      },
    },
  },
  // GraphiQL's worker imports break the dev server's dependency scan
  // (graphiql #4038); the dev server serves the app, the production build
  // both pages.
  optimizeDeps: { entries: ["index.html"] },
  server: {
    proxy: {
      // Presigned URLs are signed for the Host the browser sends: keep it
      // (run Loupe with --public-url http://127.0.0.1:5173).
      "/graphql": { target: "http://127.0.0.1:8080", ws: true, changeOrigin: false },
      "/loupe": { target: "http://127.0.0.1:8080", changeOrigin: false },
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
