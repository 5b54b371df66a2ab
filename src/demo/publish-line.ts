// A publish from the demo as one log line that shows both of its moments: durable (committed to
// the outbox: sent exactly once even if every tab closes now), then acknowledged by the server
// with its cursor. An app that closes tabs needs the first; one that shows "sent" needs the second.
import type { Publishing } from "../index";

/** Rewrites `update`'s line as `p` progresses; `what` names the publish (its payload, quoted). */
export function followPublish(p: Publishing, what: string, update: (text: string) => void, onFailure: (e: unknown) => void): void {
  const started = performance.now();
  const elapsed = () => `${Math.round(performance.now() - started)} ms`;
  let durableAfter: string | undefined;
  let acked = false;
  update(`${what} sending…`);
  p.durable.then(
    () => {
      durableAfter = elapsed();
      if (!acked) update(`${what} durable in ${durableAfter}, waiting for the server…`);
    },
    () => {}, // its failure is the answer's too, reported below
  );
  p.then(
    async ({ cursor }) => {
      acked = true;
      const ackedAfter = elapsed();
      await p.durable.catch(() => {}); // settles with the answer or right after it
      update(`${what} durable in ${durableAfter ?? ackedAfter}, acknowledged as #${cursor ?? "?"} in ${ackedAfter}`);
    },
    (e: unknown) => {
      update(`${what} failed`);
      onFailure(e);
    },
  );
}
