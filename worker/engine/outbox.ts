// The durable outbox: a publish is written to storage BEFORE it is sent, then a single sender
// sends records in seq order, across reconnects and worker restarts, until the server answers.
// Resends are safe because the server deduplicates on the idempotency key. Each publish()
// promise settles exactly once: with the cursor, with the server's permanent error, or with a
// ClosedError/FailedError when the engine stops (the record stays on disk for the next engine).
import { Code, ConnectError } from "@connectrpc/connect";
import { topicProblem } from "../../contract/topic";
import { Backoff } from "./backoff";
import type { EngineConfig } from "./config";
import { withDeadline } from "./deadline";
import { classify } from "./errors";
import type { Clock, Cursor, OutboxRecord, Random, Storage, Upstream } from "./types";

export interface OutboxDeps {
  upstream: Upstream;
  storage: Storage;
  clock: Clock;
  random: Random;
  user: string;
  config: EngineConfig;
  headers: (why: "connect" | "refresh") => Promise<Record<string, string>>;
  /** Resolves at once when online, else when the network comes back (or the engine stops). */
  online: () => Promise<void>;
  warn: (message: string) => void;
}

interface Waiter {
  resolve: (r: { cursor: Cursor | undefined }) => void;
  reject: (e: unknown) => void;
}

interface Pending {
  record: OutboxRecord;
  /** The addOutbox write; the record is not sent before it settles. */
  stored: Promise<void>;
  /** Callers waiting for this record: none for one left by an earlier engine until asked again by key. */
  waiters: Waiter[];
}

/** Longest caller-chosen idempotency key (the reference server refuses longer ones). */
export const MAX_KEY_LENGTH = 256;

export class Outbox {
  /**
   * Waiting records by idempotency key, in send (insertion = seq) order: the head, a keyed
   * lookup and a removal are all O(1), so an offline backlog of n publishes costs O(n).
   */
  private queue = new Map<string, Pending>();
  private nextSeq = 1;
  private running = false;
  private stopped: Error | undefined;
  /** Bumped by wipe(): a send that was in flight then must not touch the new queue. */
  private generation = 0;
  private auth: "connect" | "refresh" = "connect";
  private inflight: AbortController | undefined;
  private wake: (() => void) | undefined;
  private readonly backoff: Backoff;
  /** durable() callers waiting for a key not enqueued yet (its publish is still on its way). */
  private durableWaiters = new Map<string, Array<{ resolve: () => void; reject: (e: unknown) => void }>>();

  constructor(private readonly deps: OutboxDeps) {
    this.backoff = new Backoff(deps.config, deps.random);
  }

  /** Records left by an earlier engine: nobody waits for them, but they are sent first. */
  load(records: readonly OutboxRecord[]): void {
    const sorted = [...records].sort((a, b) => a.seq - b.seq);
    for (const record of sorted) this.queue.set(record.key, { record, stored: Promise.resolve(), waiters: [] });
    for (const r of sorted) this.nextSeq = Math.max(this.nextSeq, r.seq + 1);
    this.kick();
  }

  /**
   * Validates and enqueues. Call only after load(). With a `key` already queued (a retry after
   * the caller lost its answer) it waits on that record instead of writing a second one.
   */
  publish(topic: string, payload: Uint8Array, key?: string): Promise<{ cursor: Cursor | undefined }> {
    if (this.stopped) return Promise.reject(this.stopped);
    if (this.deps.upstream.publish === undefined) return Promise.reject(new TypeError("publish: this stream's adapter has no publish method"));
    if (key !== undefined) {
      if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
        return Promise.reject(new TypeError(`publish: key must be a string of 1 to ${MAX_KEY_LENGTH} characters`));
      }
      const queued = this.queue.get(key);
      if (queued !== undefined) return new Promise((resolve, reject) => queued.waiters.push({ resolve, reject }));
    }
    const problem = topicProblem(topic);
    if (problem !== undefined) return Promise.reject(new TypeError(`publish: ${problem}`));
    if (!(payload instanceof Uint8Array)) return Promise.reject(new TypeError("publish: payload must be a Uint8Array"));
    const max = this.deps.config.maxPayloadBytes;
    if (payload.byteLength > max) {
      return Promise.reject(new RangeError(`publish: payload is ${payload.byteLength} bytes, over the ${max}-byte limit`));
    }
    const seq = this.nextSeq++;
    const record: OutboxRecord = {
      key: key ?? `${randomHex(this.deps.random)}-${seq.toString(36)}`,
      topic,
      payload: payload.slice(), // the caller may reuse its buffer
      seq,
      createdAt: this.deps.clock.now(),
    };
    return new Promise((resolve, reject) => {
      const stored = this.deps.storage.addOutbox(this.deps.user, record);
      this.queue.set(record.key, { record, stored, waiters: [{ resolve, reject }] });
      const waiting = this.durableWaiters.get(record.key);
      if (waiting !== undefined) {
        this.durableWaiters.delete(record.key);
        for (const w of waiting) stored.then(w.resolve, w.reject);
      }
      this.kick();
    });
  }

  /**
   * Resolves once the publish with `key` is committed to storage: from then on it is sent even if
   * this engine dies (the next one loads it). Rejects if that write fails. For a key not queued
   * (yet), waits until a publish with it is; the caller races this with the publish itself.
   */
  durable(key: string): Promise<void> {
    if (this.stopped) return Promise.reject(this.stopped);
    const queued = this.queue.get(key);
    if (queued !== undefined) return queued.stored;
    return new Promise((resolve, reject) => {
      const list = this.durableWaiters.get(key) ?? [];
      list.push({ resolve, reject });
      this.durableWaiters.set(key, list);
    });
  }

  /** offline: abort the send in flight (it is retried once online). online: retry now. */
  hint(offline: boolean): void {
    if (offline) this.inflight?.abort();
    else {
      this.backoff.reset();
      this.wake?.();
    }
  }

  /** Engine closed or failed: every waiting publish rejects with `err`; records stay on disk. */
  stop(err: Error): void {
    if (this.stopped) return;
    this.stopped = err;
    this.dropAll(err);
  }

  /** Logout: forget every queued publish (storage is wiped by the caller). */
  wipe(err: Error): void {
    this.dropAll(err);
  }

  private dropAll(err: Error): void {
    this.generation++;
    const waiting = [...this.durableWaiters.values()].flat();
    this.durableWaiters = new Map();
    for (const w of waiting) w.reject(err);
    const dropped = [...this.queue.values()];
    this.queue = new Map();
    this.inflight?.abort();
    this.wake?.();
    for (const p of dropped) for (const w of p.waiters) w.reject(err);
  }

  private kick(): void {
    if (!this.running && !this.stopped) void this.run();
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.queue.size > 0) {
        const gen = this.generation;
        await this.deps.online();
        const item: Pending | undefined = this.queue.values().next().value;
        if (this.stopped || gen !== this.generation || item === undefined) continue;
        try {
          await item.stored;
        } catch (e) {
          if (gen === this.generation) this.settle(item, e, false);
          continue;
        }
        await this.sendOne(item, gen);
      }
    } finally {
      this.running = false;
    }
  }

  private async sendOne(item: Pending, gen: number): Promise<void> {
    const { clock, config } = this.deps;
    const startedAt = clock.monotonic();
    const ctrl = new AbortController();
    this.inflight = ctrl;
    let timedOut = false;
    const cancelTimeout = clock.setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, config.publishTimeoutMs);
    let err: unknown;
    let result: { cursor: Cursor | undefined } | undefined;
    try {
      const headers = await withDeadline(this.deps.headers(this.auth), config.publishTimeoutMs, clock, "getHeaders");
      const { record } = item;
      result = await this.deps.upstream.publish!({ topic: record.topic, payload: record.payload, key: record.key }, { signal: ctrl.signal, headers });
    } catch (e) {
      err = timedOut ? new ConnectError(`publish timed out after ${config.publishTimeoutMs} ms`, Code.DeadlineExceeded) : e;
    } finally {
      cancelTimeout();
      this.inflight = undefined;
    }
    if (this.stopped || gen !== this.generation) return;
    if (result !== undefined) {
      this.auth = "connect";
      this.backoff.reset();
      this.settle(item, undefined, true, result);
      return;
    }
    if (ctrl.signal.aborted && !timedOut) return; // our own abort (offline): retried once online
    const { verdict } = classify(err);
    if (verdict === "refresh-auth" && this.auth === "connect") {
      this.auth = "refresh";
      return;
    }
    if (verdict === "terminal" || verdict === "refresh-auth") {
      this.settle(item, err, true);
      return;
    }
    await this.sleep(this.backoff.next(startedAt, clock.monotonic(), { slow: verdict === "retry-slow" }));
  }

  /** Takes `item` off the queue, settles its promise once, and forgets its record. */
  private settle(item: Pending, err: unknown, remove: boolean, result?: { cursor: Cursor | undefined }): void {
    if (this.queue.get(item.record.key) === item) this.queue.delete(item.record.key);
    if (remove) {
      this.deps.storage.removeOutbox(this.deps.user, item.record.key).catch((e: unknown) => {
        this.deps.warn(`onestream: removing outbox record ${item.record.key} failed (it will be re-sent, harmlessly): ${String(e)}`);
      });
    }
    for (const w of item.waiters) {
      if (result !== undefined) w.resolve({ cursor: result.cursor });
      else w.reject(err);
    }
  }

  /** Waits `ms`, or less when hint()/stop() wakes it. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let cancel: (() => void) | undefined;
      const done = (): void => {
        cancel?.();
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      this.wake = done;
      cancel = this.deps.clock.setTimeout(done, ms);
    });
  }
}

/** 128 random bits as hex, from the injected Random (32 bits per draw). */
function randomHex(random: Random): string {
  let s = "";
  for (let i = 0; i < 4; i++) s += Math.floor(Math.min(Math.max(random(), 0), 0.9999999999) * 0x1_0000_0000).toString(16).padStart(8, "0");
  return s;
}
