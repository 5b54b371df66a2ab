// esbuild's recipe: the page and the worker are two entry points of one build with splitting,
// so they share chunks and the engine the page needs only in the leader fallback stays a lazy
// chunk. esbuild leaves `new URL("./worker.js", import.meta.url)` alone: it names the worker
// entry's output next to the page's. The metafile lets the matrix check the chunk graph.
import { writeFile } from "node:fs/promises";
import * as esbuild from "esbuild";

const result = await esbuild.build({
  entryPoints: ["src/main.ts", "src/worker.ts"],
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: true,
  outdir: "dist",
  metafile: true,
});
await writeFile("dist/meta.json", JSON.stringify(result.metafile));
