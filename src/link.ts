// A tab's connection to whatever serves it. The client does not care whether that is a
// SharedWorker, the in-page host of the leader tab, or a leader tab over BroadcastChannel: it
// gets a Link (control calls + a data endpoint) from a Connector, and a new Link whenever the
// serving side changes (a leader handover).
import * as Comlink from "comlink";
import type { Host } from "../worker/host/worker-host";
import type { ControlApi, DataEndpoint, GetAuth, InitRequest, InitResponse } from "../contract/protocol";

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

/** The SharedWorker connector: one worker per client name, created by the app's factory or URL. */
export function sharedWorkerConnector(worker: string | URL | WorkerFactory, workerName: string): Connector {
  return {
    start(onLink, onError) {
      try {
        const w = typeof worker === "function" ? worker(workerName) : new SharedWorker(worker, { type: "module", name: workerName });
        w.addEventListener("error", () => onError(new Error(`onestream: the shared worker ${workerName} failed to load`)));
        onLink(portLink(w.port, "shared-worker", () => w.port.close()));
      } catch (e) {
        onError(e instanceof Error ? e : new Error(String(e)));
      }
    },
    close() {},
  };
}
