// The engine's public surface: createEngine, its contract, and the pieces a host may reuse.
export { createEngine } from "./engine";
export { DEFAULT_CONFIG, KNOBS, MAX_DURATION_MS, resolveConfig, type EngineConfig } from "./config";
export { ClosedError, FailedError, classify, type Verdict } from "./errors";
export { NETWORK_HINTS, isNetworkHint, subscribeProblem } from "../../contract/validate";
export type * from "./types";
