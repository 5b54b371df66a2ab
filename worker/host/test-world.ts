// Test support shared by the host, client and fallback tests: the real engine on a fake server
// (scripted transport), a fake clock, in-memory storage and in-memory Web Locks, plus "raw
// tabs" that talk to a host exactly as a tab does (comlink over a real MessageChannel, a
// transferred data port, a held tab lock) so the host can be tested without the client.
import * as Comlink from "comlink";
import { createEngine } from "../engine/engine";
import { FakeClock, seededRandom } from "../testing/fake-clock";
import { FakeServer } from "../testing/fake-server";
import { v1Upstream } from "../testing/v1-transport";
import { MemoryStorage } from "../testing/memory-storage";
import type { EngineConfig } from "../engine/config";
import type { Cursor, StreamEvent } from "../engine/types";
import { PROTOCOL_VERSION, tabLockName, type BatchMessage, type ControlApi, type GetAuth, type InitRequest } from "../../contract/protocol";
import type { Locks } from "./locks";
import { holdLifeLock } from "./life-lock";
import { createMemoryLocks } from "./memory-locks";
import { createHost, type Host, type HostConfig } from "./worker-host";

export interface World {
  clock: FakeClock;
  server: FakeServer;
  storage: MemoryStorage;
  locks: Locks;
  /** Engines built so far, by user. */
  engines: string[];
  newHost(config?: HostConfig): Host;
  /** Advances the fake clock in small steps (letting ports deliver) until `cond` holds. */
  until(cond: () => boolean, what: string, maxMs?: number): Promise<void>;
  /** Lets ports and promises run without moving the clock. */
  flush(): Promise<void>;
  /** Runs `fn` at dispose (closing ports, so the test process can end). */
  onDispose(fn: () => void): void;
  dispose(): void;
}

let hostCounter = 0;

export function createWorld(opts: { token?: string; engine?: Partial<EngineConfig> } = {}): World {
  const clock = new FakeClock();
  const server = new FakeServer({ clock, ...(opts.token === undefined ? {} : { token: opts.token }) });
  const storage = new MemoryStorage();
  const locks = createMemoryLocks();
  const engines: string[] = [];
  const cleanups: Array<() => void> = [];
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 6; i++) await new Promise<void>((r) => setImmediate(r));
  };
  return {
    clock,
    server,
    storage,
    locks,
    engines,
    newHost(config = {}) {
      const host = createHost(
        {
          engineFor: (user, getHeaders) => {
            engines.push(user);
            return createEngine({ upstream: v1Upstream(server.transport), storage, clock, random: seededRandom(7), user, getHeaders }, opts.engine);
          },
          locks,
          clock,
          lifeLock: holdLifeLock(locks, `host-${++hostCounter}`),
        },
        config,
      );
      cleanups.push(() => void host.close());
      return host;
    },
    async until(cond, what, maxMs = 5_000) {
      for (let t = 0; t <= maxMs; t += 5) {
        await flush();
        if (cond()) return;
        await clock.advance(5);
      }
      throw new Error(`timed out waiting for ${what}`);
    },
    flush,
    onDispose: (fn) => void cleanups.push(fn),
    dispose() {
      for (const c of cleanups.splice(0)) c();
    },
  };
}

export interface RawTab {
  id: string;
  control: Comlink.Remote<ControlApi>;
  batches: BatchMessage[];
  /** Events received for host subscription `sub`, in order. */
  events(sub: number): StreamEvent<Cursor>[];
  /** Whether this tab acknowledges batches (a frozen tab does not). */
  acking: boolean;
  /** The tab dies: its lock is released and its ports closed, without any call. */
  kill(): void;
}

let tabCounter = 0;

/** A tab that holds its lock, connects to `host` over real ports, and (unless told) inits. */
export async function rawTab(
  world: World,
  host: Host,
  opts: { user?: string; init?: Partial<InitRequest>; auth?: GetAuth } = {},
): Promise<RawTab> {
  const locks = world.locks;
  const id = `tab-${++tabCounter}`;
  let release: () => void = () => {};
  await new Promise<void>((granted) => {
    void locks.request(tabLockName(id), () => {
      granted();
      return new Promise<void>((r) => (release = r));
    });
  });
  const ctl = new MessageChannel();
  Comlink.expose(host.connect(), ctl.port2);
  const control = Comlink.wrap<ControlApi>(ctl.port1);
  const data = new MessageChannel();
  const tab: RawTab = {
    id,
    control,
    batches: [],
    acking: true,
    events: (sub) =>
      tab.batches.flatMap((b) => b.deliveries.flatMap(([s, d]) => (s === sub && d.kind === "events" ? d.events : []))),
    kill() {
      release();
      data.port1.close();
      ctl.port1.close();
      ctl.port2.close();
    },
  };
  data.port1.addEventListener("message", (e: MessageEvent) => {
    const msg = e.data as BatchMessage;
    tab.batches.push(msg);
    if (tab.acking) data.port1.postMessage({ t: "ack", seq: msg.seq });
  });
  data.port1.start();
  world.onDispose(() => tab.kill());
  await control.init(
    { protocol: PROTOCOL_VERSION, tabId: id, user: opts.user ?? "u", baseUrl: "http://server.test", ...opts.init },
    Comlink.transfer(data.port2, [data.port2]),
    opts.auth === undefined ? undefined : Comlink.proxy(opts.auth),
  );
  return tab;
}
