// The page the plain-TypeScript fixtures share (the matrix copies it into each one's src/): the
// client's status, the events of one topic, and a box that publishes on it, under the ids the
// matrix drives (e2e/consumers/lib/tabs.ts). Only the worker recipe differs between bundlers.
import type { Client } from "onestream";

export const TOPIC = "consumers/demo";

/** The reference server named by ?server=, else this page's origin. */
export function serverUrl(): string {
  return new URLSearchParams(location.search).get("server") ?? location.origin;
}

export function mountPage(client: Client): void {
  document.body.insertAdjacentHTML(
    "beforeend",
    '<p>status: <output id="status"></output></p><ul id="events"></ul><input id="message" /><button id="send">publish</button>',
  );
  const status = document.querySelector("#status")!;
  const list = document.querySelector("#events")!;
  const input = document.querySelector<HTMLInputElement>("#message")!;
  client.onStatus((s) => {
    status.textContent = s.state;
  });
  client.subscribe([TOPIC], (events) => {
    for (const e of events) {
      const item = document.createElement("li");
      item.textContent = new TextDecoder().decode(e.payload);
      list.append(item);
    }
  });
  document.querySelector("#send")!.addEventListener("click", () => {
    void client.publish(TOPIC, new TextEncoder().encode(input.value));
  });
}
