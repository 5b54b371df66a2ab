// The reference server: StreamService over gRPC-Web and Connect on HTTP/1.1, with CORS for pages
// on other origins, the /admin JSON endpoints, and a graceful close that ends open streams with
// Unavailable (the status a client treats as "reconnect", unlike a cut connection's Unknown).
import { Code, cors, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_TOPIC_BYTES } from "../contract/topic";
import { adminStats, handleAdmin, type AdminDeps, type AdminStats } from "./admin";
import { FaultState } from "./faults";
import { resolveOptions, type ServerOptions } from "./options";
import { rawExchangeKey, serviceRoutes, type ServiceDeps } from "./service";
import { StreamRegistry } from "./streams";

export type { ServerOptions } from "./options";
export type { AdminStats } from "./admin";
export type { AuthPolicy } from "./auth";
export { allowAll, tokenPolicy } from "./auth";
export { createMemoryLog, type TopicLog } from "./log";

export interface RunningServer {
  /** "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  /** The same object as GET /admin/stats. */
  stats(): AdminStats;
  /** Graceful: open streams end with Unavailable, then the server closes. Idempotent. */
  close(): Promise<void>;
}

/** Browsers cache a preflight at most 2 h (Chromium's cap); every gRPC-Web stream pre-flights. */
const PREFLIGHT_MAX_AGE_S = 7200;
/** How long close() waits for ended streams to flush their status before cutting connections. */
const CLOSE_GRACE_MS = 2000;
/** Room for the topic, key and framing around a payload in a Publish message. */
const REQUEST_OVERHEAD_BYTES = 64 * 1024;
/** Room for the cursor, epoch and framing of one TopicRequest in a Subscribe message. */
const TOPIC_REQUEST_OVERHEAD_BYTES = 128;

const ALLOWED_HEADERS = [...cors.allowedHeaders, "Authorization"].join(", ");
const EXPOSED_HEADERS = cors.exposedHeaders.join(", ");

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const warnings: string[] = [];
  const config = resolveOptions(opts, warnings);
  for (const warning of warnings) console.warn(`onestream server: ${warning}`);

  let closing = false;
  const log = config.log;
  const streams = new StreamRegistry();
  const faults = new FaultState();
  const counters = { publishes: 0 };
  const serviceDeps: ServiceDeps = { config, log, faults, streams, counters, closing: () => closing };
  const adminDeps: AdminDeps = {
    log,
    streams,
    faults,
    faultsEnabled: config.faults,
    maxPayloadBytes: config.maxPayloadBytes,
    counters,
  };

  // The adapter only sees the request; faults need the response too.
  const responses = new WeakMap<IncomingMessage, ServerResponse>();
  const rpc = connectNodeAdapter({
    routes: serviceRoutes(serviceDeps),
    grpcWeb: true,
    connect: true,
    grpc: false,
    // Bigger requests are refused by connect itself (ResourceExhausted) before being buffered.
    readMaxBytes:
      Math.max(config.maxPayloadBytes, config.maxTopicsPerSubscribe * (MAX_TOPIC_BYTES + TOPIC_REQUEST_OVERHEAD_BYTES)) +
      REQUEST_OVERHEAD_BYTES,
    contextValues: (req) => {
      const values = createContextValues();
      const res = responses.get(req as IncomingMessage);
      if (res) values.set(rawExchangeKey, { req: req as IncomingMessage, res });
      return values;
    },
  });

  const inFlight = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    inFlight.add(res);
    res.once("close", () => inFlight.delete(res));
    setCorsHeaders(req, res);
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
      });
      res.end();
      return;
    }
    if (handleAdmin(adminDeps, req, res)) return;
    responses.set(req, res);
    // Stops nginx from buffering a stream (set on every RPC: harmless on unary responses).
    res.setHeader("x-accel-buffering", "no");
    rpc(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing = true;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    streams.endAll("server is shutting down", Code.Unavailable);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all([streams.whenDrained(), responsesDone(inFlight)]), grace]);
    server.closeAllConnections();
    await serverClosed;
  }

  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => adminStats(adminDeps),
    close: () => (closed ??= close()),
  };
}

function setCorsHeaders(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (!origin) return;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
}

/** Resolves once every response in `inFlight` has finished (sent its last byte) or closed. */
function responsesDone(inFlight: Set<ServerResponse>): Promise<void> {
  return Promise.all(
    [...inFlight].map(
      (res) =>
        new Promise<void>((resolve) => {
          if (res.writableFinished || res.destroyed) return resolve();
          res.once("finish", () => resolve());
          res.once("close", () => resolve());
        }),
    ),
  ).then(() => undefined);
}
