// One call to get an engine wired to a fake clock, a fake server and memory storage, with its
// warnings and status history captured: the starting point of most engine-level tests.
import { createEngine } from "../engine/engine";
import type { EngineConfig } from "../engine/config";
import type { Engine, EngineDeps, Random, Status, Storage, Upstream } from "../engine/types";
import { FakeClock, seededRandom } from "./fake-clock";
import { FakeServer, type FakeServerOptions } from "./fake-server";
import { MemoryStorage } from "./memory-storage";
import { Recorder } from "./recorder";
import { ScriptedTransport } from "./scripted-transport";
import { v1Upstream, type V1Transport } from "./v1-transport";

export interface HarnessOptions {
  clock?: FakeClock;
  server?: FakeServer;
  serverOptions?: Omit<FakeServerOptions, "clock">;
  storage?: Storage;
  /** Defaults to the server's transport. */
  transport?: V1Transport;
  /** Replaces the v1 wire altogether (frame-level tests). */
  upstream?: Upstream;
  config?: Partial<EngineConfig>;
  user?: string;
  seed?: number;
  /** Overrides the seeded PRNG (e.g. a constant, to pin the jitter). */
  random?: Random;
  getHeaders?: EngineDeps["getHeaders"];
}

export interface Harness {
  clock: FakeClock;
  server: FakeServer;
  storage: MemoryStorage;
  engine: Engine;
  warnings: string[];
  /** Every status a watcher received, in order. */
  statuses: Status[];
  /** The states of `statuses`. */
  states(): string[];
}

export function startEngine(opts: HarnessOptions = {}): Harness {
  const clock = opts.clock ?? new FakeClock();
  const server = opts.server ?? new FakeServer({ clock, ...opts.serverOptions });
  const storage = (opts.storage ?? new MemoryStorage()) as MemoryStorage;
  const warnings: string[] = [];
  const engine = createEngine(
    {
      upstream: opts.upstream ?? v1Upstream(opts.transport ?? server.transport, (m) => warnings.push(m)),
      storage,
      clock,
      random: opts.random ?? seededRandom(opts.seed ?? 1),
      user: opts.user ?? "alice",
      warn: (m) => warnings.push(m),
      ...(opts.getHeaders === undefined ? {} : { getHeaders: opts.getHeaders }),
    },
    opts.config,
  );
  const statuses: Status[] = [];
  engine.watchStatus((s) => statuses.push(s));
  return { clock, server, storage, engine, warnings, statuses, states: () => statuses.map((s) => s.state) };
}

/**
 * The usual start of a frame-by-frame test: an engine on a ScriptedTransport whose first stream,
 * for topic "a" (recorded in `rec`), has been accepted (Hello, CaughtUp) and is live.
 */
export async function startLiveOnScript(opts: Omit<HarnessOptions, "transport"> = {}): Promise<Harness & { t: ScriptedTransport; rec: Recorder }> {
  const clock = opts.clock ?? new FakeClock();
  const t = new ScriptedTransport();
  const h = startEngine({ ...opts, clock, transport: t });
  const rec = new Recorder();
  h.engine.subscribe(["a"], rec.sink);
  await clock.advance(1);
  t.last.accept();
  await clock.advance(1);
  return { ...h, t, rec };
}
