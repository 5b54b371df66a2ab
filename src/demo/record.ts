// What this tab received, kept on `window` in plain JSON-friendly form so Playwright can read it
// with a synchronous page.evaluate (cursors as decimal strings: bigint does not cross evaluate).
import type { Client, ClientStatus, StreamEvent } from "../index";

export interface ReceivedEvent {
  cursor: string;
  payload: string;
  publishedAt: number;
  /** What the adapter read besides (e.g. a watch event's key); absent when nothing. */
  meta?: Readonly<Record<string, string>>;
}

export interface ResetNotice {
  topic: string;
  reason: string;
  resumeAfter: string;
}

export interface DemoRecording {
  /** Per topic, every event in delivery order. */
  received: Record<string, ReceivedEvent[]>;
  resets: ResetNotice[];
  /** Topics reported live, in order. */
  live: string[];
  /** Every status state seen, consecutive repeats collapsed. */
  states: string[];
  /** Every distinct lastError seen, as "code: message". */
  errors: string[];
  /** Status deliveries in state "failed" (the engine promises exactly one). */
  failedReports: number;
  /** The latest status (bigint-free). */
  status?: ClientStatus;
  /** Set once the client is created; a message when the demo failed to start. */
  ready: boolean;
  startError?: string;
}

declare global {
  interface Window {
    /** The demo's client: try `onestream.publish("news", new TextEncoder().encode("hi"))`. */
    onestream?: Client;
    __onestream: DemoRecording;
    __received: DemoRecording["received"];
  }
}

const decoder = new TextDecoder();

export function createRecording(): DemoRecording {
  const rec: DemoRecording = { received: {}, resets: [], live: [], states: [], errors: [], failedReports: 0, ready: false };
  window.__onestream = rec;
  window.__received = rec.received;
  return rec;
}

export function recordEvents(rec: DemoRecording, events: ReadonlyArray<StreamEvent<bigint | string>>): void {
  for (const e of events) {
    const got: ReceivedEvent = { cursor: e.cursor.toString(), payload: decoder.decode(e.payload), publishedAt: e.publishedAt };
    if (e.meta !== undefined) got.meta = e.meta;
    (rec.received[e.topic] ??= []).push(got);
  }
}

export function recordStatus(rec: DemoRecording, status: ClientStatus): void {
  rec.status = status;
  if (rec.states.at(-1) !== status.state) rec.states.push(status.state);
  if (status.state === "failed") rec.failedReports++;
  if (status.lastError !== undefined) {
    const line = `${status.lastError.code}: ${status.lastError.message}`;
    if (rec.errors.at(-1) !== line) rec.errors.push(line);
  }
}
