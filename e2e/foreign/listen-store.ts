// The listendemo store, Firestore-style: per target an append-only list of changes, and per
// position a random resume token (12 bytes) that is all a client ever learns of it. A token names
// the same position on every call (what lets onestream line a catch-up up with the live stream);
// compaction forgets the tokens below the new floor, so resuming from one of them is a RESET.
import { randomBytes } from "node:crypto";

export interface Change {
  target: string;
  data: Uint8Array;
  commitTimeMs: number;
  /** Resumes right after this change. */
  token: Uint8Array;
}

interface TargetLog {
  /** tokens[i] resumes after the i-th change (tokens[0]: before the first). */
  readonly tokens: Uint8Array[];
  /** changes[i - 1] is the i-th change; entries below `floor` are dropped (undefined). */
  readonly changes: Array<Change | undefined>;
  /** Positions below it are forgotten. */
  floor: number;
  readonly byToken: Map<string, number>;
}

/** Idempotency keys remembered for retried writes (oldest forgotten first). */
const MAX_KEYS = 100_000;

const hex = (token: Uint8Array) => Buffer.from(token).toString("hex");

export class ListenStore {
  private readonly targets = new Map<string, TargetLog>();
  private readonly keys = new Map<string, Uint8Array>();
  private readonly listeners = new Set<(c: Change) => void>();

  /** Appends a change; an idempotency key seen before returns its first token and writes nothing. */
  write(target: string, data: Uint8Array, key = ""): { token: Uint8Array; duplicate: boolean } {
    const first = key === "" ? undefined : this.keys.get(key);
    if (first !== undefined) return { token: first, duplicate: true };
    const log = this.log(target);
    const token = this.mint(log);
    const change: Change = { target, data, commitTimeMs: Date.now(), token };
    log.changes.push(change);
    if (key !== "") {
      this.keys.set(key, token);
      if (this.keys.size > MAX_KEYS) this.keys.delete(this.keys.keys().next().value!);
    }
    for (const l of this.listeners) l(change);
    return { token, duplicate: false };
  }

  /** Keeps only the last `keep` changes of `target`; older tokens stop working. */
  compact(target: string, keep = 0): void {
    const log = this.log(target);
    const floor = Math.max(log.floor, log.tokens.length - 1 - keep);
    for (let i = log.floor; i < floor; i++) {
      log.byToken.delete(hex(log.tokens[i]!));
      log.changes[i] = undefined;
    }
    log.floor = floor;
  }

  /** Where `target` is now. */
  head(target: string): Uint8Array {
    return this.log(target).tokens.at(-1)!;
  }

  /** The changes after `token`; undefined when the token is unknown or forgotten. */
  after(target: string, token: Uint8Array): Change[] | undefined {
    const log = this.log(target);
    const at = log.byToken.get(hex(token));
    if (at === undefined) return undefined;
    return log.changes.slice(at) as Change[];
  }

  /** The oldest position still known: where a reset target starts over. */
  floor(target: string): Uint8Array {
    const log = this.log(target);
    return log.tokens[log.floor]!;
  }

  /** Every change of `target` still kept, oldest first. */
  changes(target: string): Change[] {
    const log = this.log(target);
    return log.changes.slice(log.floor) as Change[];
  }

  onWrite(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private log(target: string): TargetLog {
    let log = this.targets.get(target);
    if (log === undefined) {
      log = { tokens: [], changes: [], floor: 0, byToken: new Map() };
      this.targets.set(target, log);
      this.mint(log);
    }
    return log;
  }

  private mint(log: TargetLog): Uint8Array {
    const token = new Uint8Array(randomBytes(12));
    log.byToken.set(hex(token), log.tokens.length);
    log.tokens.push(token);
    return token;
  }
}
