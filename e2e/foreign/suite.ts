// The e2e suite every foreign protocol must pass in real Chromium, written once: a spec file
// binds it to one protocol's server (a Backend) and calls foreignSuite(). Tabs are the
// foreign test page (e2e/pages/foreign.html), which records like the demo, so the helpers read it.
// Faults are made by a fault proxy between the browser and the server, and by the kit's offline.
import type { Page } from "@playwright/test";
import { goOffline, goOnline, startFaultProxy, type FaultProxy } from "../kit";
import { connection, expect, openTab, openTabs, received, recording, state, test, waitForLive, waitUntil, type TabOptions } from "../helpers";

/** One protocol's server, as the suite drives it from Node. Cursors are strings, as the page records them. */
export interface Backend {
  /** What the browser is given (gRPC-Web). */
  url: string;
  /** Upstream calls open now / ever accepted, counted at the server. */
  activeStreams(): number;
  totalStreams(): number;
  /** Appends an event with payload `text` to `topic` from outside; returns its cursor. */
  write(topic: string, text: string): string;
  /** What the adapter puts in `meta` for the event written with payload `text`. */
  metaOf(topic: string, text: string): Record<string, string> | undefined;
  /** The cursors of the events of `topic` whose payload is `text`. */
  cursorsOf(topic: string, text: string): string[];
  /** Forgets the history of `topic` but its last `keep` events; returns where a reset resumes. */
  expire(topic: string, keep: number): string;
  close(): Promise<void>;
}

export interface Protocol {
  /** The test page's ?protocol=. */
  name: "watch" | "listen";
  /** The topic the tabs subscribe to. */
  topic: string;
  start(): Promise<Backend>;
}

/** Tabs sharing one worker. */
const TABS = 4;
/** Generous for a loaded 2-core machine: the idle timeout is 5 s, then a reconnect. */
const STALE_WAIT_MS = 20_000;
const RECOVER_WAIT_MS = 20_000;

/** Waits until every tab has received exactly `want` (cursors, in order), then checks nothing more came. */
async function expectExactly(tabs: Page[], topic: string, want: string[]): Promise<void> {
  for (const tab of tabs) {
    const got = await waitUntil(
      async () => {
        const events = await received(tab, topic);
        return events.length >= want.length ? events : undefined;
      },
      { timeoutMs: RECOVER_WAIT_MS, message: `${want.length} events of ${topic}` },
    );
    expect(got.map((e) => e.cursor)).toEqual(want); // 0 lost, 0 duplicated, 0 out of order
  }
}

interface Break {
  name: string;
  /** Breaks the network, while `during` writes events; returns once it is healed again. */
  run(ctx: { proxy: FaultProxy; tabs: Page[]; during: () => void }): Promise<void>;
}

const BREAKS: Break[] = [
  {
    name: "drop",
    async run({ proxy, during }) {
      proxy.resetAll();
      during();
    },
  },
  {
    name: "truncate",
    async run({ proxy, tabs, during }) {
      proxy.set({ kind: "truncate", afterBytes: 20 }); // mid-message of the next event
      during();
      await waitUntil(async () => (await state(tabs[0]!)) !== "live", { message: "the truncated stream noticed" });
      proxy.set("pass");
    },
  },
  {
    name: "wedge",
    async run({ proxy, tabs, during }) {
      proxy.set("blackhole");
      during();
      await waitUntil(async () => (await recording(tabs[0]!)).errors.some((e) => e.startsWith("stale")), {
        timeoutMs: STALE_WAIT_MS,
        message: "the watchdog's stale",
      });
      proxy.set("pass"); // the reconnect, silent until now, goes through
    },
  },
  {
    name: "offline",
    async run({ proxy, tabs, during }) {
      await goOffline(tabs[0]!.context(), { proxy });
      for (const tab of tabs) await waitUntil(async () => (await state(tab)) === "offline", { message: "offline" });
      during();
      await goOnline(tabs[0]!.context());
    },
  },
];

export function foreignSuite(protocol: Protocol): void {
  const { topic } = protocol;
  const it = test.extend<{ backend: Backend; faults: FaultProxy }>({
    backend: async ({}, use) => {
      const backend = await protocol.start();
      await use(backend);
      await backend.close();
    },
    faults: async ({ backend }, use) => {
      const proxy = await startFaultProxy({ target: backend.url });
      await use(proxy);
      await proxy.close();
    },
  });
  const tab = (extra: Record<string, string> = {}): TabOptions => ({
    page: "/e2e/pages/foreign.html",
    topics: [topic],
    query: { protocol: protocol.name, ...extra },
  });
  const oneUpstream = (backend: Backend) =>
    waitUntil(() => backend.activeStreams() === 1, { message: "exactly one upstream call at the server" });

  it.describe(protocol.name, () => {
    it(`${TABS} tabs share one upstream call; drop, truncate, wedge and offline lose, repeat and reorder nothing`, async ({ context, backend, faults: proxy }) => {
      test.setTimeout(120_000);
      const tabs = await openTabs(TABS, context, proxy.url, tab());
      await Promise.all(tabs.map((t) => waitForLive(t, [topic])));
      await oneUpstream(backend);
      const want: string[] = [];
      const write = (n: number) => {
        for (let i = 0; i < n; i++) want.push(backend.write(topic, `e${want.length + 1}`));
      };
      write(5);
      await expectExactly(tabs, topic, want);
      const last = (await received(tabs[TABS - 1]!, topic)).at(-1)!;
      expect([last.payload, last.meta]).toEqual(["e5", backend.metaOf(topic, "e5")]);

      for (const b of BREAKS) {
        await test.step(b.name, async () => {
          const before = await connection(tabs[0]!);
          // Offline, a tab also publishes: its outbox sends it once the network is back.
          const offline = b.name === "offline";
          await b.run({
            proxy,
            tabs,
            during: () => {
              write(3);
              if (offline) void tabs[0]!.evaluate((t) => void (window.__pendingPublish = window.__publish(t, "from a tab")), topic);
            },
          });
          await waitUntil(async () => (await connection(tabs[0]!)) > before, { timeoutMs: RECOVER_WAIT_MS, message: `a reconnect after ${b.name}` });
          for (const t of tabs) await waitForLive(t, [topic], RECOVER_WAIT_MS);
          if (offline) {
            const cursor = await tabs[0]!.evaluate(() => window.__pendingPublish);
            expect(backend.cursorsOf(topic, "from a tab")).toEqual([cursor]); // landed once
            want.push(cursor);
          }
          write(2);
          await expectExactly(tabs, topic, want);
          await oneUpstream(backend);
        });
      }
    });

    it("a late joiner's older cursor is caught up once; a cursor whose history is gone gives onReset", async ({ context, backend, faults: proxy }) => {
      test.setTimeout(60_000);
      const first = await openTab(context, proxy.url, tab());
      await waitForLive(first, [topic]);
      const want = [1, 2, 3, 4].map((i) => backend.write(topic, `e${i}`));
      await expectExactly([first], topic, want);

      const calls = backend.totalStreams();
      const late = await openTab(context, proxy.url, tab({ since: JSON.stringify({ [topic]: want[1] }) }));
      want.push(backend.write(topic, "e5"));
      await expectExactly([late], topic, want.slice(2));
      await waitForLive(late, [topic]);
      await expectExactly([first], topic, want);
      await oneUpstream(backend); // the catch-up call ended
      expect(backend.totalStreams()).toBe(calls + 1); // it was one call of its own

      // Every tab closes (the worker goes with them); the history they stopped at is then dropped.
      await first.close();
      await late.close();
      await waitUntil(() => backend.activeStreams() === 0, { message: "no upstream call" });
      const later = [6, 7, 8].map((i) => backend.write(topic, `e${i}`));
      const resumeAfter = backend.expire(topic, 1);
      const back = await openTab(context, proxy.url, tab());
      await expectExactly([back], topic, later.slice(-1));
      expect((await recording(back)).resets).toEqual([{ topic, reason: "retention", resumeAfter }]);
      await waitForLive(back, [topic]);
    });
  });
}

declare global {
  interface Window {
    __pendingPublish: Promise<string>;
  }
}
