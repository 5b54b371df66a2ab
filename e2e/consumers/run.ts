// `npm run test:consumers` (part of `npm test`): the consumer matrix. onestream is packed once
// (prepack builds dist/), linted (publint, attw), then installed from the tarball into each
// fixture app of apps/, copied out of the repo; each one builds with its own tools and runs in
// real Chromium against the real reference server. What each fixture proves is in the table
// below; the page contract and the browser check are in lib/tabs.ts. Flags:
//   --only a,b        run only these fixtures (the package checks always run)
//   --keep            keep the work folder (printed) for a look afterwards
//   --update-locks    `npm install` each fixture and write its package-lock.json back
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "@playwright/test";
import { launchBrowser } from "../../bench/lib/browser";
import { findChromium } from "../../scripts/chromium.mjs";
import { startServer } from "../../server/server";
import { freePort } from "../../server/test-redis";
import { checkLazyEngine, checkViteDev } from "./lib/checks";
import { prepareFixture } from "./lib/fixture";
import { lintPackage, pack, unwantedFiles, type Packed } from "./lib/package";
import { run } from "./lib/proc";
import { checkUsingIt, pasteUsingIt } from "./lib/readme";
import { serveStatic } from "./lib/static-server";
import { checkTwoTabs } from "./lib/tabs";
import { checkReadmeSizes } from "../../scripts/sizes";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const APPS = join(HERE, "apps");

interface Ctx {
  browser: Browser;
  /** The fixture's name. */
  name: string;
  /** The fixture's copy. */
  dir: string;
}

interface Check {
  name: string;
  run(ctx: Ctx): Promise<void>;
}

interface Fixture {
  name: string;
  /** Files of apps/shared/ the fixture's src/ gets. */
  shared?: string[];
  checks: Check[];
}

const npm = (ctx: Ctx, ...args: string[]) => run("npm", args, { cwd: ctx.dir });

/** Serves `folder` of the fixture statically and runs the two-tab check on it. */
function twoTabs(folder: string, opts: { toggle?: boolean } = {}): Check {
  return {
    name: `two tabs, one upstream stream, publish reaches both${opts.toggle ? ", unmount releases the topic" : ""}`,
    async run(ctx) {
      const site = await serveStatic(join(ctx.dir, folder));
      try {
        await checkTwoTabs(ctx.browser, site.url, { label: ctx.name, ...opts });
      } finally {
        await site.close();
      }
    },
  };
}

const build: Check = { name: "npm run build", run: (ctx) => npm(ctx, "run", "build").then(() => {}) };

const FIXTURES: Fixture[] = [
  {
    name: "vite-app",
    shared: ["page.ts"],
    checks: [
      {
        name: "README 'Using it' pasted in; tsc && vite build (create-vite vanilla-ts tsconfig, TypeScript 7)",
        run: async (ctx) => {
          await pasteUsingIt(REPO, ctx.dir);
          await npm(ctx, "run", "build");
        },
      },
      twoTabs("dist"),
      {
        name: "README 'Using it' runs to its end",
        async run(ctx) {
          const site = await serveStatic(join(ctx.dir, "dist"));
          try {
            await checkUsingIt(ctx.browser, site.url);
          } finally {
            await site.close();
          }
        },
      },
      { name: "vite dev, cold cache: two tabs, no reload on first load", run: (ctx) => checkViteDev(ctx.browser, ctx.dir, { label: "vite dev" }) },
      {
        name: "Playwright spec importing onestream/testing: SharedWorker offline and back",
        async run(ctx) {
          const server = await startServer({ port: 0, faults: true });
          try {
            const env = { ONESTREAM_SERVER: server.url, PORT: String(await freePort()), CHROMIUM_PATH: findChromium() };
            await run("npx", ["playwright", "test"], { cwd: ctx.dir, env });
          } finally {
            await server.close();
          }
        },
      },
    ],
  },
  { name: "webpack", shared: ["page.ts"], checks: [build, twoTabs(".")] },
  {
    name: "esbuild",
    shared: ["page.ts"],
    checks: [build, { name: "the fallback engine is a lazy chunk", run: (ctx) => checkLazyEngine(ctx.dir) }, twoTabs(".")],
  },
  {
    name: "react",
    checks: [
      build,
      twoTabs("dist", { toggle: true }),
      {
        name: "vite dev (StrictMode mounts twice): each event once, unmount releases the topic, no reload",
        run: (ctx) => checkViteDev(ctx.browser, ctx.dir, { label: "react dev", toggle: true }),
      },
    ],
  },
  { name: "vue", checks: [build, twoTabs("dist", { toggle: true })] },
  { name: "svelte", checks: [build, twoTabs("dist", { toggle: true })] },
  {
    name: "node-ssr",
    checks: [
      {
        name: "types under bundler and nodenext (strict, exactOptionalPropertyTypes, erasableSyntaxOnly, …); emits out/",
        run: (ctx) => npm(ctx, "run", "typecheck").then(() => {}),
      },
      { name: "every entry imports in Node; browser-only parts say what is missing; SSR renders", run: (ctx) => npm(ctx, "run", "ssr").then(() => {}) },
    ],
  },
];

interface Outcome {
  name: string;
  status: "passed" | "failed" | "skipped";
  ms: number;
}

const outcomes: Outcome[] = [];

async function step(name: string, fn: () => Promise<void>, skip = false): Promise<boolean> {
  if (skip) {
    outcomes.push({ name, status: "skipped", ms: 0 });
    console.log(`  - ${name} (skipped: an earlier step failed)`);
    return false;
  }
  const t0 = Date.now();
  try {
    await fn();
    outcomes.push({ name, status: "passed", ms: Date.now() - t0 });
    console.log(`  ✓ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return true;
  } catch (e) {
    outcomes.push({ name, status: "failed", ms: Date.now() - t0 });
    console.log(`  ✗ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n${indent(e instanceof Error ? e.message : String(e))}`);
    return false;
  }
}

function indent(text: string): string {
  return text.replace(/^/gm, "      ");
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : (process.argv[i + 1] ?? "");
}

async function main(): Promise<number> {
  const started = Date.now();
  const only = option("--only")?.split(",");
  const updateLocks = process.argv.includes("--update-locks");
  const unknown = only?.filter((n) => !FIXTURES.some((f) => f.name === n)) ?? [];
  if (unknown.length > 0) throw new Error(`--only: no fixture ${unknown.join(", ")}; there are ${FIXTURES.map((f) => f.name).join(", ")}`);
  const work = await mkdtemp(join(tmpdir(), "onestream-consumers-"));
  console.log(`consumer matrix in ${work}`);

  console.log("package");
  let packed: Packed | undefined;
  await step("npm pack (prepack builds dist/)", async () => {
    packed = await pack(REPO, work);
  });
  if (packed === undefined) return finish(work, started);
  const tarball = packed;
  await step(`tarball: ${tarball.files.length} files, only what users need`, async () => {
    const unwanted = unwantedFiles(tarball.files);
    if (unwanted.length > 0) throw new Error(`should not ship:\n${unwanted.join("\n")}`);
  });
  await step("publint --strict, attw --profile esm-only", () => lintPackage(REPO, tarball.tarball));
  await step("README sizes match the tarball and the bundles", () => checkReadmeSizes(REPO, tarball));

  const browser = await launchBrowser();
  try {
    for (const fixture of FIXTURES.filter((f) => only === undefined || only.includes(f.name))) {
      console.log(fixture.name);
      const ctx: Ctx = { browser, name: fixture.name, dir: join(work, fixture.name) };
      let ok = await step(updateLocks ? "npm install (lockfile written back)" : "npm ci with the tarball", () =>
        prepareFixture({
          source: join(APPS, fixture.name),
          target: ctx.dir,
          shared: (fixture.shared ?? []).map((f) => join(APPS, "shared", f)),
          updateLock: updateLocks,
        }),
      );
      for (const check of fixture.checks) ok = (await step(check.name, () => check.run(ctx), !ok)) && ok;
    }
  } finally {
    await browser.close();
  }
  return finish(work, started);
}

async function finish(work: string, started: number): Promise<number> {
  const count = (s: Outcome["status"]) => outcomes.filter((o) => o.status === s).length;
  const failed = count("failed");
  if (process.argv.includes("--keep") || failed > 0) console.log(`work folder kept: ${work}`);
  else await rm(work, { recursive: true, force: true });
  console.log(`consumer matrix: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`${count("passed")} passed, ${failed} failed${count("skipped") > 0 ? `, ${count("skipped")} skipped` : ""}`);
  return failed > 0 || count("skipped") > 0 ? 1 : 0;
}

process.exitCode = await main();
