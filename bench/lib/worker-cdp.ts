// Reaches the SharedWorker over CDP, the only way that works (FIELD-NOTES: Playwright cannot see
// SharedWorkers): a browser-level session, the `shared_worker` target attached with
// flatten:false, and protocol messages tunnelled through Target.sendMessageToTarget. Used to
// sample the worker's heap and to make the worker's new requests fail (offline).
import type { Browser, CDPSession } from "@playwright/test";

export interface WorkerTarget {
  /** Sends one CDP command to the worker and resolves with its result. */
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Used JS heap bytes after a full GC (the figure that shows growth, not garbage). */
  heapAfterGc(): Promise<number>;
  /** A full heap snapshot (the .heapsnapshot JSON text); the snapshot itself runs a full GC first. */
  takeHeapSnapshot(): Promise<string>;
  /** Offline (true) makes the worker's NEW requests fail; open streams keep flowing. */
  setOffline(offline: boolean): Promise<void>;
  detach(): Promise<void>;
}

interface TargetInfo {
  targetId: string;
  type: string;
  url: string;
  /** For a SharedWorker: its name. */
  title: string;
}

/** How long to wait for the worker target to appear after the first tab created it. */
const FIND_TIMEOUT_MS = 10_000;
/** A CDP command to the worker that takes longer than this is reported, not awaited forever. */
const COMMAND_TIMEOUT_MS = 30_000;

/** Attaches to the shared_worker target named `name` (the CDP target's title is the worker's name). */
export async function attachSharedWorker(browser: Browser, name: string): Promise<WorkerTarget> {
  const session: CDPSession = await browser.newBrowserCDPSession();
  const deadline = Date.now() + FIND_TIMEOUT_MS;
  let target: TargetInfo | undefined;
  while (!target) {
    const { targetInfos } = (await session.send("Target.getTargets")) as { targetInfos: TargetInfo[] };
    target = targetInfos.find((t) => t.type === "shared_worker" && t.title === name);
    if (target) break;
    if (Date.now() > deadline) {
      await session.detach();
      const seen = targetInfos.map((t) => `${t.type} "${t.title}" ${t.url}`).join(", ");
      throw new Error(`no shared_worker target named "${name}" after ${FIND_TIMEOUT_MS} ms (targets: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const { sessionId } = (await session.send("Target.attachToTarget", { targetId: target.targetId, flatten: false })) as {
    sessionId: string;
  };

  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** Receives the worker's protocol events (messages without an id), e.g. heap snapshot chunks. */
  let onEvent: ((method: string, params: unknown) => void) | undefined;
  session.on("Target.receivedMessageFromTarget", (ev: { sessionId: string; message: string }) => {
    if (ev.sessionId !== sessionId) return;
    const msg = JSON.parse(ev.message) as { id?: number; method?: string; params?: unknown; result?: unknown; error?: { message: string } };
    if (msg.id === undefined) {
      if (msg.method) onEvent?.(msg.method, msg.params);
      return;
    }
    const waiter = pending.get(msg.id);
    if (!waiter) return;
    pending.delete(msg.id);
    if (msg.error) waiter.reject(new Error(`worker CDP: ${msg.error.message}`));
    else waiter.resolve(msg.result);
  });

  function send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`worker CDP ${method} timed out after ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      session
        .send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) })
        .catch((e: Error) => pending.get(id)?.reject(e));
    });
  }

  let networkEnabled = false;
  return {
    send,
    async heapAfterGc() {
      await send("HeapProfiler.collectGarbage");
      const { usedSize } = await send<{ usedSize: number }>("Runtime.getHeapUsage");
      return usedSize;
    },
    async takeHeapSnapshot() {
      const chunks: string[] = [];
      onEvent = (method, params) => {
        if (method === "HeapProfiler.addHeapSnapshotChunk") chunks.push((params as { chunk: string }).chunk);
      };
      try {
        // Chunks arrive as events before the command's response, in order.
        await send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      } finally {
        onEvent = undefined;
      }
      return chunks.join("");
    },
    async setOffline(offline) {
      if (!networkEnabled) {
        await send("Network.enable");
        networkEnabled = true;
      }
      await send("Network.emulateNetworkConditions", {
        offline,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    },
    async detach() {
      await session.send("Target.detachFromTarget", { sessionId }).catch(() => undefined);
      await session.detach().catch(() => undefined);
    },
  };
}
