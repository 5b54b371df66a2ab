// A tab's publish: validated here, sent through whoever serves the tab with one idempotency key
// for every try, and returned as a promise of the server's answer with its `durable` moment.
import { LeaderChangedError } from "../contract/errors";
import { topicProblem } from "../contract/topic";
import type { Cursor } from "../contract/types";
import type { Publishing } from "./api";
import type { Control } from "./link";

/** Why `publish(topic, payload)` is refused before anything is sent, or undefined. */
export function publishProblem(topic: unknown, payload: unknown): Error | undefined {
  const problem = topicProblem(topic);
  if (problem !== undefined) return new TypeError(`onestream: ${problem}`);
  if (!(payload instanceof Uint8Array)) return new TypeError("onestream: payload must be a Uint8Array");
  return undefined;
}

export function refusedPublish(err: Error): Publishing<Cursor> {
  return publishing(Promise.reject(err), Promise.reject(err));
}

/** `call` runs a control call on whoever serves the tab now (waiting for a new leader if needed). */
export function startPublish(topic: string, payload: Uint8Array, call: <T>(fn: (c: Control) => Promise<T>) => Promise<T>): Publishing<Cursor> {
  // One key for every try: a retry after the leader changed joins the record the old leader
  // stored (or gets the first cursor back from the server), never a second event.
  const key = crypto.randomUUID();
  const result = acrossLeaders(() => call((c) => c.publish(topic, payload, key)));
  // Durable once the worker's outbox committed it, or once the server has it, whichever first.
  const stored = acrossLeaders(() => call((c) => c.durable(key)));
  return publishing(result, Promise.race([stored, result.then(() => undefined)]));
}

/** Runs a control call again on the next leader when the one serving it went away. */
async function acrossLeaders<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof LeaderChangedError)) throw e;
    }
  }
}

function publishing<C extends Cursor>(result: Promise<{ cursor: C | undefined }>, durable: Promise<void>): Publishing<C> {
  durable.catch(() => {}); // many apps never look at it; its failure is the result's too
  return Object.assign(result, { durable });
}
