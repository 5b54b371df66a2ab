// Sleep/wake detection. A laptop that slept keeps its sockets "open" while the server long gave
// up on them; nothing tells the page. A wall clock that ran ahead of the monotonic one between
// two checks means we were suspended: the caller replaces the stream (make-before-break).
import type { EngineConfig } from "./config";
import type { Clock } from "./types";

/** Checks every sleepCheckMs; `onSleep` runs after a jump of more than sleepJumpMs. Returns stop. */
export function watchSleep(clock: Clock, config: EngineConfig, onSleep: () => void): () => void {
  let cancel: (() => void) | undefined;
  const schedule = (lastWall: number, lastMono: number): void => {
    cancel = clock.setTimeout(() => {
      const wall = clock.now();
      const mono = clock.monotonic();
      if (wall - lastWall - (mono - lastMono) > config.sleepJumpMs) onSleep();
      schedule(wall, mono);
    }, config.sleepCheckMs);
  };
  schedule(clock.now(), clock.monotonic());
  return () => cancel?.();
}
