// Which page events become which engine hints (the worker hears none of them itself).
import { describe, expect, it } from "vitest";
import type { NetworkHint } from "../contract/types";
import { forwardHints } from "./hints";

describe("forwardHints", () => {
  it("maps page events to hints, visibility only when visible, and stops cleanly", () => {
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: "hidden" });
    const sent: NetworkHint[] = [];
    const stop = forwardHints((h) => sent.push(h), { window: win, document: doc });
    for (const type of ["online", "offline", "pageshow"]) win.dispatchEvent(new Event(type));
    doc.dispatchEvent(new Event("resume"));
    doc.dispatchEvent(new Event("visibilitychange")); // hidden: nothing
    doc.visibilityState = "visible";
    doc.dispatchEvent(new Event("visibilitychange"));
    expect(sent).toEqual(["online", "offline", "pageshow", "resume", "visible"]);
    stop();
    win.dispatchEvent(new Event("online"));
    doc.dispatchEvent(new Event("resume"));
    expect(sent).toHaveLength(5);
  });
});
