// Test fakes for the engine and everything built on it (host, tab client): a hand-driven clock,
// an in-memory server with faults, a frame-by-frame scripted transport, in-memory storage.
export { Channel } from "./channel";
export { FakeClock, seededRandom, settle } from "./fake-clock";
export { FakeServer, type FakeServerOptions } from "./fake-server";
export { startEngine, startLiveOnScript, type Harness, type HarnessOptions } from "./harness";
export { event, frames } from "./frames";
export { MemoryStorage } from "./memory-storage";
export { Recorder } from "./recorder";
export { ScriptedCall, ScriptedTransport } from "./scripted-transport";
