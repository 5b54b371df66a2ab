// A TCP fault proxy to put in front of any server, so a test can make the network misbehave
// the ways real ones do (FIELD-NOTES): a silent hang, a reset, a cut mid-response, latency.
// It works below HTTP, so it breaks streams the browser already has open, which neither
// Playwright's offline switch nor CDP network emulation can do for a SharedWorker.
import net from "node:net";

/**
 * - `pass`: forward both ways.
 * - `blackhole`: accept and hold; forward nothing either way (bytes wait in the sockets, so
 *   going back to `pass` delivers them: a wedge, then a heal).
 * - `reset`: reset (RST) every open connection and every new one.
 * - `truncate`: each connection forwards at most `afterBytes` more bytes towards the client
 *   (counted from when the mode is set, or from its opening), then both sides are ended (FIN).
 * - `delay`: every chunk, both ways, is forwarded `ms` later (order kept).
 */
export type FaultMode =
  | { kind: "pass" }
  | { kind: "blackhole" }
  | { kind: "reset" }
  | { kind: "truncate"; afterBytes: number }
  | { kind: "delay"; ms: number };

export interface FaultProxyOptions {
  /** Where to forward: "http://host:port", "host:port" or { host, port }. */
  target: string | { host: string; port: number };
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Default "127.0.0.1": loopback only. */
  host?: string;
  mode?: FaultMode;
}

export interface FaultProxy {
  /** "http://127.0.0.1:PORT". */
  url: string;
  port: number;
  /** Switches every open and future connection to `mode`. */
  set(mode: FaultMode | "pass" | "blackhole" | "reset"): void;
  mode(): FaultMode;
  /** Resets every open connection once; the mode stays. Returns how many were cut. */
  resetAll(): number;
  /** Open client connections. */
  connections(): number;
  /** Total client connections accepted. */
  accepted(): number;
  close(): Promise<void>;
}

/** Longest delay accepted; more is surely a unit mistake (seconds for ms). */
export const MAX_DELAY_MS = 60_000;

function parseTarget(target: FaultProxyOptions["target"]): { host: string; port: number } {
  if (typeof target !== "string") return target;
  const url = new URL(target.includes("://") ? target : `tcp://${target}`);
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port };
}

function normalize(mode: FaultMode | "pass" | "blackhole" | "reset"): FaultMode {
  const m: FaultMode = typeof mode === "string" ? { kind: mode } : mode;
  if (m.kind === "truncate" && !(Number.isInteger(m.afterBytes) && m.afterBytes >= 0)) {
    throw new RangeError(`truncate.afterBytes must be a non-negative integer, got ${m.afterBytes}`);
  }
  if (m.kind === "delay" && !(Number.isFinite(m.ms) && m.ms >= 0 && m.ms <= MAX_DELAY_MS)) {
    throw new RangeError(`delay.ms must be within 0..${MAX_DELAY_MS}, got ${m.ms}`);
  }
  return m;
}

/** One client connection and its upstream twin. */
class Link {
  /** Bytes still allowed towards the client under `truncate`. */
  private budget = Infinity;
  /** Per direction, the earliest time the next delayed chunk may go (keeps order). */
  private readonly notBefore = { up: 0, down: 0 };
  private mode: FaultMode = { kind: "pass" };

  constructor(
    readonly client: net.Socket,
    readonly upstream: net.Socket,
    mode: FaultMode,
  ) {
    client.on("data", (chunk: Buffer) => this.forward("up", chunk));
    upstream.on("data", (chunk: Buffer) => this.forward("down", chunk));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    // Errors end the link; the other side is reset too so nothing half-open lingers.
    client.on("error", () => this.reset());
    upstream.on("error", () => this.reset());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    this.apply(mode);
  }

  apply(mode: FaultMode): void {
    this.mode = mode;
    this.budget = mode.kind === "truncate" ? mode.afterBytes : Infinity;
    if (mode.kind === "reset") return this.reset();
    if (mode.kind === "blackhole") {
      this.client.pause();
      this.upstream.pause();
    } else {
      this.client.resume();
      this.upstream.resume();
    }
    if (mode.kind === "truncate" && this.budget === 0) this.cut();
  }

  reset(): void {
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (!this.upstream.destroyed) this.upstream.resetAndDestroy();
  }

  private cut(): void {
    this.client.end();
    this.upstream.end();
  }

  private forward(direction: "up" | "down", chunk: Buffer): void {
    const to = direction === "up" ? this.upstream : this.client;
    if (direction === "down" && this.mode.kind === "truncate") {
      if (chunk.length >= this.budget) {
        const part = chunk.subarray(0, this.budget);
        this.budget = 0;
        if (part.length > 0) to.write(part);
        return this.cut();
      }
      this.budget -= chunk.length;
    }
    if (this.mode.kind !== "delay") {
      if (!to.write(chunk)) {
        const from = direction === "up" ? this.client : this.upstream;
        from.pause();
        to.once("drain", () => {
          if (this.mode.kind !== "blackhole") from.resume();
        });
      }
      return;
    }
    const at = Math.max(Date.now() + this.mode.ms, this.notBefore[direction]);
    this.notBefore[direction] = at;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, at - Date.now());
  }
}

/** Starts a fault proxy in front of `target`, in `pass` mode unless told otherwise. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = parseTarget(options.target);
  let mode = normalize(options.mode ?? { kind: "pass" });
  const links = new Set<Link>();
  let accepted = 0;

  const server = net.createServer((client) => {
    accepted++;
    if (mode.kind === "reset") {
      client.on("error", () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    const link = new Link(client, upstream, mode);
    links.add(link);
    client.on("close", () => links.delete(link));
  });

  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    url: `http://${host}:${port}`,
    port,
    set(next) {
      mode = normalize(next);
      for (const link of links) link.apply(mode);
    },
    mode: () => mode,
    resetAll() {
      const n = links.size;
      for (const link of [...links]) link.reset();
      return n;
    },
    connections: () => links.size,
    accepted: () => accepted,
    close() {
      for (const link of [...links]) link.reset();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
