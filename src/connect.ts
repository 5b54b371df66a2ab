// Which connector serves this tab: the SharedWorker where there is one (unless the fallback is
// forced), else the fallback's leader election, whose leader serves from its dedicated worker or,
// failing that, from the engine in its page (loaded on demand).
import type { ServeOptions } from "../worker/index";
import type { Locks } from "../worker/host/locks";
import type { Host } from "../worker/host/worker-host";
import { UnsupportedError } from "../contract/errors";
import { workerName } from "../contract/protocol";
import { leaderConnector } from "./leader";
import { dedicatedWorkerOf, leaderHosts, type DedicatedWorkerFactory } from "./leader-hosts";
import { sharedWorkerConnector, type Connector, type WorkerFactory } from "./link";

export interface ConnectorChoice {
  worker: string | URL | WorkerFactory | undefined;
  dedicatedWorker: DedicatedWorkerFactory | undefined;
  /** Config of the in-page engine, when a leader has no dedicated worker. */
  serve: ServeOptions | undefined;
  fallback: "auto" | "leader" | "none";
  hasSharedWorker: boolean;
  name: string;
  tabId: string;
  locks: Locks;
  /** Test seams (ClientEnv): the fallback's channels, and the in-page host of a leader. */
  env: { BroadcastChannel?: typeof BroadcastChannel; createLeaderHost?: () => Host | Promise<Host> };
}

/** Throws (TypeError, UnsupportedError) when this browser or these options allow no connector. */
export function pickConnector(c: ConnectorChoice): Connector {
  if (c.fallback !== "leader" && c.hasSharedWorker) {
    if (c.worker === undefined) throw new TypeError("onestream: createClient needs `worker` (a SharedWorker factory or URL)");
    return sharedWorkerConnector(c.worker, workerName(c.name), c.locks);
  }
  if (c.fallback === "none") {
    throw new UnsupportedError("onestream: SharedWorker is not available in this browser and fallback is 'none'");
  }
  const BC = c.env.BroadcastChannel ?? (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel;
  if (typeof BC !== "function") {
    throw new UnsupportedError("onestream: neither SharedWorker nor BroadcastChannel is available in this browser");
  }
  const dedicated = dedicatedWorkerOf(c.worker, c.dedicatedWorker, workerName(c.name));
  // The in-page engine is loaded only here, so pages served by a worker never download it;
  // without a dedicated worker, by every tab of the fallback at once, so a follower taking
  // over does not wait for the code.
  let inPage = c.env.createLeaderHost;
  if (inPage === undefined) {
    const load = () => import("../worker/index");
    const early = dedicated === undefined ? load() : undefined;
    early?.catch(() => {}); // a failed load is reported by the takeover that needs it
    inPage = async () => (await (early ?? load())).createServedHost({ ...c.serve, locks: c.locks }).host;
  }
  const createHost = leaderHosts(dedicated, async () => inPage(), BC);
  return leaderConnector({ name: c.name, tabId: c.tabId, locks: c.locks, createHost, BroadcastChannel: BC });
}
