// What a dedicated Worker running `serve()` is for: the fallback's leader tab runs its engine
// there instead of in its page (Chrome throttles a page hidden for > 5 min, not a worker). The
// page connects its own tab with a port; followers are served by the worker directly over
// BroadcastChannel, so their events never pass through the leader page's main thread.
import type { LeaderWorkerApi } from "../../contract/fallback";
import type { DataEndpoint } from "../../contract/protocol";
import { createFollowerServer } from "./follower-server";
import type { Host } from "./worker-host";

export function leaderWorkerApi(host: Host, accept: (port: DataEndpoint) => void, BC: typeof BroadcastChannel): LeaderWorkerApi {
  const followers = createFollowerServer(host, BC);
  return {
    connect: (port) => accept(port),
    serveFollower: (channels) => followers.serve(channels),
    async close() {
      followers.closeAll();
      await host.close();
    },
  };
}
