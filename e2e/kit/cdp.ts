// Playwright cannot see a SharedWorker (FIELD-NOTES): no page.workers(), no console, and its
// offline switch does not reach it. A browser-level CDP session can: find the `shared_worker`
// target, attach with `flatten: false`, and talk to it through Target.sendMessageToTarget.
// This file is that plumbing and nothing else.
import type { Browser, CDPSession } from "@playwright/test";

export interface TargetInfo {
  targetId: string;
  type: string;
  url: string;
  browserContextId?: string;
}

/** How long a command to a target may go unanswered (a target can vanish without a word). */
export const COMMAND_TIMEOUT_MS = 5_000;

/** Raised when the worker answers a command with a CDP error, or not at all. */
export class CdpError extends Error {
  override name = "CdpError";
}

/** Commands and events of one attached target, over the browser session. */
export class TargetChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, Set<(params: any) => void>>();
  private closed = false;
  private detached = false;

  constructor(
    private readonly browserSession: CDPSession,
    readonly sessionId: string,
    readonly target: TargetInfo,
  ) {}

  /** Sends a CDP command to the target and resolves with its result. */
  send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    if (this.closed) return Promise.reject(new CdpError(`${method}: target ${this.target.url} is detached`));
    const id = this.nextId++;
    const reply = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CdpError(`${method}: no answer from ${this.target.url} within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      const settle = <A>(fn: (a: A) => void) => (a: A) => {
        clearTimeout(timer);
        fn(a);
      };
      this.pending.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) });
    });
    const message = JSON.stringify({ id, method, params });
    this.browserSession.send("Target.sendMessageToTarget", { sessionId: this.sessionId, message }).catch((e: Error) => {
      this.pending.get(id)?.reject(e);
      this.pending.delete(id);
    });
    return reply;
  }

  on(method: string, listener: (params: any) => void): () => void {
    let set = this.listeners.get(method);
    if (set === undefined) this.listeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Called by BrowserCdp with each raw message for this session. */
  dispatch(raw: string): void {
    const msg = JSON.parse(raw) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: unknown };
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.error) p?.reject(new CdpError(msg.error.message));
      else p?.resolve(msg.result);
      return;
    }
    if (msg.method !== undefined) for (const l of this.listeners.get(msg.method) ?? []) l(msg.params);
  }

  /** The target went away (or we detached): every pending command rejects. */
  gone(): void {
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new CdpError(`target ${this.target.url} is gone`));
    this.pending.clear();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Always detach, even from a worker that died: Chromium hands a dead SharedWorker's DevTools
   * host to the next instance with the same name and URL, and while we stay attached that
   * instance waits for our debugger at start, i.e. it hangs.
   */
  async detach(): Promise<void> {
    if (this.detached) return;
    this.detached = true;
    this.gone();
    await this.browserSession.send("Target.detachFromTarget", { sessionId: this.sessionId }).catch(() => {});
  }
}

/** One browser-level CDP session per Browser, routing target messages to channels. */
export class BrowserCdp {
  private static readonly byBrowser = new WeakMap<Browser, Promise<BrowserCdp>>();
  private readonly channels = new Map<string, TargetChannel>();
  private readonly createdListeners = new Set<(t: TargetInfo) => void>();

  private constructor(readonly session: CDPSession) {
    session.on("Target.receivedMessageFromTarget", (e) => this.channels.get(e.sessionId)?.dispatch(e.message));
    session.on("Target.detachedFromTarget", (e) => {
      this.channels.get(e.sessionId)?.gone();
      this.channels.delete(e.sessionId);
    });
    session.on("Target.targetCreated", (e) => {
      for (const l of this.createdListeners) l(e.targetInfo);
    });
    // A closed worker does not always report a detach: its channels end with the target.
    session.on("Target.targetDestroyed", (e) => {
      for (const [sessionId, channel] of this.channels) {
        if (channel.target.targetId !== e.targetId) continue;
        channel.gone();
        this.channels.delete(sessionId);
      }
    });
  }

  static for(browser: Browser): Promise<BrowserCdp> {
    let cdp = BrowserCdp.byBrowser.get(browser);
    if (cdp === undefined) {
      cdp = (async () => {
        const session = await browser.newBrowserCDPSession();
        const made = new BrowserCdp(session);
        await session.send("Target.setDiscoverTargets", { discover: true });
        return made;
      })();
      BrowserCdp.byBrowser.set(browser, cdp);
    }
    return cdp;
  }

  async sharedWorkers(): Promise<TargetInfo[]> {
    const { targetInfos } = await this.session.send("Target.getTargets");
    return targetInfos.filter((t) => t.type === "shared_worker");
  }

  /** Calls `listener` for every target created from now on; returns the unsubscribe. */
  onTargetCreated(listener: (t: TargetInfo) => void): () => void {
    this.createdListeners.add(listener);
    return () => this.createdListeners.delete(listener);
  }

  async attach(target: TargetInfo): Promise<TargetChannel> {
    const { sessionId } = await this.session.send("Target.attachToTarget", { targetId: target.targetId, flatten: false });
    const channel = new TargetChannel(this.session, sessionId, target);
    this.channels.set(sessionId, channel);
    return channel;
  }
}
