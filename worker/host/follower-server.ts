// The serving side of the fallback's followers: a host (in the leader's dedicated worker, or in
// the leader page itself) serves each follower tab over the BroadcastChannels the follower
// opened for that leadership (contract/fallback.ts), exactly as it serves a tab over a port.
import * as Comlink from "comlink";
import { safeChannel, type FollowerChannels, type FollowerControl } from "../../contract/fallback";
import type { GetAuth } from "../../contract/protocol";
import type { Host } from "./worker-host";

export interface FollowerServer {
  /** Opens the follower's channels and serves it there (once per ctl channel name). */
  serve(channels: FollowerChannels): void;
  /**
   * Closes every follower's channels, before the host closes: a closing host answers calls in
   * flight with ClosedError, which a follower must not see (it retries them with the next leader).
   */
  closeAll(): void;
}

export function createFollowerServer(host: Host, BC: typeof BroadcastChannel): FollowerServer {
  const open = new Map<string, () => void>();
  return {
    serve(channels) {
      if (open.has(channels.ctl)) return;
      const ctl = safeChannel(BC, channels.ctl);
      const data = safeChannel(BC, channels.data);
      const auth = safeChannel(BC, channels.auth);
      const close = (): void => {
        open.delete(channels.ctl);
        ctl.close();
        data.close();
        auth.close();
      };
      // The host calls `close` once the follower is gone (closed, or its tab lock released).
      const control = host.connect(close);
      const authRemote = Comlink.wrap<{ getAuth: GetAuth }>(auth as Comlink.Endpoint);
      const served: FollowerControl = {
        ...control,
        init: (req, hasAuth) => control.init(req, data, hasAuth === true ? (why) => authRemote.getAuth(why) : undefined),
      };
      Comlink.expose(served, ctl as Comlink.Endpoint);
      open.set(channels.ctl, close);
    },
    closeAll() {
      for (const close of [...open.values()]) close();
    },
  };
}
