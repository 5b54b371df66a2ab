// Everything a run observed, kept as plain data for the checks (checks.ts) and the report: each
// tab's messages in arrival order with its life span, the faults as applied, the moments an
// engine died, and the samples taken at quiet moments. The recorder also keeps the live view
// the driver waits on (has every tab seen fresh data? any publish still pending?).
import type { Ledger } from "./ledger";
import type { ChaosMessage } from "./messages";
import type { FaultStep } from "./schedule";

export interface TabRecord {
  id: string;
  openedAt: number;
  /** When the driver closed or crashed it; undefined while open. */
  closedAt?: number;
  messages: ChaosMessage[];
  /** Live view: newest append time (ledger) among the events this tab was handed. */
  freshAt: number;
  /** Live view: latest status state and role. */
  state: string;
  role: string;
  /** Live view: subscriptions open, by topic. */
  topics: Set<string>;
}

/** An engine stopped with tabs that depended on it: the worker died, or the leader tab went. */
export interface EngineDeath {
  at: number;
  why: "close-all" | "crash" | "leader-closed" | "repair";
  /** Tabs closed or crashed with it (their subscriptions ended with the engine). */
  killed: string[];
}

export interface AppliedFault {
  step: FaultStep;
  startAt: number;
  /** When the fault was over (healed, back online, tabs reopened…): recovery counts from here. */
  endAt: number;
  /** What it did, e.g. "closed T3, opened T7". */
  detail: string;
}

/** The upstream count at a quiet moment: every open tab had fresh data, then the counts settled (or not). */
export interface QuietSample {
  at: number;
  /** Faults applied before it. */
  afterFault: number;
  /** The server's activeStreams. */
  server: number;
  /** Subscribe requests open in the browser (CDP Network on the worker or the pages); a lower bound. */
  client: number;
  /** Tabs with at least one topic (0 tabs: 0 streams expected). */
  expected: number;
  settled: boolean;
}

/** Tabs that did not see fresh data within the bound at a quiet moment. */
export interface StuckRecord {
  at: number;
  afterFault: number;
  tabs: Array<{ id: string; state: string; lastError: string | undefined }>;
}

export interface RunRecord {
  tabs: TabRecord[];
  deaths: EngineDeath[];
  faults: AppliedFault[];
  quiet: QuietSample[];
  stuck: StuckRecord[];
  /** Streams of the closed browser the server still had a bound after every tab closed. */
  closeAllLeaks: Array<{ afterFault: number; streams: number }>;
  /** Repairs done so the run could go on after a stuck tab (not faults). */
  repairs: string[];
  /** Publisher calls that failed (the server was down or restarting). */
  publisherErrors: number;
  startedAt: number;
  endedAt: number;
}

export class Recorder {
  readonly run: RunRecord = {
    tabs: [],
    deaths: [],
    faults: [],
    quiet: [],
    stuck: [],
    closeAllLeaks: [],
    repairs: [],
    publisherErrors: 0,
    startedAt: Date.now(),
    endedAt: 0,
  };
  private readonly byId = new Map<string, TabRecord>();

  constructor(private readonly ledger: Ledger) {}

  addTab(id: string): TabRecord {
    const tab: TabRecord = { id, openedAt: Date.now(), messages: [], freshAt: 0, state: "", role: "", topics: new Set() };
    this.run.tabs.push(tab);
    this.byId.set(id, tab);
    return tab;
  }

  /** One message from a page (through the binding). */
  onMessage(m: ChaosMessage): void {
    const tab = this.byId.get(m.tab);
    if (tab === undefined) return;
    tab.messages.push(m);
    switch (m.t) {
      case "events":
        for (const [, payload] of m.items) {
          const at = this.ledger.find(payload)?.at ?? 0;
          if (at > tab.freshAt) tab.freshAt = at;
        }
        break;
      case "status":
        tab.state = m.state;
        tab.role = m.role;
        break;
      case "join":
        tab.topics.add(m.topic);
        break;
      case "leave":
        tab.topics.delete(m.topic);
        break;
    }
  }

  openTabs(): TabRecord[] {
    return this.run.tabs.filter((t) => t.closedAt === undefined);
  }

  /** The last error the tab's status carried, if any. */
  lastError(tab: TabRecord): string | undefined {
    for (let i = tab.messages.length - 1; i >= 0; i--) {
      const m = tab.messages[i]!;
      if (m.t === "status") return m.lastError;
    }
    return undefined;
  }
}
