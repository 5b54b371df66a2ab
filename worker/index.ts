// `onestream/worker`: what an app's worker file calls. `serve()` binds the host to the real
// world — gRPC-Web over fetch, IndexedDB, the real clock, Web Locks — and to whatever scope it
// runs in: a SharedWorker (one control port per connecting tab), a dedicated Worker (the
// fallback's leader tab owns it: its own tab and its followers, see host/leader-worker.ts), or a
// page (the leader of the fallback when no worker can be made, which connects ports with `accept`).
import type { Transport } from "@connectrpc/connect";
import * as Comlink from "comlink";
import type { AnyAdapter } from "./adapters/adapter";
import { onestreamV1 } from "./adapters/onestream-v1";
import { connectUpstream, rpcOver } from "./adapters/upstream";
import { createEngine } from "./engine/engine";
import { createGrpcTransport, DEFAULT_READ_MAX_BYTES, MAX_READ_MAX_BYTES, MIN_READ_MAX_BYTES } from "./host/grpc-transport";
import { openIdbStorage } from "./host/idb-storage";
import { intKnob } from "./host/knob";
import type { Storage } from "./engine/types";
import { browserLocks, type Locks } from "./host/locks";
import { leaderWorkerApi } from "./host/leader-worker";
import { holdLifeLock } from "./host/life-lock";
import { realClock } from "./host/real-clock";
import { createHost, type Host, type HostConfig } from "./host/worker-host";
import type { DataEndpoint } from "../contract/protocol";

export type EngineConfig = NonNullable<Parameters<typeof createEngine>[1]>;

export interface ServeOptions extends HostConfig {
  /**
   * The server-streaming method to share, and how to read it (see "Your own stream" in the
   * README). Default: onestream's own protocol (onestream.v1).
   */
  adapter?: AnyAdapter;
  /** The RPC transport for a base URL. Default: gRPC-Web over fetch, binary (connect-web). */
  transport?: (baseUrl: string) => Transport;
  /**
   * Largest response message the default transport reads (default 16 MiB, clamped to 64 KiB …
   * 256 MiB). A larger one is never buffered: its event is skipped with an "oversized" reset
   * naming topic and cursor, and the stream goes on. Keep it at or above the server's payload limit.
   */
  readMaxBytes?: number;
  /**
   * Server base URL, e.g. "https://api.example.com". Unset: the first tab's client decides
   * (createClient's `baseUrl`, default its page origin) and later tabs must name the same one.
   */
  baseUrl?: string;
  /** IndexedDB database name (cursors and outbox, keyed by user inside). */
  dbName?: string;
  /**
   * Where cursors and the outbox live; default IndexedDB (`dbName`). Another Storage trades the
   * guarantees across worker restarts for whatever it keeps (an in-memory one keeps nothing).
   */
  storage?: Storage;
  /** Engine knobs (timeouts, backoff, …), passed to createEngine as they are. */
  engine?: EngineConfig;
  /** Web Locks; default navigator.locks. */
  locks?: Locks;
  warn?: (message: string) => void;
}

export interface Served {
  host: Host;
  /** Exposes a fresh control object on `port` (what `onconnect` does for each tab); closes it when the tab is gone. */
  accept(port: DataEndpoint, closeWhenGone?: boolean): void;
}

/** Builds the host with the real bindings; does not attach it to any scope. */
export function createServedHost(options: ServeOptions = {}): Served {
  const locks = options.locks ?? browserLocks();
  if (locks === undefined) throw new Error("onestream: Web Locks (navigator.locks) are not available here");
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const storage = options.storage ?? openIdbStorage(options.dbName);
  const adapter = options.adapter ?? onestreamV1();
  const readMaxBytes = intKnob("readMaxBytes", options.readMaxBytes, { fallback: DEFAULT_READ_MAX_BYTES, min: MIN_READ_MAX_BYTES, max: MAX_READ_MAX_BYTES }, warn);
  const transportFor = options.transport ?? ((baseUrl: string) => createGrpcTransport({ baseUrl, readMaxBytes }));
  const host = createHost(
    {
      engineFor: (user, getHeaders, baseUrl) =>
        createEngine(
          {
            upstream: connectUpstream(adapter, rpcOver(transportFor(baseUrl)), warn),
            storage,
            clock: realClock,
            random: Math.random,
            user,
            getHeaders,
            warn,
          },
          options.engine,
        ),
      locks,
      clock: realClock,
      warn,
      lifeLock: holdLifeLock(locks, crypto.randomUUID(), warn),
    },
    options,
  );
  return {
    host,
    accept: (port, closeWhenGone = true) =>
      Comlink.expose(host.connect(closeWhenGone ? () => port.close() : undefined), port as Comlink.Endpoint),
  };
}

/**
 * Serves onestream from the current scope: in a SharedWorker every connecting tab gets its own
 * control object; in a dedicated Worker the page that owns it (the fallback's leader) gets the
 * leader API (contract/fallback.ts). Elsewhere (a page) it only builds the host: connect ports
 * with `accept`.
 */
export function serve(options: ServeOptions = {}): Served {
  const served = createServedHost(options);
  const scope = globalThis as unknown as {
    onconnect?: ((e: MessageEvent) => void) | null;
    postMessage?: unknown;
    importScripts?: unknown;
    document?: unknown;
  };
  if ("onconnect" in scope) {
    scope.onconnect = (e: MessageEvent) => {
      for (const port of e.ports) served.accept(port);
    };
  } else if (typeof scope.importScripts === "function" && scope.document === undefined) {
    Comlink.expose(leaderWorkerApi(served.host, (port) => served.accept(port), BroadcastChannel), globalThis as Comlink.Endpoint);
  }
  return served;
}

export { defineAdapter } from "./adapters/adapter";
export type { AdapterCall, AnyAdapter, Cursor, CursorKind, CursorOf, Frame, FrameOf, PublishAdapter, PublishInput, ResetFrame, ResetFrameOf, Start, StreamAdapter, TopicStart } from "./adapters/adapter";
export { onestreamV1 } from "./adapters/onestream-v1";
