// onestream/testing from the installed package: take the app's SharedWorker offline and back.
// The reference server's URL comes from ONESTREAM_SERVER; a fault proxy in front of it cuts the
// stream the worker already has open, which Playwright's offline switch cannot.
import { expect, test } from "@playwright/test";
import { goOffline, goOnline, inspectSharedWorker, startFaultProxy } from "onestream/testing";

const server = process.env.ONESTREAM_SERVER ?? "http://127.0.0.1:8080";

test("two tabs go offline with their SharedWorker and come back live", async ({ browser, context }) => {
  const proxy = await startFaultProxy({ target: server });
  const tabs = [await context.newPage(), await context.newPage()];
  for (const tab of tabs) await tab.goto(`/?server=${encodeURIComponent(proxy.url)}`);
  for (const tab of tabs) await expect(tab.locator("#status")).toHaveText("live");
  const worker = await inspectSharedWorker(browser, { context });

  await goOffline(context, { proxy });
  for (const tab of tabs) await expect(tab.locator("#status")).toHaveText("offline");
  expect(await worker.evaluate(`fetch(${JSON.stringify(server)}).then(() => "up", () => "down")`)).toBe("down");

  await goOnline(context);
  for (const tab of tabs) await expect(tab.locator("#status")).toHaveText("live");
  await tabs[0]!.fill("#message", "back online");
  await tabs[0]!.click("#send");
  for (const tab of tabs) await expect(tab.locator("#events li")).toHaveText(["back online"]);
  await worker.detach();
  await proxy.close();
});
