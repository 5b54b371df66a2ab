// The tabs of a run: opening one (a chaos page pointed at the proxy, its reports wired to the
// recorder), closing one, crashing one, and talking to `window.chaos` — every call bounded, so a
// hung page is reported, never waited on forever.
import type { BrowserContext, Page } from "@playwright/test";
import { BINDING, pageQuery, type ChaosMessage, type ChaosMode, type ChaosPageApi } from "./messages";
import type { Recorder, TabRecord } from "./recorder";
import type { UpstreamWatch } from "./upstream";

/** Longest a page may take to load and start its client. */
const OPEN_TIMEOUT_MS = 20_000;
/** Longest a close or an evaluate may take before the page counts as hung. */
const CALL_TIMEOUT_MS = 5_000;

export interface TabsOptions {
  context: BrowserContext;
  /** Where the chaos page is served, e.g. "http://127.0.0.1:PORT/". */
  pagesUrl: string;
  /** The server URL the tabs' client uses (the proxy). */
  serverUrl: string;
  mode: ChaosMode;
  publishEveryMs: number;
  recorder: Recorder;
  upstream: UpstreamWatch;
}

export interface Tab {
  record: TabRecord;
  page: Page;
}

type Api = { chaos: ChaosPageApi };

/** Resolves `p`, or rejects with `what` after `ms`. */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export class Tabs {
  private readonly open = new Map<string, Tab>();
  private nextId = 0;

  private constructor(private readonly opts: TabsOptions) {}

  /** Opens the recorder page first: every tab reports through it (messages.ts). */
  static async create(opts: TabsOptions): Promise<Tabs> {
    await opts.context.exposeBinding(BINDING, (_source, batch: ChaosMessage[]) => {
      for (const m of batch) opts.recorder.onMessage(m);
    });
    const page = await opts.context.newPage();
    await page.goto(new URL("chaos-recorder.html", opts.pagesUrl).href, { timeout: OPEN_TIMEOUT_MS });
    await page.waitForFunction(() => (window as unknown as { recorderReady?: boolean }).recorderReady === true, undefined, {
      timeout: OPEN_TIMEOUT_MS,
    });
    return new Tabs(opts);
  }

  list(): Tab[] {
    return [...this.open.values()];
  }

  async openTab(topics: string[]): Promise<Tab> {
    const id = `T${++this.nextId}`;
    const page = await this.opts.context.newPage();
    const record = this.opts.recorder.addTab(id);
    const tab = { record, page };
    this.open.set(id, tab);
    page.on("pageerror", (e) => this.opts.recorder.onMessage({ t: "error", tab: id, at: Date.now(), message: `page error: ${e.message}` }));
    await this.opts.upstream.addPage(page);
    const query = pageQuery({ server: this.opts.serverUrl, tab: id, mode: this.opts.mode, topics, publishEveryMs: this.opts.publishEveryMs });
    await page.goto(new URL(`chaos.html${query}`, this.opts.pagesUrl).href, { timeout: OPEN_TIMEOUT_MS });
    await bounded(
      page.waitForFunction(() => typeof (window as unknown as Partial<Api>).chaos === "object", undefined, { timeout: OPEN_TIMEOUT_MS }),
      OPEN_TIMEOUT_MS + 1_000,
      `tab ${id} load`,
    );
    await this.opts.upstream.ready(OPEN_TIMEOUT_MS);
    await this.call(tab, "start");
    return tab;
  }

  /** Closes tabs at once (the page's unload runs as in a real close). */
  async close(tabs: Tab[]): Promise<void> {
    const at = Date.now();
    for (const t of tabs) {
      t.record.closedAt = at;
      this.open.delete(t.record.id);
    }
    await Promise.all(tabs.map((t) => bounded(t.page.close(), CALL_TIMEOUT_MS, `close ${t.record.id}`).catch(() => {})));
  }

  /** Crashes the tab's renderer (no unload, no goodbye), then closes what is left of it. */
  async crash(tab: Tab): Promise<void> {
    tab.record.closedAt = Date.now();
    this.open.delete(tab.record.id);
    const session = await this.opts.context.newCDPSession(tab.page);
    // The crash takes the session down with it: its answer never comes.
    void session.send("Page.crash").catch(() => {});
    await bounded(new Promise((r) => tab.page.once("crash", r)), CALL_TIMEOUT_MS, `crash ${tab.record.id}`).catch(() => {});
    await bounded(tab.page.close(), CALL_TIMEOUT_MS, `close crashed ${tab.record.id}`).catch(() => {});
  }

  /** Calls `window.chaos[fn](...args)` in the tab, bounded. */
  call<K extends keyof ChaosPageApi>(tab: Tab, fn: K, ...args: Parameters<ChaosPageApi[K]>): Promise<ReturnType<ChaosPageApi[K]>> {
    return bounded(
      tab.page.evaluate(
        ([name, rest]) => {
          const api = (window as unknown as Api).chaos as unknown as Record<string, (...a: unknown[]) => unknown>;
          return api[name]!(...rest) as never;
        },
        [fn, args] as [string, unknown[]],
      ),
      CALL_TIMEOUT_MS,
      `${tab.record.id}.${fn}`,
    ) as Promise<ReturnType<ChaosPageApi[K]>>;
  }
}
