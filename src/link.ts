// A tab's connection to whatever serves it. The client does not care whether that is a
// SharedWorker, the in-page host of the leader tab, or a leader tab over BroadcastChannel: it
// gets a Link (control calls + a data endpoint) from a Connector, and a new Link whenever the
// serving side changes (a leader handover, a shared worker that died and was made again).
import * as Comlink from "comlink";
import type { Locks } from "../worker/host/locks";
import type { Host } from "../worker/host/worker-host";
import type { ControlApi, DataEndpoint, GetAuth, InitRequest, InitResponse } from "../contract/protocol";
import { watchHost } from "./worker-watch";

/** How this tab is served: by the SharedWorker, by its own in-page host, or by another tab. */
export type Role = "shared-worker" | "leader" | "follower";

export type Control = Omit<ControlApi, "init">;

export interface Link {
  readonly role: Role;
  readonly control: Control;
  /** The tab's end of the data channel (batches in, acks out). */
  readonly data: DataEndpoint;
  init(req: InitRequest, auth?: GetAuth): Promise<InitResponse>;
  /** Drops this link's channels; idempotent. Pending control calls are the client's to reject. */
  dispose(): void;
}

/**
 * Supplies Links: once for a SharedWorker, again on each leader change in the fallback. A Link
 * handed to `onLink` belongs to the client, which disposes it; `close` only stops new ones.
 */
export interface Connector {
  start(onLink: (link: Link) => void, onError: (e: Error) => void): void;
  close(): void;
}

/** A Link over a MessagePort whose other end runs `Comlink.expose(host.connect(), port)`. */
export function portLink(port: MessagePort, role: Role, onDispose: () => void = () => {}): Link {
  const remote = Comlink.wrap<ControlApi>(port);
  const channel = new MessageChannel();
  let disposed = false;
  return {
    role,
    control: remote as unknown as Control,
    data: channel.port1,
    init: (req, auth) =>
      remote.init(
        req,
        Comlink.transfer(channel.port2, [channel.port2]),
        auth === undefined ? undefined : Comlink.proxy(auth),
      ) as Promise<InitResponse>,
    dispose() {
      // Comlink throws on a second release: a link can be dropped by a handover and by close.
      if (disposed) return;
      disposed = true;
      channel.port1.close();
      remote[Comlink.releaseProxy]();
      onDispose();
    },
  };
}

/** A Link to a host in this same realm (the leader tab's own), through a real MessageChannel. */
export function hostLink(host: Host, role: Role): Link {
  const ctl = new MessageChannel();
  Comlink.expose(host.connect(() => ctl.port2.close()), ctl.port2);
  return portLink(ctl.port1, role, () => ctl.port2.close());
}

export type WorkerFactory = (name: string) => SharedWorker;

/**
 * Least time between two restarts of the shared worker by one tab: a worker that dies right
 * after answering (a crash at every start) is recreated at this pace, not in a tight loop.
 */
const RESTART_FLOOR_MS = 1_000;

/**
 * How long a tab waits for a shared worker's first answer before it makes the worker again. A
 * tab that asks for the worker just as the previous one dies can be attached to the dying one
 * (measured in Chromium: its port then stays silent for good); asking again reaches the next.
 * A worker that is merely slow to start gets a second port, which the host accepts as the same
 * tab reconnecting.
 */
export const ANSWER_DEADLINE_MS = 3_000;

/**
 * The SharedWorker connector: one worker per client name, created by the app's factory or URL.
 * When the worker dies (watchHost) or does not answer, a new one is asked for with the same name
 * and URL — every tab of the name does so, and they all meet in that one — and its Link
 * replaces the old.
 */
export function sharedWorkerConnector(worker: string | URL | WorkerFactory, workerName: string, locks: Locks): Connector {
  let closed = false;
  let lastRestart = Number.NEGATIVE_INFINITY;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  function later(fn: () => void, ms: number): () => void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) fn();
    }, ms);
    timers.add(timer);
    return () => {
      clearTimeout(timer);
      timers.delete(timer);
    };
  }

  function connect(onLink: (link: Link) => void, onError: (e: Error) => void): void {
    /** Answered, or dropped: from then on the worker's death is the life lock's to tell. */
    let settled = false;
    try {
      const w = typeof worker === "function" ? worker(workerName) : new SharedWorker(worker, { type: "module", name: workerName });
      w.addEventListener("error", () => settled || onError(new Error(`onestream: the shared worker ${workerName} failed to load`)));
      const link = watchHost(portLink(w.port, "shared-worker", () => w.port.close()), locks, () => {
        const wait = Math.max(0, lastRestart + RESTART_FLOOR_MS - Date.now());
        later(() => {
          lastRestart = Date.now();
          connect(onLink, onError);
        }, wait);
      });
      const stopDeadline = later(() => connect(onLink, onError), ANSWER_DEADLINE_MS);
      onLink({
        ...link,
        init(req, auth) {
          const res = link.init(req, auth);
          res.then(() => (settled = true), () => {}).finally(stopDeadline);
          return res;
        },
        dispose() {
          settled = true;
          stopDeadline();
          link.dispose();
        },
      });
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  return {
    start: connect,
    close() {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
