// The fallback where SharedWorker is missing (or forced): tabs of one name elect a leader with a
// Web Lock; the leader runs the same host and engine in-page and serves the others over
// BroadcastChannel, one channel trio per follower (control via comlink, batched data, auth).
// When the leader goes, its lock passes to a waiting tab, which announces itself; every tab then
// re-subscribes to it from its own cursors (the client dedupes), and the new engine resumes from
// the cursors in IndexedDB.
//
// Announce channel messages: {t:"who"} (a tab asks who leads), {t:"leader", id} (the leader
// says so, on election and in answer to "who"), {t:"hello", tab, leader} (a follower asks that
// leader for channels), {t:"welcome", tab, leader} (its channels are open: call init).
import * as Comlink from "comlink";
import type { Locks } from "../worker/host/locks";
import type { Host } from "../worker/host/worker-host";
import { hostLink, type Connector, type Control, type Link } from "./link";
import { leaderLockName, workerName, type ControlApi, type DataEndpoint, type GetAuth, type InitRequest, type InitResponse } from "../contract/protocol";

export interface LeaderOptions {
  name: string;
  tabId: string;
  locks: Locks;
  /**
   * Builds the in-page host when this tab is elected (the client passes the real bindings,
   * loaded on demand so that tabs which never lead never download the engine).
   */
  createHost: () => Host | Promise<Host>;
  BroadcastChannel: typeof BroadcastChannel;
}

/** Longest a closing leader keeps the lock while its engine saves (the takeover promise is 1 s). */
export const MAX_CLOSE_WAIT_MS = 300;

type Announce =
  | { t: "who" }
  | { t: "leader"; id: string }
  | { t: "hello"; tab: string; leader: string }
  | { t: "welcome"; tab: string; leader: string };

/** What a follower calls on the leader: `init` cannot carry a port or a proxy over BroadcastChannel. */
type FollowerControl = Omit<ControlApi, "init"> & { init(req: InitRequest, hasAuth: boolean): Promise<InitResponse> };

/**
 * A BroadcastChannel whose postMessage never throws: posting on a closed one throws
 * InvalidStateError, which comlink's late replies (after a handover) would leave unhandled.
 */
function channel(BC: typeof BroadcastChannel, name: string): DataEndpoint & Comlink.Endpoint {
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
  } as DataEndpoint & Comlink.Endpoint;
}

export function leaderConnector(opts: LeaderOptions): Connector {
  const BC = opts.BroadcastChannel;
  const base = workerName(opts.name);
  const pairName = (leader: string, tab: string, what: string): string => `${base}/${leader}/${tab}/${what}`;

  let announce: (DataEndpoint & Comlink.Endpoint) | undefined;
  let closed = false;
  let leading: { host: Host; stop: () => void; followers: Map<string, () => void> } | undefined;
  let following: string | undefined;
  let followLink: Link | undefined;

  function post(msg: Announce): void {
    announce?.postMessage(msg);
  }

  function followerLink(leader: string): Link {
    const ctl = channel(BC, pairName(leader, opts.tabId, "ctl"));
    const data = channel(BC, pairName(leader, opts.tabId, "data"));
    const auth = channel(BC, pairName(leader, opts.tabId, "auth"));
    const remote = Comlink.wrap<FollowerControl>(ctl);
    return {
      role: "follower",
      control: remote as unknown as Control,
      data,
      init(req: InitRequest, getAuth?: GetAuth) {
        if (getAuth !== undefined) Comlink.expose({ getAuth }, auth);
        return remote.init(req, getAuth !== undefined) as Promise<InitResponse>;
      },
      dispose() {
        ctl.close();
        data.close();
        auth.close();
      },
    };
  }

  function acceptFollower(tab: string): void {
    const lead = leading!;
    if (!lead.followers.has(tab)) {
      const ctl = channel(BC, pairName(opts.tabId, tab, "ctl"));
      const data = channel(BC, pairName(opts.tabId, tab, "data"));
      const auth = channel(BC, pairName(opts.tabId, tab, "auth"));
      const close = (): void => {
        lead.followers.delete(tab);
        ctl.close();
        data.close();
        auth.close();
      };
      // The host calls `close` once the follower is gone (closed, or its tab lock released).
      const control = lead.host.connect(close);
      const authRemote = Comlink.wrap<{ getAuth: GetAuth }>(auth);
      const served: FollowerControl = {
        ...control,
        init: (req, hasAuth) => control.init(req, data, hasAuth === true ? (why) => authRemote.getAuth(why) : undefined),
      };
      Comlink.expose(served, ctl);
      lead.followers.set(tab, close);
    }
    post({ t: "welcome", tab, leader: opts.tabId });
  }

  function onAnnounce(msg: Announce, onLink: (link: Link) => void): void {
    if (closed) return;
    switch (msg.t) {
      case "who":
        if (leading !== undefined) post({ t: "leader", id: opts.tabId });
        break;
      case "leader":
        if (leading === undefined && msg.id !== following) {
          following = msg.id;
          followLink = undefined; // the client drops the old one when it adopts the next
          post({ t: "hello", tab: opts.tabId, leader: msg.id });
        }
        break;
      case "hello":
        if (leading !== undefined && msg.leader === opts.tabId) acceptFollower(msg.tab);
        break;
      case "welcome":
        if (leading === undefined && msg.tab === opts.tabId && msg.leader === following && followLink === undefined) {
          followLink = followerLink(msg.leader);
          onLink(followLink);
        }
        break;
    }
  }

  function lead(onLink: (link: Link) => void, onError: (e: Error) => void): Promise<void> {
    return new Promise<void>((release) => {
      if (closed) {
        release();
        return;
      }
      Promise.resolve()
        .then(() => opts.createHost())
        .then(
          (host) => serveAsLeader(host, onLink, release),
          (e: unknown) => {
            release();
            onError(e instanceof Error ? e : new Error(String(e)));
          },
        );
    });
  }

  function serveAsLeader(host: Host, onLink: (link: Link) => void, release: () => void): void {
    const stop = (): void => {
      for (const close of leading?.followers.values() ?? []) close();
      // The lock passes on once our engine has saved its last cursors, so the next leader
      // resumes from them — or after a bound, so a hung close never blocks the takeover.
      const bound = setTimeout(release, MAX_CLOSE_WAIT_MS);
      host
        .close()
        .catch(() => {})
        .finally(() => {
          clearTimeout(bound);
          release();
        });
    };
    if (closed) return stop(); // closed while the host was loading
    leading = { host, stop, followers: new Map() };
    following = opts.tabId;
    followLink = undefined; // the client disposes it when it adopts the new link
    onLink(hostLink(host, "leader"));
    post({ t: "leader", id: opts.tabId });
  }

  return {
    start(onLink, onError) {
      try {
        announce = channel(BC, `${base}/announce`);
        announce.addEventListener("message", (ev: MessageEvent) => onAnnounce(ev.data as Announce, onLink));
        opts.locks.request(leaderLockName(opts.name), () => lead(onLink, onError)).catch((e: unknown) => {
          onError(e instanceof Error ? e : new Error(String(e)));
        });
        post({ t: "who" });
      } catch (e) {
        onError(e instanceof Error ? e : new Error(String(e)));
      }
    },
    close() {
      closed = true;
      leading?.stop();
      leading = undefined;
      announce?.close();
      announce = undefined;
    },
  };
}
