// Test fakes for the engine and everything built on it (host, tab client): a hand-driven clock,
// an in-memory onestream.v1 server with faults, a frame-by-frame scripted transport (both reach
// the engine through the real v1 adapter), in-memory storage.
export { Channel } from "./channel";
export { FakeClock, seededRandom, settle } from "./fake-clock";
export { FakeServer, type FakeServerOptions } from "./fake-server";
export { startEngine, startLiveOnScript, type Harness, type HarnessOptions } from "./harness";
export { event, frames } from "./frames";
export { MemoryStorage } from "./memory-storage";
export { Recorder } from "./recorder";
export { ScriptedCall, ScriptedTransport } from "./scripted-transport";
export { f, FrameCall, ScriptedUpstream, type ScriptedUpstreamOptions } from "./scripted-upstream";
export { v1Rpc, v1Upstream, type V1Transport } from "./v1-transport";
export { ResetReason } from "../../proto/gen/onestream/v1/stream_pb";
