// What a leader tab of the fallback serves from. Preferably a dedicated Worker it owns, running
// the app's worker file (`serve()` detects the scope): Chrome throttles the timers of a page
// hidden for > 5 min to once a minute, and a busy page would stall every follower, but neither
// touches a worker. Only when no worker can be made (no factory, no `Worker`, a script that fails
// to load or never answers) does the engine run in the page itself, as it did before.
import * as Comlink from "comlink";
import type { FollowerChannels, LeaderWorkerApi } from "../contract/fallback";
import type { Host } from "../worker/host/worker-host";
import { createFollowerServer } from "../worker/host/follower-server";
import { hostLink, portLink, type Link, type WorkerFactory } from "./link";

/** A leader's host, wherever it runs. */
export interface LeaderHost {
  /** The leader tab's own connection to it. */
  readonly link: Link;
  /** Serves a follower on its channels; they are open once this resolves. */
  serveFollower(channels: FollowerChannels): Promise<void>;
  /** Followers' channels first, then the engines save their last cursors; then it is gone. */
  close(): Promise<void>;
  /** Ends it at once (it died: nothing left to save); nothing to end for an in-page host. */
  terminate(): void;
}

export type DedicatedWorkerFactory = (name: string) => Worker;

/** How long a new dedicated worker may take to answer before the leader runs in-page instead. */
export const WORKER_START_TIMEOUT_MS = 10_000;
/** Longest a closing dedicated worker may take to save before it is terminated. */
const WORKER_CLOSE_TIMEOUT_MS = 250;

/** The engine in this page (the leader's last resort). */
function inPageLeaderHost(host: Host, BC: typeof BroadcastChannel): LeaderHost {
  const followers = createFollowerServer(host, BC);
  return {
    link: hostLink(host, "leader"),
    serveFollower: async (channels) => followers.serve(channels),
    async close() {
      followers.closeAll();
      await host.close();
    },
    terminate() {},
  };
}

/** A promise that rejects with `message` after `ms`, unless cleared first. */
function timeout(ms: number, message: string): { promise: Promise<never>; clear: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return { promise, clear: () => clearTimeout(timer) };
}

/**
 * The engine in a dedicated Worker made by `make`; resolves once the worker answered, rejects
 * (and terminates it) when it fails to load or stays silent for WORKER_START_TIMEOUT_MS.
 */
async function dedicatedLeaderHost(make: () => Worker): Promise<LeaderHost> {
  const worker = make();
  const remote = Comlink.wrap<LeaderWorkerApi>(worker);
  const port = new MessageChannel();
  const failed = new Promise<never>((_, reject) =>
    worker.addEventListener("error", (e) => reject(new Error(`the worker failed to load${e.message ? `: ${e.message}` : ""}`)), { once: true }),
  );
  const silent = timeout(WORKER_START_TIMEOUT_MS, `the worker did not answer within ${WORKER_START_TIMEOUT_MS} ms (does its file call serve()?)`);
  try {
    await Promise.race([remote.connect(Comlink.transfer(port.port2, [port.port2])), failed, silent.promise]);
  } catch (e) {
    worker.terminate();
    port.port1.close();
    throw e;
  } finally {
    silent.clear();
  }
  return {
    link: portLink(port.port1, "leader"),
    serveFollower: (channels) => remote.serveFollower(channels),
    async close() {
      const bound = timeout(WORKER_CLOSE_TIMEOUT_MS, "close timed out");
      await Promise.race([remote.close(), bound.promise]).catch(() => {});
      bound.clear();
      worker.terminate();
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * How this client makes the leader's dedicated worker, if it can: the app's factory, else a
 * module Worker from the `worker` URL (a SharedWorker factory tells nothing of its script).
 */
export function dedicatedWorkerOf(
  worker: string | URL | WorkerFactory | undefined,
  dedicated: DedicatedWorkerFactory | undefined,
  name: string,
): (() => Worker) | undefined {
  if (dedicated !== undefined) return () => dedicated(name);
  if (worker === undefined || typeof worker === "function" || typeof Worker !== "function") return undefined;
  return () => new Worker(worker, { type: "module", name });
}

/**
 * What a newly elected leader serves from: its dedicated worker when it has one that starts,
 * else the engine in its page (`inPage`, loaded on demand), with one warning saying why.
 */
export function leaderHosts(
  dedicated: (() => Worker) | undefined,
  inPage: () => Promise<Host>,
  BC: typeof BroadcastChannel,
  warn: (message: string) => void = (m) => console.warn(m),
): () => Promise<LeaderHost> {
  return async () => {
    if (dedicated !== undefined) {
      try {
        return await dedicatedLeaderHost(dedicated);
      } catch (e) {
        warn(`onestream: the leader runs the engine in its page: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return inPageLeaderHost(await inPage(), BC);
  };
}
