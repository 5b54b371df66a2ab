// The stream carries the union of every subscriber's topics. Refcounts tell when the last
// subscriber of a topic left, so the topic can leave the stream too.
export class TopicSet {
  private readonly counts = new Map<string, number>();

  /** Returns true when the union changed (a topic joined the stream). */
  add(topics: readonly string[]): boolean {
    let changed = false;
    for (const t of topics) {
      const n = this.counts.get(t) ?? 0;
      if (n === 0) changed = true;
      this.counts.set(t, n + 1);
    }
    return changed;
  }

  /** Returns the topics that left the union (their last subscriber is gone). */
  remove(topics: readonly string[]): string[] {
    const gone: string[] = [];
    for (const t of topics) {
      const n = this.counts.get(t) ?? 0;
      if (n <= 1) {
        if (this.counts.delete(t)) gone.push(t);
      } else this.counts.set(t, n - 1);
    }
    return gone;
  }

  /** How many of `topics` are not in the union yet. */
  countNew(topics: readonly string[]): number {
    return topics.filter((t) => !this.counts.has(t)).length;
  }

  has(topic: string): boolean {
    return this.counts.has(topic);
  }

  get size(): number {
    return this.counts.size;
  }

  /** Sorted, so two equal sets compare equal as lists. */
  list(): string[] {
    return [...this.counts.keys()].sort();
  }
}

export function sameTopics(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
