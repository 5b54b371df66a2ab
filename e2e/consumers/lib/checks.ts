// The checks of the matrix that need more than "build it, serve it, two tabs": the Vite dev
// server's first start, and the esbuild chunk graph.
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "@playwright/test";
import { freePort } from "../../../server/test-redis";
import { background } from "./proc";
import { checkTwoTabs, type TwoTabsOptions } from "./tabs";

/**
 * `vite` on a cold dependency cache: two tabs work, and neither was reloaded ("optimized
 * dependencies changed. reloading" is what a missing optimizeDeps.include causes). Development
 * builds of the frameworks run here too (React's StrictMode mounts every component twice).
 */
export async function checkViteDev(browser: Browser, dir: string, opts: TwoTabsOptions): Promise<void> {
  await rm(join(dir, "node_modules/.vite"), { recursive: true, force: true });
  const port = await freePort();
  const vite = await background("npx", ["vite", "--port", String(port), "--strictPort", "--host", "127.0.0.1"], {
    cwd: dir,
    ready: /Local:/,
  });
  try {
    const { navigations } = await checkTwoTabs(browser, `http://127.0.0.1:${port}`, opts);
    const reloaded = /reloading|optimized dependencies changed/i.test(vite.output());
    if (reloaded || navigations.some((n) => n !== 1)) {
      throw new Error(`the first start reloaded the page (navigations per tab: ${navigations.join(", ")}):\n${vite.output()}`);
    }
  } finally {
    await vite.stop();
  }
}

interface Metafile {
  outputs: Record<string, { imports: { path: string; kind: string }[]; inputs: Record<string, unknown>; entryPoint?: string }>;
}

/** The outputs `from` loads before it runs (static imports, transitively). */
function staticClosure(meta: Metafile, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const queue = [from];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const i of meta.outputs[next]?.imports ?? []) {
      if (i.kind === "import-statement" && !seen.has(i.path)) {
        seen.add(i.path);
        queue.push(i.path);
      }
    }
  }
  return seen;
}

/**
 * esbuild with splitting (the fixture writes its metafile to dist/meta.json): the page entry
 * must not load the engine up front, only through a dynamic import (the leader fallback).
 */
export async function checkLazyEngine(dir: string): Promise<void> {
  const meta = JSON.parse(await readFile(join(dir, "dist/meta.json"), "utf8")) as Metafile;
  const page = Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint?.endsWith("src/main.ts"));
  const engine = Object.keys(meta.outputs).find((o) =>
    Object.keys(meta.outputs[o]!.inputs).some((i) => i.endsWith("onestream/dist/worker/engine/engine.js")),
  );
  if (page === undefined || engine === undefined) throw new Error("metafile: no page entry or no chunk with the engine");
  const upFront = staticClosure(meta, page);
  if (upFront.has(engine)) throw new Error(`the page loads the engine chunk ${engine} up front`);
  const lazily = [...upFront].some((o) =>
    meta.outputs[o]!.imports.some((i) => i.kind === "dynamic-import" && staticClosure(meta, i.path).has(engine)),
  );
  if (!lazily) throw new Error(`no dynamic import of the page reaches the engine chunk ${engine}`);
}
