// Cursors are stored only after an app processed the events (issue: persist after processing).
// Every tab is closed in the middle of a burst — the SharedWorker, or the fallback leader with
// its engine, dies with them — again and again. Each time a reopened tab resumes from the stored
// cursor: the first event it gets must be at most one past the last event any tab's app had
// processed (a repeat is allowed and counted; a gap fails).
import type { BrowserContext, Page } from "@playwright/test";
import { devOnly, expect, publish, test, waitUntil } from "./helpers";

const ROUNDS = 4;
const TOPIC = "burst";

devOnly("e2e pages are served by the dev server only");

const processedIn = async (page: Page): Promise<bigint> => BigInt(await page.evaluate((t) => localStorage.getItem(`processed:${t}`) ?? "0", TOPIC));

async function open(context: BrowserContext, server: string, fallback: boolean): Promise<Page> {
  const page = await context.newPage();
  if (fallback) await page.addInitScript(() => delete (window as { SharedWorker?: unknown }).SharedWorker);
  await page.goto(`/e2e/pages/processed.html?server=${encodeURIComponent(server)}&topics=${TOPIC}`);
  await waitUntil(() => page.evaluate(() => window.ready), { message: "tab live" });
  return page;
}

for (const mode of ["shared-worker", "fallback"] as const) {
  test(`${mode}: close every tab mid-burst, reopen: resumes at most one past what was processed, never after a gap`, async ({ context, server }) => {
    const repeats: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const tabs = [await open(context, server.url, mode === "fallback"), await open(context, server.url, mode === "fallback")];
      let bursting = true;
      const burst = (async () => {
        while (bursting) await publish(server.url, TOPIC, 200);
      })();
      const start = await processedIn(tabs[0]!);
      await waitUntil(async () => (await processedIn(tabs[0]!)) > start + 300n, { message: "events flowing" });
      await Promise.all(tabs.map((p) => p.close()));
      bursting = false;
      await burst;
      const again = await open(context, server.url, mode === "fallback");
      const processed = await processedIn(again);
      await publish(server.url, TOPIC, 1);
      const resumed = BigInt(await waitUntil(() => again.evaluate((t) => window.firstSeen[t], TOPIC), { message: "first event after reopen" }));
      expect(resumed, `round ${round}: resumed at ${resumed}, the apps had processed up to ${processed}`).toBeLessThanOrEqual(processed + 1n);
      repeats.push(Number(processed + 1n - resumed));
      await again.close();
    }
    test.info().annotations.push({ type: "repeated events per close-all", description: repeats.join(", ") });
  });
}
