// `onestream`: the public API of the tab side. Everything an app imports comes from here.
//
//   const client = createClient({
//     // Vite bundles only this literal pattern, so pass a factory; the client supplies `name`
//     // (it carries the protocol version: "onestream/v2/<name>").
//     worker: (name) => new SharedWorker(new URL("./worker.ts", import.meta.url), { type: "module", name }),
//     baseUrl: "https://api.example.com", // default: the page's origin
//     user: "alice",                      // persisted cursors/outbox are keyed by it
//     getAuth: async () => ({ authorization: `Bearer ${token}` }),
//   });
//   const sub = client.subscribe(["news"], (events) => render(events), {
//     since: "stored", onLive: (topics) => …, onReset: ({ topic }) => resync(topic),
//   });
//   client.onStatus((s) => badge(s.state, s.role));
//   await client.publish("news", new TextEncoder().encode("hi")); // → { cursor }
//
// Where SharedWorker is missing the tabs elect a leader (Web Locks) that runs the engine in a
// dedicated Worker (`dedicatedWorker: (name) => new Worker(new URL("./worker.ts",
// import.meta.url), { type: "module", name })`), or in-page when none can be made;
// `fallback: "leader"` forces that, `fallback: "none"` refuses it.
export { createClient } from "./client";
export type { Client, ClientOptions, ClientStatus, Publishing, SubscribeOptions, SubscriptionHandle } from "./client";
export type { Role, WorkerFactory } from "./link";
export type { DedicatedWorkerFactory } from "./leader-hosts";
export { ClosedError, DeniedError, EndedError, LeaderChangedError, UnsupportedError, VersionMismatchError } from "../contract/errors";
export { PROTOCOL_VERSION, workerName } from "../contract/protocol";
export type { AuthWhy } from "../contract/protocol";
export type { NetworkHint, ResetReason, Since, State, Status, StreamEvent } from "../contract/types";
