// A subscriber sink that keeps everything it was handed, with the views tests assert on.
import type { Cursor, Delivery, StreamEvent } from "../engine/types";

export class Recorder {
  readonly deliveries: Delivery[] = [];
  /** Acks not called yet (when built with `{ ack: false }`), oldest first. */
  readonly unacked: (() => void)[] = [];

  /** `ack: false`: the app "has not processed" anything until ackAll() (default: acks at once). */
  constructor(private readonly opts: { ack?: boolean } = {}) {}

  readonly sink = (d: Delivery, ack?: () => void): void => {
    this.deliveries.push(d);
    if (ack === undefined) return;
    if (this.opts.ack === false) this.unacked.push(ack);
    else ack();
  };

  /** The app finished everything it got so far. */
  ackAll(): void {
    for (const ack of this.unacked.splice(0)) ack();
  }

  get events(): StreamEvent<Cursor>[] {
    return this.deliveries.flatMap((d) => (d.kind === "events" ? d.events : []));
  }

  /** Delivered cursors of `topic` (all topics when omitted), as numbers, in order. */
  cursors(topic?: string): number[] {
    return this.events.filter((e) => topic === undefined || e.topic === topic).map((e) => Number(e.cursor));
  }

  /** The delivery kinds in order, consecutive "events" collapsed: e.g. ["events", "live", "events"]. */
  get kinds(): string[] {
    const out: string[] = [];
    for (const d of this.deliveries) if (d.kind !== "events" || out[out.length - 1] !== "events") out.push(d.kind);
    return out;
  }

  of<K extends Delivery["kind"]>(kind: K): Extract<Delivery, { kind: K }>[] {
    return this.deliveries.filter((d): d is Extract<Delivery, { kind: K }> => d.kind === kind);
  }
}
