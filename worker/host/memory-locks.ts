// A real, in-memory implementation of exclusive Web Locks for one JS realm: what the host and
// the fallback's tests use in Node 20 (which has no navigator.locks). Same semantics as the
// browser for exclusive mode: FIFO waiters, the lock is held until the callback's promise settles.
import type { Locks } from "./locks";

export function createMemoryLocks(): Locks {
  const held = new Set<string>();
  const waiters = new Map<string, Array<() => void>>();

  const release = (name: string): void => {
    const next = waiters.get(name)?.shift();
    if (next === undefined) {
      held.delete(name);
      waiters.delete(name);
    } else {
      next();
    }
  };

  return {
    request<T>(name: string, callback: (lock: unknown) => T | Promise<T>): Promise<T> {
      const granted = new Promise<void>((resolve) => {
        if (held.has(name)) {
          const queue = waiters.get(name) ?? [];
          queue.push(resolve);
          waiters.set(name, queue);
        } else {
          held.add(name);
          resolve();
        }
      });
      return granted.then(async () => {
        try {
          return await callback({ name, mode: "exclusive" });
        } finally {
          release(name);
        }
      });
    },
  };
}
