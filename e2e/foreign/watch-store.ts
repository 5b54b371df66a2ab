// The watchdemo key store, as etcd keeps it: one revision counter for the whole key space, a
// history of puts that compaction trims from the bottom, and watchers on key prefixes. Pure
// bookkeeping (no network), so the grpc-js server binds it and the tests can read it directly.

export interface KeyEvent {
  revision: bigint;
  key: string;
  value: Uint8Array;
}

export interface Watcher {
  prefix: string;
  /** Called synchronously for every put under `prefix`, in revision order. */
  onPut(e: KeyEvent): void;
}

/** Request ids remembered for idempotent retries (oldest forgotten first). */
const MAX_REQUEST_IDS = 100_000;

export class WatchStore {
  /** etcd's empty store is at revision 1: no position is ever 0 (since_revision 0 means "from now"). */
  private head = 1n;
  private compacted = 0n;
  private readonly log: KeyEvent[] = [];
  private readonly requests = new Map<string, bigint>();
  private readonly watchers = new Set<Watcher>();

  /** The newest revision. */
  get revision(): bigint {
    return this.head;
  }

  /** History at or below this revision is gone. */
  get compactRevision(): bigint {
    return this.compacted;
  }

  /** Writes `key`; a `requestId` seen before returns its first revision and writes nothing. */
  put(key: string, value: Uint8Array, requestId = ""): { revision: bigint; duplicate: boolean } {
    const first = requestId === "" ? undefined : this.requests.get(requestId);
    if (first !== undefined) return { revision: first, duplicate: true };
    const e: KeyEvent = { revision: ++this.head, key, value };
    this.log.push(e);
    if (requestId !== "") {
      this.requests.set(requestId, e.revision);
      if (this.requests.size > MAX_REQUEST_IDS) this.requests.delete(this.requests.keys().next().value!);
    }
    for (const w of this.watchers) if (key.startsWith(w.prefix)) w.onPut(e);
    return { revision: e.revision, duplicate: false };
  }

  /** Drops the history at or below `revision` (never above the head). */
  compact(revision: bigint): void {
    const to = revision > this.head ? this.head : revision;
    if (to <= this.compacted) return;
    this.compacted = to;
    while (this.log.length > 0 && this.log[0]!.revision <= to) this.log.shift();
  }

  /** Events under `prefix` after `since`; undefined when part of that history was compacted. */
  since(prefix: string, since: bigint): KeyEvent[] | undefined {
    if (since < this.compacted) return undefined;
    return this.log.filter((e) => e.revision > since && e.key.startsWith(prefix));
  }

  /** The puts under `prefix` still in the history, oldest first. */
  history(prefix: string): KeyEvent[] {
    return this.log.filter((e) => e.key.startsWith(prefix));
  }

  watch(w: Watcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }
}
