// `npm run sizes`: what a user downloads and ships, measured and written into README.md between
// the sizes markers, so the numbers there are never typed in: the npm tarball (files, packed and
// unpacked), and, bundled and minified by esbuild the way an app's bundler would, the tab entry
// (what every page loads), the in-page engine chunk (loaded only by a fallback leader without a dedicated worker)
// and the worker (serve() with its dependencies), raw and gzip. The consumer matrix checks that
// the README is within SIZE_TOLERANCE of what it measures.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { pack, type Packed } from "../e2e/consumers/lib/package";

const START = "<!-- sizes:start: written by `npm run sizes` -->";
const END = "<!-- sizes:end -->";
/** How far the README may drift from a fresh measurement before the matrix asks for `npm run sizes`. */
const SIZE_TOLERANCE = 0.1;

interface Size {
  raw: number;
  gzip: number;
}

export interface Sizes {
  files: number;
  packed: number;
  unpacked: number;
  tab: Size;
  fallback: Size;
  worker: Size;
}

function size(chunks: Uint8Array[]): Size {
  return chunks.reduce((s, c) => ({ raw: s.raw + c.length, gzip: s.gzip + gzipSync(c, { level: 9 }).length }), { raw: 0, gzip: 0 });
}

/** Bundles `entry` (code importing from dist/) with splitting; returns the entry's up-front outputs and the rest. */
async function bundle(repo: string, entry: string): Promise<{ upFront: Size; lazy: Size }> {
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: join(repo, "dist"), loader: "js" },
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    target: "es2022",
    absWorkingDir: repo,
    outdir: "sizes-out", // nothing is written: paths only name the outputs
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const outputs = new Map(result.outputFiles.map((f) => [relative(repo, f.path), f.contents]));
  const meta = result.metafile.outputs;
  const main = Object.keys(meta).find((o) => meta[o]!.entryPoint !== undefined)!;
  const upFront = new Set([main]);
  for (const o of upFront) for (const i of meta[o]!.imports) if (i.kind === "import-statement") upFront.add(i.path);
  const pick = (wanted: boolean) => [...outputs].filter(([p]) => p.endsWith(".js") && upFront.has(p) === wanted).map(([, c]) => c);
  return { upFront: size(pick(true)), lazy: size(pick(false)) };
}

/** Measures the tarball `packed` and bundles of the repo's dist/ (built by the same pack). */
async function measure(repo: string, packed: Packed): Promise<Sizes> {
  const tab = await bundle(repo, `export * from "./src/index.js";`);
  const worker = await bundle(repo, `import { serve } from "./worker/index.js"; serve();`);
  return {
    files: packed.files.length,
    packed: packed.packedBytes,
    unpacked: packed.unpackedBytes,
    tab: tab.upFront,
    fallback: tab.lazy,
    worker: worker.upFront,
  };
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

function renderSizes(s: Sizes): string {
  return [
    START,
    "| what | size | gzip |",
    "|---|---|---|",
    `| npm tarball: ${s.files} files | ${kB(s.packed)} packed, ${kB(s.unpacked)} unpacked | |`,
    `| tab entry (\`onestream\`: what every page loads) | ${kB(s.tab.raw)} | ${kB(s.tab.gzip)} |`,
    `| in-page engine chunk (only a fallback leader without a dedicated worker loads it) | ${kB(s.fallback.raw)} | ${kB(s.fallback.gzip)} |`,
    `| worker (\`serve()\` and its dependencies) | ${kB(s.worker.raw)} | ${kB(s.worker.gzip)} |`,
    "",
    `Minified ES2022 bundles by esbuild ${esbuild.version}; gzip level 9.`,
    END,
  ].join("\n");
}

function sizesBlock(readme: string): { from: number; to: number } {
  const from = readme.indexOf(START);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md has no sizes block (${START} … ${END})`);
  return { from, to: to + END.length };
}

/** Every number in the README's block within SIZE_TOLERANCE of a fresh measurement; throws otherwise. */
export async function checkReadmeSizes(repo: string, packed: Packed): Promise<void> {
  const readme = await readFile(join(repo, "README.md"), "utf8");
  const { from, to } = sizesBlock(readme);
  const numbers = (text: string) => [...text.matchAll(/(\d+(?:\.\d+)?) (?:files|kB)/g)].map((m) => Number(m[1]));
  const written = numbers(readme.slice(from, to));
  const fresh = numbers(renderSizes(await measure(repo, packed)));
  const stale = written.length !== fresh.length || written.some((w, i) => Math.abs(w - fresh[i]!) > SIZE_TOLERANCE * fresh[i]!);
  if (stale) throw new Error(`README sizes [${written.join(", ")}] vs measured [${fresh.join(", ")}]: run \`npm run sizes\``);
}

async function main(): Promise<void> {
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
  const work = await mkdtemp(join(tmpdir(), "onestream-sizes-"));
  try {
    const sizes = await measure(repo, await pack(repo, work));
    const readme = await readFile(join(repo, "README.md"), "utf8");
    const { from, to } = sizesBlock(readme);
    await writeFile(join(repo, "README.md"), readme.slice(0, from) + renderSizes(sizes) + readme.slice(to));
    console.log(renderSizes(sizes));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
