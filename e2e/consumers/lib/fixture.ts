// A fixture app as a user has it: copied out of the repo (so nothing resolves from the repo's
// own node_modules), onestream installed from the packed tarball, everything else exactly as
// its committed package-lock.json pins it. npm uses its cache and the registry only.
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "./proc";

/** The lockfile entry of the tarball carries no hash: each run packs a new one. */
async function dropTarballIntegrity(lockfile: string): Promise<void> {
  const lock = JSON.parse(await readFile(lockfile, "utf8")) as { packages: Record<string, { integrity?: string }> };
  const entry = lock.packages["node_modules/onestream"];
  if (entry === undefined) throw new Error(`${lockfile} has no onestream: run the matrix with --update-locks`);
  delete entry.integrity;
  await writeFile(lockfile, JSON.stringify(lock, null, 2) + "\n");
}

export interface PrepareOptions {
  /** The fixture in the repo. */
  source: string;
  /** Where to put the copy (a sibling of onestream.tgz). */
  target: string;
  /** Files copied into the fixture's src/ (shared by several fixtures). */
  shared?: string[];
  /** `npm install` and write the resulting lockfile back to the repo instead of `npm ci`. */
  updateLock?: boolean;
}

const NPM_FLAGS = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

export async function prepareFixture(opts: PrepareOptions): Promise<void> {
  await cp(opts.source, opts.target, {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|dist|out|test-results)$/.test(src),
  });
  for (const file of opts.shared ?? []) await cp(file, join(opts.target, "src", file.split(/[\\/]/).pop()!));
  const lockfile = join(opts.target, "package-lock.json");
  if (opts.updateLock) {
    await run("npm", ["install", ...NPM_FLAGS], { cwd: opts.target });
    await dropTarballIntegrity(lockfile);
    await cp(lockfile, join(opts.source, "package-lock.json"));
    return;
  }
  await dropTarballIntegrity(lockfile);
  await run("npm", ["ci", ...NPM_FLAGS], { cwd: opts.target });
}
