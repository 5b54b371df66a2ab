// The demo page: join topics, watch their events arrive with cursors, publish, see the shared
// stream's status, and break the server on purpose (fault panel) to watch it recover. It also
// records what it received on `window` (record.ts) so the e2e suite can drive it as its page.
import { topicProblem } from "../../contract/topic";
import { createClient } from "../index";
import { FAULTS, faultsEnabled, fetchStats, sendFault } from "./admin";
import { createChart } from "./chart";
import { readConfig } from "./config";
import { createRecording, recordEvents, recordStatus } from "./record";
import { renderStats, renderStatus } from "./status-view";
import type { ShownStatus } from "./status-view";
import { createTopicView } from "./topics-view";
import type { TopicView } from "./topics-view";

/** How often the server's stats are polled. */
const STATS_POLL_MS = 1000;

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`index.html lacks #${id}`);
  return el as T;
};

const rec = createRecording();
const formError = byId<HTMLParagraphElement>("form-error");
const showError = (e: unknown) => (formError.textContent = e instanceof Error ? `${e.name}: ${e.message}` : String(e));

function start(): void {
  const config = readConfig(location.search);
  const client = createClient({
    worker: (name: string) => new SharedWorker(new URL("../../worker/shared-worker.ts", import.meta.url), { type: "module", name }),
    dedicatedWorker: (name: string) => new Worker(new URL("../../worker/shared-worker.ts", import.meta.url), { type: "module", name }),
    baseUrl: config.server,
    user: config.user,
    name: config.name,
    fallback: config.fallback,
    getAuth: config.token === undefined ? undefined : async () => ({ authorization: `Bearer ${config.token}` }),
  });
  window.onestream = client;

  const chart = createChart(byId<HTMLCanvasElement>("chart"));
  const badge = byId("status");
  const details = byId("status-details");
  let shown: ShownStatus | undefined;
  let lastConnection = 0;
  client.onStatus((s) => {
    recordStatus(rec, s);
    if (s.connection > lastConnection && lastConnection > 0) chart.countReconnect();
    lastConnection = s.connection;
    shown = s;
    renderStatus(badge, details, s, Date.now());
  });
  // The retry countdown moves even when the status does not.
  setInterval(() => shown && shown.state === "backoff" && renderStatus(badge, details, shown, Date.now()), 250);

  const joined = new Map<string, { view: TopicView; unsubscribe: () => void }>();
  const topicsEl = byId("topics");
  const publishTopic = byId<HTMLSelectElement>("publish-topic");
  const syncPublishTopics = () => {
    const keep = publishTopic.value;
    publishTopic.replaceChildren(...[...joined.keys()].map((t) => new Option(t, t)));
    if (joined.has(keep)) publishTopic.value = keep;
  };

  const join = (topic: string) => {
    const problem = topicProblem(topic);
    if (problem !== undefined) throw new TypeError(problem);
    if (joined.has(topic)) return;
    const view = createTopicView(topicsEl, topic, () => leave(topic));
    const handle = client.subscribe(
      [topic],
      (events) => {
        recordEvents(rec, events);
        view.append(events);
        chart.countEvents(events.length);
      },
      {
        onLive: (topics: string[]) => {
          rec.live.push(...topics);
          view.markLive();
        },
        onReset: (r: { topic: string; reason: string; resumeAfter: bigint | undefined }) => {
          const after = r.resumeAfter === undefined ? "now" : r.resumeAfter.toString();
          rec.resets.push({ topic: r.topic, reason: r.reason, resumeAfter: after });
          view.notice(`reset (${r.reason}): resync needed; continuing after #${after}`);
        },
      },
    );
    joined.set(topic, { view, unsubscribe: () => handle.unsubscribe() });
    (rec.received[topic] ??= []);
    syncPublishTopics();
  };
  const leave = (topic: string) => {
    const entry = joined.get(topic);
    if (entry === undefined) return;
    entry.unsubscribe();
    entry.view.remove();
    joined.delete(topic);
    syncPublishTopics();
  };

  byId<HTMLFormElement>("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = byId<HTMLInputElement>("join-topic");
    try {
      join(input.value.trim());
      input.value = "";
      formError.textContent = "";
    } catch (e) {
      showError(e);
    }
  });

  const encoder = new TextEncoder();
  byId<HTMLFormElement>("publish-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = byId<HTMLInputElement>("publish-payload");
    const topic = publishTopic.value;
    if (topic === "") return showError(new Error("join a topic first"));
    const text = input.value;
    input.value = "";
    client.publish(topic, encoder.encode(text)).then(
      ({ cursor }) => (formError.textContent = "", joined.get(topic)?.view.notice(`published #${cursor}`)),
      showError,
    );
  });

  for (const t of config.topics) join(t);
  rec.ready = true;

  const statsEl = byId("server-stats");
  const pollStats = () =>
    fetchStats(config.server, AbortSignal.timeout(STATS_POLL_MS)).then(
      (s) => renderStats(statsEl, s),
      (e: Error) => renderStats(statsEl, new Error(`unreachable (${e.message})`)),
    );
  void pollStats();
  setInterval(pollStats, STATS_POLL_MS);

  void faultsEnabled(config.server).then(
    (enabled) => enabled && showFaultPanel(config.server),
    () => {},
  );
}

function showFaultPanel(server: string): void {
  const panel = byId("faults");
  const buttons = byId("fault-buttons");
  const result = byId("fault-result");
  for (const f of FAULTS) {
    const b = document.createElement("button");
    b.className = "secondary";
    b.textContent = f.label;
    b.title = f.title;
    b.addEventListener("click", () => {
      sendFault(server, f.body).then(
        () => (result.textContent = `${f.label}: done (${f.title})`),
        (e: Error) => (result.textContent = e.message),
      );
    });
    buttons.append(b);
  }
  panel.hidden = false;
}

try {
  start();
} catch (e) {
  rec.startError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  showError(e);
}
