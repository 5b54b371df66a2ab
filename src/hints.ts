// A SharedWorker hears no online/offline/pageshow events (FIELD-NOTES), so every tab forwards
// what its page hears as network hints: `online`, `offline`, `pageshow` (back/forward cache),
// `resume` (Page Lifecycle: the tab was frozen) and `visibilitychange` to visible.
import type { NetworkHint } from "../contract/types";

export interface HintSources {
  window?: Pick<EventTarget, "addEventListener" | "removeEventListener">;
  document?: Pick<EventTarget, "addEventListener" | "removeEventListener"> & { visibilityState?: string };
}

/** Starts forwarding; returns the function that stops it. */
export function forwardHints(send: (h: NetworkHint) => void, sources: HintSources = defaultSources()): () => void {
  const stops: Array<() => void> = [];
  const on = (target: HintSources["window"], type: string, fn: () => void): void => {
    if (target === undefined) return;
    target.addEventListener(type, fn);
    stops.push(() => target.removeEventListener(type, fn));
  };
  on(sources.window, "online", () => send("online"));
  on(sources.window, "offline", () => send("offline"));
  on(sources.window, "pageshow", () => send("pageshow"));
  on(sources.document, "resume", () => send("resume"));
  on(sources.document, "visibilitychange", () => {
    if (sources.document?.visibilityState === "visible") send("visible");
  });
  return () => {
    for (const stop of stops) stop();
  };
}

function defaultSources(): HintSources {
  const g = globalThis as { window?: HintSources["window"]; document?: HintSources["document"] };
  return { window: g.window, document: g.document };
}
