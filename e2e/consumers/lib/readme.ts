// The README's "Using it" code, checked as a user would use it: pasted unchanged into the
// create-vite fixture (the page code and the worker file), compiled by its `tsc`, bundled, and
// run in Chromium against the reference server until it has published, unsubscribed, reset and
// closed. The free names it uses (apiUrl, token, render, badge, …) are the app's: the fixture's
// src/readme/globals.ts defines them and records what they were given.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Browser } from "@playwright/test";
import { startServer } from "../../../server/server";
import { waitUntil } from "../../wait";
import { appUrl } from "./tabs";

/** The ```ts blocks of the README's "## Using it" section: [page code, worker file]. */
export function usingItBlocks(readme: string): [string, string] {
  const start = readme.indexOf("\n## Using it");
  if (start < 0) throw new Error('README.md has no "## Using it" section');
  const end = readme.indexOf("\n## ", start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (blocks.length !== 2 || !blocks[1]!.includes("onestream/worker")) {
    throw new Error(`"Using it" should hold two ts blocks, the page code then the worker file; found ${blocks.length}`);
  }
  return [blocks[0]!, blocks[1]!];
}

/** Writes the README's code into the fixture: src/readme/using-it.ts and the worker it names, src/readme/worker.ts. */
export async function pasteUsingIt(repo: string, fixture: string): Promise<void> {
  const [page, worker] = usingItBlocks(await readFile(join(repo, "README.md"), "utf8"));
  await writeFile(join(fixture, "src/readme/using-it.ts"), page);
  await writeFile(join(fixture, "src/readme/worker.ts"), worker);
}

interface ReadmeRecord {
  done?: string;
  badges: string[];
}

/** Runs the pasted code (readme.html) to its end; it must publish "hi" on chat/42 and end closed. */
export async function checkUsingIt(browser: Browser, base: string): Promise<void> {
  const server = await startServer({ port: 0, faults: true });
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(appUrl(base, server, "/readme.html"));
    const record = await waitUntil(
      async () => {
        const r = await page.evaluate(() => (window as unknown as { readmeRecord?: ReadmeRecord }).readmeRecord);
        return r?.done === undefined ? undefined : r;
      },
      { timeoutMs: 30_000, message: "the README code to finish" },
    );
    if (record.done !== "ok") throw new Error(`the README code failed: ${record.done}`);
    if (errors.length > 0) throw new Error(`page errors: ${errors.join("; ")}`);
    const head = server.stats().topics["chat/42"];
    if (head !== "1") throw new Error(`the server should hold the one "hi" on chat/42, head cursor is ${head}`);
    if (record.badges.at(-1) !== "closed") throw new Error(`the status should end "closed": ${record.badges.join(" → ")}`);
  } finally {
    await context.close();
    await server.close();
  }
}
