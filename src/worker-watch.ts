// Notices that the host serving a tab died. A tab cannot see it otherwise: its MessagePort stays
// open and silent, so a crashed SharedWorker would leave every tab "live" and starving forever.
// The host names, in its init answer, a Web Lock it holds for its whole life
// (worker/host/life-lock.ts); the tab waits for that lock, and the browser grants it once the
// host's context is gone. The connector then makes a new host and hands the client a new Link.
import type { Locks } from "../worker/host/locks";
import type { Link } from "./link";

/** `link`, watched: `onDead` runs once if its host dies while the link is in use (not after dispose). */
export function watchHost(link: Link, locks: Locks, onDead: () => void): Link {
  let watching = true;
  return {
    role: link.role,
    control: link.control,
    data: link.data,
    async init(req, auth) {
      const res = await link.init(req, auth);
      const name = res.hostLock;
      if (typeof name === "string" && name.length > 0 && watching) {
        // Granted once the host is gone; released again at once (the name is never reused).
        locks
          .request(name, () => {
            if (!watching) return;
            watching = false;
            onDead();
          })
          .catch(() => {}); // no lock, no watch: the link works as before
      }
      return res;
    },
    dispose() {
      watching = false;
      link.dispose();
    },
  };
}
