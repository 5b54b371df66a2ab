// The demo page: join topics, watch their events arrive with cursors, publish, see the shared
// stream's status, and break the server on purpose (fault panel) to watch it recover. It also
// records what it received on `window` (record.ts) so the e2e suite can drive it as its page.
import { topicProblem } from "../../contract/topic";
import { createClient, EndedError } from "../index";
import { ADMIN_UNREACHABLE, adminBase, FAULTS, fetchStats, sendFault } from "./admin";
import { createChart } from "./chart";
import { readConfig } from "./config";
import { followPublish } from "./publish-line";
import { createRecording, recordEvents, recordStatus } from "./record";
import { renderStats, renderStatus } from "./status-view";
import { nextErrorClock, streamUp, topicWord, type ErrorClock, type ShownStatus, type Word } from "./status-words";
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
    // With a token the demo signs in: its state is keyed by ?user= (never by the token itself).
    user: config.user ?? (config.token === undefined ? undefined : "demo-user"),
    name: config.name,
    fallback: config.fallback,
    getAuth: config.token === undefined ? undefined : async () => ({ authorization: `Bearer ${config.token}` }),
  });
  window.onestream = client;

  const chart = createChart(byId<HTMLCanvasElement>("chart"));
  const badge = byId("status");
  const details = byId("status-details");
  /** Per joined topic: its card, whether its subscription was told live, and why it ended (if it did). */
  const joined = new Map<string, { view: TopicView; live: ReadonlySet<string>; ended?: Word; unsubscribe: () => void }>();
  let shown: ShownStatus = client.status;
  let errors: ErrorClock = {};
  const paint = () => {
    renderStatus(badge, details, shown, errors, joined.size, Date.now());
    for (const [topic, j] of joined) {
      j.view.show(j.ended ?? topicWord(topic, shown, j.live.has(topic)));
    }
  };
  client.onStatus((s) => {
    recordStatus(rec, s);
    if (streamUp(shown.state) && !streamUp(s.state)) chart.countReconnect();
    errors = nextErrorClock(errors, s, Date.now());
    shown = s;
    paint();
  });
  // The retry countdown and the error's age move even when the status does not.
  setInterval(() => (shown.state === "backoff" || errors.shown !== undefined) && paint(), 250);

  const topicsEl = byId("topics");
  const publishTopic = byId<HTMLSelectElement>("publish-topic");
  const publishForm = byId<HTMLFormElement>("publish-form");
  const syncTopics = () => {
    const keep = publishTopic.value;
    const topics = [...joined.keys()];
    publishTopic.replaceChildren(...(topics.length === 0 ? [new Option("no topic", "")] : topics.map((t) => new Option(t, t))));
    if (joined.has(keep)) publishTopic.value = keep;
    for (const el of publishForm.elements) (el as HTMLInputElement).disabled = joined.size === 0;
    byId("topics-empty").hidden = joined.size > 0;
    paint();
  };

  const join = (topic: string) => {
    const problem = topicProblem(topic);
    if (problem !== undefined) throw new TypeError(problem);
    if (joined.has(topic)) return;
    const view = createTopicView(topicsEl, topic, () => leave(topic));
    const end = (text: string, why: Error) => {
      const entry = joined.get(topic);
      if (entry !== undefined) entry.ended = { text, tone: "closed", why: "this subscription is over: leave and join again" };
      view.notice(`${why.name}: ${why.message}`);
      paint();
    };
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
          paint();
        },
        onReset: (r: { topic: string; reason: string; resumeAfter: bigint | undefined }) => {
          const after = r.resumeAfter === undefined ? "now" : r.resumeAfter.toString();
          rec.resets.push({ topic: r.topic, reason: r.reason, resumeAfter: after });
          view.notice(`reset (${r.reason}): resync needed; continuing after #${after}`);
        },
        // Refused by the server (DeniedError) or ended by reset() (EndedError): nothing more comes.
        onError: (e: Error) => end(e instanceof EndedError ? "ended" : "refused", e),
      },
    );
    joined.set(topic, { view, live: handle.live, unsubscribe: () => handle.unsubscribe() });
    (rec.received[topic] ??= []);
    syncTopics();
  };
  const leave = (topic: string) => {
    const entry = joined.get(topic);
    if (entry === undefined) return;
    entry.unsubscribe();
    entry.view.remove();
    joined.delete(topic);
    syncTopics();
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
  publishForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = byId<HTMLInputElement>("publish-payload");
    const topic = publishTopic.value;
    if (topic === "") return showError(new Error("join a topic first"));
    const text = input.value;
    input.value = "";
    formError.textContent = "";
    const line = joined.get(topic)?.view.publishing();
    followPublish(client.publish(topic, encoder.encode(text)), JSON.stringify(text), (t) => line?.update(t), showError);
  });

  for (const t of config.topics) join(t);
  syncTopics();
  rec.ready = true;

  const statsEl = byId("server-stats");
  const admin = adminBase(config.server);
  if (admin === undefined) {
    renderStats(statsEl, new Error(ADMIN_UNREACHABLE));
    return;
  }
  const pollStats = () =>
    // Offline, every poll would only fail (and fill the console); the badge says offline already.
    !navigator.onLine
      ? renderStats(statsEl, new Error("not polled while the browser is offline"))
      : fetchStats(admin, AbortSignal.timeout(STATS_POLL_MS)).then(
          (s) => renderStats(statsEl, s),
          (e: Error) => renderStats(statsEl, new Error(`unreachable (${e.message})`)),
        );
  void pollStats();
  setInterval(pollStats, STATS_POLL_MS);

  // npm start runs the server with faults, so the panel shows whenever admin is forwarded; no
  // probe at load (a probe is a request the server must refuse: an error in every console).
  showFaultPanel(admin);
}

function showFaultPanel(admin: string): void {
  const panel = byId("faults");
  const buttons = byId("fault-buttons");
  const result = byId("fault-result");
  for (const f of FAULTS) {
    const b = document.createElement("button");
    b.className = "secondary";
    b.textContent = f.label;
    b.title = f.title;
    b.addEventListener("click", () => {
      sendFault(admin, f.body).then(
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
