// The package as users get it: `npm pack` (prepack builds dist/) once, what the tarball holds,
// and the two linters users' tools agree with (publint, @arethetypeswrong/cli).
import { rename } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./proc";

export interface Packed {
  /** Absolute path of the tarball. */
  tarball: string;
  /** Paths inside the package ("package.json", "dist/src/index.js", …). */
  files: string[];
  /** Size of the .tgz. */
  packedBytes: number;
  unpackedBytes: number;
}

interface NpmPackJson {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

/** Packs `repo` into `destination` as onestream.tgz (the name every fixture's package.json points at). */
export async function pack(repo: string, destination: string): Promise<Packed> {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", destination], { cwd: repo });
  // The build prints a line before npm's JSON.
  const [info] = JSON.parse(stdout.slice(stdout.indexOf("["))) as NpmPackJson[];
  if (info === undefined) throw new Error("npm pack printed no package");
  const tarball = join(destination, "onestream.tgz");
  await rename(join(destination, info.filename), tarball);
  return { tarball, files: info.files.map((f) => f.path).sort(), packedBytes: info.size, unpackedBytes: info.unpackedSize };
}

/** What may ship: the manifest, the README, the licence and the compiled entries; no tests, bench, CI, demo or server. */
const ALLOWED = /^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts|js\.map))$/;
const FORBIDDEN = /(^|\/)(bench|\.ci|server|demo|testing|e2e\/(?!kit\/)[^/]+)(\/|$)|\.test\.|\.spec\.|test-world/;

/** The paths that should not be in the tarball. */
export function unwantedFiles(files: readonly string[]): string[] {
  return files.filter((f) => !ALLOWED.test(f) || FORBIDDEN.test(f));
}

/** publint (strict: warnings fail) and attw (ESM-only profile: node10 and require() are out of scope). */
export async function lintPackage(repo: string, tarball: string): Promise<void> {
  await run("npx", ["publint", "run", tarball, "--strict"], { cwd: repo });
  await run("npx", ["attw", tarball, "--profile", "esm-only", "--format", "ascii"], { cwd: repo });
}
