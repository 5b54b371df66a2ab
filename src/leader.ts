// The fallback where SharedWorker is missing (or forced): tabs of one name elect a leader with a
// Web Lock; the leader serves every tab from one host (src/leader-hosts.ts: its dedicated Worker,
// or in-page as a last resort), its own tab over a port and the others over BroadcastChannel.
// When the leader goes, its lock passes to a waiting tab, which announces itself; every tab then
// re-subscribes to it from its own cursors (the client dedupes), and the new engine resumes from
// the cursors in IndexedDB. A leader whose dedicated worker dies steps down the same way.
//
// Each leadership is a term with a fresh id. Announce channel messages: {t:"who"} (a tab asks who
// leads), {t:"leader", id} (the leader names its term, on election and in answer to "who"),
// {t:"hello", tab, leader} (a follower asks that term for channels), {t:"welcome", tab, leader}
// (its channels are open: call init).
import * as Comlink from "comlink";
import type { Locks } from "../worker/host/locks";
import type { LeaderHost } from "./leader-hosts";
import type { Control, Connector, Link } from "./link";
import { watchHost } from "./worker-watch";
import { followerChannels, safeChannel, type FollowerControl } from "../contract/fallback";
import { leaderLockName, workerName, type DataEndpoint, type GetAuth, type InitRequest, type InitResponse } from "../contract/protocol";

export interface LeaderOptions {
  name: string;
  tabId: string;
  locks: Locks;
  /**
   * Builds the leader's host when this tab is elected (the client passes the real ones, made on
   * demand so that tabs which never lead never start a worker nor download the engine).
   */
  createHost: () => Promise<LeaderHost>;
  BroadcastChannel: typeof BroadcastChannel;
}

/** Longest a closing leader keeps the lock while its engine saves (the takeover promise is 1 s). */
export const MAX_CLOSE_WAIT_MS = 300;

type Announce =
  | { t: "who" }
  | { t: "leader"; id: string }
  | { t: "hello"; tab: string; leader: string }
  | { t: "welcome"; tab: string; leader: string };

interface Leading {
  term: string;
  host: LeaderHost;
  stop: () => void;
}

export function leaderConnector(opts: LeaderOptions): Connector {
  const BC = opts.BroadcastChannel;
  const base = workerName(opts.name);

  let announce: (DataEndpoint & Comlink.Endpoint) | undefined;
  let closed = false;
  let leading: Leading | undefined;
  /** The term this tab follows (its own while it leads). */
  let following: string | undefined;
  let followLink: Link | undefined;

  function post(msg: Announce): void {
    announce?.postMessage(msg);
  }

  function followerLink(term: string): Link {
    const names = followerChannels(base, term, opts.tabId);
    const ctl = safeChannel(BC, names.ctl) as DataEndpoint & Comlink.Endpoint;
    const data = safeChannel(BC, names.data);
    const auth = safeChannel(BC, names.auth) as DataEndpoint & Comlink.Endpoint;
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

  function onAnnounce(msg: Announce, onLink: (link: Link) => void): void {
    if (closed) return;
    switch (msg.t) {
      case "who":
        if (leading !== undefined) post({ t: "leader", id: leading.term });
        break;
      case "leader":
        if (leading === undefined && msg.id !== following) {
          following = msg.id;
          followLink = undefined; // the client drops the old one when it adopts the next
          post({ t: "hello", tab: opts.tabId, leader: msg.id });
        }
        break;
      case "hello": {
        const lead = leading;
        if (lead === undefined || msg.leader !== lead.term) break;
        lead.host.serveFollower(followerChannels(base, lead.term, msg.tab)).then(
          () => leading === lead && post({ t: "welcome", tab: msg.tab, leader: lead.term }),
          () => {}, // the host is gone: the follower hears of the next term
        );
        break;
      }
      case "welcome":
        if (leading === undefined && msg.tab === opts.tabId && msg.leader === following && followLink === undefined) {
          followLink = followerLink(msg.leader);
          onLink(followLink);
        }
        break;
    }
  }

  /** Queues for the leader lock; holds it, once granted, until this tab stops leading. */
  function runForLeader(onLink: (link: Link) => void, onError: (e: Error) => void): void {
    opts.locks.request(leaderLockName(opts.name), () => lead(onLink, onError)).catch((e: unknown) => {
      onError(e instanceof Error ? e : new Error(String(e)));
    });
  }

  function lead(onLink: (link: Link) => void, onError: (e: Error) => void): Promise<void> {
    return new Promise<void>((release) => {
      if (closed) {
        release();
        return;
      }
      opts.createHost().then(
        (host) => serveAsLeader(host, onLink, onError, release),
        (e: unknown) => {
          release();
          onError(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  function serveAsLeader(host: LeaderHost, onLink: (link: Link) => void, onError: (e: Error) => void, release: () => void): void {
    const stop = (): void => {
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
    if (closed) return stop(); // closed while the host was starting
    const lead: Leading = { term: crypto.randomUUID(), host, stop };
    leading = lead;
    following = lead.term;
    followLink = undefined; // the client disposes it when it adopts the new link
    // Our host died on its own (its dedicated worker crashed): step down and run again; the
    // next leader (maybe us, with a new worker) announces a new term and every tab follows it.
    onLink(
      watchHost(host.link, opts.locks, () => {
        if (closed || leading !== lead) return;
        leading = undefined;
        host.terminate();
        release();
        runForLeader(onLink, onError);
      }),
    );
    post({ t: "leader", id: lead.term });
  }

  return {
    start(onLink, onError) {
      try {
        announce = safeChannel(BC, `${base}/announce`) as DataEndpoint & Comlink.Endpoint;
        announce.addEventListener("message", (ev: MessageEvent) => onAnnounce(ev.data as Announce, onLink));
        runForLeader(onLink, onError);
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
