// A tab cannot see the worker that serves it die: a MessagePort has no close event, and a
// SharedWorker that crashed or was closed says nothing to its tabs (FIELD-NOTES). So a host holds
// a Web Lock for its whole life, named for this one instance; each tab learns the name from
// `init` and waits for it. The browser releases a context's locks when it ends, so the tab's
// request is granted exactly when the host is gone — the mirror image of the tab locks.
import { hostLockName } from "../../contract/protocol";
import type { Locks } from "./locks";

export interface LifeLock {
  readonly name: string;
  /** Resolves true once the lock is held, false if it could not be taken (no host lock then). */
  readonly held: Promise<boolean>;
  /** Lets go of it (the host closed). */
  release(): void;
}

/** Requests the lock at once and holds it until `release`. `id` must be unique per host. */
export function holdLifeLock(locks: Locks, id: string, warn: (m: string) => void = () => {}): LifeLock {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const name = hostLockName(id);
  const held = new Promise<boolean>((granted) => {
    locks
      .request(name, () => {
        granted(true);
        return released;
      })
      .catch((e: unknown) => {
        warn(`onestream: the host's life lock could not be taken, tabs will not notice its death: ${String(e)}`);
        granted(false);
      });
  });
  return { name, held, release };
}
