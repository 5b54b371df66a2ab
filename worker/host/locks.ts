// The slice of the Web Locks API the host and the fallback need. In browsers this is
// `navigator.locks`; Node 20 has no Web Locks, so tests inject `createMemoryLocks()`.

export interface Locks {
  /** Waits for the exclusive lock `name`, runs `callback`, and holds the lock until its promise settles. */
  request<T>(name: string, callback: (lock: unknown) => T | Promise<T>): Promise<T>;
}

/** `navigator.locks` where it exists (pages and workers of a secure context), else undefined. */
export function browserLocks(): Locks | undefined {
  const nav = (globalThis as { navigator?: { locks?: Locks } }).navigator;
  return nav?.locks;
}
