// A subscriber sink that keeps everything it was handed, with the views tests assert on.
import type { Cursor, Delivery, StreamEvent } from "../engine/types";

export class Recorder {
  readonly deliveries: Delivery[] = [];
  readonly sink = (d: Delivery): void => {
    this.deliveries.push(d);
  };

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
