// The contract between the benchmark driver (Node, via page.evaluate) and its bench pages:
// every page exposes `window.bench` with the same receipt counters, so onestream and the plain
// per-tab stream are measured by identical code. All times are `performance.timeOrigin +
// performance.now()` (FIELD-NOTES: the common clock across page and worker).

export interface StartOptions {
  serverUrl: string;
  topics: string[];
  /** Keep one latency sample (receipt − publishedAt, ms) per event; off for throughput runs. */
  keepLatencies: boolean;
}

export interface Snapshot {
  /** Plain: Hello received. onestream: the client reported the topics live. */
  ready: boolean;
  count: number;
  /** onestream only: how many times this tab overflowed its queue in the worker and resynced. */
  overflows?: number;
  /** Receipt time of the first and the last event counted since the last reset. */
  firstAt: number;
  lastAt: number;
  error?: string;
}

/** One status the onestream client reported, with its receipt time. */
export interface StatusMark {
  at: number;
  state: string;
  connection: number;
  /** The tab fell behind its bounded queue in the worker and is resyncing (an overflow). */
  resyncing: boolean;
  lastError?: string;
}

export interface BenchPageApi {
  start(opts: StartOptions): Promise<void>;
  snapshot(): Snapshot;
  latencies(): number[];
}

/** Extra controls of the onestream page, for the recovery figures. */
export interface OnestreamPageApi extends BenchPageApi {
  statuses(): StatusMark[];
  /** Time of the last `online` event this page saw. */
  onlineAt(): number;
  /** Has the driver POST an admin fault (`benchFault`); returns the page-clock time just before asking. */
  fault(body: Record<string, unknown>): Promise<number>;
  /**
   * Arms `fault` to be POSTed the moment the next event batch arrives; resolves with that
   * batch's receipt time. Wedging right after a frame is the watchdog's worst case.
   */
  faultOnNextEvent(body: Record<string, unknown>): Promise<number>;
}

/** The ceiling page: a bare SharedWorker posting batches, no library at all. */
export interface CeilingPageApi {
  connect(): Promise<void>;
  /** Asks the worker to post `total` events in batches of `batch` to every connected page. */
  run(total: number, batch: number): void;
  snapshot(): Snapshot;
}

/** Client names of the onestream page per `?persist=` mode; each names its own SharedWorker. */
export const CLIENT_NAMES = { on: "bench", off: "bench-nopersist", timed: "bench-timed" } as const;

export const now = (): number => performance.timeOrigin + performance.now();
