// The wires of the fallback (no SharedWorker): a follower tab reaches its leader over three
// BroadcastChannels (comlink control, batched data, an auth relay), and the leader tab reaches
// the dedicated Worker that runs its engine. Both the tab side (src/leader.ts) and the serving
// side (worker/host/follower-server.ts, in the leader's worker or page) build them from here.
import type { ControlApi, DataEndpoint, InitRequest, InitResponse } from "./protocol";

/** The BroadcastChannel names of one follower of one leadership term. */
export interface FollowerChannels {
  ctl: string;
  data: string;
  auth: string;
}

/** `base` is the client's worker name; `term` names one leadership (a fresh id each time a tab leads). */
export function followerChannels(base: string, term: string, tab: string): FollowerChannels {
  const name = (what: string): string => `${base}/${term}/${tab}/${what}`;
  return { ctl: name("ctl"), data: name("data"), auth: name("auth") };
}

/** What a follower calls on its leader: `init` cannot carry a port or a proxy over BroadcastChannel. */
export type FollowerControl = Omit<ControlApi, "init"> & { init(req: InitRequest, hasAuth: boolean): Promise<InitResponse> };

/**
 * A BroadcastChannel whose postMessage never throws: posting on a closed one throws
 * InvalidStateError, which comlink's late replies (after a handover) would leave unhandled.
 */
export function safeChannel(BC: typeof BroadcastChannel, name: string): DataEndpoint {
  const bc = new BC(name);
  return {
    postMessage(message: unknown) {
      try {
        bc.postMessage(message);
      } catch {
        // closed: the other side is gone or we left; nothing to deliver to
      }
    },
    addEventListener: (type: "message", fn: (ev: MessageEvent) => void) => bc.addEventListener(type, fn),
    removeEventListener: (type: "message", fn: (ev: MessageEvent) => void) => bc.removeEventListener(type, fn),
    close: () => bc.close(),
  };
}

/**
 * What a dedicated Worker running `serve()` exposes (over comlink, on its global scope) to the
 * page that owns it: the fallback's leader, whose engine it runs.
 */
export interface LeaderWorkerApi {
  /** Serves the owning page's own tab on `port`, as a SharedWorker serves a connecting tab. */
  connect(port: MessagePort): void;
  /** Serves one follower over these BroadcastChannels; they are open once this resolves. */
  serveFollower(channels: FollowerChannels): void;
  /** Followers' channels first, then every tab and engine (their last cursor saves). */
  close(): Promise<void>;
}
