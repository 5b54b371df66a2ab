// The server side of a chaos run: the reference server on the ledger's log (restartable on the
// same port, keeping its log), a fault proxy in front of it (what the tabs connect to, so the
// network can go offline or silent), the admin endpoints called from Node, and the steady
// publisher of numbered payloads.
import { startServer, type AdminStats, type RunningServer } from "../../server/server";
import { startFaultProxy, type FaultProxy } from "../kit/index";
import { createLedger, type Ledger } from "./ledger";

export interface BackendOptions {
  heartbeatMs: number;
  topics: string[];
  /** Events per second per topic from the publisher. */
  rate: number;
}

export interface Backend {
  ledger: Ledger;
  proxy: FaultProxy;
  /** Where the tabs connect: the proxy. */
  readonly tabUrl: string;
  stats(): Promise<AdminStats>;
  fault(body: Record<string, unknown>): Promise<void>;
  /** Graceful close, `downMs` of nothing listening, then the same port and log again. */
  restart(downMs: number): Promise<void>;
  /** Publisher calls that failed so far (the server was down). */
  publisherErrors(): number;
  stopPublisher(): Promise<void>;
  close(): Promise<void>;
}

/** The publisher appends once per tick; coarser ticks mean bigger batches, not a lower rate. */
const PUBLISH_TICK_MS = 50;
/** An admin call that takes longer is abandoned (a wedged or restarting server). */
const ADMIN_TIMEOUT_MS = 5_000;

export async function startBackend(opts: BackendOptions): Promise<Backend> {
  const ledger = createLedger();
  const serve = (port: number): Promise<RunningServer> =>
    startServer({ port, faults: true, heartbeatMs: opts.heartbeatMs, log: ledger.log });
  let server = await serve(0);
  const { port } = server;
  const proxy = await startFaultProxy({ target: server.url });

  async function post(path: string, body: unknown): Promise<void> {
    const res = await fetch(server.url + path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`POST ${path} ${JSON.stringify(body)}: HTTP ${res.status} ${await res.text()}`);
  }

  // The publisher: `perTick` events per topic per tick, payloads "g<tick>.<topic>#i" (unique in the run).
  const perTick = Math.max(1, Math.round((opts.rate * PUBLISH_TICK_MS) / 1000));
  let tick = 0;
  let errors = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  let running = opts.rate > 0;
  const timer = setInterval(() => {
    if (!running) return;
    const n = ++tick;
    inFlight = Promise.all(
      opts.topics.map((topic) => post("/admin/publish", { topic, payload: `g${n}.${topic}`, count: perTick }).catch(() => void errors++)),
    );
  }, PUBLISH_TICK_MS);

  return {
    ledger,
    proxy,
    tabUrl: proxy.url,
    stats: async () => server.stats(), // in this process: no HTTP round trip for what it already holds
    fault: (body) => post("/admin/fault", body),
    async restart(downMs) {
      await server.close();
      await new Promise((r) => setTimeout(r, downMs));
      server = await serve(port);
    },
    publisherErrors: () => errors,
    async stopPublisher() {
      running = false;
      clearInterval(timer);
      await inFlight;
    },
    async close() {
      running = false;
      clearInterval(timer);
      await inFlight;
      await proxy.close();
      await server.close();
    },
  };
}
