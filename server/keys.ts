// Idempotency keys remembered with bounded memory: a retried publish must get its first cursor
// back, but a server that remembered every key forever would grow without limit. The oldest key
// is forgotten first; a retry older than the last `capacity` keyed publishes appends again.

export interface KeyedCursor {
  topic: string;
  cursor: bigint;
}

export class BoundedKeys {
  // Map keeps insertion order, so its first entry is always the oldest key.
  private readonly entries = new Map<string, KeyedCursor>();

  constructor(private readonly capacity: number) {}

  get(key: string): KeyedCursor | undefined {
    return this.entries.get(key);
  }

  remember(key: string, value: KeyedCursor): void {
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
