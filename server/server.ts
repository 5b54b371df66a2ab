// The reference server: StreamService over gRPC-Web and Connect on HTTP/1.1, with CORS for pages
// on other origins (RPC paths only), the /admin JSON endpoints when asked for, connection hygiene
// (timeouts for connections that carry no stream, an optional cap), and a graceful close that
// ends open streams with Unavailable (the status a client treats as "reconnect", unlike a cut
// connection's Unknown).
import { Code, cors, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_TOPIC_BYTES } from "../contract/topic";
import { StreamService } from "../proto/gen/onestream/v1/stream_pb";
import { adminStats, handleAdmin, isAdminPath, type AdminDeps, type AdminStats } from "./admin";
import { FaultState } from "./faults";
import { DEFAULT_HEARTBEAT_MS, resolveOptions, type ServerOptions } from "./options";
import { MAX_BATCH_BYTES, rawExchangeKey, serviceRoutes, type ServiceDeps } from "./service";
import { StreamRegistry } from "./streams";

export type { ServerOptions } from "./options";
export type { AdminStats } from "./admin";
export type { AuthPolicy, Grant } from "./auth";
export { allowAll, ANONYMOUS_PRINCIPAL, tokenPolicy } from "./auth";
export { createMemoryLog, type TopicLog } from "./log";

export interface RunningServer {
  /** "http://127.0.0.1:PORT" */
  url: string;
  port: number;
  /** The same object as GET /admin/stats (available in code even when admin is off). */
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
/** Node checks headers and request timeouts at this interval, at most (its default is 30 s). */
const MAX_TIMEOUT_CHECK_MS = 1000;
/** The RPC paths: the only ones that answer CORS. */
const RPC_PATH_PREFIX = `/${StreamService.typeName}/`;

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
  let connections = 0;
  const adminDeps: AdminDeps = {
    config: config.admin,
    log,
    streams,
    faults,
    maxPayloadBytes: config.maxPayloadBytes,
    counters,
    connections: () => connections,
  };

  // The adapter only sees the request; faults and pacing need the response too.
  const responses = new WeakMap<IncomingMessage, ServerResponse>();
  const maxTopicsBytes = config.maxTopicsPerSubscribe * (MAX_TOPIC_BYTES + TOPIC_REQUEST_OVERHEAD_BYTES);
  const rpc = connectNodeAdapter({
    routes: serviceRoutes(serviceDeps),
    grpcWeb: true,
    connect: true,
    grpc: false,
    // Bigger requests are refused by connect itself (ResourceExhausted) before being buffered.
    readMaxBytes: Math.max(config.maxPayloadBytes, maxTopicsBytes) + REQUEST_OVERHEAD_BYTES,
    contextValues: (req) => {
      const values = createContextValues();
      const res = responses.get(req as IncomingMessage);
      if (res) values.set(rawExchangeKey, { req: req as IncomingMessage, res });
      return values;
    },
  });

  const inFlight = new Set<ServerResponse>();
  const server = createServer(
    {
      // A write must never report a full buffer: a stream queues at most maxBufferedBytes plus one
      // frame, and paces itself (streams.ts), so connect-node never waits for a 'drain' that a
      // vanished client would never send.
      highWaterMark: config.maxBufferedBytes + MAX_BATCH_BYTES + config.maxPayloadBytes + maxTopicsBytes + REQUEST_OVERHEAD_BYTES,
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: Math.max(config.headersTimeoutMs, 300_000),
      connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_MS, config.headersTimeoutMs),
    },
    (req, res) => {
      inFlight.add(res);
      res.once("close", () => inFlight.delete(res));
      const path = (req.url ?? "").split("?", 1)[0]!;
      if (isAdminPath(path)) {
        if (!handleAdmin(adminDeps, path, req, res)) notFound(res);
        return;
      }
      if (path.startsWith(RPC_PATH_PREFIX)) {
        setCorsHeaders(req, res);
        if (req.method === "OPTIONS") {
          res.writeHead(204, {
            "access-control-allow-methods": "POST, OPTIONS",
            "access-control-allow-headers": ALLOWED_HEADERS,
            "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
          });
          res.end();
          return;
        }
      }
      responses.set(req, res);
      // Stops nginx from buffering a stream (set on every RPC: harmless on unary responses).
      res.setHeader("x-accel-buffering", "no");
      rpc(req, res);
    },
  );
  // A connection that carries no stream and is silent this long is closed (a stream turns its
  // socket's timeout off); Node's headersTimeout alone never fires for a connection that sent nothing.
  server.timeout = config.idleTimeoutMs;
  if (config.maxConnections > 0) server.maxConnections = config.maxConnections;
  server.on("connection", (socket) => {
    connections++;
    socket.once("close", () => connections--);
  });
  // Backstop for streams whose client vanished without the abort reaching their handler.
  const reaper = setInterval(() => streams.reapGone(), config.heartbeatMs || DEFAULT_HEARTBEAT_MS);
  reaper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => {
      server.off("error", reject);
      resolve();
    });
  }).catch(async (err: unknown) => {
    clearInterval(reaper);
    if (config.ownsLog) await log.close();
    throw err;
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    closing = true;
    clearInterval(reaper);
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    streams.endAll("server is shutting down", Code.Unavailable);
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all([streams.whenDrained(), responsesDone(inFlight)]), grace]);
    server.closeAllConnections();
    await serverClosed;
    if (config.ownsLog) await log.close();
  }

  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => adminStats(adminDeps),
    close: () => (closed ??= close()),
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify({ ok: false, error: "not found" }));
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
