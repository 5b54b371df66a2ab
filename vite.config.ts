// Vite serves and builds the demo page (and, in dev, the e2e test pages under e2e/pages/).
// The SharedWorker is bundled from `new SharedWorker(new URL(...), { type: "module" })`.
import type { IncomingMessage } from "node:http";
import { fileURLToPath } from "node:url";
import { defineConfig, type ProxyOptions } from "vite";

const at = (path: string): string => fileURLToPath(new URL(`./${path}`, import.meta.url));

/**
 * Inside this repo, `import … from "onestream/worker"` (the way the README's examples and the
 * foreign-protocol adapters are written) means the sources, not the built dist/ the package
 * exports point at. vitest.config.ts takes the same list; tsconfig.json's "paths" says it for tsc.
 */
export const sourceAliases = [
  { find: /^onestream$/, replacement: at("src/index.ts") },
  { find: "onestream/worker", replacement: at("worker/index.ts") },
  { find: "onestream/testing", replacement: at("e2e/kit/index.ts") },
  { find: "onestream/react", replacement: at("src/bindings/react.ts") },
  { find: "onestream/vue", replacement: at("src/bindings/vue.ts") },
  { find: "onestream/svelte", replacement: at("src/bindings/svelte.ts") },
];

/**
 * Set by playwright.config.ts for the e2e dev server: no file watching and no HMR, so an edit in
 * the tree (or a late dependency scan) never reloads a page in the middle of a test. Also set
 * for the e2e build (see build below).
 */
const e2e = process.env.ONESTREAM_E2E === "1";

/**
 * The reference server whose /admin/* the dev server forwards for the demo (npm start sets it;
 * pages see it as import.meta.env.VITE_ONESTREAM_ADMIN_PROXY). ONESTREAM_ADMIN_TOKEN, if the
 * server has one, is added by the dev server and never reaches a page.
 */
const adminTarget = process.env.VITE_ONESTREAM_ADMIN_PROXY;

/** Browser headers that must not reach admin: they would (rightly) make it refuse the call. */
const STRIPPED = ["origin", "referer", "cookie", "sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "sec-fetch-user"];

/**
 * The demo's way to the server's admin endpoints, which never answer a web page (no CORS, Origin
 * refused: server/admin-access.ts). The demo calls /admin/* on its own origin and the dev server
 * forwards it as the local tool admin expects: only for its own pages (Sec-Fetch-Site
 * same-origin, or a caller that is not a browser; anything else gets a 404), without the
 * browser's Origin, Referer, cookies and fetch metadata, with the admin token when one is set.
 */
function adminProxy(target: string, token: string | undefined): ProxyOptions {
  return {
    target,
    changeOrigin: true,
    bypass: (req) => (fromOwnPage(req) ? undefined : false),
    configure: (proxy) => {
      proxy.on("proxyReq", (proxyReq) => {
        for (const header of STRIPPED) proxyReq.removeHeader(header);
        if (token) proxyReq.setHeader("authorization", `Bearer ${token}`);
      });
    },
  };
}

function fromOwnPage(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return false;
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host}`;
}

export default defineConfig({
  root: ".",
  resolve: { alias: sourceAliases },
  // Same-origin module workers; "es" keeps `import` in the worker bundle.
  worker: { format: "es" },
  optimizeDeps: {
    // Imported only by the worker: without this Vite discovers them late, reloads the page
    // ("optimized dependencies changed") and the first test dies (FIELD-NOTES).
    include: [
      "comlink",
      "idb",
      "@connectrpc/connect",
      "@connectrpc/connect-web",
      "@bufbuild/protobuf",
      "@bufbuild/protobuf/codegenv2",
      // the listendemo adapter's (e2e/foreign/listen-adapter.ts)
      "@bufbuild/protobuf/wire",
    ],
    entries: ["index.html", "e2e/pages/*.html"],
  },
  build: {
    target: "es2022",
    // The e2e build also bundles the foreign-protocol test page: its adapters and workers are
    // then tested as production code too.
    rolldownOptions: { input: { main: "index.html", ...(e2e ? { foreign: "e2e/pages/foreign.html" } : {}) } },
  },
  server: {
    host: "127.0.0.1",
    ...(e2e ? { hmr: false, watch: null } : {}),
    ...(adminTarget ? { proxy: { "/admin": adminProxy(adminTarget, process.env.ONESTREAM_ADMIN_TOKEN) } } : {}),
  },
  preview: { host: "127.0.0.1", port: 4173 },
});
