// Idempotency keys, scoped and bounded. A retried publish must get its first cursor back, so the
// server remembers (principal, topic, key) → cursor; a duplicate needs all three to match, so a
// caller can never read another caller's cursor or have its own event dropped as someone else's
// retry. Memory is bounded per principal (its oldest key is forgotten first, so one principal's
// flood never evicts another's keys) and by age (a timer sweeps expired keys; a principal with
// none left leaves no state). A retry outside that window appends again.

export interface KeyedCursor {
  topic: string;
  cursor: bigint;
}

interface Entry extends KeyedCursor {
  /** When the key was remembered (the log's clock). */
  at: number;
}

export interface ScopedKeysOptions {
  /** Keys remembered per principal. */
  maxPerPrincipal: number;
  /** A key older than this is forgotten. */
  maxAgeMs: number;
  now: () => number;
}

export class ScopedKeys {
  // Per principal, one Map in insertion order: its first entry is always the oldest key.
  private readonly byPrincipal = new Map<string, Map<string, Entry>>();
  private count = 0;

  constructor(private readonly opts: ScopedKeysOptions) {}

  get(principal: string, topic: string, key: string): KeyedCursor | undefined {
    const keys = this.byPrincipal.get(principal);
    const id = entryId(topic, key);
    const entry = keys?.get(id);
    if (!keys || !entry) return undefined;
    if (this.expired(entry)) {
      this.forget(principal, keys, id);
      return undefined;
    }
    return { topic: entry.topic, cursor: entry.cursor };
  }

  remember(principal: string, topic: string, key: string, cursor: bigint): void {
    let keys = this.byPrincipal.get(principal);
    if (!keys) {
      keys = new Map();
      this.byPrincipal.set(principal, keys);
    }
    const id = entryId(topic, key);
    if (keys.delete(id)) this.count--;
    if (keys.size >= this.opts.maxPerPrincipal) {
      const oldest = keys.keys().next();
      if (!oldest.done) this.forget(principal, keys, oldest.value);
    }
    keys.set(id, { topic, cursor, at: this.opts.now() });
    this.count++;
  }

  /** Forgets every expired key; principals left with none are dropped. */
  sweep(): void {
    for (const [principal, keys] of this.byPrincipal) {
      for (const [id, entry] of keys) {
        if (!this.expired(entry)) break; // insertion order is age order
        this.forget(principal, keys, id);
      }
    }
  }

  clear(): void {
    this.byPrincipal.clear();
    this.count = 0;
  }

  /** Keys remembered, over all principals. */
  get size(): number {
    return this.count;
  }

  private expired(entry: Entry): boolean {
    return this.opts.now() - entry.at >= this.opts.maxAgeMs;
  }

  private forget(principal: string, keys: Map<string, Entry>, id: string): void {
    if (keys.delete(id)) this.count--;
    if (keys.size === 0) this.byPrincipal.delete(principal);
  }
}

/** Topics never contain U+0000 (contract/topic.ts), so this pairing is unambiguous. */
function entryId(topic: string, key: string): string {
  return `${topic}\u0000${key}`;
}
